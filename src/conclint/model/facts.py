"""Plain, picklable facts about one module, gathered in a single pass over its CST.

Nodes never leave the collector: every fact carries a Span, so facts can cross a
process boundary and be cached; rules read facts, never the tree.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Dict, FrozenSet, List, Optional, Tuple

from conclint.engine.findings import Span

MODULE_SCOPE = "<module>"


@dataclass
class CallSite:
    """One call expression."""

    callee: Optional[str]  # resolved qualified name, or None when the callee is a local value
    text: str  # the callee as written, dotted ("self.load", "time.sleep"), or "" when not a name
    function: str  # qualname of the innermost enclosing def or lambda, MODULE_SCOPE at top level
    awaited: bool
    span: Span = Span(0, 0, 0, 0)


@dataclass
class FunctionInfo:
    qualname: str
    name: str
    is_async: bool
    is_lambda: bool
    parent: Optional[str]  # enclosing function's qualname, None at module or class level
    class_qualname: Optional[str]  # set for methods
    span: Span = Span(0, 0, 0, 0)


@dataclass
class ModuleFacts:
    path: str
    module: str
    functions: Dict[str, FunctionInfo] = field(default_factory=dict)
    calls: List[CallSite] = field(default_factory=list)
    imported_modules: FrozenSet[str] = frozenset()
    noqa: Dict[int, Optional[Tuple[str, ...]]] = field(default_factory=dict)

    def imports_any(self, *names: str) -> bool:
        return any(m == n or m.startswith(n + ".") for m in self.imported_modules for n in names)
