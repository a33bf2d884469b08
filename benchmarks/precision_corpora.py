"""The precision corpora: which real projects each rule family is measured on, and how a finding there is judged.

Every project is pinned ``NAME==VERSION`` (pip's name) with the kind of file that holds its Python sources:
``wheel`` (most) or ``sdist``. The new pins are the newest releases on PyPI on 2026-12-01; the loop family's
first 69 are the versions benchmarks/PRECISION.md measured (kept, so its history compares like with like).
To move to newer releases, change a pin here and run ``precision.py run`` again: the diff shows what moved.

``precision.py`` fetches, runs, diffs, and makes review packets and tables from these; this module is data.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Dict, List, Tuple


@dataclass(frozen=True)
class Pin:
    name: str  # the name pip downloads it by
    version: str
    kind: str = "wheel"  # "wheel" or "sdist": which file holds the Python sources we check


@dataclass(frozen=True)
class Family:
    name: str
    select: Tuple[str, ...]  # conclint --select: codes or prefixes (prefixes keep rules added later)
    title: str
    issue: int  # the issue whose "How to measure" this corpus serves
    pins: Tuple[Pin, ...]
    verdicts: str  # the verdict definitions, as the issues and PRECISION.md give them


def _pins(*entries: str, sdists: Tuple[str, ...] = ()) -> Tuple[Pin, ...]:
    """``"name==version"`` entries; those named in ``sdists`` are fetched as source distributions."""
    pins = []
    for entry in entries:
        name, version = entry.split("==")
        pins.append(Pin(name, version, "sdist" if name in sdists else "wheel"))
    return tuple(pins)


# Left out of every family's run, as the issues ask ("tests excluded"); examples and docs are not the
# project's code either. Basenames, so they match at any depth.
EXCLUDED: List[str] = [
    "test",
    "tests",
    "_tests",
    "testing",
    "test_*.py",
    "*_test.py",
    "conftest.py",
    "docs",
    "examples",
]

THREADS = _pins(
    # issue 16's list
    "pymongo==4.20.1",
    "kafka-python==3.0.12",
    "botocore==1.44.8",
    "urllib3==2.8.0",
    "cherrypy==18.10.0",
    "werkzeug==3.1.9",
    "tqdm==4.70.1",
    "loguru==0.7.3",
    "diskcache==5.6.3",
    "cachetools==8.0.2",
    "pyzmq==27.3.0",
    "stomp.py==9.0.0",
    "paho-mqtt==2.2.0",
    "pyserial==3.5",
    "eventlet==0.41.3",
    "fasteners==0.20",
    "filelock==4.3.1",
    "pykka==4.5.0",
    "ipykernel==7.4.0",
    "Pyro5==5.17",
    "elasticsearch==9.5.1",
    "google-api-core==2.44.0",
    "hvac==2.4.0",
    "pysnmp==7.1.30",
    "APScheduler==3.11.3",
    # ours: threaded libraries (HTTP, servers, schedulers, task queues, telemetry, transfers, RPC)
    "requests==2.34.2",
    "waitress==3.0.2",
    "cheroot==11.1.2",
    "schedule==1.2.2",
    "watchdog==7.1.0",
    "sentry-sdk==2.75.0",
    "opentelemetry-sdk==1.45.2",
    "dramatiq==2.2.1",
    "s3transfer==0.19.3",
    "grpcio==1.85.3",
    # ours: threaded applications (load tester, music server, 3D-printer server, chat bot)
    "locust==2.47.0",
    "mopidy==4.0.5",
    "octoprint==1.11.8",
    "errbot==6.2.1",
    # added in session 5 (issue 16 asks for more projects until 15 findings are reviewed): more threaded
    # applications and clients (stream and video downloaders, a ZooKeeper client, RPC, SSH, FTP, LDAP)
    "streamlink==8.6.3",
    "yt-dlp==2026.10.26",
    "kazoo==2.11.0",
    "rpyc==6.0.2",
    "paramiko==5.1.0",
    "pyftpdlib==2.2.0",
    "ldap3==2.9.1",
    sdists=("pyftpdlib",),  # pyftpdlib 2.2.0 has no wheel
)

FORK = _pins(
    # issue 17's list
    "billiard==4.3.2",
    "multiprocess==0.70.19",
    "pathos==0.3.5",
    "gunicorn==27.0.1",
    "celery==5.7.0",
    "webdataset==1.0.2",
    "concurrent-log-handler==0.9.31",
    "prometheus-flask-exporter==0.23.2",
    "statsd==4.0.1",
    "datadog==0.56.0",
    "elastic-apm==6.26.2",
    "scout-apm==4.0.0",
    "honeybadger==1.3.0",
    "rollbar==1.5.0",
    "bugsnag==4.9.2",
    # ours: Flask applications published on PyPI (served by prefork servers in production)
    "changedetection-io==0.60.10",
    "calibreweb==0.6.27",
    "ihatemoney==7.2.1",
    "fava==1.30.16",
    "sqlite-web==0.8.2",
    "flaskbb==2.2.0",
    # ours: forking libraries (job queues with forking workers, process pools, multiprocess metrics)
    "rq==3.0.0",
    "huey==3.5.4",
    "joblib==1.6.0",
    "pebble==5.2.3",
    "mpire==2.10.2",
    "prometheus-client==0.26.0",
    # added in session 6 (issue 17 asks for projects until 15 findings are reviewed): libraries that every
    # worker of a forking host inherits, each with a background sender, poller or flusher (analytics,
    # feature flags, log shippers, telemetry), with and without at-fork handling of their own
    "posthog==7.91.1",
    "segment-analytics-python==2.4.0",
    "launchdarkly-server-sdk==9.20.0",
    "libhoney==2.4.0",
    "fluent-logger==0.11.1",
    "logzio-python-handler==4.1.9",
    "python-logstash-async==4.1.0",
    "amplitude-analytics==1.3.0",
    "rudder-sdk-python==2.1.9",
    "configcat-client==10.0.1",
    "flagsmith==6.3.0",
    "UnleashClient==6.9.1",
    "sentry-sdk==2.75.0",
    "opentelemetry-sdk==1.45.2",
    "logdna==1.18.12",
    "applicationinsights==0.11.10",
    "statsig==0.72.1",
    "growthbook==4.0.0",
    # added in session 7 (issue 17 asks for projects until 15 findings are reviewed): more libraries with a
    # background sender, poller or exporter (feature flags, log shippers, tracing, error reporting), and
    # forking hosts (task queues with process workers, process supervisors, a prefork package index, a
    # daemoniser, an experiment-tracking server run under gunicorn)
    "optimizely-sdk==5.7.0",
    "devcycle-python-server-sdk==3.14.0",
    "harness-featureflags==1.7.5",
    "splitio_client==10.7.0",
    "logtail-python==0.5.3",
    "seqlog==0.4.3",
    "watchtower==3.4.0",
    "influxdb-client==1.50.0",
    "aws-xray-sdk==2.15.0",
    "opencensus-ext-azure==1.1.15",
    "honeycomb-beeline==3.6.0",
    "raygun4py==8.0.0",
    "pybrake==1.10.1",
    "django-q2==1.11.1",
    "luigi==3.8.1",
    "taskiq==0.13.0",
    "supervisor==4.3.0",
    "circus==0.19.0",
    "pypiserver==2.4.2",
    "python-daemon==3.1.2",
    "mlflow-skinny==3.17.2",
    # log handlers that ship records from a thread of their own (a QueueListener, a flush timer, a worker)
    "python-logging-loki==0.3.1",
    "splunk-handler==3.0.0",
    "CMRESHandler==1.0.0",
    "google-cloud-logging==3.17.0",
    sdists=("splitio_client", "pybrake"),  # no wheels of these releases
)

LOOP = _pins(
    # benchmarks/PRECISION.md's 69, at its versions
    "aiohttp==3.14.5",
    "anyio==4.16.0",
    "trio==0.35.0",
    "httpx==0.28.1",
    "aio-pika==10.2.1",
    "aiobotocore==3.10.0",
    "aiocache==0.12.3",
    "aiogram==3.31.0",
    "aiokafka==0.14.0",
    "aiormq==7.2.4",
    "aiosqlite==0.22.1",
    "asyncpg==0.32.0",
    "databases==0.9.0",
    "discord.py==2.7.1",
    "httpcore==1.0.9",
    "motor==3.7.1",
    "redis==8.1.0",
    "sanic==25.12.1",
    "starlette==1.10.0",
    "tortoise-orm==1.1.9",
    "uvicorn==0.54.0",
    "websockets==17.4",
    "aioesphomeapi==46.23.0",
    "aiohomekit==4.0.1",
    "aiortc==1.16.0",
    "arq==0.28.0",
    "bleak==3.1.0",
    "faststream==0.7.8",
    "hikari==2.7.0",
    "hypercorn==0.18.0",
    "kopf==1.45.2",
    "litestar==2.25.0",
    "matrix-nio==0.26.0",
    "mautrix==0.21.1",
    "pymodbus==3.16.1",
    "python-telegram-bot==22.8",
    "quart==0.22.0",
    "slixmpp==1.17.0",
    "telethon==1.45.0",
    "zigpy==2.4.0",
    "homeassistant==2024.3.3",
    "Pyrogram==2.0.106",
    "aiodocker==0.27.0",
    "aiomqtt==2.5.1",
    "aioquic==1.7.2",
    "aiosmtpd==1.4.6",
    "amqtt==0.12.1",
    "APScheduler==3.11.3",
    "asyncssh==2.24.1",
    "channels==4.3.2",
    "channels-redis==4.3.0",
    "coredis==6.9.0",
    "datasette==0.65.5",
    "distributed==2026.8.0",
    "faust-streaming==0.15.3",
    "grpclib==0.4.9",
    "jupyter-client==8.10.0",
    "jupyter-server==2.21.1",
    "mitmproxy==11.0.2",
    "nats-py==2.16.0",
    "nextcord==2.0.0a0",
    "psycopg==3.3.9",
    "psycopg-pool==3.3.3",
    "pyatv==0.18.0",
    "python-engineio==4.15.1",
    "python-socketio==5.18.1",
    "strawberry-graphql==0.341.2",
    "twitchio==3.3.2",
    "zeroconf==0.154.0",
    # ours: async applications (bots and bridges, web services, home automation, dashboards, scrapers)
    "red-discordbot==3.5.24",
    "opsdroid==0.31.0",
    "maubot==0.6.0",
    "mautrix-telegram==0.15.3",
    "heisenbridge==1.15.4",
    "pantalaimon==0.10.5",
    "lnbits==1.6.2",
    "jupyterhub==6.1.1",
    "appdaemon==4.5.13",
    "zha==2.3.1",
    "glances==4.5.8",
    "posting==2.11.1",
    "dolphie==6.18.0",
    "elia-chat==1.10.0",
    "twscrape==0.20.1",
    "crawlee==1.11.0",
    sdists=("aiohttp", "anyio", "trio", "httpx", "opsdroid"),  # opsdroid 0.31.0 has no wheel
)
LOOP_PRECISION_MD = 69  # the first 69 of LOOP are PRECISION.md's projects

BLOCKING = _pins(
    # applications: a chat UI server, a notebook server, a device-firmware dashboard, a personal AI server, a SQL TUI
    "open-webui==0.12.4",
    "marimo==0.25.2",
    "esphome==2026.10.0",
    "khoj==1.42.10",
    "harlequin==2.17.0",
    # libraries: web UI framework, MCP servers, an admin for FastAPI/Starlette, Slack apps, a chat-app framework
    "nicegui==3.18.0",
    "mcp==2.3.0",
    "sqladmin==0.32.0",
    "slack-bolt==1.30.0",
    "chainlit==2.12.0",
)

# --- verdict definitions, copied from the issues and benchmarks/PRECISION.md ----------------------------------------

THREADS_VERDICTS = """\
From issue 16 ("How to measure"): every CCL101–103 finding gets an independent verdict, from reviewers
who read the code and its callers:

- **T**: lost update or broken invariant in normal use;
- **D**: needs unusual use, or harmless;
- **F**: cannot overlap, ordered, guarded, or misread.

What issue 16 names as the causes of false findings (judge against them):
- **confinement**: state that only one thread ever touches (one input thread, one consumer, the transport
  thread of a connection), an object used only by the thread that made it, a module global read by a different
  class than the one the thread uses;
- **order**: writes before the thread that reads is started or before the object is handed to another thread,
  reads after `join()` / `result()` / an `Event` or `Queue` hand-off, a request/response protocol in which one
  side waits for the other, a phase in which the other threads are known idle (a reset at start-up, a cleanup
  after every task completed);
- **locks**: a lock held by every caller (a property only reached from a method that holds `self.lock`),
  `multiprocessing` locks (`Value/Array.get_lock()`, `Manager().Lock()`), a lock local to one call (it guards
  nothing shared), a project decorator whose wrapper takes a lock;
- **executors that serialise**: `ThreadPoolExecutor(max_workers=1)`, `submit(f).result()` at once.

Not hazards (issue 16): idempotent writes of a constant where every writer stores the same value and nobody
reads-then-writes (`self._closed = True`); writes in `__init__` before `self` escapes; state behind
`threading.local()`; `queue.Queue`, `collections.deque.append/popleft`, `itertools.count()` used as designed.

The concurrency callers bring counts (issue 16, item 4): a library's objects are used from threads that the
library never starts. A class is meant for concurrent use, so that its public methods run in "any thread"
against each other, when it owns a lock that guards part of its state, or its docstring or module says it is
thread-safe; or it is a long-lived client/session/pool object of the kind users share across threads and its
request-path methods mutate per-request state on `self`; or a `thread-safe` setting or comment declares it.
"""

LOOP_VERDICTS = """\
From benchmarks/PRECISION.md: verdicts come from independent reviews (reviewers who read the code, its
callers and the cited evidence; none runs it).

- **T**: in normal use two tasks can interleave there and lose an update, initialise twice, or repeat a load
  the cache exists to do once;
- **D**: only through unusual use (a lifecycle method called concurrently), or with no effect (equal values,
  cheap local work repeated);
- **F**: cannot run concurrently, guarded by something the tool missed, or misread.

The decision on the sample criterion (issue 18), which these verdicts follow: a race that the code allows on
a long-lived object's public coroutine methods counts as a true hazard when concurrent calls of those methods
are the ordinary way the object is used: an API or database client, a connection or session wrapper, a token
or credentials manager, a cache, a service object that request handlers share. That is how users of async
libraries use them (one client, many tasks), and it is where the real bugs are. What stays "debatable":
lifecycle methods that an owner calls once from one place (start/stop/connect/close/login wired to one
caller), and races whose only effect is equal values or cheap repeated local work. So the next reviewed
samples are judged this way, on libraries and on applications alike.
"""

FORK_VERDICTS = """\
From issue 17 ("How to measure"): every CCL3xx finding gets an independent verdict (T/D/F as for CCL111–113).
For CCL111–113, benchmarks/PRECISION.md defines them as follows (for fork findings, read "two tasks" as the
parent and its workers, or the threads and the fork, that the finding names: a note of ours, not the issue's):

- **T**: in normal use two tasks can interleave there and lose an update, initialise twice, or repeat a load
  the cache exists to do once;
- **D**: only through unusual use (a lifecycle method called concurrently), or with no effect (equal values,
  cheap local work repeated);
- **F**: cannot run concurrently, guarded by something the tool missed, or misread.

What issue 17 says a fork hazard is, and is not:
- CCL301 is a hazard only when the **parent** reads the global after the children ran and expects their change
  (after `join()`, `map()`, pool results, in the parent's own code path), or when siblings are expected to see
  each other's writes. A worker setting its own shutdown flag, a per-process nesting depth that each process
  reads for itself, a module global set in a child and read only by code that also runs in that child: all are
  process-local by design.
- A WSGI/ASGI app object whose request handlers change module-level state meant to be global (rate limits,
  counters, sessions, caches used as a source of truth) is broken as soon as it runs with several workers,
  which is how such apps run in production (CCL303; a dict protected by a `threading.Lock` is still
  per-worker).
- A library that starts a background thread or keeps a lock or a connection in a module-level or long-lived
  object is inherited by every worker that forks after it was set up; without an at-fork re-initialisation the
  child has a dead thread, a lock copied locked, a socket shared with the parent (CCL305).
- Not hazards: process-local state by design (above); state re-initialised in an at-fork hook, in a pool
  `initializer`, or created per pid (`if self._pid != os.getpid(): reset`); threads started only after the
  last fork; `spawn`/`forkserver` contexts for the inheritance rules (CCL302, CCL304, CCL305: nothing is
  inherited there, which is exactly what CCL306 is about); read-only state inherited on purpose (configuration
  loaded before fork, `gc.freeze()` preloading).
"""

BLOCKING_VERDICTS = """\
Issue 19 sorts reviewed CCL2xx findings into "true stalls", "real blocking calls that are cheap or run once (a
pid-file write at start-up, one `stat`, a small CSS read cached after the first time, a one-shot CLI path)" and
"false" ("path-insensitive helper chains: the helper's blocking branch cannot run for the argument the caller
passes"); its target is "at most 5 % F, and the bounded/unbounded split is right on at least 95 % of them".
As verdicts:

- **T**: a true stall: the call blocks the event loop in normal use (network, sleep, subprocess, waits,
  database, directory walks, reading or unpickling data of unknown size, CPU-heavy library work);
- **D**: a real blocking call that is cheap or runs once (start-up only, one `stat`, a small cached read, a
  one-shot CLI path);
- **F**: the call cannot block the loop there: the blocking branch cannot run for the arguments the callers
  pass, the body runs in a worker thread (offloaded), the receiver is not what the rule took it for, or the
  code is not event-loop code.

Also record, in `cost`, whether the finding's cost class is right: `right` or `wrong` (unbounded: network,
sleep, subprocess, waits, database, directory walks, reading or unpickling data of unknown size; bounded: a
single `stat`/`exists`, a small write), or leave it out when the finding states none.
"""

FAMILIES: Dict[str, Family] = {
    family.name: family
    for family in (
        Family("threads", ("CCL101", "CCL102", "CCL103"), "thread races", 16, THREADS, THREADS_VERDICTS),
        # the threaded clients, servers and schedulers of the threads family are libraries forking hosts inherit too
        Family("fork", ("CCL3",), "fork hazards", 17, FORK + THREADS, FORK_VERDICTS),
        Family("loop", ("CCL111", "CCL112", "CCL113"), "event-loop races", 18, LOOP, LOOP_VERDICTS),
        Family("blocking", ("CCL2",), "blocking calls in event-loop code", 19, BLOCKING, BLOCKING_VERDICTS),
    )
}
