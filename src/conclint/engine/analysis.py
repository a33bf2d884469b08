"""Per-file work: read once, parse once, collect the module's facts once."""

from __future__ import annotations

import hashlib
import os
import traceback
from dataclasses import dataclass, field
from typing import List, Optional, Pattern, Tuple

from conclint.engine.codec import Codec, CodecError
from conclint.engine.deadline import DEFAULT_SECONDS, AnalysisTimeout, deadline
from conclint.engine.demand import Demand, demand_of
from conclint.engine.findings import Finding, Span
from conclint.engine.limits import DEFAULT_MAX_FILE_SIZE, MB, memory_limit_mb
from conclint.engine.modules import module_name_for
from conclint.engine.parsing import ParseFailure, cpython_verdict, parse_source, syntax_failure
from conclint.engine.selection import NoqaMap, parse_noqa
from conclint.engine.source import SourceError, decode_source, read_source
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
    light: bool = False  # only syntax-checked: nothing in it asked for a full analysis (yet)
    digest: Optional[str] = None  # of everything above (full analyses only): equal digests, equal results
    # the analysis was stopped (out of time, too large, out of memory): not the file's result,
    # so never cached; the next run analyses it again
    stopped: bool = False


FILE_RESULT_CODEC = Codec(FileResult)
_VISIBLE = Codec(Tuple[str, Optional[ModuleFacts], List[Finding], NoqaMap, Optional[str], bool])


def result_digest(result: FileResult) -> str:
    """A digest of what the rules can see of one file: an edit that leaves it unchanged (a
    comment, a docstring, spacing within a line) cannot change any finding of the run.
    The codec's encoding is canonical (sets sorted), whatever the process's string hash seed."""
    state = (result.path, result.facts, result.findings, result.noqa, result.internal_error, result.light)
    return hashlib.sha256(_VISIBLE.dumps(state)).hexdigest()


def stopped_result(path: str, message: str) -> FileResult:
    """A file whose analysis was stopped (time, size, memory): CCL001, and nothing cached."""
    return FileResult(path, findings=[Finding("CCL001", message, path, Span.point(1, 1))], stopped=True)


def out_of_memory_message(max_memory: float) -> str:
    limit = f" (max-memory = {max_memory:g} MB)" if max_memory else ""
    return f"ran out of memory{limit}: too large or too complex to analyse"


def file_size(path: str, data: Optional[bytes] = None) -> Optional[int]:
    """The file's size in bytes, from ``stat`` (nothing is read); None when it cannot be known."""
    if data is not None:
        return len(data)
    try:
        return os.stat(path).st_size
    except (OSError, ValueError):
        return None


def size_refusal(path: str, size: Optional[int], max_size: Optional[float]) -> Optional[FileResult]:
    """The result of a file over ``max_size`` bytes (max-file-size), which is never read."""
    if not max_size or size is None or size <= max_size:
        return None
    return stopped_result(path, f"too large to analyse ({size / MB:.1f} MB > max-file-size {max_size / MB:g} MB)")


def analyse_file(
    path: str,
    triggers: Optional[Pattern[str]] = None,
    timeout: Optional[float] = DEFAULT_SECONDS,
    data: Optional[bytes] = None,
    max_size: Optional[float] = DEFAULT_MAX_FILE_SIZE,
) -> FileResult:
    """Never raises: every failure becomes a finding or an internal error for this file.

    With ``triggers``, a file whose text has none of them is only checked for syntax
    (``FileResult.light``): the run analyses it in full later if other code reaches it.
    ``data``: the file's bytes, when they come from elsewhere than the disk (stdin, an editor).
    ``max_size``: in bytes; a larger file is reported without being read.
    """
    refused = size_refusal(path, file_size(path, data), max_size)
    if refused is not None:
        return refused
    result = FileResult(path)
    deadline.start(timeout)
    try:
        _analyse_into(result, triggers, data)
    except AnalysisTimeout as exc:
        return stopped_result(path, str(exc))
    except MemoryError:  # under the worker's max-memory ceiling (engine/workers.py), which then exits
        return stopped_result(path, out_of_memory_message(memory_limit_mb()))
    except RecursionError:
        result.facts = None
        result.findings.append(Finding("CCL001", "too deeply nested to analyse", path, Span.point(1, 1)))
    except Exception as exc:  # one broken file must not stop the run
        result.facts = None
        last = traceback.extract_tb(exc.__traceback__)[-1]
        result.internal_error = f"{type(exc).__name__}: {exc} (at {os.path.basename(last.filename)}:{last.lineno})"
    finally:
        deadline.stop()
    if not result.light and result.internal_error is None and not result.stopped:
        try:
            result.digest = result_digest(result)
        except CodecError:  # a value the cache cannot keep: such a result is neither cached nor compared
            result.digest = None
    return result


def _analyse_into(result: FileResult, triggers: Optional[Pattern[str]], data: Optional[bytes] = None) -> None:
    path = result.path
    source = read_source(path) if data is None else decode_source(path, data)
    if isinstance(source, SourceError):
        result.findings.append(
            Finding("CCL002", f"{source.subject} {source.reason}", path, Span.point(source.row, source.col))
        )
        return
    result.noqa = parse_noqa(source.text)
    fail_on = os.environ.get(FAIL_ON_ENV)
    if fail_on and fail_on in path:
        raise RuntimeError(f"{FAIL_ON_ENV} asked this file to fail")
    demand = demand_of(path, source.text, triggers)
    # trigger words only in strings and comments: not analysed in full, unless CPython rejects the
    # file (newer syntax, maybe): the lexical scan that found them assumes text CPython tokenizes
    verdict = cpython_verdict(source.text) if demand is Demand.TEXT else None
    if demand is Demand.NONE or (verdict is not None and verdict[1] is None):
        failure = syntax_failure(source.text, verdict)
        result.light = failure is None
        if failure is not None:
            result.findings.append(Finding("CCL001", failure.message, path, Span.point(failure.row, failure.col)))
        return
    module = parse_source(source.text)
    if isinstance(module, ParseFailure):
        result.findings.append(Finding("CCL001", module.message, path, Span.point(module.row, module.col)))
        return
    name, is_package = module_name_for(path)
    result.facts = collect_facts(module, path, name, is_package)
