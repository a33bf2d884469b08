"""Our own name resolution over the CST: scopes, bindings and qualified names.

libcst's ScopeProvider and QualifiedNameProvider cost about ten times the parse, so
the collector records bindings while it walks and names are resolved afterwards
(a function may use an import written below it).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Dict, List, Optional, Sequence

import libcst as cst

IMPORT = "import"
DEFINITION = "definition"
VALUE = "value"
_PREFERENCE = {IMPORT: 0, DEFINITION: 1, VALUE: 2}


@dataclass
class Binding:
    kind: str  # IMPORT, DEFINITION or VALUE
    target: Optional[str]  # qualified name for imports and definitions
    value_type: Optional[str] = None  # for values: what built it (``threading.Lock``), when known
    type_alias: bool = False  # ``SessionDep = Annotated[Session, ...]``: a name for the type it holds


@dataclass
class Scope:
    kind: str  # "module", "class", "function", "lambda", "comprehension"
    parent: Optional[Scope]
    bindings: Dict[str, List[Binding]] = field(default_factory=dict)
    globals: set = field(default_factory=set)
    nonlocals: set = field(default_factory=set)
    function: Optional[object] = None  # the FunctionInfo of a function or lambda scope

    def bind(self, name: str, kind: str, target: Optional[str] = None) -> Binding:
        if name in self.globals:
            return self.module_scope().bind(name, kind, target)
        binding = Binding(kind, target)
        self.bindings.setdefault(name, []).append(binding)
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
        bindings = owner.bindings.get(name, ())
        types = {b.value_type for b in bindings if b.value_type}
        if len(types) > 1 and owner is self and seen:
            return bindings[seen - 1].value_type
        return types.pop() if len(types) == 1 else None

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
        if not found:
            return None
        return min(reversed(found), key=lambda b: _PREFERENCE[b.kind])


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
