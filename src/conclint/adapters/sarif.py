"""SARIF 2.1.0 for GitHub code scanning (and any SARIF viewer).

- Locations are relative to ``%SRCROOT%`` (the working directory, given in ``originalUriBaseIds``);
  a file outside it gets an absolute ``file://`` URI.
- ``partialFingerprints`` carry the baseline's fingerprint (code, file, the code involved, no
  line number), so an alert survives lines added above it.
- The message links to the related places (``[the thread start](1)``) by their ids.
- ``invocations`` say whether the run succeeded; files conclint could not analyse (CCL001,
  CCL002) and internal errors are also tool execution notifications.
"""

from __future__ import annotations

import json
import os
import pathlib
import re
import urllib.parse
from typing import Dict, List, Optional, Sequence

from conclint import __version__
from conclint.adapters.report import INPUT_ERROR_CODES, ReportContext, severity
from conclint.engine.baseline import fingerprints
from conclint.engine.discovery import relative_below
from conclint.engine.findings import Finding, Span
from conclint.rules import ALL_RULES
from conclint.rules.base import DOCS_BASE_URL

SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
FINGERPRINT_KEY = "conclintFingerprint/v1"
SRCROOT = "%SRCROOT%"

# (tags, precision, security-severity or None) by code prefix, the longest prefix first.
# Precision follows benchmarks/PRECISION.md and the blocking catalogue: a direct catalogue call
# is a fact, a race or a helper chain depends on how the code is run. Races are CWE-362
# (check-then-act: CWE-367) and get a security severity; blocking and fork hazards are
# reliability problems, not vulnerabilities.
_PROPERTIES = (
    ("CCL00", ("input-error",), "very-high", None),
    ("CCL102", ("concurrency", "thread-safety", "security", "external/cwe/cwe-367"), "medium", "5.0"),
    ("CCL112", ("concurrency", "asyncio", "security", "external/cwe/cwe-367"), "medium", "5.0"),
    ("CCL10", ("concurrency", "thread-safety", "security", "external/cwe/cwe-362"), "medium", "5.0"),
    ("CCL11", ("concurrency", "asyncio", "security", "external/cwe/cwe-362"), "medium", "5.0"),
    ("CCL210", ("concurrency", "asyncio", "performance"), "medium", None),
    ("CCL2", ("concurrency", "asyncio", "performance"), "high", None),
    ("CCL3", ("concurrency", "multiprocessing", "reliability"), "medium", None),
)


def rule_properties(code: str) -> Dict[str, object]:
    for prefix, tags, precision, security in _PROPERTIES:
        if code.startswith(prefix):
            properties: Dict[str, object] = {"tags": list(tags), "precision": precision}
            if security is not None:
                properties["security-severity"] = security
            return properties
    raise KeyError(code)


def _artifact(path: str, cwd: str) -> Dict[str, str]:
    """A URI reference: percent-encoded, relative to %SRCROOT% below the cwd, file:// elsewhere."""
    relative = relative_below(path, cwd)
    if relative is None:
        return {"uri": pathlib.Path(os.path.abspath(path)).as_uri()}
    return {"uri": urllib.parse.quote(relative.replace(os.sep, "/"), errors="surrogateescape"), "uriBaseId": SRCROOT}


def _region(span: Span) -> Dict[str, int]:
    return {
        "startLine": span.row,
        "startColumn": span.col,
        "endLine": max(span.end_row, span.row),
        "endColumn": span.end_col if span.end_row > span.row or span.end_col > span.col else span.col + 1,
    }


def _physical(path: str, span: Span, cwd: str) -> Dict[str, object]:
    return {"artifactLocation": _artifact(path, cwd), "region": _region(span)}


_LINK_LIKE = re.compile(r"[\[\]\\]")


def _plain(text: str) -> str:
    """Message text with the characters SARIF reads as link syntax escaped (§3.11.6)."""
    return _LINK_LIKE.sub(lambda m: "\\" + m.group(0), text)


def _message(finding: Finding) -> Dict[str, str]:
    text = _plain(finding.message)
    if finding.related:
        links = ", ".join(f"[{_plain(r.message)}]({i})" for i, r in enumerate(finding.related, start=1))
        text += f" (see {links})"
    return {"text": text}


def _rules() -> List[Dict[str, object]]:
    return [
        {
            "id": rule.code,
            "name": rule.name,
            "shortDescription": {"text": rule.summary},
            "fullDescription": {"text": rule.summary},
            "helpUri": rule.url(),
            "help": {"text": rule.summary, "markdown": rule.documentation()},
            "defaultConfiguration": {"level": severity(rule.code)},
            "properties": rule_properties(rule.code),
        }
        for rule in ALL_RULES
    ]


def _notifications(
    findings: Sequence[Finding], internal_errors: Dict[str, str], cwd: str, index: Dict[str, int]
) -> List[Dict[str, object]]:
    notes: List[Dict[str, object]] = []
    for f in findings:
        if f.code in INPUT_ERROR_CODES:
            notes.append(
                {
                    "level": "error",
                    "message": {"text": f.message},
                    "locations": [{"physicalLocation": _physical(f.path, f.span, cwd)}],
                    "descriptor": {"id": f.code, "index": index[f.code]},
                }
            )
    for path, error in sorted(internal_errors.items()):
        notes.append(
            {
                "level": "error",
                "message": {"text": f"internal error: {error}"},
                "locations": [{"physicalLocation": {"artifactLocation": _artifact(path, cwd)}}],
            }
        )
    return notes


def format_sarif(findings: Sequence[Finding], cwd: str, context: Optional[ReportContext] = None) -> str:
    context = context or ReportContext()
    index = {rule.code: i for i, rule in enumerate(ALL_RULES)}
    results = []
    for f, fingerprint in zip(findings, fingerprints(findings, cwd)):
        results.append(
            {
                "ruleId": f.code,
                "ruleIndex": index[f.code],
                "level": severity(f.code),
                "message": _message(f),
                "locations": [{"physicalLocation": _physical(f.path, f.span, cwd)}],
                "relatedLocations": [
                    {"id": i, "message": {"text": r.message}, "physicalLocation": _physical(r.path, r.span, cwd)}
                    for i, r in enumerate(f.related, start=1)
                ],
                "partialFingerprints": {FINGERPRINT_KEY: fingerprint},
                **({"properties": dict(f.properties)} if f.properties else {}),
            }
        )
    root_uri = pathlib.Path(os.path.abspath(cwd)).as_uri().rstrip("/") + "/"
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
                        "rules": _rules(),
                    }
                },
                "invocations": [
                    {
                        "executionSuccessful": not context.internal_errors,
                        "toolExecutionNotifications": _notifications(findings, context.internal_errors, cwd, index),
                    }
                ],
                "originalUriBaseIds": {SRCROOT: {"uri": root_uri}},
                "results": results,
            }
        ],
    }
    return json.dumps(document, indent=2) + "\n"
