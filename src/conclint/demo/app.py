"""The demo app: the scenario handlers behind one small interface every server model uses.

A server hands an app a parsed `Request` and gets a `Response` back: `handle` in the
threaded and prefork workers, `handle_async` on the evented loop. `ModuleApp` serves
one scenario module (its `route` function, or its WSGI `application`); `DemoApp`
mounts every scenario of the registry under `/<scenario>/...` beside `/ping`, and
`GET /<scenario>/` lists its routes (read from the module's dispatcher). `wsgi_app` and
`asgi_app` are the demo app for gunicorn and uvicorn.

A scenario module may also say how a server model runs it, for the lines conclint
reads: `serve(server)` (the threaded model's pool) and `spawn_worker(server)` with
`master_view()` (the prefork model's fork and the master's own state).
"""

from __future__ import annotations

import ast
import asyncio
import importlib
import inspect
import io
import os
import sys
import threading
import traceback
from dataclasses import replace
from typing import Any, Callable, Dict, List, Optional, Tuple

from conclint.demo import registry
from conclint.demo.http import MAX_BODY_BYTES, HTTPError, Request, Response, parse_head, reason_phrase


def log(message: str) -> None:
    print(f"conclint demo [{os.getpid()}]: {message}", file=sys.stderr, flush=True)


def as_response(result: Any) -> Response:
    if isinstance(result, Response):
        return result
    if isinstance(result, str):
        return Response.text(result)
    return Response.json(result)


def error_response(exc: BaseException) -> Response:
    if isinstance(exc, HTTPError):
        return Response.error(exc.status, exc.message)
    log("a handler failed:\n" + "".join(traceback.format_exception(type(exc), exc, exc.__traceback__)).rstrip())
    return Response.error(500, f"the handler failed: {type(exc).__name__}")


def scenario_module(name: str):
    return importlib.import_module(registry.scenario(name).module)


def routes_of(module) -> List[Dict[str, str]]:
    """The routes a scenario module's ``route`` (or WSGI ``application``) dispatches on, read from
    its source: each ``if`` that compares the path (and maybe the method) with a constant, the
    handler it calls, and the first line of that handler's docstring."""
    try:
        tree = ast.parse(inspect.getsource(module))
    except (OSError, TypeError, SyntaxError):
        return []
    functions = {node.name: node for node in tree.body if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))}
    dispatcher = functions.get("route") or functions.get("application")
    routes: List[Dict[str, str]] = []
    for node in ast.walk(dispatcher) if dispatcher else ():
        if not isinstance(node, ast.If):
            continue
        constants = [c.value for c in ast.walk(node.test) if isinstance(c, ast.Constant) and isinstance(c.value, str)]
        paths = [c for c in constants if c.startswith("/")]
        if not paths:
            continue
        methods = [c for c in constants if c.isupper()]
        called = [
            c.func.id
            for statement in node.body
            for c in ast.walk(statement)
            if isinstance(c, ast.Call) and isinstance(c.func, ast.Name) and c.func.id in functions
        ]
        handler = called[0] if called else ""
        doc = (ast.get_docstring(functions[handler]) or "").split("\n", 1)[0] if handler else ""
        routes.append({"method": methods[0] if methods else "GET", "path": paths[0], "handler": handler, "doc": doc})
    return routes


def describe_scenario(name: str, prefix: str = "") -> Dict[str, Any]:
    """What GET /<scenario>/ answers: the scenario, its rules and its routes."""
    entry = registry.scenario(name)
    module = scenario_module(name)
    routes = [{**r, "path": prefix + r["path"]} for r in routes_of(module)]
    answer: Dict[str, Any] = {
        "scenario": name,
        "rules": [code for code in entry.rules if code],
        "model": entry.model,
        "summary": entry.summary,
        "routes": routes,
        "reproduce": f"conclint demo reproduce {name}",
    }
    if not routes:
        answer["note"] = "this scenario serves no requests: `conclint demo reproduce` runs it in processes of its own"
    return answer


# ---- coroutines called from worker threads and processes ----------------------
_background: Dict[str, Any] = {}
_background_lock = threading.Lock()


def run_coroutine(coroutine) -> Any:
    """Run an async handler from synchronous code, on one event loop per process."""
    with _background_lock:
        loop = _background.get("loop")
        if loop is None or _background.get("pid") != os.getpid():
            loop = asyncio.new_event_loop()
            threading.Thread(target=loop.run_forever, name="demo-async-handlers", daemon=True).start()
            _background.update(loop=loop, pid=os.getpid())
    return asyncio.run_coroutine_threadsafe(coroutine, loop).result()


# ---- WSGI in both directions ----------------------------------------------------
def wsgi_environ(request: Request, server_name: str = "127.0.0.1", server_port: int = 0) -> Dict[str, Any]:
    environ: Dict[str, Any] = {
        "REQUEST_METHOD": request.method,
        "SCRIPT_NAME": "",
        "PATH_INFO": request.path,
        "QUERY_STRING": request.target.partition("?")[2],
        "SERVER_NAME": server_name,
        "SERVER_PORT": str(server_port),
        "SERVER_PROTOCOL": f"HTTP/{request.version[0]}.{request.version[1]}",
        "CONTENT_LENGTH": str(len(request.body)) if request.body else "",
        "CONTENT_TYPE": request.header("content-type", "") or "",
        "wsgi.version": (1, 0),
        "wsgi.url_scheme": "http",
        "wsgi.input": io.BytesIO(request.body),
        "wsgi.errors": sys.stderr,
        "wsgi.multithread": True,
        "wsgi.multiprocess": True,
        "wsgi.run_once": False,
    }
    for name, value in request.headers:
        if name in ("content-type", "content-length"):
            continue
        key = "HTTP_" + name.upper().replace("-", "_")
        environ[key] = f"{environ[key]},{value}" if key in environ else value
    return environ


def call_wsgi(application: Callable, request: Request) -> Response:
    """Serve one request with a WSGI callable."""
    started: Dict[str, Any] = {}
    chunks: List[bytes] = []

    def start_response(status, headers, exc_info=None):
        if exc_info and started:
            raise exc_info[1].with_traceback(exc_info[2])
        started["status"], started["headers"] = status, headers
        return chunks.append

    result = application(wsgi_environ(request), start_response)
    try:
        chunks.extend(result)
    finally:
        if hasattr(result, "close"):
            result.close()
    status = int(str(started.get("status", "500")).split(" ", 1)[0])
    headers = [
        (k, v)
        for k, v in started.get("headers", [])
        if k.lower() not in ("content-length", "connection", "content-type")
    ]
    content_type = next(
        (v for k, v in started.get("headers", []) if k.lower() == "content-type"), "application/octet-stream"
    )
    return Response(status, b"".join(chunks), content_type, headers)


def request_from_wsgi(environ: Dict[str, Any]) -> Request:
    """The request a WSGI server parsed, as the demo's own `Request` (same limits)."""
    query = environ.get("QUERY_STRING", "")
    target = (environ.get("PATH_INFO") or "/") + (f"?{query}" if query else "")
    lines = [f"{environ.get('REQUEST_METHOD', 'GET')} {target} HTTP/1.1"]
    for key, value in environ.items():
        if key.startswith("HTTP_") and key != "HTTP_TRANSFER_ENCODING":
            lines.append(f"{key[5:].replace('_', '-').title()}: {value}")
    if environ.get("CONTENT_TYPE"):
        lines.append(f"Content-Type: {environ['CONTENT_TYPE']}")
    if environ.get("CONTENT_LENGTH"):
        lines.append(f"Content-Length: {environ['CONTENT_LENGTH']}")
    if not environ.get("HTTP_HOST"):
        lines.append(f"Host: {environ.get('SERVER_NAME', 'localhost')}")
    request, length = parse_head("\r\n".join(lines).encode("latin-1"))
    request.body = environ["wsgi.input"].read(length) if length else b""
    return request


# ---- apps ---------------------------------------------------------------------------
class BaseApp:
    serve: Optional[Callable] = None  # the threaded model's hook, when the app has one
    spawn_worker: Optional[Callable] = None  # the prefork model's hook
    master_view: Optional[Callable] = None

    def dispatch(self, request: Request) -> Any:  # -> a result, or an awaitable of one
        raise NotImplementedError

    def _common(self, request: Request) -> Optional[Response]:
        if request.path == "/ping":
            return Response.json({"pong": True, "pid": os.getpid()})
        return None

    def handle(self, request: Request) -> Response:
        common = self._common(request)
        if common is not None:
            return common
        try:
            result = self.dispatch(request)
            if inspect.isawaitable(result):
                result = run_coroutine(result)
            return as_response(result)
        except Exception as exc:
            return error_response(exc)

    async def handle_async(self, request: Request) -> Response:
        common = self._common(request)
        if common is not None:
            return common
        try:
            if self.is_async(request):
                result = await self.dispatch(request)
            else:  # a synchronous handler goes to the thread pool, the loop goes on
                result = await asyncio.get_running_loop().run_in_executor(None, self.dispatch, request)
            return as_response(result)
        except Exception as exc:
            return error_response(exc)

    def is_async(self, request: Request) -> bool:
        return False


class ModuleApp(BaseApp):
    """One scenario module: its ``route(request)``, or its WSGI ``application``."""

    def __init__(self, module) -> None:
        self.module = module
        self.name = module.__name__.rsplit(".", 1)[-1].replace("_", "-")
        self.route = getattr(module, "route", None)
        self.application = getattr(module, "application", None)
        if self.route is None and self.application is None:
            raise TypeError(f"{module.__name__} has neither route() nor application()")
        self.serve = getattr(module, "serve", None)
        self.spawn_worker = getattr(module, "spawn_worker", None)
        self.master_view = getattr(module, "master_view", None)

    def dispatch(self, request: Request) -> Any:
        if request.path == "/" and request.method in ("GET", "HEAD"):
            return describe_scenario(self.name)
        if self.route is not None:
            return self.route(request)
        return call_wsgi(self.application, request)

    def is_async(self, request: Request) -> bool:
        if request.path == "/":
            return False
        return self.route is not None and inspect.iscoroutinefunction(self.route)


class DemoApp(BaseApp):
    """Every scenario module, each under ``/<scenario>/``; ``GET /<scenario>/`` lists its routes."""

    def __init__(self) -> None:
        self.mounted: Dict[str, Optional[ModuleApp]] = {}
        for name in registry.names():
            module = scenario_module(name)
            self.mounted[name] = (
                ModuleApp(module) if hasattr(module, "route") or hasattr(module, "application") else None
            )

    def _find(self, request: Request) -> Tuple[str, Optional[ModuleApp], Request]:
        prefix, _, rest = request.path[1:].partition("/")
        if prefix not in self.mounted:
            raise HTTPError(404, f"no route for {request.method} {request.path}; GET / lists the scenarios")
        return prefix, self.mounted[prefix], replace(request, path="/" + rest)

    def dispatch(self, request: Request) -> Any:
        if request.path == "/":
            return {
                "ping": "/ping",
                "scenarios": {name: f"/{name}/" for name in self.mounted},
                "see": "conclint demo reproduce --help",
            }
        name, app, inner = self._find(request)
        if inner.path == "/" and request.method in ("GET", "HEAD"):
            return describe_scenario(name, prefix=f"/{name}")
        if app is None:
            raise HTTPError(404, f"{name} serves no requests; GET /{name}/ says why")
        return app.dispatch(inner)

    def is_async(self, request: Request) -> bool:
        if request.path == "/":
            return False
        try:
            _, app, inner = self._find(request)
        except HTTPError:
            return False
        return app is not None and app.is_async(inner)


def load_app(scenario: Optional[str] = None) -> BaseApp:
    return ModuleApp(scenario_module(scenario)) if scenario else DemoApp()


_demo: Dict[str, BaseApp] = {}
_demo_lock = threading.Lock()  # gunicorn's threads, or uvicorn's first requests, may ask at once


def demo_app() -> BaseApp:
    with _demo_lock:
        if "app" not in _demo:
            _demo["app"] = DemoApp()
        return _demo["app"]


def wsgi_app(environ, start_response):
    """The demo app as a WSGI application (gunicorn ``conclint.demo.app:wsgi_app``)."""
    try:
        request = request_from_wsgi(environ)
    except HTTPError as exc:
        response = Response.error(exc.status, exc.message)
    else:
        response = demo_app().handle(request)
    headers = [("Content-Type", response.content_type), ("Content-Length", str(len(response.body))), *response.headers]
    start_response(f"{response.status} {reason_phrase(response.status)}", headers)
    return [response.body]


async def asgi_app(scope, receive, send):
    """The demo app as an ASGI application (uvicorn ``conclint.demo.app:asgi_app``)."""
    if scope["type"] == "lifespan":
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await send({"type": "lifespan.shutdown.complete"})
                return
    if scope["type"] != "http":
        return
    body = b""
    while True:
        message = await receive()
        body += message.get("body", b"")
        if len(body) > MAX_BODY_BYTES:
            response = Response.error(413, f"the body is larger than {MAX_BODY_BYTES} bytes")
            break
        if not message.get("more_body"):
            response = None
            break
    if response is None:
        query = scope.get("query_string", b"").decode("latin-1")
        target = scope.get("raw_path", b"").decode("latin-1") or scope["path"]
        lines = [f"{scope['method']} {target.split('?', 1)[0]}{'?' + query if query else ''} HTTP/1.1"]
        lines += [
            f"{k.decode('latin-1')}: {v.decode('latin-1')}"
            for k, v in scope.get("headers", [])
            if k.lower() not in (b"transfer-encoding", b"content-length")
        ]
        if not any(k.lower() == b"host" for k, _ in scope.get("headers", [])):
            lines.append("Host: localhost")
        try:
            request, _ = parse_head("\r\n".join(lines).encode("latin-1"))
            request.body = body
            app = _demo.get("app") or await asyncio.to_thread(demo_app)  # the first builds it: imports
            response = await app.handle_async(request)
        except HTTPError as exc:
            response = Response.error(exc.status, exc.message)
    headers = [(b"content-type", response.content_type.encode()), (b"content-length", str(len(response.body)).encode())]
    headers += [(k.encode("latin-1"), v.encode("latin-1")) for k, v in response.headers]
    await send({"type": "http.response.start", "status": response.status, "headers": headers})
    await send({"type": "http.response.body", "body": response.body})
