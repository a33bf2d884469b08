"""Baselines: record today's findings so that only new ones are reported.

An entry names a finding by its code, its file (relative to the baseline's folder) and a
fingerprint of the code involved, never by line number: lines added or removed elsewhere
in the file do not bring a recorded finding back, while a change to the code the finding
is about does.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections import Counter
from typing import Dict, Iterable, List, Sequence, Set, Tuple

from conclint.engine.findings import Finding
from conclint.engine.settings import ConfigError
from conclint.engine.source import NotRegularFile, SourceError, python_lines, read_regular_file, read_source

VERSION = 1
Key = Tuple[str, str, str, int]  # code, path, fingerprint, occurrence


def write_baseline(findings: Iterable[Finding], path: str) -> None:
    """Write the findings as sorted JSON, one entry per line, so the file is byte-stable and diffs well."""
    entries = [_entry(key, source) for key, source in _keyed(findings, os.path.dirname(os.path.abspath(path)))]
    entries.sort(key=lambda e: (e["path"], e["code"], e["fingerprint"], e["occurrence"]))
    body = ",\n".join("    " + json.dumps(entry, sort_keys=True) for entry in entries)
    text = f'{{\n  "version": {VERSION},\n  "findings": [\n{body}{chr(10) if body else ""}  ]\n}}\n'
    try:
        with open(path, "w", encoding="utf-8", newline="\n") as handle:
            handle.write(text)
    except OSError as exc:
        raise ConfigError(f"{path}: cannot write baseline: {exc.strerror or exc}") from None


def filter_baseline(findings: List[Finding], path: str) -> List[Finding]:
    """The findings the baseline at ``path`` does not record, in their original order."""
    recorded = _read(path)
    folder = os.path.dirname(os.path.abspath(path))
    keys = [key for key, _ in _keyed(findings, folder)]
    return [finding for finding, key in zip(findings, keys) if key not in recorded]


def fingerprints(findings: Sequence[Finding], folder: str) -> List[str]:
    """A stable identity per finding, as the baseline matches it (code, file relative to ``folder``,
    the code involved, the occurrence; no line number): for SARIF and GitLab reports."""
    return [
        hashlib.sha256(repr(key).encode("utf-8", "surrogatepass")).hexdigest()[:32]
        for key, _ in _keyed(findings, folder)
    ]


def _keyed(findings: Iterable[Finding], folder: str) -> List[Tuple[Key, str]]:
    """(key, stripped source line) per finding, in the order given.

    The occurrence tells apart findings with the same code, file and fingerprint
    (the same statement repeated): the n-th of them, counted top to bottom.
    """
    findings = list(findings)
    lines: Dict[str, List[str]] = {}
    seen: Counter = Counter()
    keyed: Dict[int, Tuple[Key, str]] = {}
    for finding in sorted(findings, key=Finding.sort_key):
        source = _line(lines, finding.path, finding.span.row)
        involved = [source] + [_line(lines, r.path, r.span.row) for r in finding.related if r.path == finding.path]
        fingerprint = hashlib.sha256("\n".join(involved).encode("utf-8", "surrogatepass")).hexdigest()[:16]
        base = (finding.code, _relative(finding.path, folder), fingerprint)
        keyed[id(finding)] = ((*base, seen[base]), source)
        seen[base] += 1
    return [keyed[id(finding)] for finding in findings]


def _line(cache: Dict[str, List[str]], path: str, row: int) -> str:
    if path not in cache:
        source = read_source(path)
        cache[path] = [] if isinstance(source, SourceError) else python_lines(source.text)
    lines = cache[path]
    return lines[row - 1].strip() if 0 < row <= len(lines) else ""


def _relative(path: str, folder: str) -> str:
    try:
        return os.path.relpath(os.path.abspath(path), folder).replace(os.sep, "/")
    except ValueError:  # another drive (Windows)
        return os.path.abspath(path).replace(os.sep, "/")


def _entry(key: Key, source: str) -> Dict[str, object]:
    code, path, fingerprint, occurrence = key
    # `source` is for the reader of a diff; matching uses the fingerprint
    return {"code": code, "path": path, "fingerprint": fingerprint, "occurrence": occurrence, "source": source}


def _read(path: str) -> Set[Key]:
    try:
        data = json.loads(read_regular_file(path).decode("utf-8"))
    except NotRegularFile:
        raise ConfigError(f"{path}: cannot read baseline: not a regular file") from None
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read baseline: {exc.strerror or exc}") from None
    except ValueError as exc:  # JSONDecodeError, UnicodeDecodeError
        raise ConfigError(f"{path}: not a conclint baseline: invalid JSON ({exc})") from None
    except RecursionError:
        raise ConfigError(f"{path}: not a conclint baseline: invalid JSON (nested too deeply)") from None
    if not isinstance(data, dict) or data.get("version") != VERSION or not isinstance(data.get("findings"), list):
        raise ConfigError(f"{path}: not a conclint baseline (expected a version {VERSION} file from --write-baseline)")
    recorded: Set[Key] = set()
    for entry in data["findings"]:
        try:
            key = (entry["code"], entry["path"], entry["fingerprint"], entry["occurrence"])
        except (TypeError, KeyError):
            key = None
        if key is None or not all(isinstance(v, str) for v in key[:3]) or type(key[3]) is not int:
            raise ConfigError(f"{path}: not a conclint baseline: malformed entry {json.dumps(entry)[:80]}")
        recorded.add(key)
    return recorded
