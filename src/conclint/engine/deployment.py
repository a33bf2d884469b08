"""How the project is served: several worker processes or one, and whether the app is preloaded.

Read from the deployment files people keep beside their code (a gunicorn config, a
Procfile, a Dockerfile) or, failing those, from ``[tool.conclint] server``. Without
such evidence CCL303 assumes several workers, as web apps run in production.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from typing import Iterable, List, Optional

from conclint.engine.findings import Span
from conclint.engine.source import read_regular_file
from conclint.model.apis import SELF_SERVING_CALLS, SELF_SERVING_LISTEN_TYPES
from conclint.model.facts import MODULE_SCOPE, ModuleFacts

GUNICORN_CONFIGS = ("gunicorn.conf.py", "gunicorn_config.py", "gunicorn_conf.py")
COMMAND_FILES = ("Procfile", "Dockerfile")
GUNICORN_COMMAND = re.compile(r"\bgunicorn\b(?P<rest>.*)")
UVICORN_COMMAND = re.compile(r"\buvicorn\b(?P<rest>.*)")
WORKERS_OPTION = re.compile(r"(?:-w|--workers)(?:\s+|=|\s*\"?,\s*\"?)(?P<n>\d+)")
THREADS_OPTION = re.compile(r"--threads(?:\s+|=|\s*\"?,\s*\"?)(?P<n>\d+)")
GTHREAD_OPTION = re.compile(r"(?:-k|--worker-class)(?:\s+|=|\s*\"?,\s*\"?)\"?gthread")
APP_TARGET = re.compile(r"[\w.]+:[\w.()]+")  # ``pkg.main:app``: the command runs a server
CONFIGURED_ELSEWHERE = re.compile(r"(?:\s-c\b|--config\b|WEB_CONCURRENCY|UVICORN_WORKERS)")
FORMULA = -1  # workers set by an expression (``cpu_count() * 2 + 1``): several, number unknown


@dataclass(frozen=True)
class ServerEvidence:
    workers: int  # worker processes; FORMULA when computed at start-up
    preload: bool
    source: str  # where we read it: "gunicorn.conf.py:3", "Procfile:1", "[tool.conclint] server"
    path: Optional[str] = None
    row: int = 1
    threads: bool = False  # each worker serves requests from several threads (gunicorn gthread)

    @property
    def several_workers(self) -> bool:
        return self.workers == FORMULA or self.workers > 1

    def describe(self) -> str:
        count = "several worker processes" if self.workers == FORMULA else f"{self.workers} worker processes"
        return f"{count} ({self.source})"

    @property
    def span(self) -> Span:
        return Span.point(self.row, 1)


def _from_gunicorn_module(facts: ModuleFacts) -> Optional[ServerEvidence]:
    module_state = facts.state.get(MODULE_SCOPE)
    assigned = {w.display: w.span.row for w in module_state.writes} if module_state else {}
    threads_value = facts.constants.get("threads")
    threads = facts.constants.get("worker_class") == "gthread" or (
        "threads" in assigned and not (isinstance(threads_value, int) and threads_value <= 1)
    )
    # without ``workers``, gunicorn runs one worker process (its default)
    value = facts.constants.get("workers") if "workers" in assigned else 1
    workers = value if isinstance(value, int) and not isinstance(value, bool) else FORMULA
    preload = facts.constants.get("preload_app") is True
    row = assigned.get("workers") or assigned.get("threads") or assigned.get("worker_class") or 1
    return ServerEvidence(workers, preload, f"{os.path.basename(facts.path)}:{row}", facts.path, row, threads)


def _from_command_file(path: str) -> Optional[ServerEvidence]:
    try:
        lines = read_regular_file(path).decode("utf-8", "replace").splitlines()
    except OSError:  # missing, unreadable, or a FIFO (never opened: it could wait forever)
        return None
    for row, line in enumerate(lines, start=1):
        for pattern in (GUNICORN_COMMAND, UVICORN_COMMAND):
            match = pattern.search(line)
            if match is None:
                continue
            rest = match.group("rest")
            workers = WORKERS_OPTION.search(rest)
            thread_count = THREADS_OPTION.search(rest)
            threads = bool(GTHREAD_OPTION.search(rest)) or (
                thread_count is not None and int(thread_count.group("n")) > 1
            )
            if workers is None and not threads:
                if pattern is GUNICORN_COMMAND or CONFIGURED_ELSEWHERE.search(line) or not APP_TARGET.search(rest):
                    continue  # not a server command, or a config file or the environment decides the workers
            # without --workers, uvicorn runs one process
            preload = "--preload" in rest
            count = int(workers.group("n")) if workers is not None else 1
            return ServerEvidence(count, preload, f"{os.path.basename(path)}:{row}", path, row, threads)
    return None


def find_server_evidence(modules: Iterable[ModuleFacts], folders: List[str], settings) -> Optional[ServerEvidence]:
    for facts in modules:
        if os.path.basename(facts.path) in GUNICORN_CONFIGS:
            evidence = _from_gunicorn_module(facts)
            if evidence is not None:
                return evidence
    for folder in folders:
        for name in COMMAND_FILES:
            path = os.path.join(folder, name)
            if os.path.isfile(path):
                evidence = _from_command_file(path)
                if evidence is not None:
                    return evidence
    if settings.server == "prefork":
        return ServerEvidence(settings.workers or FORMULA, settings.preload_app, '[tool.conclint] server = "prefork"')
    if settings.server == "threaded":
        return ServerEvidence(1, False, '[tool.conclint] server = "threaded"', threads=True)
    return _from_own_server(modules)


def _imported_type(by_name, dotted: Optional[str]) -> Optional[str]:
    """``from app import app``: what the other module built ``app`` from."""
    module, _, variable = (dotted or "").rpartition(".")
    facts = by_name.get(module)
    return facts.global_types.get(variable) if facts is not None else None


def _is_a(by_name, type_name: Optional[str], wanted: frozenset, depth: int = 0) -> bool:
    """``type_name`` is one of ``wanted`` or a project class deriving from one (bases followed across modules)."""
    if not type_name or depth > 8:
        return False
    if type_name in wanted:
        return True
    module = type_name.rpartition(".")[0]
    while module and module not in by_name:
        module = module.rpartition(".")[0]
    info = by_name[module].classes.get(type_name) if module else None
    return info is not None and any(_is_a(by_name, base, wanted, depth + 1) for base in info.bases)


def _from_own_server(modules: Iterable[ModuleFacts]) -> Optional[ServerEvidence]:
    """The app serves itself in one process: its own code runs a one-process server (``app.run()``,
    ``waitress.serve()``, gevent's ``WSGIServer``, ``uvicorn.run()`` without ``workers``)."""
    modules = list(modules)
    by_name = {facts.module: facts for facts in modules}
    for facts in modules:
        for call in facts.calls:
            name = call.callee or ""
            receiver = call.receiver_type or _imported_type(by_name, call.receiver_object)
            if receiver and call.method and name not in SELF_SERVING_CALLS:
                name = f"{receiver}.{call.method}"
            serves = call.method == "run" and any(k in call.keywords for k in ("host", "port"))
            serves = serves or (call.method == "listen" and _is_a(by_name, receiver, SELF_SERVING_LISTEN_TYPES))
            if name not in SELF_SERVING_CALLS and not serves:  # (``socketio.run(app, host=..., port=...)``)
                continue
            workers = call.literal_keywords.get("workers", 1)
            if "workers" in call.keywords and not isinstance(workers, int):
                continue  # computed: several, maybe
            if isinstance(workers, int) and workers > 1:
                return ServerEvidence(workers, False, f"{name}(workers={workers}) at {os.path.basename(facts.path)}")
            where = f"{os.path.basename(facts.path)}:{call.span.row}"
            return ServerEvidence(
                1, False, f"the app serves itself with {call.text}() at {where}", facts.path, call.span.row
            )
    return None
