"""What a run reports: findings with their location and the related places that explain them."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import NamedTuple, Optional, Tuple


class Span(NamedTuple):
    """A source range: 1-based rows and 1-based columns, end exclusive (as ruff reports them).

    A tuple: facts hold hundreds of thousands of them, and tuples pickle (and cache) fast.
    """

    row: int
    col: int
    end_row: int
    end_col: int

    @classmethod
    def point(cls, row: int, col: int) -> Span:
        return cls(row, col, row, col)


@dataclass(frozen=True)
class Related:
    """Another place that explains a finding: where state is written, the thread entry, the await."""

    message: str
    path: str
    span: Span


@dataclass(frozen=True)
class Edit:
    content: str
    span: Span


@dataclass(frozen=True)
class Fix:
    message: str
    edits: Tuple[Edit, ...]
    applicability: str = "safe"


@dataclass(frozen=True)
class Finding:
    code: str
    message: str
    path: str
    span: Span
    related: Tuple[Related, ...] = field(default=())
    fix: Optional[Fix] = None
    properties: Tuple[Tuple[str, str], ...] = ()  # what a format can carry besides the message (``cost``)

    def sort_key(self):
        return (self.path, self.span.row, self.span.col, self.code, self.message)
