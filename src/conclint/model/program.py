"""What a name in the project means: its functions and classes, their hierarchy, the types
values were built from, and one spelling for each piece of state.

Every other part of the model asks this one; it knows nothing about threads or tasks.
"""

from __future__ import annotations

import re
from typing import Dict, Iterable, List, Optional, Sequence, Set, Tuple

from conclint.engine.modules import namespace_names, split_prefix
from conclint.model.facts import CallSite, ClassInfo, FunctionInfo, ModuleFacts, Ref

_DEFINITION_NUMBER = re.compile(r"#\d+")  # ``f#1``: an earlier def of a name defined again (see the collector)


class Program:
    """The project's functions and classes by qualified name, and how names resolve."""

    def __init__(self, modules: Sequence[ModuleFacts]) -> None:
        self.modules = {m.module: m for m in modules}
        self.functions: Dict[str, Tuple[FunctionInfo, ModuleFacts]] = {}
        self.classes: Dict[str, Tuple[ClassInfo, ModuleFacts]] = {}
        # the last def of a name -> earlier defs of it in other branches (``if``/``else``): either may run
        self.alternatives: Dict[str, List[str]] = {}
        for facts in modules:
            for qualname, info in facts.functions.items():
                self.functions[qualname] = (info, facts)
                if info.alternative and info.replaced_by:
                    self.alternatives.setdefault(info.replaced_by, []).append(qualname)
            for qualname, info in facts.classes.items():
                self.classes[qualname] = (info, facts)
        # names a module is imported by through PEP 420 namespace folders -> its own name
        self.namespace_aliases: Dict[str, str] = {}
        for facts in modules:
            for alias in namespace_names(facts.path) if facts.path else ():
                if alias not in self.modules:
                    self.namespace_aliases.setdefault(alias, facts.module)
        self._resolved: Dict[Optional[str], Optional[str]] = {}
        self._bases: Dict[str, List[str]] = {}
        self._mros: Dict[str, List[str]] = {}
        self._attributes_by_class: Optional[Dict[str, Set[str]]] = None
        self._subclasses: Optional[Dict[str, List[str]]] = None
        self._type_imported_receivers(modules)

    def resolve_name(self, name: Optional[str], depth: int = 0) -> Optional[str]:
        """A project function or class by qualified name, following re-exports."""
        if depth == 0:
            if name not in self._resolved:  # the same few thousand names, asked for again and again
                self._resolved[name] = self._resolve_name(name, 0)
            return self._resolved[name]
        return self._resolve_name(name, depth)

    def _resolve_name(self, name: Optional[str], depth: int) -> Optional[str]:
        if not name or depth > 8:
            return None
        if name in self.functions or name in self.classes:
            return name
        module, _, attribute = name.rpartition(".")
        facts = self.modules.get(module)
        if facts is not None and attribute in facts.module_imports:
            return self.resolve_name(facts.module_imports[attribute], depth + 1)
        real = self.real_name(name)
        if real != name:
            return self.resolve_name(real, depth + 1)
        # a method through its class, re-exported: pkg.Cls.method
        owner, _, method = name.rpartition(".")
        if owner and owner not in self.classes:
            resolved_owner = self.resolve_name(owner, depth + 1)
            if resolved_owner in self.classes:
                return self.method_of(resolved_owner, method)
        return None

    def real_name(self, dotted: str) -> str:
        """``utils.questions.fetch`` -> ``questions.fetch`` when ``utils/`` is a namespace folder."""
        if not self.namespace_aliases:
            return dotted
        alias, rest = split_prefix(dotted, self.namespace_aliases, whole=True)
        if alias is None:
            return dotted
        return f"{self.namespace_aliases[alias]}.{rest}" if rest else self.namespace_aliases[alias]

    def class_bases(self, qualname: str) -> List[str]:
        """All bases, transitively: project classes by qualname, outside ones as written."""
        if qualname not in self._bases:
            self._bases[qualname] = self._class_bases(qualname)
        return list(self._bases[qualname])

    def _class_bases(self, qualname: str) -> List[str]:
        seen: List[str] = []
        pending = [qualname]
        while pending:
            current = pending.pop()
            entry = self.classes.get(current)
            if entry is None:
                continue
            for base in entry[0].bases:
                resolved = self.resolve_name(base) or base
                if resolved not in seen:
                    seen.append(resolved)
                    pending.append(resolved)
        return seen

    def is_subclass_of(self, qualname: str, bases: Iterable[str]) -> bool:
        wanted = set(bases)
        return any(base in wanted for base in self.class_bases(qualname))

    def method_of(self, class_qualname: str, name: str) -> Optional[str]:
        for owner in [class_qualname, *self.class_bases(class_qualname)]:
            candidate = f"{owner}.{name}"
            if candidate in self.functions:
                return candidate
        return None

    def resolve_ref(self, ref: Optional[Ref], call: CallSite) -> Optional[str]:
        """The project function a reference names: ``worker``, ``self.run``, ``obj.method``, a lambda."""
        if ref is None:
            return None
        resolved = self.resolve_name(ref.target)
        if resolved in self.functions:
            return resolved
        parts = ref.text.split(".")
        if len(parts) == 2 and call.class_context and parts[0] in ("self", "cls"):
            return self.method_of(call.class_context, parts[1])
        if ref.receiver_type:
            owner = self.resolve_name(ref.receiver_type)
            if owner in self.classes:
                return self.method_of(owner, parts[-1])
        return None

    def resolve_call(self, call: CallSite) -> Optional[str]:
        resolved = self.resolve_name(call.callee)
        if resolved in self.functions:
            return resolved
        if resolved in self.classes:
            return self.method_of(resolved, "__init__")
        parts = call.text.split(".") if call.text else []
        if len(parts) == 2 and call.class_context and parts[0] in ("self", "cls"):
            return self.method_of(call.class_context, parts[1])
        if len(parts) >= 2 or (not parts and call.method):  # ``Reader().read_file()``: built on the spot
            return self.method_of_receiver(call)
        return None

    def method_of_receiver(self, call: CallSite) -> Optional[str]:
        """``pool.get()`` where the model knows what ``pool`` was built from."""
        owner = self.resolve_name(call.receiver_type) if call.receiver_type else None
        return self.method_of(owner, call.method) if owner in self.classes and call.method else None

    def object_type(self, name: Optional[str], depth: int = 0) -> Optional[str]:
        """A type name as it is, or the type a project module variable was built from."""
        if not name or depth > 8:  # re-exports can form cycles
            return None
        module, _, variable = name.rpartition(".")
        facts = self.modules.get(module) or self.modules.get(self.real_name(module))
        if facts is None:
            return name
        if variable in facts.module_imports:
            return self.object_type(facts.module_imports[variable], depth + 1)
        built = facts.global_types.get(variable)
        return self.object_type(built, depth + 1) if built and built != name else built

    def split_module(self, dotted: str) -> Tuple[Optional[str], str]:
        """("pkg.mod", "rest.of.it") for the longest project module prefix of ``dotted``."""
        return split_prefix(dotted, self.modules)

    def canonical_key(self, key: str, depth: int = 0) -> Optional[str]:
        """One spelling per piece of state, whichever module or subclass names it.

        ``global:pkg.store.totals`` seen through an import is the store module's own global;
        a project class reached that way is a class attribute; anything else a project
        module exports (functions, classes themselves, submodules) is not state (None).
        ``self:Sub.x`` becomes ``self:Root.x`` for the root project class of the hierarchy.
        """
        kind, _, rest = key.partition(":")
        if kind == "global":
            module, path = self.split_module(rest)
            if module is None:
                return None  # another library's object (flask.session, flask.g): not our state
            variable, _, attributes = path.partition(".")
            facts = self.modules[module]
            if variable in facts.module_imports and depth < 8:
                target = facts.module_imports[variable] + (f".{attributes}" if attributes else "")
                return self.canonical_key(f"global:{target}", depth + 1)
            qualified = f"{module}.{variable}"
            if qualified in self.classes:
                return f"class:{qualified}.{attributes}" if attributes else None
            if qualified in self.functions:
                return None
            return key
        if kind == "self":
            owner, attribute = self.split_class(rest)
            if owner is not None:
                return f"self:{self.defining_class(owner, attribute.split('.', 1)[0])}.{attribute}"
        return key

    def defining_class(self, qualname: str, attribute: str) -> str:
        """The highest class above ``qualname`` (first bases) whose own methods use ``self.<attribute>``:
        a subclass and the base that sets the attribute share it, two siblings do not."""
        if self._attributes_by_class is None:
            self._attributes_by_class = {}
            for facts in self.modules.values():
                for function, state in facts.state.items():
                    owner = self.functions.get(function, (None,))[0]
                    if owner is not None and owner.class_qualname:
                        used = self._attributes_by_class.setdefault(owner.class_qualname, set())
                        for access in (*state.reads, *state.writes):
                            if access.key.startswith("self:"):
                                used.add(access.key[5 + len(owner.class_qualname) + 1 :].split(".", 1)[0])
        best = current = qualname
        seen = {current}
        while True:
            info = self.classes[current][0]
            parent = next((self.resolve_name(b) for b in info.bases if self.resolve_name(b) in self.classes), None)
            if parent is None or parent in seen:
                return best
            seen.add(parent)
            if attribute in self._attributes_by_class.get(parent, ()):
                best = parent
            current = parent

    def split_class(self, dotted: str) -> Tuple[Optional[str], str]:
        return split_prefix(dotted, self.classes)

    def attribute_type(self, class_qualname: str, attribute: str) -> Optional[str]:
        """What ``self.<attribute>`` was built from, in the class or the project classes it inherits."""
        for owner in [class_qualname, *self.class_bases(class_qualname)]:
            entry = self.classes.get(owner)
            if entry is not None and attribute in entry[0].attribute_types:
                return entry[0].attribute_types[attribute]
        return None

    def short_name(self, qualname: str) -> str:
        plain = _DEFINITION_NUMBER.sub("", qualname.replace(".<locals>", ""))
        return plain.rsplit(".", 2)[-1] if plain.count(".") else plain

    def display_name(self, qualname: str) -> str:
        """``Counter.inc`` for methods, ``worker`` for functions: the name a reader knows."""
        entry = self.functions.get(qualname)
        if entry is None:
            return qualname
        info = entry[0]
        if info.is_lambda:
            return f"lambda at line {info.span.row}"
        if info.class_qualname:
            return f"{info.class_qualname.rsplit('.', 1)[-1]}.{info.name}"
        return info.name

    def _type_imported_receivers(self, modules: Sequence[ModuleFacts]) -> None:
        """Types one module could not know alone: ``from .clients import session; session.get()``
        (what the other module built it from) and factories (``self.pool = self.make_pool()``)."""
        for facts in modules:
            for info in facts.classes.values():
                for attribute, built in list(info.attribute_types.items()):
                    info.attribute_types[attribute] = self.realize(built)
            for name, built in list(facts.global_types.items()):
                facts.global_types[name] = self.realize(built)
            for call in facts.calls:
                if call.receiver_type is None and call.receiver_object:
                    built = self.object_type(call.receiver_object)
                    if built != call.receiver_object:
                        call.receiver_type = built
                elif call.receiver_type:
                    call.receiver_type = self.realize(call.receiver_type)

    def realize(self, built: Optional[str], depth: int = 0) -> Optional[str]:
        """What a factory returns, for a type recorded as the factory (a project function, or a
        method still to be found: ``@method:pkg.Worker.make_pool``)."""
        if not built or depth > 8:
            return built
        if built.startswith("@method:"):
            owner, _, name = built[len("@method:") :].rpartition(".")
            target = self.method_of(owner, name) if owner in self.classes else None
            if target is None:
                # not known (yet): keep the marker, so a model over more modules can still read it
                # (the demand rounds build models over growing sets of the same facts)
                return built
            return self.realize(self.functions[target][0].returns, depth + 1)
        target = self.resolve_name(built)
        if target in self.functions:
            return self.realize(self.functions[target][0].returns, depth + 1)
        aliased = self.object_type(built)  # ``db: SessionDep``, an ``Annotated`` alias a module defines
        if aliased and aliased != built and self.split_module(built)[0] is not None:
            return self.realize(aliased, depth + 1)
        return built

    def subclasses_of(self, qualname: str) -> List[str]:
        if self._subclasses is None:
            self._subclasses = {}
            for name in self.classes:
                for base in self.class_bases(name):
                    self._subclasses.setdefault(base, []).append(name)
        return self._subclasses.get(qualname, [])

    def mro(self, qualname: str) -> List[str]:
        """The method resolution order (C3) over project classes; outside bases end it as
        written. A hierarchy C3 rejects falls back to the class and its bases as found."""
        if qualname in self._mros:
            return self._mros[qualname]
        self._mros[qualname] = [qualname]  # a cyclic hierarchy stops here
        entry = self.classes.get(qualname)
        if entry is None:
            return [qualname]
        bases = [self.resolve_name(b) or b for b in entry[0].bases]
        sequences = [list(self.mro(base)) for base in bases] + [bases]
        order = [qualname]
        while True:
            sequences = [sequence for sequence in sequences if sequence]
            if not sequences:
                break
            head = next((seq[0] for seq in sequences if not any(seq[0] in other[1:] for other in sequences)), None)
            if head is None:
                order = [qualname, *self.class_bases(qualname)]
                break
            order.append(head)
            sequences = [seq[1:] if seq[0] == head else seq for seq in sequences]
        self._mros[qualname] = order
        return order

    def owner_class(self, function: str) -> Optional[str]:
        """The class whose ``self`` ``function`` uses: its own, or its enclosing method's (a closure)."""
        info = self.functions.get(function, (None,))[0]
        while info is not None and info.class_qualname is None and info.parent is not None:
            info = self.functions.get(info.parent, (None,))[0]
        return info.class_qualname if info is not None else None
