"""Our own name resolution over the CST: scopes, bindings and qualified names.

libcst's ScopeProvider and QualifiedNameProvider cost about ten times the parse, so
the collector records bindings while it walks and names are resolved afterwards
(a function may use an import written below it).
"""

from __future__ import annotations

import weakref
from dataclasses import dataclass, field
from typing import Dict, List, Optional, Sequence

import libcst as cst

IMPORT = "import"
DEFINITION = "definition"
VALUE = "value"
_PREFERENCE = {IMPORT: 0, DEFINITION: 1, VALUE: 2}


class Binding:
    """One binding of a name: an import, a definition or a value.

    Setting ``value_type`` keeps its name's tally up to date (``NameBindings``)."""

    __slots__ = ("_name", "_value_type", "kind", "target", "type_alias")

    def __init__(self, kind: str, target: Optional[str], name: Optional[NameBindings] = None) -> None:
        self.kind = kind  # IMPORT, DEFINITION or VALUE
        self.target = target  # qualified name for imports and definitions
        self._name = weakref.ref(name) if name is not None else None  # no cycle: the tally holds the binding
        self._value_type: Optional[str] = None  # for values: what built it (``threading.Lock``), when known
        self.type_alias = False  # ``SessionDep = Annotated[Session, ...]``: a name for the type it holds

    @property
    def value_type(self) -> Optional[str]:
        return self._value_type

    @value_type.setter
    def value_type(self, value: Optional[str]) -> None:
        tally = self._name() if self._name is not None else None
        if tally is not None:
            tally.count_type(self._value_type, -1)
            tally.count_type(value, 1)
        self._value_type = value


class NameBindings(List[Binding]):
    """The bindings of one name in one scope, in order, with what lookups ask of them kept
    as they come: generated code rebinds one local thousands of times, and computing the
    preferred binding or the set of types from the whole list at every use was quadratic
    (an 8,000-line function of asyncua's took most of its time there)."""

    def __init__(self) -> None:
        super().__init__()
        self.best: Optional[Binding] = None  # the last of the most preferred kind
        self.type_counts: Dict[str, int] = {}  # value type -> bindings that have it

    def add(self, binding: Binding) -> None:
        self.append(binding)
        if self.best is None or _PREFERENCE[binding.kind] <= _PREFERENCE[self.best.kind]:
            self.best = binding

    def count_type(self, value_type: Optional[str], change: int) -> None:
        if not value_type:
            return
        count = self.type_counts.get(value_type, 0) + change
        if count:
            self.type_counts[value_type] = count
        else:
            del self.type_counts[value_type]


@dataclass
class Scope:
    kind: str  # "module", "class", "function", "lambda", "comprehension"
    parent: Optional[Scope]
    bindings: Dict[str, NameBindings] = field(default_factory=dict)
    globals: set = field(default_factory=set)
    nonlocals: set = field(default_factory=set)
    function: Optional[object] = None  # the FunctionInfo of a function or lambda scope

    def bind(self, name: str, kind: str, target: Optional[str] = None) -> Binding:
        if name in self.globals:
            return self.module_scope().bind(name, kind, target)
        bindings = self.bindings.get(name)
        if bindings is None:
            bindings = self.bindings[name] = NameBindings()
        binding = Binding(kind, target, bindings)
        bindings.add(binding)
        return binding

    def owner_of(self, name: str) -> Optional[Scope]:
        """The scope whose variable ``name`` is, seen from here (None: builtin or undefined)."""
        scope: Optional[Scope] = self
        first = True
        while scope is not None:
            if name in scope.globals:
                module = scope.module_scope()
                return module if name in module.bindings else None
            if name in scope.nonlocals:
                first = False
                scope = scope.parent
                continue
            if (first or scope.kind != "class") and name in scope.bindings:
                return scope
            first = False
            scope = scope.parent
        return None

    def value_type(self, name: str, seen: Optional[int] = None) -> Optional[str]:
        """The constructor a variable was built from, when every binding agrees or only one says.

        ``seen``: how many of this scope's bindings of ``name`` came before the use; when
        the variable is rebound with other types, the last binding before the use decides
        (``c: PoolManager = ...; c.request(); c: Other = ...``).
        """
        owner = self.owner_of(name)
        if owner is None:
            return None
        bindings = owner.bindings[name]
        types = bindings.type_counts
        if len(types) > 1 and owner is self and seen:
            return bindings[seen - 1].value_type
        return next(iter(types)) if len(types) == 1 else None

    def enclosing_function(self) -> Optional[object]:
        scope: Optional[Scope] = self
        while scope is not None and scope.function is None and scope.kind == "comprehension":
            scope = scope.parent
        return scope.function if scope is not None else None

    def module_scope(self) -> Scope:
        scope = self
        while scope.parent is not None:
            scope = scope.parent
        return scope

    def lookup(self, name: str) -> Optional[Binding]:
        """The binding ``name`` refers to from this scope (class scopes are skipped for nested code)."""
        scope: Optional[Scope] = self
        first = True
        while scope is not None:
            if name in scope.globals:
                return scope.module_scope()._best(name)
            if (first or scope.kind != "class") and name not in scope.nonlocals:
                best = scope._best(name)
                if best is not None:
                    return best
            first = False
            scope = scope.parent
        return None

    def _best(self, name: str) -> Optional[Binding]:
        found = self.bindings.get(name)
        return found.best if found else None


def resolve_dotted(scope: Scope, parts: Sequence[str]) -> Optional[str]:
    """Qualified name of a dotted reference, or None when it starts from a local value.

    An unbound head keeps its literal spelling, so ``subprocess.Popen`` without an
    import still resolves, and builtins (``open``, ``input``) resolve to themselves.
    """
    if not parts:
        return None
    binding = scope.lookup(parts[0])
    if binding is None:
        return ".".join(parts)
    if binding.kind == VALUE or binding.target is None:
        return None
    return ".".join([binding.target, *parts[1:]])


def dotted_parts(node: cst.BaseExpression) -> Optional[List[str]]:
    """``a.b.c`` as ["a", "b", "c"]; None for anything that is not a plain dotted name."""
    parts: List[str] = []
    while isinstance(node, cst.Attribute):
        parts.append(node.attr.value)
        node = node.value
    if isinstance(node, cst.Name):
        parts.append(node.value)
        parts.reverse()
        return parts
    return None


def import_module_name(node: cst.ImportFrom, current_module: str, is_package: bool) -> Optional[str]:
    """The absolute module a ``from ... import`` names, resolving relative dots."""
    level = len(node.relative)
    name = dotted_name_of(node.module) if node.module is not None else ""
    if level == 0:
        return name
    package_parts = current_module.split(".") if current_module else []
    if not is_package:
        package_parts = package_parts[:-1]
    if level - 1 > len(package_parts):
        return None
    base = package_parts[: len(package_parts) - (level - 1)]
    return ".".join(p for p in [*base, name] if p)


def dotted_name_of(node: cst.BaseExpression) -> str:
    parts = dotted_parts(node)
    return ".".join(parts) if parts else ""


def block_ends_with(block, kinds) -> bool:
    """The block's last statement is one of ``kinds`` (``cst.Return``, ``cst.Raise``, ...)."""
    statements = getattr(block, "body", ())
    last = statements[-1] if statements else None
    if isinstance(last, cst.SimpleStatementLine):
        last = last.body[-1]
    return isinstance(last, kinds)


def caught_names(handler: cst.ExceptHandler) -> List[str]:
    """The exception names an ``except`` clause catches, last part only (``KeyError``)."""
    kinds = handler.type.elements if isinstance(handler.type, cst.Tuple) else [handler.type] if handler.type else []
    names = []
    for kind in kinds:
        parts = dotted_parts(kind.value if isinstance(kind, cst.Element) else kind)
        if parts:
            names.append(parts[-1])
    return names
