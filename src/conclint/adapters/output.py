"""Output formats: text (like ruff's), ruff-compatible JSON, SARIF 2.1.0 and GitHub annotations."""

from __future__ import annotations

import json
import os
import pathlib
import urllib.parse
from collections import Counter
from typing import Callable, Dict, List, Sequence

from conclint import __version__
from conclint.engine.discovery import relative_below
from conclint.engine.findings import Finding, Span
from conclint.rules import ALL_RULES, RULES_BY_CODE
from conclint.rules.base import DOCS_BASE_URL

SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
INPUT_ERROR_CODES = ("CCL001", "CCL002")


def display_path(path: str, cwd: str) -> str:
    """Relative to the working directory when below it, as given otherwise."""
    relative = relative_below(path, cwd)
    return path if relative is None else relative


def _plural(count: int, word: str) -> str:
    return f"{count} {word}{'' if count == 1 else 's'}"


def format_text(findings: Sequence[Finding], cwd: str) -> str:
    lines = [f"{display_path(f.path, cwd)}:{f.span.row}:{f.span.col}: {f.code} {f.message}" for f in findings]
    if findings:
        files = len({f.path for f in findings})
        lines.append(f"Found {_plural(len(findings), 'hazard')} in {_plural(files, 'file')}.")
    else:
        lines.append("All checks passed.")
    return "\n".join(lines) + "\n"


def format_statistics(findings: Sequence[Finding], output_format: str = "text") -> str:
    """Counts per code: tab-separated lines, or (``json``) a list of objects as ruff prints them."""
    counts = Counter(f.code for f in findings)
    if output_format == "json":
        rows = [{"code": code, "name": RULES_BY_CODE[code].name, "count": counts[code]} for code in sorted(counts)]
        return json.dumps(rows, indent=2) + "\n"
    width = max((len(str(n)) for n in counts.values()), default=1)
    lines = [f"{counts[code]:>{width}}\t{code}\t{RULES_BY_CODE[code].name}" for code in sorted(counts)]
    return "\n".join(lines) + ("\n" if lines else "")


def _location(row: int, col: int) -> Dict[str, int]:
    return {"row": row, "column": col}


def _json_fix(finding: Finding):
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


def format_json(findings: Sequence[Finding], cwd: str) -> str:
    items = []
    for f in findings:
        items.append(
            {
                "cell": None,
                "code": f.code,
                "end_location": _location(f.span.end_row, f.span.end_col),
                "filename": os.path.abspath(f.path),
                "fix": _json_fix(f),
                "location": _location(f.span.row, f.span.col),
                "message": f.message,
                "noqa_row": f.span.row,
                "related": [
                    {
                        "message": r.message,
                        "filename": os.path.abspath(r.path),
                        "location": _location(r.span.row, r.span.col),
                    }
                    for r in f.related
                ],
                "url": RULES_BY_CODE[f.code].url(),
            }
        )
    return json.dumps(items, indent=2) + "\n"


def _sarif_artifact(path: str, cwd: str) -> Dict[str, str]:
    """SARIF wants a URI reference: percent-encoded, relative to %SRCROOT% below the cwd, file:// elsewhere."""
    relative = relative_below(path, cwd)
    if relative is None:
        return {"uri": pathlib.Path(os.path.abspath(path)).as_uri()}
    return {
        "uri": urllib.parse.quote(relative.replace(os.sep, "/"), errors="surrogateescape"),
        "uriBaseId": "%SRCROOT%",
    }


def _sarif_region(span: Span) -> Dict[str, int]:
    return {
        "startLine": span.row,
        "startColumn": span.col,
        "endLine": max(span.end_row, span.row),
        "endColumn": span.end_col if span.end_row > span.row or span.end_col > span.col else span.col + 1,
    }


def format_sarif(findings: Sequence[Finding], cwd: str) -> str:
    rules = [
        {
            "id": rule.code,
            "name": rule.name,
            "shortDescription": {"text": rule.summary},
            "fullDescription": {"text": rule.summary},
            "helpUri": rule.url(),
            "help": {"text": rule.summary, "markdown": rule.documentation()},
            "defaultConfiguration": {"level": "error" if rule.code in INPUT_ERROR_CODES else "warning"},
        }
        for rule in ALL_RULES
    ]
    index = {rule.code: i for i, rule in enumerate(ALL_RULES)}
    results = []
    for f in findings:
        results.append(
            {
                "ruleId": f.code,
                "ruleIndex": index[f.code],
                "level": "error" if f.code in INPUT_ERROR_CODES else "warning",
                "message": {"text": f.message},
                "locations": [
                    {
                        "physicalLocation": {
                            "artifactLocation": _sarif_artifact(f.path, cwd),
                            "region": _sarif_region(f.span),
                        }
                    }
                ],
                "relatedLocations": [
                    {
                        "id": i,
                        "message": {"text": r.message},
                        "physicalLocation": {
                            "artifactLocation": _sarif_artifact(r.path, cwd),
                            "region": _sarif_region(r.span),
                        },
                    }
                    for i, r in enumerate(f.related)
                ],
            }
        )
    document = {
        "$schema": SARIF_SCHEMA,
        "version": "2.1.0",
        "runs": [
            {
                "tool": {
                    "driver": {
                        "name": "conclint",
                        "version": __version__,
                        "semanticVersion": __version__,
                        "informationUri": DOCS_BASE_URL.rsplit("rules/", 1)[0],
                        "rules": rules,
                    }
                },
                "results": results,
            }
        ],
    }
    return json.dumps(document, indent=2) + "\n"


def _escape_data(value: str) -> str:
    return value.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _escape_property(value: str) -> str:
    return _escape_data(value).replace(":", "%3A").replace(",", "%2C")


def format_github(findings: Sequence[Finding], cwd: str) -> str:
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
        lines.append(f"::error {properties}::{_escape_data(f'{f.code} {f.message}')}")
    return "\n".join(lines) + ("\n" if lines else "")


FORMATTERS: Dict[str, Callable[[Sequence[Finding], str], str]] = {
    "text": format_text,
    "json": format_json,
    "sarif": format_sarif,
    "github": format_github,
}
