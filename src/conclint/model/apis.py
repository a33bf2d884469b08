"""What conclint knows about the standard library and common frameworks, as data."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional, Tuple

THREAD_LOCK_TYPES = frozenset(
    {
        "threading.Lock",
        "threading.RLock",
        "threading.Condition",
        "threading.Semaphore",
        "threading.BoundedSemaphore",
        "_thread.allocate_lock",
        "_thread.LockType",
        "_thread.RLock",
        "multiprocessing.Lock",
        "multiprocessing.RLock",
        "multiprocessing.Semaphore",
        "multiprocessing.BoundedSemaphore",
        "multiprocessing.Condition",
        "multiprocessing.synchronize.Lock",
        "multiprocessing.synchronize.RLock",
    }
)
ASYNC_LOCK_TYPES = frozenset(
    {
        "asyncio.Lock",
        "asyncio.Semaphore",
        "asyncio.BoundedSemaphore",
        "asyncio.Condition",
        "trio.Lock",
        "trio.StrictFIFOLock",
        "trio.Semaphore",
        "trio.CapacityLimiter",
        "trio.Condition",
        "anyio.Lock",
        "anyio.Semaphore",
        "anyio.Condition",
        "anyio.CapacityLimiter",
    }
)
# calls that run a coroutine as a task of the loop, by their last name part (``asyncio.gather``,
# ``loop.create_task``, ``TaskGroup.create_task``, trio's and anyio's ``start_soon``)
TASK_SPAWNERS = frozenset(("create_task", "ensure_future", "gather", "start_soon"))


def looks_like_lock(name: str) -> bool:
    """The fallback when a lock's type is unknown: ``lock``, ``_lock``, ``cache_lock``, ``dbLock``,
    ``_wakelock``, ``mutex``, ``cond_cv`` — but not ``clock``, ``block`` or ``unlock``."""
    lowered = name.lower().lstrip("_")
    if lowered in ("lock", "rlock", "mutex", "cv", "cond", "condition"):
        return True
    if lowered.endswith(("_lock", "_rlock", "_mutex", "_cv", "_cond", "_condition")):
        return True
    if lowered.endswith("lock") and not lowered.endswith(("clock", "block", "unlock", "deadlock")):
        return True  # a compound: ``wakelock``, ``filelock``, ``writelock``
    return name.endswith(("Lock", "Mutex")) and not name.endswith(("Block", "Clock"))


# Calls that run the function they are given right away, in the caller (``key=lambda ...``).
INLINE_CALLERS = frozenset(
    {
        "sorted",
        "min",
        "max",
        "map",
        "filter",
        "functools.reduce",
        "itertools.starmap",
        "itertools.groupby",
        "itertools.filterfalse",
        "itertools.takewhile",
        "itertools.dropwhile",
        "itertools.accumulate",
    }
)
INLINE_METHODS = frozenset({"sort"})
SYNCHRONIZING_DECORATORS = frozenset({"wrapt.synchronized", "synchronized"})
THREAD_LOCAL_TYPES = frozenset({"threading.local", "_threading_local.local", "contextvars.ContextVar"})

# Methods that change their receiver in place. A single call is one operation (atomic for
# the built-in containers under CPython); it only matters as the "act" after a check.
MUTATING_METHODS = frozenset(
    {
        "append",
        "appendleft",
        "extend",
        "extendleft",
        "insert",
        "remove",
        "pop",
        "popleft",
        "popitem",
        "clear",
        "update",
        "add",
        "discard",
        "setdefault",
        "sort",
        "reverse",
        "difference_update",
        "intersection_update",
        "symmetric_difference_update",
        "rotate",
    }
)


@dataclass(frozen=True)
class EntrySpec:
    """A call that runs one of its arguments elsewhere: in a thread, the loop, a child process."""

    callee: str  # qualified name of the call, or "<type>.<method>" for methods of a known type
    context: str  # "thread", "loop", "process"
    position: Optional[int]  # positional index of the function argument
    keyword: Optional[str]  # keyword naming it
    many: bool  # runs many times concurrently by design (pools, servers)
    reason: str
    handler_class: bool = False  # the argument is a class whose methods run there


def _spec(callee, context, position, keyword, many, reason, handler_class=False) -> EntrySpec:
    return EntrySpec(callee, context, position, keyword, many, reason, handler_class)


THREAD_POOL_TYPES = frozenset(
    {
        "concurrent.futures.ThreadPoolExecutor",
        "concurrent.futures.thread.ThreadPoolExecutor",
        "multiprocessing.pool.ThreadPool",
        "multiprocessing.dummy.Pool",
    }
)
PROCESS_POOL_TYPES = frozenset(
    {
        "concurrent.futures.ProcessPoolExecutor",
        "concurrent.futures.process.ProcessPoolExecutor",
        "multiprocessing.Pool",
        "multiprocessing.pool.Pool",
    }
)
# ``with X(...) as pool:`` blocks whose exit waits for every task submitted inside
SCOPED_POOL_TYPES = (
    THREAD_POOL_TYPES
    | PROCESS_POOL_TYPES
    | frozenset({"asyncio.TaskGroup", "trio.open_nursery", "anyio.create_task_group"})
)
# long-lived clients users share across threads: holding one of these (or being one of the
# bases) makes a class's public methods "run in any thread" (model/contracts.py)
SHARED_CLIENT_TYPES = frozenset(
    {
        "requests.Session",
        "requests.sessions.Session",
        "requests.session",
        "urllib3.PoolManager",
        "urllib3.poolmanager.PoolManager",
        "urllib3.ProxyManager",
        "httpx.Client",
        "pymongo.MongoClient",
        "redis.Redis",
        "redis.StrictRedis",
        "redis.ConnectionPool",
        "sqlalchemy.create_engine",
        "boto3.client",
        "boto3.session.Session",
    }
)
# async clients a long-lived object holds and sends through, and what they are (CCL111/CCL112)
ASYNC_CLIENT_TYPES = {
    **dict.fromkeys(("aiohttp.ClientSession", "aiohttp.client.ClientSession", "httpx.AsyncClient"), "an HTTP session"),
    **dict.fromkeys(
        (
            "asyncpg.create_pool", "asyncpg.Pool", "asyncpg.pool.Pool", "aiomysql.create_pool", "aiopg.create_pool",
            "psycopg_pool.AsyncConnectionPool", "redis.asyncio.ConnectionPool", "redis.asyncio.BlockingConnectionPool",
        ),
        "a connection pool",
    ),
    **dict.fromkeys(
        (
            "asyncpg.connect", "aiosqlite.connect", "aiomysql.connect", "aiopg.connect",
            "psycopg.AsyncConnection.connect", "databases.Database", "motor.motor_asyncio.AsyncIOMotorClient",
        ),
        "a database connection",
    ),
    **dict.fromkeys(("redis.asyncio.Redis", "redis.asyncio.from_url", "redis.asyncio.StrictRedis"), "a Redis client"),
}  # fmt: skip
SHARED_CLIENT_BASES = frozenset({"requests.auth.AuthBase", "httpx.Auth", "requests.adapters.BaseAdapter"})
LOOP_TYPES = frozenset(
    {
        "asyncio.get_event_loop",
        "asyncio.get_running_loop",
        "asyncio.new_event_loop",
        "asyncio.AbstractEventLoop",
        "asyncio.BaseEventLoop",
    }
)

ENTRY_SPECS: Tuple[EntrySpec, ...] = (
    _spec("threading.Thread", "thread", 1, "target", False, "threading.Thread(target=...)"),
    _spec("threading.Timer", "thread", 1, "function", False, "threading.Timer(...)"),
    _spec("_thread.start_new_thread", "thread", 0, "function", False, "_thread.start_new_thread(...)"),
    _spec("_thread.start_new", "thread", 0, None, False, "_thread.start_new(...)"),
    *(_spec(f"{t}.submit", "thread", 0, "fn", True, "ThreadPoolExecutor.submit(...)") for t in THREAD_POOL_TYPES),
    *(_spec(f"{t}.map", "thread", 0, "fn", True, "ThreadPoolExecutor.map(...)") for t in THREAD_POOL_TYPES),
    *(
        _spec(
            f"{t}.submit.add_done_callback", "thread", 0, "fn", True, "Future.add_done_callback(...) (a worker thread)"
        )
        for t in THREAD_POOL_TYPES
    ),
    *(
        _spec(f"{t}.{m}", "thread", 0, "func", True, f"ThreadPool.{m}(...)")
        for t in THREAD_POOL_TYPES
        for m in ("apply", "apply_async", "map_async", "imap", "imap_unordered", "starmap", "starmap_async")
    ),
    *(_spec(f"{t}.run_in_executor", "thread", 1, None, True, "loop.run_in_executor(...)") for t in LOOP_TYPES),
    _spec("asyncio.to_thread", "thread", 0, None, True, "asyncio.to_thread(...)"),
    _spec("anyio.to_thread.run_sync", "thread", 0, None, True, "anyio.to_thread.run_sync(...)"),
    _spec("trio.to_thread.run_sync", "thread", 0, None, True, "trio.to_thread.run_sync(...)"),
    *(
        _spec(
            f"{s}",
            "thread",
            1,
            "RequestHandlerClass",
            True,
            f"{s.rsplit('.', 1)[1]} request handler",
            handler_class=True,
        )
        for s in (
            "socketserver.ThreadingTCPServer",
            "socketserver.ThreadingUDPServer",
            "http.server.ThreadingHTTPServer",
            "socketserver.ThreadingUnixStreamServer",
            "socketserver.ThreadingUnixDatagramServer",
        )
    ),
    # event loop callbacks
    *(
        _spec(f"{t}.{m}", "loop", pos, None, False, f"loop.{m}(...)")
        for t in LOOP_TYPES
        for m, pos in (
            ("call_soon", 0),
            ("call_soon_threadsafe", 0),
            ("call_later", 1),
            ("call_at", 1),
            ("add_reader", 1),
            ("add_writer", 1),
        )
    ),
    # child processes
    _spec("multiprocessing.Process", "process", 1, "target", False, "multiprocessing.Process(target=...)"),
    _spec("multiprocessing.get_context.Process", "process", 1, "target", False, "get_context(...).Process(target=...)"),
    _spec("os.register_at_fork", "process", None, "after_in_child", False, "os.register_at_fork(after_in_child=...)"),
    *(
        _spec(f"{t}.{m}", "process", 0, "func", True, f"Pool.{m}(...)")
        for t in ("multiprocessing.Pool", "multiprocessing.pool.Pool", "multiprocessing.get_context.Pool")
        for m in ("map", "imap", "imap_unordered", "starmap", "apply", "apply_async", "map_async", "starmap_async")
    ),
    *(
        _spec(f"{t}.{m}", "process", 0, "fn", True, f"ProcessPoolExecutor.{m}(...)")
        for t in ("concurrent.futures.ProcessPoolExecutor", "concurrent.futures.process.ProcessPoolExecutor")
        for m in ("submit", "map")
    ),
)
ENTRY_SPECS_BY_CALLEE = {}
for _entry in ENTRY_SPECS:
    ENTRY_SPECS_BY_CALLEE.setdefault(_entry.callee, []).append(_entry)

# Base classes whose methods run in a context of their own.
THREAD_CLASSES = frozenset({"threading.Thread"})
PROCESS_CLASSES = frozenset({"multiprocessing.Process", "multiprocessing.context.Process"})
THREADING_SERVER_MIXINS = frozenset(
    {"socketserver.ThreadingMixIn", "socketserver.ThreadingTCPServer", "http.server.ThreadingHTTPServer"}
)
PROTOCOL_CLASSES = frozenset(
    {
        "asyncio.Protocol",
        "asyncio.DatagramProtocol",
        "asyncio.BufferedProtocol",
        "asyncio.SubprocessProtocol",
        "asyncio.protocols.Protocol",
        "asyncio.BaseProtocol",
    }
)
HANDLER_METHOD_PREFIXES = ("handle", "do_", "setup", "finish")

# Web frameworks whose default server runs each request in a thread of a pool.
THREADED_ROUTE_RECEIVERS = frozenset({"flask.Flask", "flask.Blueprint"})
ROUTE_DECORATOR_METHODS = frozenset(
    {"route", "get", "post", "put", "patch", "delete", "before_request", "after_request"}
)

# ---- processes and fork ------------------------------------------------------
START_METHOD_CALLS = frozenset({"multiprocessing.set_start_method", "multiprocessing.get_context"})
# State that does cross the process boundary: writing it in a child is the point.
CROSS_PROCESS_TYPE_PREFIXES = (
    "multiprocessing.Value",
    "multiprocessing.Array",
    "multiprocessing.RawValue",
    "multiprocessing.RawArray",
    "multiprocessing.Manager",
    "multiprocessing.managers",
    "multiprocessing.sharedctypes",
    "multiprocessing.shared_memory",
    "multiprocessing.Queue",
    "multiprocessing.SimpleQueue",
    "multiprocessing.JoinableQueue",
    "multiprocessing.Pipe",
    "multiprocessing.get_context.Value",
    "multiprocessing.get_context.Array",
    "multiprocessing.get_context.Manager",
    "multiprocessing.get_context.Queue",
)
THREAD_STARTING_CONSTRUCTORS = frozenset(
    {
        "concurrent.futures.ThreadPoolExecutor",
        "concurrent.futures.thread.ThreadPoolExecutor",
        "_thread.start_new_thread",
        "multiprocessing.pool.ThreadPool",
    }
)
# thread pools that start their threads at the first submit, not when made
LAZY_THREAD_POOLS = frozenset({"concurrent.futures.ThreadPoolExecutor", "concurrent.futures.thread.ThreadPoolExecutor"})
# (a QueueListener runs its own thread from start() to stop())
THREAD_TYPES = frozenset({"threading.Thread", "threading.Timer", "logging.handlers.QueueListener"})
PROCESS_STARTING_CONSTRUCTORS = frozenset(
    {
        "multiprocessing.Pool",
        "multiprocessing.pool.Pool",
        "multiprocessing.get_context.Pool",
        "concurrent.futures.ProcessPoolExecutor",
        "concurrent.futures.process.ProcessPoolExecutor",
    }
)
PROCESS_TYPES = frozenset(
    {"multiprocessing.Process", "multiprocessing.context.Process", "multiprocessing.get_context.Process"}
)
FORK_CALLS = frozenset({"os.fork", "os.forkpty"})
START_METHODS = ("fork", "spawn", "forkserver")
# Hosts that fork workers from a process that imported the project's code (model/processes.py).
CELERY_APP_TYPES = frozenset({"celery.Celery", "celery.app.Celery", "celery.app.base.Celery"})
CELERY_TASK_DECORATORS = frozenset({"celery.shared_task", "celery.app.shared_task", "celery.task"})
DATALOADER_TYPES = frozenset({"torch.utils.data.DataLoader", "torch.utils.data.dataloader.DataLoader"})
DATASET_METHODS = ("__getitem__", "__getitems__", "__iter__")
# decorators and signal connections that run a function in each child after the fork
POST_FORK_DECORATORS = frozenset(
    {
        "uwsgidecorators.postfork",
        "celery.signals.worker_process_init.connect",
        "celery.signals.worker_init.connect",
    }
)
POST_FORK_CONNECTIONS = frozenset({"celery.signals.worker_process_init.connect"})
GUNICORN_POST_FORK_HOOKS = frozenset({"post_fork", "post_worker_init"})
POOL_INITIALIZER_CALLS = PROCESS_STARTING_CONSTRUCTORS | frozenset({"multiprocessing.pool.ThreadPool"})

# Connections and clients that must not be shared by a parent and its forked children.
INHERITED_RESOURCE_TYPES = frozenset(
    {
        "sqlite3.connect",
        "psycopg2.connect",
        "psycopg.connect",
        "pymysql.connect",
        "MySQLdb.connect",
        "sqlalchemy.create_engine",
        "sqlalchemy.engine.create_engine",
        "redis.Redis",
        "redis.StrictRedis",
        "redis.from_url",
        "redis.Redis.from_url",
        "requests.Session",
        "requests.session",
        "httpx.Client",
        "socket.socket",
        "socket.create_connection",
        "grpc.insecure_channel",
        "grpc.secure_channel",
        "pymongo.MongoClient",
        "urllib3.PoolManager",
    }
)

# Of those, the ones that connect (or start threads) as soon as they are made, not at first use.
EAGER_CONNECTION_TYPES = frozenset(
    {
        "sqlite3.connect",
        "psycopg2.connect",
        "psycopg.connect",
        "pymysql.connect",
        "MySQLdb.connect",
        "socket.create_connection",
        "pymongo.MongoClient",
    }
)

# Request handlers of web frameworks (for per-worker state under a prefork server).
ROUTE_RECEIVERS = {
    "flask.Flask": "Flask route",
    "flask.Blueprint": "Flask route",
    "fastapi.FastAPI": "FastAPI route",
    "fastapi.APIRouter": "FastAPI route",
    "aiohttp.web.RouteTableDef": "aiohttp route",
    "aiohttp.web.Application": "aiohttp route",
    "starlette.applications.Starlette": "Starlette route",
    "quart.Quart": "Quart route",
    "sanic.Sanic": "Sanic route",
}
# calls with which an app serves itself in one process (its own entry point runs the server):
# evidence of one worker process when no deployment file says otherwise (engine/deployment.py)
SELF_SERVING_CALLS = frozenset(
    {
        "flask.Flask.run",
        "quart.Quart.run",
        "flask_socketio.SocketIO.run",
        "werkzeug.serving.run_simple",
        "werkzeug.run_simple",
        "waitress.serve",
        "gevent.pywsgi.WSGIServer",
        "gevent.pywsgi.WSGIServer.serve_forever",
        "cheroot.wsgi.Server",
        "cheroot.wsgi.WSGIServer",
        "bjoern.run",
        "wsgiref.simple_server.make_server",
        "aiohttp.web.run_app",
        "uvicorn.run",
        "hypercorn.asyncio.serve",
    }
)
# servers whose ``listen(port)`` binds and serves in the calling process (tornado forks only through
# ``bind()`` then ``start(n)``, or ``tornado.process.fork_processes``): a project subclass counts too
SELF_SERVING_LISTEN_TYPES = frozenset({"tornado.httpserver.HTTPServer", "tornado.web.Application"})

# route decorators that are functions of the framework, not methods of an app (``@get("/")``)
ROUTE_DECORATOR_FUNCTIONS = {
    **{f"litestar.{m}": "Litestar route" for m in ("get", "post", "put", "patch", "delete", "head", "route")},
    **{f"litestar.handlers.{m}": "Litestar route" for m in ("get", "post", "put", "patch", "delete", "head", "route")},
}
WEB_ROUTE_METHODS = frozenset(
    {"route", "get", "post", "put", "patch", "delete", "head", "options", "api_route", "websocket", "view"}
)
HANDLER_REGISTRATION_CALLS = {  # call -> position of the handler argument
    "add_get": 1,
    "add_post": 1,
    "add_put": 1,
    "add_patch": 1,
    "add_delete": 1,
    "add_route": 2,
    "add_url_rule": 2,
    "add_api_route": 1,
    "add_websocket_route": 1,
}
# servers that run their handler in a task per connection: call -> handler position
CONNECTION_SERVERS = {
    **{
        f"asyncio.{m}": 0
        for m in ("start_server", "start_unix_server", "streams.start_server", "streams.start_unix_server")
    },
    **{
        f"websockets.{m}": 0
        for m in (
            "serve",
            "unix_serve",
            "server.serve",
            "server.unix_serve",
            "asyncio.server.serve",
            "asyncio.server.unix_serve",
            "legacy.server.serve",
            "legacy.server.unix_serve",
        )
    },
    "trio.serve_tcp": 0,
    "trio.serve_listeners": 0,
    "trio.serve_ssl_over_tcp": 0,
}
ENDPOINT_CONSTRUCTORS = {
    "starlette.routing.Route": 1,
    "starlette.routing.WebSocketRoute": 1,
    "django.urls.path": 1,
    "django.urls.re_path": 1,
    # ``app.add_routes([web.post("/login", login)])``
    **{f"aiohttp.web.{m}": 1 for m in ("get", "post", "put", "patch", "delete", "head", "options", "view")},
    "aiohttp.web.route": 2,
    # a FastAPI dependency runs for every request that needs it: ``svc: Service = Depends(get_service)``
    **dict.fromkeys(("fastapi.Depends", "fastapi.Security", "fastapi.params.Depends", "fastapi.params.Security"), 0),
}

# Decorators that run their function in a worker thread: calling it from a coroutine hands the
# body to the thread (a coroutine or a worker object comes back), so it does not block the loop.
OFFLOAD_DECORATORS = frozenset(
    {
        "asgiref.sync.sync_to_async",
        "channels.db.database_sync_to_async",
        "asyncer.asyncify",
        "starlette.concurrency.run_in_threadpool",
        "fastapi.concurrency.run_in_threadpool",
    }
)
# ... and by the last part of their name, for the project's own (``@run_in_executor`` wrappers)
OFFLOAD_DECORATOR_NAMES = frozenset(
    {"run_in_executor", "run_in_thread", "run_in_threadpool", "in_executor", "in_thread", "to_thread", "threaded"}
)
# decorators that offload only with a flag: Textual's ``@work(thread=True)``
OFFLOAD_FLAG_DECORATORS = {
    "textual.work": "thread",
    "textual.worker.work": "thread",
    "textual._work_decorator.work": "thread",
}
