"""The output formats, by name: text (ruff's concise lines), ruff-compatible JSON, SARIF 2.1.0,
GitHub annotations, and the other formats of `ruff check` (see formats.py)."""

from __future__ import annotations

import json
from collections import Counter
from typing import Callable, Dict, List, Optional, Sequence

from conclint.adapters.formats import (
    format_concise,
    format_full,
    format_gitlab,
    format_grouped,
    format_json_lines,
    format_junit,
    format_pylint,
)
from conclint.adapters.report import ReportContext, display_path, json_item, severity
from conclint.adapters.sarif import SARIF_SCHEMA, format_sarif
from conclint.engine.findings import Finding
from conclint.rules import RULES_BY_CODE

__all__ = ["FORMATTERS", "HUMAN_FORMATS", "SARIF_SCHEMA", "display_path", "format_sarif"]


def format_text(findings: Sequence[Finding], cwd: str, context: Optional[ReportContext] = None) -> str:
    """One line per finding, then the summary (ruff's `concise`)."""
    return format_concise(findings, cwd, context)


def format_statistics(findings: Sequence[Finding], output_format: str = "text") -> str:
    """Counts per code: tab-separated lines, or (``json``) a list of objects as ruff prints them."""
    counts = Counter(f.code for f in findings)
    if output_format == "json":
        rows = [{"code": code, "name": RULES_BY_CODE[code].name, "count": counts[code]} for code in sorted(counts)]
        return json.dumps(rows, indent=2) + "\n"
    width = max((len(str(n)) for n in counts.values()), default=1)
    lines = [f"{counts[code]:>{width}}\t{code}\t{RULES_BY_CODE[code].name}" for code in sorted(counts)]
    return "\n".join(lines) + ("\n" if lines else "")


def format_json(findings: Sequence[Finding], cwd: str, context: Optional[ReportContext] = None) -> str:
    return json.dumps([json_item(f) for f in findings], indent=2) + "\n"


def _escape_data(value: str) -> str:
    return value.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _escape_property(value: str) -> str:
    return _escape_data(value).replace(":", "%3A").replace(",", "%2C")


def format_github(findings: Sequence[Finding], cwd: str, context: Optional[ReportContext] = None) -> str:
    """Workflow commands GitHub shows as annotations: `::warning` for a hazard, `::error` for a file
    conclint could not analyse (the shared severity)."""
    lines: List[str] = []
    for f in findings:
        properties = ",".join(
            [
                f"title={_escape_property(f'conclint ({f.code})')}",
                f"file={_escape_property(display_path(f.path, cwd))}",
                f"line={f.span.row}",
                f"col={f.span.col}",
                f"endLine={max(f.span.end_row, f.span.row)}",
                f"endColumn={max(f.span.end_col, f.span.col)}",
            ]
        )
        lines.append(f"::{severity(f.code)} {properties}::{_escape_data(f'{f.code} {f.message}')}")
    return "\n".join(lines) + ("\n" if lines else "")


Formatter = Callable[[Sequence[Finding], str, Optional[ReportContext]], str]

FORMATTERS: Dict[str, Formatter] = {
    "text": format_text,
    "concise": format_concise,
    "full": format_full,
    "grouped": format_grouped,
    "json": format_json,
    "json-lines": format_json_lines,
    "sarif": format_sarif,
    "github": format_github,
    "gitlab": format_gitlab,
    "junit": format_junit,
    "pylint": format_pylint,
}
# the formats read by people: they end with the summary, `--quiet` drops it, `--color` paints them
HUMAN_FORMATS = ("text", "concise", "full", "grouped")
