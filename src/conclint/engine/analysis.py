"""Per-file work: read once, parse once, collect the module's facts once."""

from __future__ import annotations

import os
import traceback
from dataclasses import dataclass, field
from typing import List, Optional, Tuple

from conclint.engine.findings import Finding, Span
from conclint.engine.parsing import ParseFailure, parse_source
from conclint.engine.selection import NoqaMap, parse_noqa
from conclint.engine.source import SourceError, read_source
from conclint.model.collector import collect_facts
from conclint.model.facts import ModuleFacts

# Lets the test suite exercise the internal-error path on a real run, without mocks.
FAIL_ON_ENV = "CONCLINT_TEST_FAIL_ON"


@dataclass
class FileResult:
    path: str
    facts: Optional[ModuleFacts] = None
    findings: List[Finding] = field(default_factory=list)  # CCL001/CCL002
    noqa: NoqaMap = field(default_factory=dict)
    internal_error: Optional[str] = None


def module_name_for(path: str) -> Tuple[str, bool]:
    """Dotted module name from the package folders (those with ``__init__.py``) above ``path``."""
    directory, filename = os.path.split(os.path.abspath(path))
    stem = filename[:-3] if filename.endswith(".py") else filename
    is_package = stem == "__init__"
    parts = [] if is_package else [stem]
    while os.path.isfile(os.path.join(directory, "__init__.py")):
        directory, package = os.path.split(directory)
        parts.append(package)
        if not package:
            break
    parts.reverse()
    return ".".join(p for p in parts if p), is_package


def analyse_file(path: str) -> FileResult:
    """Never raises: every failure becomes a finding or an internal error for this file."""
    result = FileResult(path)
    try:
        _analyse_into(result)
    except RecursionError:
        result.facts = None
        result.findings.append(Finding("CCL001", "too deeply nested to analyse", path, Span.point(1, 1)))
    except Exception as exc:  # one broken file must not stop the run
        result.facts = None
        last = traceback.extract_tb(exc.__traceback__)[-1]
        result.internal_error = f"{type(exc).__name__}: {exc} (at {os.path.basename(last.filename)}:{last.lineno})"
    return result


def _analyse_into(result: FileResult) -> None:
    path = result.path
    source = read_source(path)
    if isinstance(source, SourceError):
        result.findings.append(Finding("CCL002", f"file {source.reason}", path, Span.point(source.row, source.col)))
        return
    result.noqa = parse_noqa(source.text)
    fail_on = os.environ.get(FAIL_ON_ENV)
    if fail_on and fail_on in path:
        raise RuntimeError(f"{FAIL_ON_ENV} asked this file to fail")
    module = parse_source(source.text)
    if isinstance(module, ParseFailure):
        result.findings.append(Finding("CCL001", module.message, path, Span.point(module.row, module.col)))
        return
    name, is_package = module_name_for(path)
    result.facts = collect_facts(module, path, name, is_package)
