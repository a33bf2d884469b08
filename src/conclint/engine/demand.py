"""Demand-driven analysis: parse in full only the files that can matter.

A cheap text scan finds the files that can hold an entry point or a hazard (async
code, threads, executors, processes, fork, loop callbacks, locks, web handlers); those
are analysed in full. Other files only get a syntax check, unless the facts already
gathered reach into them (a helper a coroutine calls, a base class, an imported
global): then they are analysed too, until nothing new is reached.
"""

from __future__ import annotations

import os
import re
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
    r"|[Ff]lask|gunicorn|django|uvicorn|starlette|aiohttp"
    # forking hosts and what they inherit (model/processes.py, CCL3xx)
    r"|celery|shared_task|DataLoader|litestar|[Ss]anic|[Qq]uart|postfork|sqlite3|psycopg|pymysql|MySQLdb|MongoClient"
    r"|create_connection"
    # an app serving itself in one process (engine/deployment.py)
    r"|\bapp\.run\(|run_simple|waitress|WSGIServer|serve_forever|socketio|cheroot|bjoern|run_app|\btornado\b"
    # classes callers share across threads (model/contracts.py)
    r"|[Tt]hread[- _]?safe|conclint:|Session\(|PoolManager|AuthBase"
)
ALWAYS_ANALYSED = frozenset({"views.py", *GUNICORN_CONFIGS})


def trigger_pattern(settings) -> Pattern[str]:
    """The words that make a file worth a full analysis, with the project's own entry names."""
    extra = [
        re.escape(name.rsplit(".", 1)[-1])
        for name in (*settings.thread_entry_decorators, *settings.thread_entry_calls, *settings.thread_safe)
    ]
    return re.compile("|".join([_TRIGGERS, *extra]))


def wanted(path: str, text: str, triggers: Optional[Pattern[str]]) -> bool:
    return triggers is None or os.path.basename(path) in ALWAYS_ANALYSED or triggers.search(text) is not None


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
                target = by_module.get(module)
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
