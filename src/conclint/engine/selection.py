"""Which findings are shown: rule selection, per-file ignores and `# noqa` comments."""

from __future__ import annotations

import os
import re
from typing import Dict, Iterable, List, Optional, Sequence, Tuple

import pathspec

from conclint.engine.source import python_lines

# flake8's inline pattern, so `# noqa`, `# NOQA:CCL201`, `# noqa: CCL201,CCL101` behave alike.
NOQA_PATTERN = re.compile(r"# noqa(?::[\s]?(?P<codes>([A-Z]+[0-9]+(?:[,\s]+)?)+))?", re.IGNORECASE)
CODE_PATTERN = re.compile(r"[A-Z]+[0-9]+", re.IGNORECASE)

NoqaMap = Dict[int, Optional[Tuple[str, ...]]]


def _specificity(code: str, selectors: Iterable[str]) -> int:
    """Length of the longest selector matching ``code``, -1 when none does."""
    best = -1
    for selector in selectors:
        if selector == "ALL":
            best = max(best, 0)
        elif code.startswith(selector):
            best = max(best, len(selector))
    return best


def is_enabled(code: str, select: Sequence[str], ignore: Sequence[str]) -> bool:
    """Like ruff: the more specific selector wins, and ``ignore`` wins a tie."""
    selected = _specificity(code, select)
    return selected >= 0 and selected > _specificity(code, ignore)


def enabled_codes(codes: Iterable[str], select: Sequence[str], ignore: Sequence[str]) -> List[str]:
    return [code for code in codes if is_enabled(code, select, ignore)]


def parse_noqa(text: str) -> NoqaMap:
    """Rows carrying `# noqa`: None for a bare one (everything), else the codes it names."""
    found: NoqaMap = {}
    if "noqa" not in text.lower():
        return found
    for row, line in enumerate(python_lines(text), start=1):
        if "noqa" not in line.lower():
            continue
        match = NOQA_PATTERN.search(line)
        if match is None:
            continue
        codes = match.group("codes")
        # codes compare as written, as flake8 compares them: `# noqa: ccl201` suppresses nothing
        found[row] = tuple(CODE_PATTERN.findall(codes)) if codes else None
    return found


def suppressed_by_noqa(code: str, row: int, noqa: NoqaMap) -> bool:
    if row not in noqa:
        return False
    codes = noqa[row]
    return codes is None or any(code.startswith(c) for c in codes)


class PerFileIgnores:
    def __init__(self, table: Dict[str, List[str]], root: str) -> None:
        self.root = root
        self.entries = [(pathspec.GitIgnoreSpec.from_lines([pattern]), codes) for pattern, codes in table.items()]

    def ignored_codes(self, path: str) -> List[str]:
        if not self.entries:
            return []
        relative = os.path.relpath(path, self.root).replace(os.sep, "/")
        codes: List[str] = []
        for spec, entry_codes in self.entries:
            if spec.match_file(relative):
                codes.extend(entry_codes)
        return codes
