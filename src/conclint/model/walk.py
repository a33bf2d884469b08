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
# (walker class, node type) -> its visit and leave functions, unbound: a walker holding its own
# bound methods was a reference cycle, and every parsed tree it reached waited for the cyclic
# collector (paused during analysis) instead of being freed when its file was done
_HANDLERS: Dict[Tuple[type, type], Tuple[Optional[Callable], Optional[Callable]]] = {}


def child_fields(node_type: type) -> Tuple[str, ...]:
    fields = _FIELDS.get(node_type)
    if fields is None:
        fields = tuple(f.name for f in dataclasses.fields(node_type) if not any(part in f.name for part in _LAYOUT))
        _FIELDS[node_type] = fields
    return fields


class NodeWalker:
    def _handlers(self, node_type: Type[cst.CSTNode]):
        key = (type(self), node_type)
        handlers = _HANDLERS.get(key)
        if handlers is None:
            name = node_type.__name__
            handlers = _HANDLERS[key] = (
                getattr(type(self), f"visit_{name}", None),
                getattr(type(self), f"leave_{name}", None),
            )
        return handlers

    def walk(self, node: cst.CSTNode) -> None:
        deadline.tick()
        node_type = type(node)
        visit, leave = self._handlers(node_type)
        if visit is None or visit(self, node) is not False:
            for name in child_fields(node_type):
                value = getattr(node, name)
                if isinstance(value, cst.CSTNode):
                    self.walk(value)
                elif isinstance(value, (tuple, list)):
                    for item in value:
                        if isinstance(item, cst.CSTNode):
                            self.walk(item)
        if leave is not None:
            leave(self, node)
