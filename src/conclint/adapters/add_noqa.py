"""`conclint check --add-noqa`: a `# noqa: CODE` comment on every line that has a finding, as ruff adds them."""

from __future__ import annotations

import io
import tokenize
from collections import defaultdict
from typing import Dict, Iterable, List, Set

from conclint.engine.findings import Finding
from conclint.engine.selection import NOQA_PATTERN, parse_noqa
from conclint.engine.source import LINE_END, SourceError, read_source


def _rows_that_cannot_end_in_a_comment(text: str) -> Set[int]:
    """Rows whose end is inside a string (a triple-quoted one going on) or continued by a backslash."""
    rows: Set[int] = set()
    try:
        for token in tokenize.generate_tokens(io.StringIO(text).readline):
            if token.type == tokenize.STRING or token.type == getattr(tokenize, "FSTRING_MIDDLE", -1):
                rows.update(range(token.start[0], token.end[0]))
    except (tokenize.TokenError, SyntaxError):
        pass
    for row, line in enumerate(LINE_END.split(text), start=1):
        if line.endswith("\\"):
            rows.add(row)
    return rows


def _with_codes(line: str, codes: List[str]) -> str:
    """``line`` with ``codes`` added to its `# noqa` comment, or with a new one."""
    match = NOQA_PATTERN.search(line)
    if match is None:
        return f"{line.rstrip()}  # noqa: {', '.join(codes)}"
    existing = match.group("codes")
    merged = [*(c for c in (existing or "").replace(",", " ").split() if c), *codes]
    return line[: match.start()] + f"# noqa: {', '.join(dict.fromkeys(merged))}" + line[match.end() :]


def add_noqa(findings: Iterable[Finding]) -> int:
    """Write the comments; the number of lines changed. A row that cannot take a comment (inside a
    multi-line string, after a backslash) and a finding already suppressed are left alone."""
    wanted: Dict[str, Dict[int, List[str]]] = defaultdict(lambda: defaultdict(list))
    for f in findings:
        if f.code not in wanted[f.path][f.span.row]:
            wanted[f.path][f.span.row].append(f.code)
    changed = 0
    for path, rows in sorted(wanted.items()):
        source = read_source(path)
        if isinstance(source, SourceError):
            continue
        text = source.text
        present = parse_noqa(text)
        blocked = _rows_that_cannot_end_in_a_comment(text)
        pieces = LINE_END.split(text)
        ends = LINE_END.findall(text)
        edited = 0
        for row, codes in rows.items():
            if row in blocked or not 0 < row <= len(pieces) or present.get(row, ()) is None:
                continue
            pieces[row - 1] = _with_codes(pieces[row - 1], codes)
            edited += 1
        if edited:
            after = "".join(piece + end for piece, end in zip(pieces, [*ends, ""]))
            with open(path, "w", encoding=source.encoding, newline="") as handle:
                handle.write(after)
            changed += edited
    return changed
