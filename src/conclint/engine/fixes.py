"""Apply the text edits that findings carry (``--fix``, ``--diff``)."""

from __future__ import annotations

import difflib
from typing import Dict, Iterable, List, Tuple

from conclint.engine.findings import Edit, Finding


def edits_by_path(findings: Iterable[Finding]) -> Dict[str, List[Edit]]:
    grouped: Dict[str, List[Edit]] = {}
    for finding in findings:
        if finding.fix is not None and finding.fix.applicability == "safe":
            for edit in finding.fix.edits:
                edits = grouped.setdefault(finding.path, [])
                if edit not in edits:  # one import added once, however many fixes want it
                    edits.append(edit)
    return grouped


def _offset(lines: List[str], row: int, col: int) -> int:
    return sum(len(line) for line in lines[: row - 1]) + col - 1


def apply_edits(text: str, edits: Iterable[Edit]) -> str:
    """Apply non-overlapping edits, last first, so earlier offsets stay valid."""
    lines = text.splitlines(keepends=True)
    ranges: List[Tuple[int, int, str]] = []
    for edit in edits:
        start = _offset(lines, edit.span.row, edit.span.col)
        end = _offset(lines, edit.span.end_row, edit.span.end_col)
        ranges.append((start, end, edit.content))
    ranges.sort(reverse=True)
    last_start = len(text) + 1
    for start, end, content in ranges:
        if end > last_start:
            continue  # overlaps an edit already applied: leave it for the next run
        text = text[:start] + content + text[end:]
        last_start = start
    return text


def unified_diff(path: str, before: str, after: str) -> str:
    return "".join(difflib.unified_diff(before.splitlines(True), after.splitlines(True), f"a/{path}", f"b/{path}"))
