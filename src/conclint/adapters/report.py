"""What every output format shares: the report's context, one severity per code, paths, colour, source lines."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Dict, List, Optional, Sequence, TextIO

from conclint.engine.discovery import relative_below
from conclint.engine.findings import Finding
from conclint.engine.source import SourceError, python_lines, read_source
from conclint.rules import RULES_BY_CODE

# One severity per code, for SARIF `level`, GitHub annotation commands, JSON, JUnit and GitLab:
# a hazard is a warning about the code; a file conclint could not analyse is an error of the run.
INPUT_ERROR_CODES = ("CCL001", "CCL002")
ERROR, WARNING = "error", "warning"
GITLAB_SEVERITY = {ERROR: "critical", WARNING: "major"}


def severity(code: str) -> str:
    return ERROR if code in INPUT_ERROR_CODES else WARNING


@dataclass
class ReportContext:
    """What a format may show besides the findings (all optional: a format of the findings alone still works)."""

    internal_errors: Dict[str, str] = field(default_factory=dict)  # path -> one-line description
    color: bool = False
    show_fix_hint: bool = True  # "N fixable with the `--fix` option." (not after --fix)
    show_fixes: bool = False  # mark fixable findings with `[*]`, as ruff's --show-fixes does
    quiet: bool = False  # the findings alone, no summary


def display_path(path: str, cwd: str) -> str:
    """Relative to the working directory when below it, as given otherwise."""
    relative = relative_below(path, cwd)
    return path if relative is None else relative


def plural(count: int, word: str) -> str:
    return f"{count} {word}{'' if count == 1 else 's'}"


def summary(findings: Sequence[Finding], context: ReportContext) -> List[str]:
    """The closing lines of the human formats: hazards and errors counted apart, then the fixable ones."""
    if context.quiet:
        return []
    if not findings:
        return ["All checks passed."]
    errors = sum(1 for f in findings if severity(f.code) == ERROR)
    hazards = len(findings) - errors
    counted = [plural(n, word) for n, word in ((hazards, "hazard"), (errors, "error")) if n]
    files = len({f.path for f in findings})
    lines = [f"Found {' and '.join(counted)} in {plural(files, 'file')}."]
    fixable = sum(1 for f in findings if is_fixable(f))
    if fixable and context.show_fix_hint:
        lines.append(f"[*] {fixable} fixable with the `--fix` option.")
    return lines


def is_fixable(finding: Finding) -> bool:
    return finding.fix is not None and finding.fix.applicability == "safe"


def color_wanted(choice: str, stream: TextIO) -> bool:
    """``--color auto`` colours a terminal, unless NO_COLOR is set (https://no-color.org); always/never decide."""
    if choice == "always":
        return True
    if choice == "never" or os.environ.get("NO_COLOR"):
        return False
    if os.environ.get("FORCE_COLOR"):
        return True
    isatty = getattr(stream, "isatty", None)
    return bool(isatty and isatty()) and os.environ.get("TERM") != "dumb"


class Painter:
    """ANSI styles, or none."""

    STYLES = {"bold": "1", "red": "31;1", "yellow": "33;1", "cyan": "36", "blue": "34;1", "dim": "2"}

    def __init__(self, enabled: bool) -> None:
        self.enabled = enabled

    def __call__(self, text: str, style: str) -> str:
        return f"\x1b[{self.STYLES[style]}m{text}\x1b[0m" if self.enabled and text else text


class SourceLines:
    """Source lines per file, read once, numbered as the parser numbers them."""

    def __init__(self) -> None:
        self._lines: Dict[str, Optional[List[str]]] = {}

    def line(self, path: str, row: int) -> Optional[str]:
        if path not in self._lines:
            source = read_source(path)
            self._lines[path] = None if isinstance(source, SourceError) else python_lines(source.text)
        lines = self._lines[path]
        return lines[row - 1] if lines is not None and 0 < row <= len(lines) else None


def _location(row: int, col: int) -> Dict[str, int]:
    return {"row": row, "column": col}


def _json_fix(finding: Finding) -> Optional[Dict[str, object]]:
    if finding.fix is None:
        return None
    return {
        "applicability": finding.fix.applicability,
        "message": finding.fix.message,
        "edits": [
            {
                "content": edit.content,
                "location": _location(edit.span.row, edit.span.col),
                "end_location": _location(edit.span.end_row, edit.span.end_col),
            }
            for edit in finding.fix.edits
        ],
    }


def json_item(f: Finding) -> Dict[str, object]:
    """One finding as ruff's JSON has it, plus its related places, its rule's page and its severity."""
    return {
        "cell": None,
        "code": f.code,
        "end_location": _location(f.span.end_row, f.span.end_col),
        "filename": os.path.abspath(f.path),
        "fix": _json_fix(f),
        "location": _location(f.span.row, f.span.col),
        "message": f.message,
        "noqa_row": f.span.row,
        "related": [
            {"message": r.message, "filename": os.path.abspath(r.path), "location": _location(r.span.row, r.span.col)}
            for r in f.related
        ],
        "severity": severity(f.code),
        "properties": dict(f.properties),
        "url": RULES_BY_CODE[f.code].url(),
    }
