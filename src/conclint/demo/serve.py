"""`conclint demo serve`: the demo app under one concurrency model, built in or under
gunicorn / uvicorn when they are installed (``pip install 'conclint[demo]'``)."""

from __future__ import annotations

import importlib.util
import os
import shutil
import sys
from typing import List, Optional

from conclint.demo.http import Timeouts
from conclint.demo.limits import MAX_CONNECTIONS
from conclint.demo.storage import STATE_ENV, state_dir

GUNICORN_WORKERS = {"prefork": "sync", "threaded": "gthread", "evented": "uvicorn.workers.UvicornWorker"}


def _fail(message: str, code: int = 2) -> int:
    print(f"conclint demo serve: {message}", file=sys.stderr)
    return code


def serve(
    model: str,
    workers: int = 4,
    host: str = "127.0.0.1",
    port: int = 8000,
    server: str = "builtin",
    scenario: Optional[str] = None,
    events: bool = False,
    timeouts: Optional[Timeouts] = None,
    access_log: bool = True,
    workload: bool = False,
    max_connections: int = MAX_CONNECTIONS,
) -> int:
    """Serve until SIGTERM or SIGINT; 0 on a clean stop, 2 for bad arguments, 1 when the
    socket cannot be opened."""
    from conclint.demo import registry

    timeouts = timeouts or Timeouts()
    if not 1 <= workers <= 64:
        return _fail(f"--workers must be between 1 and 64, not {workers}")
    if not 0 <= port <= 65535:
        return _fail(f"--port must be between 0 and 65535, not {port}")
    for option, value in (("--read-timeout", timeouts.read), ("--idle-timeout", timeouts.idle)):
        if not 0.1 <= value <= 3600:  # NaN fails too
            return _fail(f"{option} must be between 0.1 and 3600 seconds, not {value}")
    if not 1 <= max_connections <= 100_000:
        return _fail(f"--max-connections must be between 1 and 100000, not {max_connections}")
    if scenario is not None and scenario not in registry.names():
        return _fail(f"unknown scenario {scenario!r}; known: {', '.join(registry.names())}")
    created_state = not os.environ.get(STATE_ENV)
    folder = state_dir()
    try:
        if server == "gunicorn":
            return _gunicorn(model, workers, host, port, scenario)
        if server == "uvicorn":
            return _uvicorn(model, workers, host, port, scenario)
        return _builtin(model, workers, host, port, scenario, events, timeouts, access_log, workload, max_connections)
    finally:
        if created_state:
            shutil.rmtree(folder, ignore_errors=True)


def _builtin(
    model: str,
    workers: int,
    host: str,
    port: int,
    scenario: Optional[str],
    events: bool,
    timeouts: Timeouts,
    access_log: bool,
    workload: bool,
    max_connections: int,
) -> int:
    from conclint.demo.servers.base import AccessLog, Events, open_listener

    loop = None
    if model == "evented":
        from conclint.demo.servers.evented import event_loop

        loop = event_loop()  # before the app's modules are imported
    from conclint.demo.app import load_app

    if workload:
        from conclint.demo.workload import WorkloadApp

        app = WorkloadApp()
    else:
        try:
            app = load_app(scenario)
        except TypeError as exc:  # a scenario that serves no requests
            return _fail(f"--scenario {scenario} serves no requests ({exc}); see conclint demo reproduce {scenario}")
    try:
        listener = open_listener(host, port)
    except OSError as exc:
        return _fail(f"cannot listen on {host}:{port}: {exc.strerror or exc}", 1)
    options = {
        "events": Events(events),
        "timeouts": timeouts,
        "access_log": AccessLog(access_log),
        "max_connections": max_connections,
    }
    if model == "prefork":
        from conclint.demo.servers.prefork import PreforkServer

        try:
            return PreforkServer(app, listener, workers, **options).serve_forever()
        except OSError as exc:  # a scenario's master connects to its service before it forks
            return _fail(
                f"cannot start the workers: {exc}. The shared-connection scenario connects to the inventory "
                "service at CONCLINT_DEMO_INVENTORY (host:port) first; `conclint demo reproduce` starts one",
                1,
            )
    if model == "threaded":
        from conclint.demo.servers.threaded import ThreadedServer

        return ThreadedServer(app, listener, workers, **options).serve_forever()
    from conclint.demo.servers.evented import EventedServer

    return EventedServer(app, listener, workers, loop=loop, **options).serve_forever()


def _missing(package: str) -> bool:
    return importlib.util.find_spec(package) is None


def _target(scenario: Optional[str], kind: str) -> str:
    if scenario == "per-worker-state" and kind == "wsgi":
        return "conclint.demo.scenarios.per_worker_state:application"
    if scenario is not None:
        raise SystemExit(_fail(f"--scenario {scenario} runs on the builtin servers only"))
    return f"conclint.demo.app:{kind}_app"


def _gunicorn(model: str, workers: int, host: str, port: int, scenario: Optional[str]) -> int:
    if _missing("gunicorn"):
        return _fail("gunicorn is not installed: pip install 'conclint[demo]'")
    if model == "evented" and _missing("uvicorn"):
        return _fail("the evented model under gunicorn needs uvicorn's worker: pip install 'conclint[demo]'")
    from gunicorn.app.wsgiapp import WSGIApplication

    argv: List[str] = ["gunicorn", "--bind", f"{host}:{port}", "--worker-class", GUNICORN_WORKERS[model]]
    if model == "threaded":
        argv += ["--workers", "1", "--threads", str(workers)]
    else:
        argv += ["--workers", str(workers)]
    argv.append(_target(scenario, "asgi" if model == "evented" else "wsgi"))
    sys.argv = argv
    WSGIApplication("%(prog)s [OPTIONS] [APP_MODULE]").run()
    return 0


def _uvicorn(model: str, workers: int, host: str, port: int, scenario: Optional[str]) -> int:
    if model != "evented":
        return _fail("uvicorn serves the evented model; use --server gunicorn for prefork or threaded")
    if _missing("uvicorn"):
        return _fail("uvicorn is not installed: pip install 'conclint[demo]'")
    import uvicorn

    uvicorn.run(
        _target(scenario, "asgi"), host=host, port=port, workers=workers if workers > 1 else None, lifespan="on"
    )
    return 0
