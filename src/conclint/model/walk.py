"""A plain walk over a libcst tree: ``visit_<Node>`` / ``leave_<Node>`` methods, no rebuilding.

libcst's own ``visit`` rebuilds every node it passes (a ``CSTVisitor`` pays for a
transformer's work), which costs several times the parse. This walk reads each node's
child fields directly and calls the same-named methods, with the same contract: a
``visit_X`` that returns False skips the children; ``leave_X`` is always called.
"""

from __future__ import annotations

import dataclasses
from typing import Callable, Dict, Optional, Tuple, Type

import libcst as cst

from conclint.engine.deadline import deadline

# Fields that hold only layout (whitespace, punctuation): nothing there for an analysis.
_LAYOUT = (
    "whitespace",
    "lpar",
    "rpar",
    "comma",
    "semicolon",
    "leading_lines",
    "lines_after_decorators",
    "header",
    "footer",
    "newline",
    "equal",
    "colon",
    "dot",
    "default_indent",
    "default_newline",
)
_FIELDS: Dict[type, Tuple[str, ...]] = {}


def child_fields(node_type: type) -> Tuple[str, ...]:
    fields = _FIELDS.get(node_type)
    if fields is None:
        fields = tuple(f.name for f in dataclasses.fields(node_type) if not any(part in f.name for part in _LAYOUT))
        _FIELDS[node_type] = fields
    return fields


class NodeWalker:
    def __init__(self) -> None:
        self._visit: Dict[type, Optional[Callable]] = {}
        self._leave: Dict[type, Optional[Callable]] = {}

    def _handlers(self, node_type: Type[cst.CSTNode]):
        if node_type not in self._visit:
            name = node_type.__name__
            self._visit[node_type] = getattr(self, f"visit_{name}", None)
            self._leave[node_type] = getattr(self, f"leave_{name}", None)
        return self._visit[node_type], self._leave[node_type]

    def walk(self, node: cst.CSTNode) -> None:
        deadline.tick()
        node_type = type(node)
        visit, leave = self._handlers(node_type)
        if visit is None or visit(node) is not False:
            for name in child_fields(node_type):
                value = getattr(node, name)
                if isinstance(value, cst.CSTNode):
                    self.walk(value)
                elif isinstance(value, (tuple, list)):
                    for item in value:
                        if isinstance(item, cst.CSTNode):
                            self.walk(item)
        if leave is not None:
            leave(node)
