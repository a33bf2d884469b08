"""The catalogue of blocking APIs: one table, by qualified name, with the rule and the fix.

A function entry names a callable (``requests.get``); a method entry names the type its
receiver was built from and the method (``requests.Session.get``, ``sqlite3.connect.execute``
for ``conn = sqlite3.connect(...); conn.execute(...)``). ``*`` as the method matches any
method of that type. The docs page is rendered from this table.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Dict, Iterable, Optional, Tuple

FAMILIES = {
    "CCL201": ("blocking-sleep-in-async", "sleep"),
    "CCL202": ("blocking-network-call-in-async", "network"),
    "CCL203": ("blocking-subprocess-in-async", "processes"),
    "CCL204": ("blocking-file-io-in-async", "file system"),
    "CCL205": ("blocking-wait-in-async", "waiting on threads or processes"),
    "CCL206": ("blocking-database-call-in-async", "synchronous database drivers"),
    "CCL207": ("blocking-console-input-in-async", "console input"),
    "CCL209": ("configured-blocking-call", "configured in blocking-calls"),
}

THREAD_OFFLOAD = {
    "asyncio": "`await asyncio.to_thread(...)`",
    "trio": "`await trio.to_thread.run_sync(...)`",
    "anyio": "`await anyio.to_thread.run_sync(...)`",
}


UNBOUNDED = "unbounded"  # network, sleep, processes, waits, databases, directory walks, reads of unknown size
BOUNDED = "bounded"  # one short system call: a single stat or exists, an open, a small write
CPU = "cpu"  # CPU-heavy library work (decoding, resizing images): as long as the data is large
COST_RANK = {BOUNDED: 0, CPU: 1, UNBOUNDED: 2}  # which call a chain cites: the worst
COSTS = {  # as messages say it
    UNBOUNDED: "unbounded",
    BOUNDED: "bounded: one short system call",
    CPU: "CPU-heavy: as long as the data is large",
}


@dataclass(frozen=True)
class BlockingApi:
    name: str  # "time.sleep", or "<type>.<method>"
    code: str
    alternatives: Tuple[Tuple[str, str], ...]  # (library, what to use) — "any" for all
    cost: str = UNBOUNDED
    cost_note: str = ""  # why this call's cost class is what it is, when not the class's usual reason

    @property
    def cost_text(self) -> str:
        """The cost class as messages say it: ``bounded: a sleep of at most 5 ms``."""
        return f"{self.cost}: {self.cost_note}" if self.cost_note else COSTS[self.cost]

    def alternative(self, library: str) -> str:
        table = dict(self.alternatives)
        return table.get(library) or table.get("any") or THREAD_OFFLOAD[library]


def _alt(**by_library: str) -> Tuple[Tuple[str, str], ...]:
    return tuple(sorted(by_library.items()))


SLEEP = _alt(asyncio="`await asyncio.sleep(...)`", trio="`await trio.sleep(...)`", anyio="`await anyio.sleep(...)`")
HTTP = _alt(any="an async client (`httpx.AsyncClient`, `aiohttp.ClientSession`)")
SOCKET = _alt(
    asyncio="`asyncio.open_connection` / `loop.sock_*` methods",
    trio="`trio.open_tcp_stream`",
    anyio="`anyio.connect_tcp`",
)
DNS = _alt(
    asyncio="`await loop.getaddrinfo(...)`",
    trio="`await trio.socket.getaddrinfo(...)`",
    anyio="`await anyio.getaddrinfo(...)`",
)
PROCESS = _alt(
    asyncio="`asyncio.create_subprocess_exec` / `create_subprocess_shell`",
    trio="`await trio.run_process(...)`",
    anyio="`await anyio.run_process(...)`",
)
FILES = _alt(
    asyncio="`aiofiles`, or `await asyncio.to_thread(...)`",
    trio="`trio.Path` / `await trio.open_file(...)`",
    anyio="`anyio.Path` / `await anyio.open_file(...)`",
)
WAIT = _alt(
    asyncio=(
        "the asyncio primitive (`asyncio.Lock`, `asyncio.Event`, `asyncio.Queue`, `asyncio.wrap_future`), or "
        "`await asyncio.to_thread(...)`"
    ),
    trio="trio's primitives, or `await trio.to_thread.run_sync(...)`",
    anyio="anyio's primitives, or `await anyio.to_thread.run_sync(...)`",
)
DATABASE = _alt(
    any=(
        "an async driver (`aiosqlite`, `asyncpg`, `psycopg.AsyncConnection`, `aiomysql`, `redis.asyncio`, `motor`, "
        "SQLAlchemy's `AsyncSession`), or run the query in a thread"
    )
)
CONSOLE = _alt(any="read input in a thread (`await asyncio.to_thread(input, ...)`) or from an async stream")
CLOUD = _alt(
    any="`aioboto3` / `aiobotocore` (`async with session.client(...)`), or `await asyncio.to_thread(client.method)`"
)
MODEL_DOWNLOADS = _alt(
    asyncio="a model loaded once at start-up, or `await asyncio.to_thread(...)`",
    trio="a model loaded once at start-up, or `await trio.to_thread.run_sync(...)`",
    anyio="a model loaded once at start-up, or `await anyio.to_thread.run_sync(...)`",
)
CLICKHOUSE = _alt(any="an async client (`asynch`, `aiochclient`, `clickhouse_connect.get_async_client`)")
IMAGES = _alt(
    asyncio="`await asyncio.to_thread(...)` (decoding and resizing run on the CPU)",
    trio="`await trio.to_thread.run_sync(...)` (decoding and resizing run on the CPU)",
    anyio="`await anyio.to_thread.run_sync(...)` (decoding and resizing run on the CPU)",
)
TLS_FILES = _alt(
    asyncio="a context built once at start-up, or `await asyncio.to_thread(ssl.create_default_context)`",
    trio="a context built once at start-up, or one built in `trio.to_thread.run_sync`",
    anyio="a context built once at start-up, or one built in `anyio.to_thread.run_sync`",
)


def _functions(code: str, alternatives, names: Iterable[str]):
    return [BlockingApi(name, code, alternatives) for name in names]


def _methods(code: str, alternatives, types: Iterable[str], methods: Iterable[str]):
    methods = tuple(methods)
    return [BlockingApi(f"{t}.{m}", code, alternatives) for t in types for m in methods]


_HTTP_VERBS = ("get", "post", "put", "patch", "delete", "head", "options", "request")
# openers of compressed files, given a path: the object they return reads and writes a file (archives
# such as ``zipfile.ZipFile`` are built as often over an ``io.BytesIO``: not in the table)
_ARCHIVE_OPENERS = ("gzip.open", "bz2.open", "lzma.open")
_PATH_TYPES = ("pathlib.Path", "pathlib.PosixPath", "pathlib.WindowsPath", "pathlib.Path.home", "pathlib.Path.cwd")
_FILE_TYPES = (
    "open",
    "builtins.open",
    "io.open",
    "io.open_code",
    "os.fdopen",
    "pathlib.Path.open",
    "codecs.open",
    "io.TextIOWrapper",
    "io.BufferedReader",
    "io.BufferedWriter",
    "io.BufferedRandom",
    "io.FileIO",
    "typing.TextIO",
    "typing.BinaryIO",
    *_ARCHIVE_OPENERS,
    "tempfile.TemporaryFile",
    "tempfile.NamedTemporaryFile",
    "tempfile.SpooledTemporaryFile",
)
# boto3 / botocore clients (``boto3.client("s3")``, ``session.client(...)``, ``session.create_client``)
_BOTO_CLIENTS = (
    "boto3.client",
    "boto3.Session.client",
    "boto3.session.Session.client",
    "botocore.session.Session.create_client",
    "botocore.session.get_session.create_client",
    "botocore.client.BaseClient",
)
_BOTO_RESOURCE_OBJECTS = (
    *(f"boto3.resource.{kind}" for kind in ("Bucket", "Object", "Table", "Queue", "Topic")),
    *(f"boto3.Session.resource.{kind}" for kind in ("Bucket", "Object", "Table", "Queue", "Topic")),
)
_BOTO_RESOURCE_METHODS = (
    "upload_file",
    "download_file",
    "upload_fileobj",
    "download_fileobj",
    "put",
    "get",
    "delete",
    "put_item",
    "get_item",
    "query",
    "scan",
    "update_item",
    "delete_item",
    "send_message",
    "receive_messages",
    "publish",
    "load",
    "reload",
)
# PIL: ``load`` decodes, the others decode first and then transform the pixels
_IMAGE_METHODS = (
    "load",
    "resize",
    "thumbnail",
    "convert",
    "save",
    "rotate",
    "transpose",
    "filter",
    "crop",
    "quantize",
    "reduce",
    "tobytes",
    "getdata",
)
_PYDUB_LOADERS = tuple(f"pydub.AudioSegment.{f}" for f in ("from_file", "from_mp3", "from_ogg", "from_wav"))
_SQLITE = ("sqlite3.connect", "sqlite3.Connection", "sqlite3.dbapi2.Connection")
_PSYCOPG = (
    "psycopg2.connect",
    "psycopg.connect",
    "psycopg.Connection.connect",
    "pymysql.connect",
    "MySQLdb.connect",
    "pymysql.connections.Connection",
    "psycopg2.extensions.connection",
    "psycopg.Connection",
)
_CURSORS = (
    "sqlite3.Cursor",
    "psycopg2.extensions.cursor",
    "psycopg.Cursor",
    "pymysql.cursors.Cursor",
    *(
        f"{connection}.{method}"
        for connection in ("sqlite3.connect", "sqlite3.Connection")
        for method in ("execute", "executemany", "executescript")
    ),
)
_CONNECTION_METHODS = ("execute", "executemany", "executescript", "commit", "rollback", "backup", "close")
_CURSOR_METHODS = (
    "execute",
    "executemany",
    "executescript",
    "fetchone",
    "fetchmany",
    "fetchall",
    "callproc",
    "copy_expert",
    "copy_from",
    "copy_to",
)
_REDIS = ("redis.Redis", "redis.StrictRedis", "redis.from_url", "redis.Redis.from_url", "redis.client.Redis")
_QUEUE_TYPES = (
    "queue.Queue",
    "queue.LifoQueue",
    "queue.PriorityQueue",
    "queue.SimpleQueue",
    "multiprocessing.Queue",
    "multiprocessing.JoinableQueue",
)
_LOCK_TYPES = (
    "threading.Lock",
    "threading.RLock",
    "threading.Semaphore",
    "threading.BoundedSemaphore",
    "threading.Condition",
    "multiprocessing.Lock",
    "multiprocessing.RLock",
    "multiprocessing.Semaphore",
)
RUN_COROUTINE_THREADSAFE = "asyncio.run_coroutine_threadsafe"
_FUTURE_TYPES = (
    *tuple(
        f"{executor}.submit"
        for executor in (
            "concurrent.futures.ThreadPoolExecutor",
            "concurrent.futures.ProcessPoolExecutor",
            "concurrent.futures.thread.ThreadPoolExecutor",
            "concurrent.futures.process.ProcessPoolExecutor",
        )
    ),
    "concurrent.futures.Future",
    RUN_COROUTINE_THREADSAFE,  # a concurrent future for a coroutine on a loop
)
_POOL_TYPES = (
    "multiprocessing.Pool",
    "multiprocessing.pool.Pool",
    "multiprocessing.pool.ThreadPool",
    "multiprocessing.dummy.Pool",
)
_SQLALCHEMY_ENGINES = (
    "sqlalchemy.create_engine",
    "sqlalchemy.engine.create_engine",
    "sqlalchemy.Engine",
    "sqlalchemy.engine.Engine",
    "sqlalchemy.engine.base.Engine",
)
_SQLALCHEMY_CONNECTIONS = (
    "sqlalchemy.Connection",
    "sqlalchemy.engine.Connection",
    "sqlalchemy.engine.base.Connection",
    *(f"{e}.{m}" for e in _SQLALCHEMY_ENGINES for m in ("connect", "begin")),
)
_MONGO_COLLECTIONS = ("pymongo.collection.Collection", "pymongo.database.Database")
_MONGO_METHODS = (
    "find_one",
    "insert_one",
    "insert_many",
    "update_one",
    "update_many",
    "replace_one",
    "delete_one",
    "delete_many",
    "count_documents",
    "estimated_document_count",
    "aggregate",
    "distinct",
    "find_one_and_update",
    "find_one_and_replace",
    "find_one_and_delete",
    "bulk_write",
    "create_index",
    "drop",
    "command",
    "list_collection_names",
)
# the methods of a path object that touch the disk
_PATH_METHODS = (
    "read_text",
    "read_bytes",
    "write_text",
    "write_bytes",
    "open",
    "iterdir",
    "glob",
    "rglob",
    "stat",
    "lstat",
    "exists",
    "is_dir",
    "is_file",
    "is_symlink",
    "mkdir",
    "rmdir",
    "unlink",
    "rename",
    "replace",
    "touch",
    "chmod",
    "samefile",
    "readlink",
    "symlink_to",
    "hardlink_to",
    "owner",
    "group",
    "walk",
    "resolve",
    "is_mount",
    "is_junction",
    "is_fifo",
    "is_socket",
    "is_block_device",
    "is_char_device",
    "lchmod",
    "copy",
    "copy_into",
    "move",
    "move_into",
)

CATALOGUE: Tuple[BlockingApi, ...] = (
    *_functions("CCL201", SLEEP, ["time.sleep"]),
    # network
    *_functions("CCL202", HTTP, [f"requests.{v}" for v in _HTTP_VERBS]),
    *_methods(
        "CCL202",
        HTTP,
        ["requests.Session", "requests.session", "requests.sessions.Session"],
        (*_HTTP_VERBS, "send"),
    ),
    *_functions("CCL202", HTTP, [f"{lib}.{v}" for lib in ("httpx", "httpx2") for v in (*_HTTP_VERBS, "stream")]),
    *_methods("CCL202", HTTP, ["httpx.Client", "httpx2.Client"], (*_HTTP_VERBS, "send", "stream", "close")),
    *_functions("CCL202", HTTP, ["urllib.request.urlopen", "urllib.request.urlretrieve", "urllib3.request"]),
    *_methods(
        "CCL202",
        HTTP,
        [
            "urllib3.PoolManager",
            "urllib3.ProxyManager",
            "urllib3.HTTPConnectionPool",
            "urllib3.HTTPSConnectionPool",
            "urllib3.connection_from_url",
            "urllib3.poolmanager.PoolManager",
            "urllib3.poolmanager.ProxyManager",
            "urllib3.connectionpool.HTTPConnectionPool",
            "urllib3.connectionpool.HTTPSConnectionPool",
            "urllib3.connectionpool.connection_from_url",
            "urllib3.connectionpool.ConnectionPool",
            "urllib3.request.RequestMethods",
        ],
        ("*",),
    ),  # a pool's methods all talk to (or tear down) connections
    *_methods(
        "CCL202",
        HTTP,
        ["http.client.HTTPConnection", "http.client.HTTPSConnection"],
        ("request", "getresponse", "connect", "send", "endheaders"),
    ),
    *_functions("CCL202", SOCKET, ["socket.create_connection"]),
    *_functions(
        "CCL202",
        DNS,
        [
            "socket.getaddrinfo",
            "socket.gethostbyname",
            "socket.gethostbyname_ex",
            "socket.gethostbyaddr",
            "socket.getfqdn",
        ],
    ),
    *_methods(
        "CCL202",
        SOCKET,
        ["socket.socket", "socket.create_connection", "socket.socket.accept"],
        ("connect", "recv", "recv_into", "recvfrom", "send", "sendall", "sendto", "accept", "sendfile"),
    ),
    *_functions("CCL202", HTTP, ["smtplib.SMTP", "smtplib.SMTP_SSL", "ftplib.FTP", "ftplib.FTP_TLS"]),
    *_methods(
        "CCL202",
        HTTP,
        ["smtplib.SMTP", "smtplib.SMTP_SSL"],
        ("connect", "login", "starttls", "sendmail", "send_message", "quit", "ehlo", "helo"),
    ),
    *_methods(
        "CCL202",
        HTTP,
        ["ftplib.FTP", "ftplib.FTP_TLS"],
        ("connect", "login", "cwd", "nlst", "dir", "retrbinary", "retrlines", "storbinary", "storlines", "quit"),
    ),
    *_methods("CCL202", HTTP, ["xmlrpc.client.ServerProxy"], ("*",)),
    # model hubs: a download of a model's files, or a look-up of its latest revision, over the network
    *_functions(
        "CCL202",
        MODEL_DOWNLOADS,
        [
            "huggingface_hub.snapshot_download",
            "huggingface_hub.hf_hub_download",
            "huggingface_hub.file_download.hf_hub_download",
            "huggingface_hub._snapshot_download.snapshot_download",
            "sentence_transformers.SentenceTransformer",
            "sentence_transformers.CrossEncoder",
        ],
    ),
    # processes
    *_functions(
        "CCL203",
        PROCESS,
        [
            f"subprocess.{f}"
            for f in ("run", "call", "check_call", "check_output", "getoutput", "getstatusoutput", "Popen")
        ],
    ),
    *_methods("CCL203", PROCESS, ["subprocess.Popen"], ("wait", "communicate")),
    *_functions(
        "CCL203",
        PROCESS,
        [
            "os.system",
            "os.popen",
            "os.posix_spawn",
            "os.posix_spawnp",
            "os.wait",
            "os.wait3",
            "os.wait4",
            "os.waitid",
            "os.waitpid",
        ],
    ),
    *_functions("CCL203", PROCESS, [f"os.spawn{s}" for s in ("l", "le", "lp", "lpe", "v", "ve", "vp", "vpe")]),
    # file system
    *_functions("CCL204", FILES, ["open", "builtins.open", "io.open", "io.open_code", "os.fdopen", "codecs.open"]),
    # readers and writers given an open file: they read or write all of it
    *_functions(
        "CCL204",
        FILES,
        [
            "json.load",
            "json.dump",
            "pickle.load",
            "pickle.dump",
            "marshal.load",
            "tomllib.load",
            "tomli.load",
            "toml.load",
            "plistlib.load",
        ],
    ),
    *_functions(
        "CCL204",
        FILES,
        [
            *_ARCHIVE_OPENERS,
            "tempfile.TemporaryFile",
            "tempfile.NamedTemporaryFile",
        ],
    ),
    *_methods("CCL204", FILES, _FILE_TYPES, ("*",)),  # every method of a file object may touch the disk
    *_methods(
        "CCL204",
        FILES,
        _PATH_TYPES,
        _PATH_METHODS,
    ),
    *_functions(
        "CCL204",
        FILES,
        [
            f"shutil.{f}"
            for f in (
                "copy",
                "copy2",
                "copyfile",
                "copyfileobj",
                "copytree",
                "copymode",
                "copystat",
                "move",
                "rmtree",
                "make_archive",
                "unpack_archive",
                "disk_usage",
                "chown",
            )
        ],
    ),
    *_functions(
        "CCL204",
        FILES,
        [
            f"os.path.{f}"
            for f in (
                "exists",
                "lexists",
                "isfile",
                "isdir",
                "islink",
                "ismount",
                "getsize",
                "getmtime",
                "getatime",
                "getctime",
                "samefile",
                "sameopenfile",
                "realpath",
            )
        ],
    ),
    *_functions(
        "CCL204",
        FILES,
        [
            f"os.{f}"
            for f in (
                "listdir",
                "scandir",
                "walk",
                "stat",
                "lstat",
                "mkdir",
                "makedirs",
                "remove",
                "unlink",
                "rmdir",
                "removedirs",
                "rename",
                "renames",
                "replace",
                "fsync",
                "truncate",
                "chmod",
                "chown",
            )
        ],
    ),
    # waiting on thread and process primitives
    *_methods("CCL205", WAIT, _LOCK_TYPES, ("acquire",)),
    *_methods("CCL205", WAIT, ["threading.Event", "multiprocessing.Event"], ("wait",)),
    *_methods("CCL205", WAIT, ["threading.Condition", "multiprocessing.Condition"], ("wait", "wait_for")),
    *_methods("CCL205", WAIT, ["threading.Thread", "threading.Timer", "multiprocessing.Process"], ("join",)),
    *_methods("CCL205", WAIT, ["threading.Barrier"], ("wait",)),
    *_methods("CCL205", WAIT, _QUEUE_TYPES, ("get", "put", "join")),
    *_methods("CCL205", WAIT, _FUTURE_TYPES, ("result", "exception")),
    *_functions("CCL205", WAIT, ["concurrent.futures.wait", "concurrent.futures.as_completed"]),
    *_methods("CCL205", WAIT, _POOL_TYPES, ("map", "apply", "starmap", "join")),
    # synchronous database drivers
    *_functions("CCL206", DATABASE, [*_SQLITE, *_PSYCOPG[:4], "pymysql.connect", "MySQLdb.connect"]),
    *_methods("CCL206", DATABASE, [*_SQLITE, *_PSYCOPG], _CONNECTION_METHODS),
    *_methods("CCL206", DATABASE, [*(f"{t}.cursor" for t in (*_SQLITE, *_PSYCOPG)), *_CURSORS], _CURSOR_METHODS),
    *_methods("CCL206", DATABASE, _REDIS, ("*",)),
    *_methods("CCL206", DATABASE, [f"{r}.pipeline" for r in _REDIS], ("execute",)),
    *_methods(
        "CCL206",
        DATABASE,
        ["pymongo.MongoClient", "pymongo.mongo_client.MongoClient"],
        ("list_database_names", "server_info", "drop_database", "start_session"),
    ),
    *_methods("CCL206", DATABASE, _MONGO_COLLECTIONS, _MONGO_METHODS),
    *_methods("CCL206", DATABASE, _SQLALCHEMY_ENGINES, ("connect", "begin", "execute")),
    *_methods(
        "CCL206", DATABASE, _SQLALCHEMY_CONNECTIONS, ("execute", "commit", "scalar", "scalars", "exec_driver_sql")
    ),
    *_methods(
        "CCL206",
        DATABASE,
        ["sqlalchemy.orm.Session", "sqlalchemy.orm.session.Session"],
        ("execute", "commit", "flush", "get", "scalar", "scalars", "refresh", "rollback", "merge", "query"),
    ),
    # SDKs whose blocking is inside the installed library: every AWS API call is an HTTP request
    *_methods("CCL202", CLOUD, _BOTO_CLIENTS, ("*",)),
    *_methods("CCL202", CLOUD, _BOTO_RESOURCE_OBJECTS, _BOTO_RESOURCE_METHODS),
    *_methods("CCL202", CLOUD, ["boto3.s3.transfer.S3Transfer"], ("upload_file", "download_file")),
    *_methods(
        "CCL206",
        CLICKHOUSE,
        ["clickhouse_driver.Client", "clickhouse_driver.client.Client"],
        ("execute", "execute_iter", "execute_with_progress", "query_dataframe", "insert_dataframe", "disconnect"),
    ),
    *_methods(
        "CCL206",
        CLICKHOUSE,
        ["clickhouse_connect.get_client", "clickhouse_connect.driver.Client"],
        ("query", "command", "insert", "query_df", "insert_df", "query_arrow", "raw_query"),
    ),
    # pydub runs ffprobe / ffmpeg as a subprocess and waits for it
    *_functions("CCL203", PROCESS, ["pydub.utils.mediainfo", "pydub.utils.mediainfo_json"]),
    *_functions("CCL203", PROCESS, _PYDUB_LOADERS),
    *_methods("CCL203", PROCESS, ["pydub.AudioSegment", *_PYDUB_LOADERS], ("export",)),
    # images: opening reads only the header (often from memory), loading decodes, resizing runs on the CPU
    *_methods("CCL204", IMAGES, ["PIL.Image.open", "PIL.Image.Image", "PIL.Image.new"], _IMAGE_METHODS),
    # TLS contexts read the CA bundle from disk
    *_functions("CCL204", TLS_FILES, ["ssl.create_default_context"]),
    *_methods(
        "CCL204",
        TLS_FILES,
        ["ssl.create_default_context", "ssl.SSLContext"],
        ("load_verify_locations", "load_cert_chain", "load_default_certs", "set_default_verify_paths"),
    ),
    # console input
    *_functions(
        "CCL207",
        CONSOLE,
        [
            "input",
            "builtins.input",
            "getpass.getpass",
            "sys.stdin.read",
            "sys.stdin.readline",
            "sys.stdin.readlines",
        ],
    ),
)

# A single file-system call on a path (a look-up, a rename, a small write): short on a local disk, so
# bounded; reading what a file holds, walking a directory and copying trees take as long as the data.
_BOUNDED_FILE_FUNCTIONS = frozenset(
    {
        "open",
        "builtins.open",
        "io.open",
        "io.open_code",
        "os.fdopen",
        "codecs.open",
        "PIL.Image.open",
        *_ARCHIVE_OPENERS,
        "tempfile.TemporaryFile",
        "tempfile.NamedTemporaryFile",
        *(f"os.path.{f}" for f in ("exists", "lexists", "isfile", "isdir", "islink", "ismount", "getsize", "getmtime")),
        *(f"os.path.{f}" for f in ("getatime", "getctime", "samefile", "sameopenfile", "realpath")),
        *(f"os.{f}" for f in ("stat", "lstat", "mkdir", "makedirs", "remove", "unlink", "rmdir", "removedirs")),
        *(f"os.{f}" for f in ("rename", "renames", "replace", "truncate", "chmod", "chown")),
        *(f"shutil.{f}" for f in ("disk_usage", "chown", "copymode", "copystat")),
    }
)
# one system call each (a small write, a stat), unlike listing, copying or reading what a path holds
_BOUNDED_PATH_METHODS = frozenset(_PATH_METHODS) - {
    "read_text",
    "read_bytes",
    "iterdir",
    "glob",
    "rglob",
    "walk",
    "copy",
    "copy_into",
    "move",
    "move_into",
}
# a file object's methods other than reading all it holds (``read()``, ``readlines()``, iterating)
BOUNDED_FILE_METHODS = frozenset(
    {"write", "writelines", "flush", "close", "seek", "tell", "fileno", "readline", "truncate", "isatty"}
)


def _cost(api: BlockingApi) -> str:
    if api.alternatives is IMAGES and api.name != "PIL.Image.open":
        return CPU
    if api.code != "CCL204":
        return BOUNDED if api.name.endswith(".close") else UNBOUNDED
    if api.name in _BOUNDED_FILE_FUNCTIONS:
        return BOUNDED
    receiver, _, method = api.name.rpartition(".")
    if receiver in _PATH_TYPES and method in _BOUNDED_PATH_METHODS:
        return BOUNDED
    return UNBOUNDED


CATALOGUE = tuple(BlockingApi(api.name, api.code, api.alternatives, _cost(api)) for api in CATALOGUE)


# parsers that take a string or a file: a read of the whole file only when handed an open file
FILE_OR_TEXT_READERS = frozenset({"yaml.safe_load", "yaml.load", "yaml.full_load", "yaml.unsafe_load"})
FILE_READER = BlockingApi("<parser>(<open file>)", "CCL204", FILES)


def is_file_type(name: Optional[str]) -> bool:
    return name in _FILE_TYPES


def file_method_cost(method: str, sized: bool) -> str:
    """What one method of a file object costs: ``read(4096)`` is bounded, ``read()`` is as long as the file."""
    if method in BOUNDED_FILE_METHODS or (sized and method in ("read", "readinto", "readlines")):
        return BOUNDED
    return UNBOUNDED


# ``x.request("GET", url)`` on a receiver of unknown type: the signature of an HTTP request
# (flake8-async's ASYNC211); without a verb as its first argument, ``request`` says nothing.
HTTP_VERB_METHODS = frozenset({"request", "urlopen"})
HTTP_VERB_LITERALS = frozenset({"get", "post", "put", "patch", "delete", "head", "options", "trace", "connect"})
LIKELY_HTTP_REQUEST = BlockingApi("<object>.request(<HTTP verb>, ...)", "CCL202", HTTP)


# Methods of these receivers never block: connecting a Redis client object is lazy; a boto3 client
# builds paginators, waiters and presigned URLs locally.
WILDCARD_EXCEPTIONS = frozenset(
    {
        "pipeline",
        "close",
        "connection_pool",
        "lock",
        "get_paginator",
        "get_waiter",
        "can_paginate",
        "generate_presigned_url",
        "generate_presigned_post",
    }
)
NON_BLOCKING_KEYWORDS = {"get": ("block", "timeout"), "put": ("block", "timeout")}
SOCKET_TYPES = ("socket.socket", "socket.create_connection", "socket.socket.accept")


class Catalogue:
    """The table, plus what a project's settings add and remove."""

    def __init__(self, extra: Optional[Dict[str, str]] = None, allowed: Iterable[str] = ()) -> None:
        self.by_name: Dict[str, BlockingApi] = {api.name: api for api in CATALOGUE}
        for name, advice in (extra or {}).items():
            self.by_name[name] = BlockingApi(name, "CCL209", (("any", advice),))  # the project says it blocks
        for name in allowed:
            self.by_name.pop(name, None)
        self.allowed = frozenset(allowed)

    def allows(self, name: str) -> bool:
        """Not removed by ``allowed-blocking-calls``."""
        return name not in self.allowed

    def lookup_function(self, name: Optional[str]) -> Optional[BlockingApi]:
        return self.by_name.get(name) if name else None

    def lookup_method(self, receiver_type: Optional[str], method: str, sized: bool = False) -> Optional[BlockingApi]:
        """``sized``: the call gives a size (``read(4096)``), so a file read is bounded."""
        if not receiver_type:
            return None
        api = self.by_name.get(f"{receiver_type}.{method}")
        if api is None and method not in WILDCARD_EXCEPTIONS and not method.startswith("_"):
            api = self.by_name.get(f"{receiver_type}.*")
            if api is not None and receiver_type in _FILE_TYPES:
                api = replace(api, cost=file_method_cost(method, sized and receiver_type not in _ARCHIVE_OPENERS))
        if api is not None and f"{receiver_type}.{method}" in self.allowed:
            return None
        return api


_FILE_METHOD_COSTS = (
    "bounded (`write`, `flush`, `seek`, `readline`, `read(n)`), else unbounded (`read()`, `readlines()`)"
)


def catalogue_markdown() -> str:
    """The docs page of the catalogue, grouped by rule."""
    lines = [
        "# Blocking calls",
        "",
        "Generated from `src/conclint/model/catalogue.py`; `conclint` reports these inside event-loop code.",
        "",
        "Every finding names its cost class. **unbounded**: the call waits as long as the network, the other",
        "process, the lock or the data takes (network, sleep, subprocesses, waits, databases, directory walks,",
        "reads of data of unknown size). **bounded**: one short system call (a single `stat` or `exists`, an",
        '`open`, a small write). `blocking-severity = "unbounded"` reports only the first class.',
        "",
        'Beside the table: `x.request("GET", ...)` and `x.urlopen("POST", ...)` on a receiver of unknown',
        "type are taken as HTTP requests (CCL202) when an HTTP verb is their first argument (flake8-async's",
        "ASYNC211), in event-loop code itself; `yaml.safe_load`, `yaml.load`, `yaml.full_load` and",
        "`yaml.unsafe_load` handed an open file read all of it (CCL204, unbounded).",
        "",
        "Two cost rules decided by the call's own arguments. A read of a file of known small size is bounded:",
        "a kernel pseudo-file (a path under `/proc` or `/sys`, such as a cgroup's one-integer `cpuacct.usage`)",
        "or a file shipped inside the package next to the module (a path built from `__file__`), whether",
        "named by a literal, a name bound to one, or a path built from one (`os.path.join`, `Path(...)`, `/`).",
        "A constant `time.sleep` of at most 5 ms outside a loop is bounded; in a loop it waits as long as the",
        "loop runs, and stays unbounded.",
        "",
        "Coroutines no event loop runs are not event-loop code. A project module that imports no event-loop",
        "library and steps coroutines itself (it calls `__await__()` on one outside an awaitable's own dunder,",
        "and `.send(...)`: a code generator's sequential scheduler) is a driver; the `async def` bodies of a",
        "module that reaches a driver through the project's imports, and imports no event-loop library or",
        "async framework itself (`asyncio`, `trio`, `anyio`, `aiohttp`, `fastapi`, ...), run under that",
        "driver one after another, so their blocking calls stall no other task and are not reported.",
        "",
    ]
    for code, (name, family) in FAMILIES.items():
        entries = [api for api in CATALOGUE if api.code == code]
        if not entries:
            continue
        lines += [
            f"## {code} `{name}`: {family}",
            "",
            "| call | cost | asyncio | trio | anyio |",
            "|---|---|---|---|---|",
        ]
        for api in entries:
            cost = _FILE_METHOD_COSTS if api.name.rpartition(".")[0] in _FILE_TYPES else api.cost
            lines.append(
                f"| `{api.name}` | {cost} | {api.alternative('asyncio')} | {api.alternative('trio')} | "
                f"{api.alternative('anyio')} |"
            )
        lines.append("")
    return "\n".join(lines)
