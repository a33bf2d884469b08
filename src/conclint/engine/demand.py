"""Demand-driven analysis: parse in full only the files that can matter.

A cheap text scan finds the files that can hold an entry point or a hazard (async
code, threads, executors, processes, fork, loop callbacks, locks, web handlers) in
their code, not in their strings or comments; those are analysed in full. Other files
only get a syntax check, unless the facts already gathered reach into them (a helper a
coroutine calls, a base class, an imported global): then they are analysed too, until nothing new is reached.
"""

from __future__ import annotations

import functools
import os
import re
from enum import Enum
from typing import Iterator, List, Optional, Pattern, Sequence, Set

from conclint.engine.deployment import GUNICORN_CONFIGS
from conclint.engine.modules import ModuleIndex
from conclint.model.facts import ModuleFacts

# What code that starts threads, tasks or processes, takes locks or serves requests
# cannot be written without (imports, calls, keywords), rather than words a docstring uses.
_TRIGGERS = (
    r"async\s+def|\bawait\b|threading|_thread\b|concurrent\.futures|Executor|to_thread|run_in_executor|socketserver"
    r"|Threading|multiprocessing|\bfork\b|forkpty|register_at_fork|call_soon|call_later|call_at\(|add_reader|add_writer"
    r"|add_done_callback|asyncio|\btrio\b|\banyio\b|Lock\(|Condition\(|Semaphore\(|\.acquire\(|synchronized"
    r"|Protocol\)|\.route\(|start_response|FastAPI|APIRouter|add_get|add_post|add_route|Route\(|RouteTableDef"
    r"|[Ff]lask|gunicorn|django|uvicorn|starlette|aiohttp|QueueListener"
    # forking hosts and what they inherit (model/processes.py, CCL3xx)
    r"|celery|shared_task|DataLoader|litestar|[Ss]anic|[Qq]uart|postfork|sqlite3|psycopg|pymysql|MySQLdb|MongoClient"
    r"|create_connection"
    # an app serving itself in one process (engine/deployment.py)
    r"|\bapp\.run\(|run_simple|waitress|WSGIServer|serve_forever|socketio|cheroot|bjoern|run_app|\btornado\b"
    # classes callers share across threads (model/contracts.py)
    r"|Session\(|PoolManager|AuthBase"
)
# What counts in a docstring or a comment too: a class saying it is thread-safe (model/collector.py)
_ANYWHERE = r"[Tt]hread[- _]?safe|conclint:"
_ANYWHERE_RE = re.compile(_ANYWHERE)
# What is not code, as Python's tokenizer cuts it: comments and string literals (prefixes
# included; r"\"" is one string too, so escapes are skipped alike in raw strings). An f-string
# is kept apart: the code in its braces counts.
_STRING_BODY = "|".join(
    [
        r"'''(?:\\.|[^\\])*?'''",
        r'"""(?:\\.|[^\\])*?"""',
        r"'(?:\\(?:\r\n|.)|[^\\'\r\n])*'",
        r'"(?:\\(?:\r\n|.)|[^\\"\r\n])*"',
    ]
)
_NOT_CODE = (
    rf"(?P<comment>#[^\r\n]*)|(?P<fstring>(?:[rR]?[fF]|[fF][rR])(?:{_STRING_BODY}))"
    rf"|(?P<string>(?:[rRbBuU]|[bB][rR]|[rR][bB])?(?:{_STRING_BODY}))"
)
ALWAYS_ANALYSED = frozenset({"views.py", *GUNICORN_CONFIGS})


def trigger_pattern(settings) -> Pattern[str]:
    """The words that make a file worth a full analysis, with the project's own entry names."""
    extra = [
        re.escape(name.rsplit(".", 1)[-1])
        for name in (*settings.thread_entry_decorators, *settings.thread_entry_calls, *settings.thread_safe)
    ]
    return re.compile("|".join([_ANYWHERE, _TRIGGERS, *extra]))


class Demand(Enum):
    NONE = "none"  # no trigger word at all
    TEXT = "text"  # trigger words only in strings or comments (a table of help texts quoting `async def`)
    CODE = "code"  # a trigger word in code: the file is analysed in full


def demand_of(path: str, text: str, triggers: Optional[Pattern[str]]) -> Demand:
    """Whether the file's code asks for a full analysis.

    The lexical scan assumes text CPython can tokenize: the caller treats ``TEXT`` as a full
    analysis when CPython rejects the file (its syntax may be newer than the running Python's).
    """
    if triggers is None or os.path.basename(path) in ALWAYS_ANALYSED:
        return Demand.CODE
    if triggers.search(text) is None:
        return Demand.NONE
    return Demand.CODE if _in_code(text, triggers) else Demand.TEXT


def _in_code(text: str, triggers: Pattern[str]) -> bool:
    """A trigger word outside strings and comments, or a thread-safety word anywhere."""
    for match in _scanner(triggers.pattern).finditer(text):
        kind = match.lastgroup
        if kind in ("comment", "string"):
            if _ANYWHERE_RE.search(match.group()):
                return True
        elif kind == "fstring":
            if not _balanced_braces(match.group()):  # a quote inside its braces (Python 3.12): not sure where it ends
                return triggers.search(text, match.start()) is not None
            if triggers.search(match.group()):
                return True
        else:
            return True
    return False


@functools.lru_cache(maxsize=8)
def _scanner(trigger_pattern: str) -> Pattern[str]:
    return re.compile(f"{_NOT_CODE}|(?:{trigger_pattern})", re.DOTALL)


def _balanced_braces(fstring: str) -> bool:
    """Every replacement field of the f-string closes before its end quote."""
    depth = 0
    for char in fstring.replace("{{", "").replace("}}", ""):
        if char == "{":
            depth += 1
        elif char == "}":
            depth -= 1
    return depth == 0


def referenced_names(facts: ModuleFacts, running: Set[str]) -> Iterator[str]:
    """The qualified names through which this module's code can reach code or state in
    another module that matters: what functions running in a thread, the loop or a child
    (``running``) call and touch, the bases of every class (a Thread subclass's base lives
    elsewhere), and the objects decorators and globals are built from."""
    for call in facts.calls:
        if call.function in running:
            yield from (n for n in (call.callee, call.receiver_type, call.receiver_object) if n)
        for ref in (*call.args, *call.kwargs.values()):
            if ref is not None:
                yield from (n for n in (ref.target, ref.receiver_type) if n)
    for info in facts.classes.values():
        yield from (n for n in info.bases if n)
    for info in facts.functions.values():
        yield from (n for n in info.decorator_receivers if n)
    yield from (n for n in facts.global_types.values() if n)
    for function, state in facts.state.items():
        if function in running:
            for access in (*state.reads, *state.writes):
                if access.key.startswith("global:"):
                    yield access.key[len("global:") :]


def reached_paths(analysed: Sequence[ModuleFacts], index: ModuleIndex, done: Set[str], running: Set[str]) -> List[str]:
    """Files not analysed yet that the analysed modules reach, following re-exports
    (``from .storage import read_blob`` in an analysed ``__init__``) a few hops."""
    by_module = {facts.module: facts for facts in analysed}
    found: Set[str] = set()
    for facts in analysed:
        for name in set(referenced_names(facts, running)):
            for _ in range(8):
                module, rest = index.split(name)
                if module is None:
                    break
                path = index.path_of[module]
                if path not in done:
                    found.add(path)
                    break
                head, _, tail = rest.partition(".")
                target = by_module.get(index.real.get(module, module))
                if target is None or head not in target.module_imports:
                    break
                name = target.module_imports[head] + (f".{tail}" if tail else "")
    return sorted(found)


def declared_paths(index: ModuleIndex, names: Sequence[str], done: Set[str]) -> List[str]:
    """Files not analysed yet that hold a module or class the ``thread-safe`` setting names:
    their public API runs in callers' threads whatever words their text uses."""
    found = []
    for name in names:
        module, _rest = index.split(name)
        inside = [path for other, path in index.path_of.items() if other.startswith(name + ".")]  # a package
        for path in ([index.path_of[module]] if module is not None else []) + inside:
            if path not in done and path not in found:
                found.append(path)
    return found
