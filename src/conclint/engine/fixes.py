"""Apply the text edits that findings carry (``--fix``, ``--diff``)."""

from __future__ import annotations

import difflib
from typing import Dict, Iterable, List, Tuple

from conclint.engine.findings import Edit, Finding
from conclint.engine.fix_imports import tidy_imports
from conclint.engine.source import LINE_END


def edits_by_path(findings: Iterable[Finding]) -> Dict[str, List[Edit]]:
    grouped: Dict[str, List[Edit]] = {}
    for finding in findings:
        if finding.fix is not None and finding.fix.applicability == "safe":
            for edit in finding.fix.edits:
                edits = grouped.setdefault(finding.path, [])
                if edit not in edits:  # one import added once, however many fixes want it
                    edits.append(edit)
    return grouped


def _line_starts(text: str) -> List[int]:
    """Offset where each row begins, rows numbered as the parser numbers them."""
    starts = [0]
    for line in LINE_END.finditer(text):
        starts.append(line.end())
    return starts


def apply_edits(text: str, edits: Iterable[Edit]) -> str:
    """Apply non-overlapping edits, last first, so earlier offsets stay valid.

    Inserted line ends follow the file's own (``\r\n`` files stay ``\r\n``).
    """
    starts = _line_starts(text)
    newline = "\r\n" if "\r\n" in text else "\n"
    ranges: List[Tuple[int, int, str]] = []
    for edit in edits:
        start = starts[edit.span.row - 1] + edit.span.col - 1
        end = starts[edit.span.end_row - 1] + edit.span.end_col - 1
        ranges.append((start, end, edit.content.replace("\n", newline)))
    ranges.sort(reverse=True)
    last_start = len(text) + 1
    for start, end, content in ranges:
        if end > last_start:
            continue  # overlaps an edit already applied: leave it for the next run
        text = text[:start] + content + text[end:]
        last_start = start
    return text


def fixed_text(text: str, edits: Iterable[Edit]) -> str:
    """``text`` with the edits applied and the imports they touched tidied (see fix_imports.py)."""
    after = apply_edits(text, edits)
    return tidy_imports(text, after) if after != text else after


def unified_diff(path: str, before: str, after: str) -> str:
    return "".join(difflib.unified_diff(before.splitlines(True), after.splitlines(True), f"a/{path}", f"b/{path}"))
