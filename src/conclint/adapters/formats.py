"""The output formats modelled on ruff's: concise, full, grouped, json-lines, junit, gitlab, pylint."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from itertools import groupby
from typing import Dict, List, Optional, Sequence, Tuple

from conclint.adapters.report import (
    GITLAB_SEVERITY,
    Painter,
    ReportContext,
    SourceLines,
    display_path,
    is_fixable,
    json_item,
    severity,
    summary,
)
from conclint.engine.baseline import fingerprints
from conclint.engine.findings import Finding, Span
from conclint.rules import RULES_BY_CODE

MAX_SNIPPET_ROWS = 4  # of a multi-line span; the rest is elided


def _head(f: Finding, cwd: str, paint: Painter, context: ReportContext) -> str:
    where = f"{paint(display_path(f.path, cwd), 'bold')}:{f.span.row}:{f.span.col}:"
    mark = paint("[*]", "cyan") + " " if context.show_fixes and is_fixable(f) else ""
    return f"{where} {paint(f.code, 'red' if severity(f.code) == 'error' else 'yellow')} {mark}{f.message}"


def format_concise(findings: Sequence[Finding], cwd: str, context: Optional[ReportContext] = None) -> str:
    """One line per finding, as `ruff check --output-format concise` prints them, and the summary."""
    context = context or ReportContext()
    paint = Painter(context.color)
    lines = [_head(f, cwd, paint, context) for f in findings]
    return _joined([*lines, *summary(findings, context)])


def _joined(lines: List[str]) -> str:
    return "".join(line + "\n" for line in lines)


def _underline(line: str, start: int, end: int, mark: str) -> str:
    """Marks under columns ``start``..``end`` (1-based, end exclusive); tabs before them are kept, so they line up."""
    lead = "".join(c if c == "\t" else " " for c in line[: start - 1])
    return lead + mark * max(1, end - start)


def _snippet(
    lines: SourceLines, path: str, span: Span, label: str, mark: str, paint: Painter, context_rows: int = 0
) -> List[Tuple[str, str]]:
    """(gutter, text) rows: the source of ``span`` (and ``context_rows`` before it), the span marked."""
    last = max(span.end_row, span.row)
    shown = list(range(max(1, span.row - context_rows), min(last, span.row + MAX_SNIPPET_ROWS - 1) + 1))
    rows: List[Tuple[str, str]] = []
    for row in shown:
        text = lines.line(path, row)
        if text is None:
            return []
        rows.append((str(row), text))
        if row < span.row:
            continue
        start = span.col if row == span.row else len(text) - len(text.lstrip()) + 1
        end = span.end_col if row == last else len(text) + 1
        if row == last or row == shown[-1]:
            marks = _underline(text, start, end if end > start else start + 1, mark)
            rows.append(("", paint(marks + " " + label if label else marks, "red" if mark == "^" else "blue")))
        else:
            rows.append(("", paint(_underline(text, start, end, mark), "red" if mark == "^" else "blue")))
    return rows


def _block(rows: List[Tuple[str, str]], width: int, paint: Painter) -> List[str]:
    bar = paint("|", "blue")
    out = [f"{' ' * width} {bar}"]
    out += [f"{paint(gutter.rjust(width), 'blue')} {bar} {text}".rstrip() for gutter, text in rows]
    return out


def format_full(findings: Sequence[Finding], cwd: str, context: Optional[ReportContext] = None) -> str:
    """Each finding with its source line, the span underlined (``^``), and every related place
    (the thread start, the earlier read, the blocking call down a helper chain) with its source
    underlined (``-``) and labelled; then the fix, when there is one, and the rule's page."""
    context = context or ReportContext()
    paint = Painter(context.color)
    lines = SourceLines()
    out: List[str] = []
    for f in findings:
        primary = _snippet(lines, f.path, f.span, f.code, "^", paint, context_rows=1)
        related = [(r, _snippet(lines, r.path, r.span, r.message, "-", paint)) for r in f.related]
        width = max([len(g) for g, _ in primary] + [len(g) for _, rows in related for g, _ in rows] + [1])
        out.append(_head(f, cwd, paint, context))
        if primary:
            out += _block(primary, width, paint)
        for r, rows in related:
            where = f"{display_path(r.path, cwd)}:{r.span.row}:{r.span.col}"
            out.append(f"{' ' * width}{paint(':::', 'blue')} {where}" + ("" if rows else f": {r.message}"))
            if rows:
                out += _block(rows, width, paint)
        if f.fix is not None:
            marker = "" if f.fix.applicability == "safe" else f" ({f.fix.applicability})"
            out.append(f"{' ' * width} {paint('=', 'blue')} {paint('help', 'bold')}: {f.fix.message}{marker}")
        out.append(f"{' ' * width} {paint('=', 'blue')} {paint('docs', 'bold')}: {RULES_BY_CODE[f.code].url()}")
        out.append("")
    return _joined([*out, *summary(findings, context)])


def format_grouped(findings: Sequence[Finding], cwd: str, context: Optional[ReportContext] = None) -> str:
    """Findings under their file, as `ruff check --output-format grouped` prints them."""
    context = context or ReportContext()
    paint = Painter(context.color)
    out: List[str] = []
    for path, group in groupby(findings, key=lambda f: f.path):
        items = list(group)
        width = max(len(f"{f.span.row}:{f.span.col}") for f in items)
        out.append(paint(display_path(path, cwd), "bold") + ":")
        for f in items:
            code = paint(f.code, "red" if severity(f.code) == "error" else "yellow")
            out.append(f"  {f'{f.span.row}:{f.span.col}'.ljust(width)} {code} {f.message}")
        out.append("")
    return _joined([*out, *summary(findings, context)])


def format_pylint(findings: Sequence[Finding], cwd: str, context: Optional[ReportContext] = None) -> str:
    """`path:row: [CODE] message`, the line pylint's parsable format (and ruff's `pylint`) prints."""
    return "".join(f"{display_path(f.path, cwd)}:{f.span.row}: [{f.code}] {f.message}\n" for f in findings)


def format_json_lines(findings: Sequence[Finding], cwd: str, context: Optional[ReportContext] = None) -> str:
    """The JSON format's objects, one per line."""
    return "".join(json.dumps(json_item(f)) + "\n" for f in findings)


def format_junit(findings: Sequence[Finding], cwd: str, context: Optional[ReportContext] = None) -> str:
    """JUnit XML, as ruff writes it: a test suite per file, a failed test case per finding."""
    suites = ET.Element("testsuites", name="conclint", tests=str(len(findings)), failures=str(len(findings)))
    suites.set("errors", "0")
    if not findings:
        suite = ET.SubElement(suites, "testsuite", name="conclint", tests="1", failures="0", errors="0")
        ET.SubElement(suite, "testcase", name="No hazards found")
    for path, group in groupby(findings, key=lambda f: f.path):
        items = list(group)
        shown = display_path(path, cwd)
        suite = ET.SubElement(suites, "testsuite", name=shown, tests=str(len(items)), failures=str(len(items)))
        suite.set("errors", "0")
        for f in items:
            case = ET.SubElement(suite, "testcase", name=f"org.conclint.{f.code}", classname=shown)
            case.set("line", str(f.span.row))
            case.set("column", str(f.span.col))
            failure = ET.SubElement(case, "failure", message=f.message, type=severity(f.code))
            failure.text = f"line {f.span.row}, col {f.span.col}, {f.code} {f.message}"
    ET.indent(suites)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(suites, encoding="unicode") + "\n"


def format_gitlab(findings: Sequence[Finding], cwd: str, context: Optional[ReportContext] = None) -> str:
    """GitLab code quality JSON: paths relative to the working directory (the project directory in CI),
    a fingerprint stable across line moves (the baseline's), the shared severity."""
    prints = fingerprints(findings, cwd)
    items: List[Dict[str, object]] = []
    for f, fingerprint in zip(findings, prints):
        items.append(
            {
                "check_name": f.code,
                "description": f"{f.code} {f.message}",
                "fingerprint": fingerprint,
                "severity": GITLAB_SEVERITY[severity(f.code)],
                "location": {
                    "path": display_path(f.path, cwd).replace("\\", "/"),
                    "positions": {
                        "begin": {"line": f.span.row, "column": f.span.col},
                        "end": {"line": max(f.span.end_row, f.span.row), "column": f.span.end_col},
                    },
                },
            }
        )
    return json.dumps(items, indent=2) + "\n"
