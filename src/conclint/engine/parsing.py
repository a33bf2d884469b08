"""Parse source with libcst, guarded so that no input can crash or hang the process.

libcst's native parser can overflow the C stack on pathologically deep expressions
(a 20,000-term ``1+1+...`` kills the process), and its visitors recurse in Python.
CPython's own parser refuses such input cleanly and costs a tenth of the libcst parse,
so it runs first as a guard: what CPython cannot nest, we report as CCL001.
"""

from __future__ import annotations

import ast
import sys
import threading
import warnings
from dataclasses import dataclass
from typing import Callable, Optional, Tuple, TypeVar, Union

import libcst as cst

from conclint.engine.limits import memory_limit_mb

T = TypeVar("T")

# Deep but legal code (a 900-term expression) needs more Python frames than the
# default limit while libcst visits it; the large thread stack keeps that safe.
RECURSION_LIMIT = 20_000
GUARD_RECURSION_LIMIT = 3_000
STACK_SIZE = 512 * 1024 * 1024


@dataclass(frozen=True)
class ParseFailure:
    """The file is not valid Python (or too deep to analyse); reported as CCL001."""

    message: str
    row: int
    col: int


def parse_source(text: str) -> Union[cst.Module, ParseFailure]:
    refused, cpython_error = cpython_verdict(text)
    if refused is not None:
        return refused
    try:
        return cst.parse_module(text)
    except cst.ParserSyntaxError as exc:
        if cpython_error is not None:  # CPython's message and position are the ones users know
            return cpython_error
        message = exc.message.strip().splitlines()[0] if exc.message else "invalid syntax"
        return ParseFailure(f"syntax error: {message}", exc.raw_line, exc.raw_column + 1)
    except RecursionError:
        return ParseFailure("too deeply nested to analyse", 1, 1)
    except Exception as exc:  # libcst raises non-parser errors on some new syntax
        return ParseFailure(f"libcst cannot parse this file: {type(exc).__name__}: {exc}", 1, 1)


def syntax_failure(text: str, verdict: Optional[Verdict] = None) -> Optional[ParseFailure]:
    """Only the syntax check, for a file not analysed in full: CPython's verdict (``verdict``,
    when already known), with libcst asked only when CPython rejects the file (it may be newer
    syntax than ours)."""
    refused, error = verdict if verdict is not None else cpython_verdict(text)
    if refused is not None or error is None:
        return refused
    parsed = parse_source(text)
    return parsed if isinstance(parsed, ParseFailure) else None


Verdict = Tuple[Optional[ParseFailure], Optional[ParseFailure]]


def cpython_verdict(text: str) -> Verdict:
    """(refusal, syntax error) from CPython's parser.

    A refusal (nesting CPython cannot handle) stops here, before libcst could crash on
    it. A plain syntax error is only kept for the message: CPython older than the
    code's target rejects new syntax (``match`` on 3.9) that libcst parses fine.
    """
    limit = sys.getrecursionlimit()
    try:
        # CPython's AST builder stops at the recursion limit: keep it where libcst's parser
        # (quadratic in a long operator chain) still finishes in about a second
        sys.setrecursionlimit(min(limit, GUARD_RECURSION_LIMIT))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            ast.parse(text)
    except (RecursionError, MemoryError) as exc:
        if isinstance(exc, MemoryError) and memory_limit_mb():
            raise  # the worker's max-memory ran out: not a matter of nesting
        return ParseFailure("too deeply nested to analyse (CPython's parser gives up)", 1, 1), None
    except SyntaxError as exc:
        failure = ParseFailure(f"syntax error: {exc.msg}", exc.lineno or 1, exc.offset or 1)
        if "too many nested" in str(exc.msg) or "too many statically nested" in str(exc.msg):
            return failure, None
        return None, failure
    except ValueError:
        pass  # NUL bytes are caught before parsing
    finally:
        sys.setrecursionlimit(limit)
    return None, None


def run_with_deep_stack(func: Callable[[], T]) -> T:
    """Run ``func`` in a thread with a large stack and a high recursion limit.

    Exceptions propagate to the caller; the limit is restored afterwards.
    """
    box = {}

    def target():
        try:
            box["value"] = func()
        except BaseException as exc:  # re-raised in the caller's thread
            box["error"] = exc

    old_limit = sys.getrecursionlimit()
    old_size = threading.stack_size()
    sys.setrecursionlimit(max(old_limit, RECURSION_LIMIT))
    try:
        threading.stack_size(STACK_SIZE)
        thread = threading.Thread(target=target, name="conclint-analysis")
        thread.start()
    finally:
        threading.stack_size(old_size)
    thread.join()
    sys.setrecursionlimit(old_limit)
    if "error" in box:
        raise box["error"]
    return box["value"]
