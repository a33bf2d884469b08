"""Source positions of a module's nodes, computed by one code generation pass.

libcst's ``MetadataWrapper.resolve(PositionProvider)`` runs a code generation that
tracks positions, but first walks the whole tree with its batched visitor (rebuilding
every node) even when no batchable provider is asked for, and it keeps every token it
generates. Here the generation runs alone and only counts lines and columns, keeping
libcst's rules for where a node starts and ends (its syntactic position).
"""

from __future__ import annotations

import re
from typing import Dict, List, Tuple

import libcst as cst
from libcst._nodes.internal import CodegenState
from libcst.metadata import MetadataWrapper, PositionProvider

from conclint.engine.deadline import deadline


class SpanMarker:
    """Stands for a node's position until the module's positions are resolved (a suspension
    point, a call made under a lock, a fork whose child execs at once)."""

    span = None
    target = ""
    requires: Tuple[str, ...] = ()


Point = Tuple[int, int]  # (line 1-based, column 0-based)
Range = Tuple[Point, Point]
_NEWLINE = re.compile(r"\r\n?|\n")


class _Syntactic:
    """``record_syntactic_position`` as a plain context manager (libcst's is a generator)."""

    __slots__ = ("end_node", "node", "start", "start_node", "state")

    def __init__(self, state: _PositionState, node, start_node, end_node) -> None:
        self.state, self.node, self.start_node, self.end_node = state, node, start_node, end_node

    def __enter__(self) -> None:
        self.start = (self.state.line, self.state.column)

    def __exit__(self, error_type, *exc) -> None:
        if error_type is not None:  # the time limit struck inside: its nodes were never recorded
            return
        state = self.state
        computed = state.computed
        start = computed[self.start_node][0] if self.start_node is not None else self.start
        end = computed[self.end_node][1] if self.end_node is not None else (state.line, state.column)
        computed[self.node] = (start, end)


class _PositionState(CodegenState):
    def __init__(self, module: cst.Module) -> None:
        super().__init__(default_indent=module.default_indent, default_newline=module.default_newline)
        self.line = 1
        self.column = 0
        self.computed: Dict[cst.CSTNode, Range] = {}
        self._stack: List[Point] = []

    def _advance(self, value: str) -> None:
        if "\n" in value or "\r" in value:
            segments = _NEWLINE.split(value)
            self.line += len(segments) - 1
            self.column = len(segments[-1])
        else:
            self.column += len(value)

    def add_indent_tokens(self) -> None:
        for token in self.indent_tokens:
            self._advance(token)

    def add_token(self, value: str) -> None:
        self._advance(value)

    def pop_trailing_newline(self) -> None:
        pass  # only the generated text loses it; positions were already recorded

    def before_codegen(self, node) -> None:
        deadline.tick()
        self._stack.append((self.line, self.column))

    def after_codegen(self, node) -> None:
        start = self._stack.pop()
        if node not in self.computed:
            self.computed[node] = (start, (self.line, self.column))

    def record_syntactic_position(self, node, *, start_node=None, end_node=None):
        return _Syntactic(self, node, start_node, end_node)


def node_positions(module: cst.Module) -> Dict[cst.CSTNode, Range]:
    """((line, column), (end line, end column)) of every node; columns 0-based as libcst's."""
    try:
        state = _PositionState(module)
        module._codegen(state)
        return state.computed
    except (AttributeError, TypeError):  # a libcst whose internals moved: take the public road
        resolved = MetadataWrapper(module, unsafe_skip_copy=True).resolve(PositionProvider)
        return {node: ((r.start.line, r.start.column), (r.end.line, r.end.column)) for node, r in resolved.items()}
