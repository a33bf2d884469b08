"""CCL301-CCL305: state and resources that do not cross a process boundary, or cross it when they should not.

After ``fork()`` parent and child each have their own memory: a global the child changes is
never seen by the parent or its siblings, locks other threads held stay locked in the child,
a background thread is not running there, and a connection made before the fork is shared by
processes that each think they own it. Where children start and what the parent does around
it is model/processes.py.
"""

from __future__ import annotations

from typing import Dict, Iterable, List, Optional, Tuple

from conclint.engine.findings import Finding, Related, Span
from conclint.engine.paths import short_path
from conclint.model.apis import EAGER_CONNECTION_TYPES, INHERITED_RESOURCE_TYPES, LAZY_THREAD_POOLS
from conclint.model.facts import MODULE_SCOPE, Access, CallSite, ModuleFacts, Write
from conclint.model.processes import EXECUTOR, OS_FORK, Handoff, Processes, ProcessStart, before
from conclint.model.thread_contexts import VISIBLE
from conclint.rules.base import Rule

# methods that begin an object's life: a thread they start runs while its other methods are called
LIFETIME_STARTS = frozenset(
    {"__init__", "__enter__", "__aenter__", "start", "open", "connect", "setup", "initialize", "initialise"}
)
CONSTRUCTORS = frozenset({"__init__", "__new__", "__post_init__"})
ASSUMED_WORKERS = "assumed: served by several worker processes; set `workers = 1` if it is not"
CACHE_DECORATORS = frozenset({"functools.lru_cache", "functools.cache"})


def processes_of(project) -> Processes:
    return project.model.processes


class GlobalWriteInChildProcess(Rule):
    code = "CCL301"
    name = "global-write-in-child-process"
    summary = "A child process changes a module global or class attribute that the parent reads after the children ran."
    explanation = """
        After `fork()` (and with `spawn`, even more so) the child has its own copy of every
        global. The child sets `winner = "Argentina"`, the parent still prints "The
        Netherlands"; `RESULTS.append(x)` in pool workers leaves the parent's `RESULTS` empty.

        conclint reports a write of a module global or class attribute in code that runs in
        a child process (`multiprocessing.Process` targets and subclasses' `run`, `Pool` and
        `ProcessPoolExecutor` tasks, `os.fork()` child branches, and what they call) when the
        parent reads that state after it handed the work over: later in the function that
        started the children or gave the pool its tasks (after `join()`, `map()`, the results),
        in what that code calls from there on, or after the call in its callers. It also reports
        a write that a sibling process started by the same code reads (a producer setting a
        flag its consumer polls).

        Not reported: state that is process-local by design (a worker's own shutdown flag, a
        per-process depth or memo, a global set and read only in the child, or read by the
        parent before the children ran or in another of its threads); a pool `initializer` or
        `os.register_at_fork` hook setting per-process globals; writes to
        `multiprocessing.Value`/`Array` and manager proxies; values returned to the parent.

        Fix: return the value to the parent (pool results, a `Queue`, a `Pipe`), or keep it
        in storage every process shares (`multiprocessing.Value`, a `Manager`, a file, a
        database).
    """
    bad = (
        """
        from multiprocessing import Process

        winner = "The Netherlands"

        def final():
            global winner
            winner = "Argentina"

        if __name__ == "__main__":
            child = Process(target=final)
            child.start()
            child.join()
            print(winner)
        """,
    )
    good = (
        """
        from multiprocessing import Pool

        def final(team):
            return team

        if __name__ == "__main__":
            with Pool(2) as pool:
                winner = pool.apply(final, ("Argentina",))
            print(winner)
        """,
        """
        import multiprocessing

        _shutting_down = False

        def worker(tasks):
            global _shutting_down
            for task in iter(tasks.get, None):
                print(task)
            _shutting_down = True  # this worker's own flag: no other process reads it

        def serve(tasks):
            if _shutting_down:
                return
            multiprocessing.Process(target=worker, args=(tasks,)).start()
        """,
    )
    scenario = "winner"

    def check(self, project, facts: ModuleFacts) -> Iterable[Finding]:
        processes = processes_of(project)
        hooks = processes.post_fork_hooks
        for function, state in facts.state.items():
            if function in hooks:
                continue  # per-process set-up (a pool initializer, an after-fork hook)
            handoffs = [(h, c) for h, c in processes.handoffs_reaching(function) if h.child not in hooks]
            branch_fork = self._fork_before(processes, facts, function)
            for write in state.writes:
                if write.checked_by is not None or not (handoffs or (write.in_child and branch_fork)):
                    continue  # (a write under a check of the same state is a per-process memo)
                if not write.in_child and not handoffs:
                    continue
                key = processes.state_key(write.key)
                if key is None or (_empties(processes, function, write) and self._memo_somewhere(processes, key)):
                    continue  # (a per-process cache emptied when it likes: no one expects that change)
                found = self._parent_read(processes, key, write, facts, function, handoffs, branch_fork)
                if found is None:
                    continue
                why, read, read_facts, by, starts = found
                message = (
                    f"`{write.display}` is changed in a child process ({why}): the parent and the other workers "
                    f"keep their own copy, and {by} reads it at {short_path(read_facts.path)}:{read.span.row}. "
                    "Fix: return the value to the parent (pool results, a Queue, a Pipe) or keep it in shared "
                    "storage (multiprocessing.Value, a Manager, a file, a database)"
                )
                related = [Related(f"{by} reads `{read.display}` here", read_facts.path, read.span)]
                related.append(Related(f"the children start: {starts[0]}", starts[1], starts[2]))
                yield Finding(self.code, message, facts.path, write.span, tuple(related))

    @staticmethod
    def _memo_somewhere(processes: Processes, key: str) -> bool:
        return any(_memo(write) for _, write, _ in processes.writes_of(key))

    @staticmethod
    def _fork_before(processes: Processes, facts: ModuleFacts, function: str) -> List[ProcessStart]:
        return [s for s in processes.starts if s.kind == OS_FORK and s.path == facts.path and s.parent == function]

    def _parent_read(
        self,
        processes: Processes,
        key: str,
        write: Write,
        facts: ModuleFacts,
        function: str,
        handoffs: List[Tuple[Handoff, Tuple[str, ...]]],
        forks: List[ProcessStart],
    ):
        """A read of ``key`` by the parent after it handed over the work, or by a sibling process."""
        reads = processes.reads_of(key)
        places: List[Tuple[str, str, Span, str, Tuple[str, str, Span]]] = []
        if write.in_child:
            earlier = [s for s in forks if before(s.span, write.span)]
            if earlier:
                fork = earlier[-1]
                why = f"the child's branch after {fork.how} in `{processes.program.display_name(function)}()`"
                places.append((facts.path, function, fork.span, why, (fork.how, fork.path, fork.span)))
        else:
            for handoff, chain in handoffs:
                if handoff.parent is not None:
                    why = processes.describe(handoff, chain)
                    places.append(
                        (handoff.path, handoff.parent, handoff.span, why, (handoff.reason, handoff.path, handoff.span))
                    )
        for path, parent, span, why, start in places:
            region = processes.parent_after(path, parent, span)
            for reader, read, read_facts in reads:
                if not read.in_child and processes.in_region(region, read_facts.path, reader, read.span):
                    return why, read, read_facts, "the parent", start
        for handoff, chain in handoffs:
            found = self._sibling_read(processes, reads, function, handoff)
            if found is not None:
                reader, read, read_facts = found
                by = f"another worker process (`{processes.program.display_name(reader)}()`)"
                return (
                    processes.describe(handoff, chain),
                    read,
                    read_facts,
                    by,
                    (handoff.reason, handoff.path, handoff.span),
                )
        return None

    @staticmethod
    def _sibling_read(processes: Processes, reads, writer: str, handoff: Handoff):
        """A read of the state in the code sibling processes run (workers of the same start, or other
        children the same code starts), by code the writer neither calls nor is called by (a request
        one worker serves reading what another worker's request set, a consumer polling its
        producer's flag). A function reading back its own write is process-local."""
        own = processes.reachable(writer)
        siblings = [handoff] if handoff.start.many else []
        siblings += [  # other children the same code starts (a producer and its consumer)
            h
            for h in processes.handoffs
            if h.child != handoff.child and h.path == handoff.path and h.parent and h.parent == handoff.parent
        ]
        for sibling in siblings:
            code = processes.reachable(sibling.child)
            for reader, read, read_facts in reads:
                if reader == writer or reader not in code or reader in own or read.in_child:
                    continue
                if writer in processes.reachable(reader):
                    continue
                return reader, read, read_facts
        return None


class ForkWithThreads(Rule):
    code = "CCL302"
    name = "fork-with-threads"
    summary = "A process forks while other threads run: locks those threads hold stay locked in the child."
    explanation = """
        `fork()` copies only the calling thread. Any lock another thread held at that moment
        (logging's handler locks, the import lock, your own) is copied locked, with no
        thread left to release it: the child hangs the first time it takes it. CPython 3.12+
        warns about forking a multi-threaded process at run time.

        conclint reports `os.fork()`, and starting a `multiprocessing` process or pool with
        the fork start method, when threads run at that point: a `Thread.start()`, a
        `ThreadPoolExecutor` or a `threading.Timer` earlier in the same function (directly
        or through the functions it calls) or at module import; a thread an object started
        when its life began (`__init__`, `__enter__`, `start()`) while a later method of it
        forks; or a fork from code that itself runs in a thread (a request handler of a
        threaded server creating a process pool on first use: a `ProcessPoolExecutor` forks
        at its first submit). A child that calls `exec*` or `_exit` at once is fine, and so
        is a `ThreadPoolExecutor` made at import: it has no thread until work is submitted.

        The start method is the one the code sets (`get_context()`, `set_start_method()`,
        `mp_context=`) or the default for the Python the code runs on: fork on Linux up to
        Python 3.13, forkserver from 3.14. conclint reads it from `target-version`, else
        from `requires-python` in the pyproject.toml beside the configuration, and the
        message says which.

        Fix: fork before starting threads, use the `spawn` or `forkserver` start method, or
        reset what the child needs with `os.register_at_fork(after_in_child=...)`.
    """
    bad = (
        """
        import os
        import threading

        def serve(work):
            threading.Thread(target=work, daemon=True).start()
            pid = os.fork()
            if pid == 0:
                work()
                os._exit(0)
        """,
        """
        import threading
        from multiprocessing import Process

        class Client:
            def __enter__(self):
                self._keepalive = threading.Thread(target=self.ping, daemon=True)
                self._keepalive.start()
                return self

            def ping(self):
                pass

            def run_task(self, task):
                child = Process(target=task)
                child.start()
                child.join()
        """,
    )
    good = (
        """
        import os
        import threading

        def serve(work):
            pid = os.fork()
            if pid == 0:
                work()
                os._exit(0)
            threading.Thread(target=work, daemon=True).start()
        """,
        """
        import multiprocessing
        import threading

        class Client:
            def __enter__(self):
                self._keepalive = threading.Thread(target=self.ping, daemon=True)
                self._keepalive.start()
                return self

            def ping(self):
                pass

            def run_task(self, task):
                child = multiprocessing.get_context("forkserver").Process(target=task)
                child.start()
                child.join()
        """,
    )
    scenario = "fork-with-threads"

    def check(self, project, facts: ModuleFacts) -> Iterable[Finding]:
        return all_fork_with_threads(project).get(facts.path, ())

    def findings(self, project, facts: ModuleFacts) -> Iterable[Finding]:
        processes = processes_of(project)
        if any(path == facts.path for path, _ in processes.entries.fork_hooks):
            return  # the module re-creates what the child needs after fork (register_at_fork)
        at_import = self._threads_at_import(project, processes, facts)
        exec_at_once = {span for state in facts.state.values() for span in state.forks_exec_at_once}
        by_scope: Dict[str, List[CallSite]] = {}
        for call in facts.calls:
            by_scope.setdefault(call.function, []).append(call)
        for scope, calls in by_scope.items():
            calls.sort(key=lambda c: (c.span.row, c.span.col))
            started: Optional[Tuple[CallSite, str]] = None
            if scope != MODULE_SCOPE and at_import is not None:
                started = at_import
            for call in calls:
                start = processes.fork_at_call(facts.path, call)
                if start is not None and processes.inherits(start) and call.span not in exec_at_once:
                    why = self._threads_running(processes, project, scope, call, started)
                    if why is not None:
                        yield self._finding(processes, facts, start, why)
                if started is None and processes.starts_a_thread(call):
                    started = (call, facts.path)

    def _finding(self, processes: Processes, facts: ModuleFacts, start: ProcessStart, why) -> Finding:
        text, path, span = why
        lazily = " (it forks its workers at its first submit)" if start.kind == EXECUTOR else ""
        message = (
            f"{start.how} forks{processes.describe_fork_method(start)}{lazily} while threads run ({text}): "
            "locks those threads hold (logging's among them) are copied locked into the child, which hangs when "
            "it takes one. Fix: fork before starting threads, use the 'spawn' or 'forkserver' start method, or "
            "re-create what the child needs after fork"
        )
        return Finding(self.code, message, facts.path, start.span, (Related("threads started here", path, span),))

    def _threads_running(self, processes: Processes, project, scope: str, call: CallSite, started):
        """Why threads run when ``call`` forks, (text, path, span); None when nothing says so."""
        if started is not None and _follows(started[0], call):
            thread_call, where = started
            return (
                f"{thread_call.text or 'Thread(...).start'}() at {short_path(where)}:{thread_call.span.row}",
                where,
                thread_call.span,
            )
        if scope == MODULE_SCOPE:
            return None
        return self._object_threads(processes, project, scope, call) or self._forks_in_thread(project, scope)

    @staticmethod
    def _object_threads(processes: Processes, project, scope: str, call: CallSite):
        """A thread the object started when its life began (``__enter__``), kept on ``self``."""
        program = processes.program
        owner = program.owner_class(scope)
        info = program.functions.get(scope, (None,))[0]
        if owner is None or info is None or info.name in CONSTRUCTORS:
            return None
        family = set(program.mro(owner))
        lifetime = [
            f
            for f, (method, _) in program.functions.items()
            if method.class_qualname in family and method.name in LIFETIME_STARTS and f != scope
        ]
        if not lifetime:
            return None
        begun = processes.calls.reachable_from(sorted(lifetime))
        threads = project.model.threads
        for root in threads.roots:
            if root.kind != VISIBLE or root.starter is None or root.starter == scope or root.starter not in begun:
                continue
            if not (root.handle or "").startswith("self:") or root.until is not None:
                continue
            if scope in begun and scope in processes.reachable(root.starter):
                continue
            if project.model.order.joined_before(root, scope, call.span):
                continue
            starter = program.display_name(root.starter)
            text = (
                f"the thread `{root.handle.rsplit('.', 1)[-1]}` that `{starter}()` started at "
                f"{short_path(root.path)}:{root.span.row} runs while `{program.display_name(scope)}()` forks"
            )
            return text, root.path, root.span
        return None

    @staticmethod
    def _forks_in_thread(project, scope: str):
        """The forking code itself runs in a thread: the process has others (at least its starter)."""
        threads = project.model.threads
        for reach in threads.reaches_of(scope):
            root = threads.roots[reach.root]
            if root.kind == VISIBLE:
                return f"it runs in a thread: {threads.explain(scope, reach)}", root.path, root.span
        return None

    def _threads_at_import(self, project, processes: Processes, facts: ModuleFacts):
        """The first thread started at import (module-level code outside a ``__main__`` block)
        by this module or the project modules it imports, directly or not: another script in
        the same folder is another program."""
        starters = project.shared("threads-at-import", lambda: self._import_time_starts(project, processes))
        for name in processes.imported_by(facts.module):
            if name in starters:
                return starters[name]
        return None

    @staticmethod
    def _import_time_starts(project, processes: Processes):
        """Threads running once the module is imported; a ``ThreadPoolExecutor`` made at import has none
        until work is submitted to it (its submits are thread starts where they run)."""
        starts = {}
        for module in project.modules():
            for call in module.calls:
                if call.function != MODULE_SCOPE or call.in_main_guard or call.callee in LAZY_THREAD_POOLS:
                    continue
                if processes.thread_start(call):
                    starts.setdefault(module.module, (call, module.path))
        return starts


def all_fork_with_threads(project) -> Dict[str, List[Finding]]:
    """CCL302's findings in every module, by path, found once (CCL305 leaves out the threads they name)."""

    def find() -> Dict[str, List[Finding]]:
        rule = ForkWithThreads()
        return {facts.path: list(rule.findings(project, facts)) for facts in project.modules()}

    return project.shared("CCL302", find)


def _follows(thread_call: CallSite, fork_call: CallSite) -> bool:
    """A thread started in a branch that returns does not precede code after that branch."""
    return thread_call.exit_branch is None or thread_call.exit_branch == fork_call.exit_branch


class PerWorkerState(Rule):
    code = "CCL303"
    name = "per-worker-state"
    summary = "A request handler changes module-level state of an app served by several worker processes."
    explanation = """
        A prefork server (gunicorn's sync or gthread workers, `uvicorn --workers N`, uWSGI)
        runs N copies of the app, one per process. A hit counter, a rate limit, a session
        table or a cache used as the source of truth kept in a module global is N
        independent values: requests spread over the workers see different counts that add
        up to nothing. A dict behind a `threading.Lock` is still one dict per worker. A
        `functools.lru_cache` cleared by a handler is cleared in that worker only: the others
        keep serving stale entries.

        conclint reports writes of module-level state in request handlers (Flask, FastAPI,
        aiohttp, Starlette, Quart, Sanic, Django views, WSGI and ASGI callables) and what they
        call, and `cache_clear()` of a project function's `lru_cache` there. That is how such
        apps run in production, so without deployment evidence conclint assumes several
        workers and says so ("assumed: served by several worker processes"). Evidence of one
        process silences it: a `gunicorn.conf.py` (or `gunicorn_config.py`,
        `gunicorn_conf.py`) without `workers` or with one, a `uvicorn` command in a
        `Procfile` or `Dockerfile` without `--workers`, an app that serves itself in one
        process (`app.run()`, `waitress.serve()`, gevent's `WSGIServer`, `uvicorn.run()`
        without `workers`), or `workers = 1` or `server = "threaded"`/`"evented"` in
        `[tool.conclint]`.

        Not reported: a per-worker cache (a memo filled when an entry is missing, `if key not
        in cache: cache[key] = load(key)`, values stored into state named a cache, expired
        entries taken out): each worker computing its own copy is what it is for; writes to
        another library's objects kept in a module global (a Flask-SQLAlchemy `db.session`, a
        limiter, an alias of `flask.g`), which keep their state elsewhere; a worker resetting
        what it made (`_client = None`). The writes of one variable in one function are one
        finding.

        Fix: keep shared state outside process memory (Redis, a database, a file), or
        accept it as per-worker (and name it so).
    """
    bad = (
        """
        from flask import Flask

        app = Flask(__name__)
        hits = {}

        @app.route("/hit/<page>")
        def hit(page):
            hits[page] = hits.get(page, 0) + 1
            return str(hits[page])
        """,
    )
    good = (
        """
        import redis
        from flask import Flask

        app = Flask(__name__)
        store = redis.Redis()

        @app.route("/hit/<page>")
        def hit(page):
            return str(store.incr(f"hits:{page}"))
        """,
    )
    scenario = "per-worker-state"

    def check(self, project, facts: ModuleFacts) -> Iterable[Finding]:
        server = project.server
        if server is not None and not server.several_workers:
            return
        if server is None and (project.settings.server in ("threaded", "evented") or project.settings.workers == 1):
            return
        model = project.model
        processes = processes_of(project)
        if not model.entries.request_handlers:
            return
        chains = model.calls.reachable_from(model.entries.request_handlers)
        workers = server.describe() if server is not None else "several worker processes"
        assumed = f" ({ASSUMED_WORKERS})" if server is None else ""
        for function in [*facts.functions, MODULE_SCOPE]:
            chain = chains.get(function)
            if chain is None:
                continue
            state = facts.state.get(function)
            reason, path, span = model.entries.request_handlers[chain[0]]
            route = " <- ".join(f"{model.program.display_name(q)}()" for q in reversed(chain))
            related = [Related(f"request handler: {reason}", path, span)]
            if server is not None and server.path:
                related.append(Related(f"several workers: {server.source}", server.path, server.span))
            written: Dict[str, List[Write]] = {}  # the writes of one variable in one function: one finding
            memos = set()  # variables this function uses as a cache: it also clears its own copy when it likes
            for write in state.writes if state is not None else ():
                key = processes.state_key(write.key)
                if key is None or processes.library_object(key, write):
                    continue
                if _memo(write):
                    memos.add(_variable(processes, key))
                    continue
                written.setdefault(_variable(processes, key), []).append(write)
            for variable, writes in written.items():
                if variable in memos:
                    continue
                write = writes[0]
                more = f" (and {len(writes) - 1} more writes of it here)" if len(writes) > 1 else ""
                message = (
                    f"`{write.display}` is module-level state changed by a request handler ({route}, {reason}){more}, "
                    f"but the app runs in {workers}{assumed}: each worker changes its own copy, so the values diverge "
                    "between workers. Fix: keep it in shared storage (Redis, a database, a file)"
                )
                yield Finding(self.code, message, facts.path, write.span, tuple(related))
            for call in model.calls.calls_of(function) if function != MODULE_SCOPE else ():
                cached = self._cleared_cache(model.program, call)
                if cached is None:
                    continue
                message = (
                    f"`{call.text}()` clears the lru_cache of `{model.program.display_name(cached)}()` in one worker "
                    f"only ({route}, {reason}), but the app runs in {workers}{assumed}: the other workers keep "
                    "serving the stale entries. Fix: keep the cached data in shared storage (Redis, a database), "
                    "or give entries a lifetime every worker honours (a TTL, a version key)"
                )
                yield Finding(self.code, message, facts.path, call.span, tuple(related))

    @staticmethod
    def _cleared_cache(program, call: CallSite) -> Optional[str]:
        if call.method != "cache_clear":
            return None
        target = program.resolve_name(call.text.rsplit(".", 1)[0]) if "." in call.text else None
        if target is None and call.callee:
            target = program.resolve_name(call.callee.rsplit(".", 1)[0])
        info = program.functions.get(target, (None,))[0] if target else None
        if info is None or not any(d in CACHE_DECORATORS for d in info.decorators):
            return None
        return target


def _memo(write: Write) -> bool:
    """``if key not in cache: cache[key] = load(key)``: filled when missing, not derived from itself;
    a value stored into state named a cache (what a cache holds, each worker may compute again), or
    an entry of it taken out under a check (expired). Invalidating an entry unconditionally (after an
    update) is another matter: the other workers keep it."""
    cache = "cache" in write.display.lower()
    if write.removes:  # an entry that expired, taken out by the worker that holds it
        return cache and write.checked_by is not None
    if write.kind not in ("item", "assign"):
        return False
    if write.checked_by is not None and write.derived_from is None:
        return True
    return write.kind == "item" and cache


def _empties(processes: Processes, function: str, write: Write) -> bool:
    """The write takes entries out (``del d[k]``, ``d.clear()``, ``d.pop(k)``) rather than storing."""
    if write.removes:
        return True
    return write.kind == "mutate" and any(
        call.method in ("clear", "pop", "popitem", "remove", "discard")
        and (call.span.row, call.span.col) == (write.span.row, write.span.col)
        for call in processes.calls.calls_of(function)
    )


def _variable(processes: Processes, key: str) -> str:
    """``global:pkg.config`` for ``global:pkg.config.attribute``: the variable a key is part of."""
    kind, _, rest = key.partition(":")
    module, path = processes.program.split_module(rest)
    return f"{kind}:{module}.{path.split('.', 1)[0]}" if module else key


class ResourceInheritedAcrossFork(Rule):
    code = "CCL304"
    name = "resource-inherited-across-fork"
    summary = "A connection or client created before a fork is used in the child processes."
    explanation = """
        A database connection, an engine's pool, a Redis client, a `requests.Session`, a
        socket or a gRPC channel made before `fork()` is copied into every child with the
        same socket underneath: the processes interleave their bytes on one connection,
        read each other's replies, or close it under each other.

        conclint reports such a resource when the children use it and it was made before
        they were forked: at module level of an app that gunicorn preloads (`preload_app =
        True`, `--preload`) and used by request handlers; at module level, or lazily in a
        helper (`get_session()` filling a module global) that the parent's code calls before
        the children start, and used by child code (`multiprocessing` processes and pools
        with the fork start method, `os.fork()` children, Celery tasks of its prefork pool);
        or in a `torch` dataset's `__init__` and used by its `__getitem__` in `DataLoader`
        workers.

        Not reported: resources made in the child (post_fork, a pool `initializer`, a
        `worker_init_fn`, lazily per pid: `if self._pid != os.getpid()`), and children
        started with `spawn` or `forkserver`, which make their own.

        Fix: create it in the child (gunicorn's `post_fork`, a pool `initializer`, lazily per
        pid), or call `engine.dispose()` after the fork.
    """
    bad = (
        """
        import sqlite3
        from multiprocessing import Process

        conn = sqlite3.connect("app.db")

        def work():
            conn.execute("insert into log values (1)")

        if __name__ == "__main__":
            Process(target=work).start()
        """,
        """
        from multiprocessing import Pool

        import requests

        _session = None

        def get_session():
            global _session
            if _session is None:
                _session = requests.Session()
            return _session

        def fetch(url):
            return get_session().get(url).text

        def main(urls):
            get_session().get("https://example.com/health")
            with Pool(4) as pool:
                return pool.map(fetch, urls)
        """,
    )
    good = (
        """
        import sqlite3
        from multiprocessing import Process

        def work():
            conn = sqlite3.connect("app.db")
            conn.execute("insert into log values (1)")

        if __name__ == "__main__":
            Process(target=work).start()
        """,
    )
    scenario = "shared-connection"

    def check(self, project, facts: ModuleFacts) -> Iterable[Finding]:
        processes = processes_of(project)
        model = project.model
        server = project.server
        preloaded = server is not None and server.preload and server.several_workers
        handler_code = model.calls.reachable_from(model.entries.request_handlers) if preloaded else {}
        after_fork = processes.after_fork_code()
        for function, state in facts.state.items():
            if function in after_fork or processes.per_pid([function]):
                continue
            for creation in state.writes:
                built = model.program.object_type(creation.built) if creation.built else None
                if built not in INHERITED_RESOURCE_TYPES or creation.in_child:
                    continue  # (code the children also run may make it in the parent first: _made_before)
                key = model.program.canonical_key(creation.key)
                if key is None or not key.startswith(("global:", "self:", "class:")):
                    continue
                use = self._child_use(processes, key, handler_code, facts, function, creation)
                if use is None:
                    continue
                user, read, read_facts, why = use
                message = (
                    f"`{creation.display}` ({built}) is created before the fork and used in {why}: parent and "
                    "children share one connection underneath. Fix: create it in the child (post_fork, a pool "
                    "initializer, lazily per pid) or dispose of it after the fork"
                )
                related = (
                    Related(f"used in the child by `{model.program.display_name(user)}()`", read_facts.path, read.span),
                )
                yield Finding(self.code, message, facts.path, creation.span, related)

    @staticmethod
    def _child_use(
        processes: Processes, key: str, handler_code, facts: ModuleFacts, function: str, creation: Write
    ) -> Optional[Tuple[str, Access, ModuleFacts, str]]:
        at_import = function == MODULE_SCOPE
        for reader, read, read_facts in processes.reads_of(key, uses=True):
            if at_import and reader in handler_code:
                return reader, read, read_facts, "request handlers of a preloaded app served by several workers"
            if read.in_child and reader != MODULE_SCOPE:
                if _disposed_in_child(read_facts, reader, read):
                    continue  # the child closes its copy (a forking server's listening socket): the fix itself
                forks = [s for s in processes.starts if s.kind == OS_FORK and s.parent == reader]
                if at_import or any(_made_before(processes, facts, function, creation, s) for s in forks):
                    return reader, read, read_facts, "the child's branch after os.fork()"
            for handoff, chain in processes.handoffs_reaching(reader):
                start = handoff.start
                if not processes.inherits(start) or not _made_before(processes, facts, function, creation, start):
                    continue
                how = processes.describe_fork_method(start)
                return reader, read, read_facts, f"child process code ({processes.describe(handoff, chain)}){how}"
        return None


DISPOSING_METHODS = frozenset({"close", "detach", "shutdown", "dispose"})


def _disposed_in_child(facts: ModuleFacts, reader: str, read: Access) -> bool:
    """The child's branch of ``reader`` disposes of the object ``read`` reads (``self.listener.close()``)."""
    return any(
        call.function == reader and call.method in DISPOSING_METHODS and call.text == f"{read.display}.{call.method}"
        for call in facts.calls
        if call.span.row == read.span.row
    )


def _made_before(processes: Processes, facts: ModuleFacts, function: str, creation: Write, start) -> bool:
    """The resource is made before ``start`` forks: at import (not below a top-level start; also in
    what module-level code and decorators call), in an object's constructor (the object is made in
    the parent), or in code the parent runs before it."""
    if function == MODULE_SCOPE:
        return not (start.parent == MODULE_SCOPE and start.path == facts.path and before(start.span, creation.span))
    if start.kind in ("celery",):
        return False  # only import-time state is in Celery's parent
    info = processes.program.functions.get(function, (None,))[0]
    if info is not None and info.name in CONSTRUCTORS and creation.key.startswith("self:"):
        return function not in processes.child_code  # the object is made in the parent
    if start.parent != MODULE_SCOPE and function in processes.import_time_code():
        return True  # importing the project makes it (a decorator, module-level set-up), before any such start
    region = processes.parent_before(start.path, start.parent, start.span)
    return processes.in_region(region, facts.path, function, creation.span)


class ForkUnsafeLibraryState(Rule):
    code = "CCL305"
    name = "fork-unsafe-library-state"
    summary = (
        "A library keeps a background thread or a connection in long-lived state, and nothing re-creates it after fork."
    )
    explanation = """
        Libraries are forked by their users: gunicorn and uWSGI workers, Celery's prefork
        pool and `multiprocessing` with the fork start method all copy a process that
        imported the library and set it up. A background thread the library started (a
        batch exporter, a flusher, a heartbeat) is not running in the child: what the child
        queues is never sent, and a lock that thread held at the fork is copied locked, so
        the child's flush hangs. A connection made at import is one connection shared by
        every process.

        conclint reports the `start()` of a thread kept in long-lived state: a module global,
        a class attribute, or an attribute of an object that lives as long as the process
        (one kept in a module global, a `logging` handler, which lives as long as the logging
        configuration an app sets up before its server forks, or one held by such an object);
        and a daemon thread started
        at import. The message names the locks the thread takes. It also reports a connection
        a module makes at import (`sqlite3.connect`, `psycopg2.connect`, `pymongo.MongoClient`,
        `socket.create_connection`: those that connect when they are made) in a project that
        does not fork itself (where it does, CCL304 follows the connection into the children).

        Not reported when something re-creates the state in the child: an
        `os.register_at_fork(after_in_child=...)` hook or another post-fork hook
        (`multiprocessing.util.register_after_fork`, uWSGI `@postfork`, Celery
        `worker_process_init`, gunicorn `post_fork`, a pool initializer) that runs the
        owner's code, a per-pid check (`if self._pid != os.getpid():`), a restart of a dead
        thread (`if not self._thread.is_alive():`), a thread chosen by the current pid (one
        per stream whose name carries `os.getpid()`). Nor threads started in child code, in a
        `__main__` block, by a script's top-level code, or per call (kept in a local); threads
        the project's own fork comes after (CCL302 reports those at the fork); the modules of
        a web app its server's workers import after the fork (no preload); a project that
        runs in one process.

        Fix: re-create the thread and reset its lock in the child with
        `os.register_at_fork(after_in_child=...)` (`threading.Lock._at_fork_reinit`-style
        resets), or start it lazily per pid.
    """
    bad = (
        """
        import threading
        import time

        class Exporter:
            def __init__(self):
                self._lock = threading.Lock()
                self._batch = []
                self._thread = threading.Thread(target=self._flush_forever, daemon=True)
                self._thread.start()

            def add(self, item):
                with self._lock:
                    self._batch.append(item)

            def _flush_forever(self):
                while True:
                    time.sleep(1)
                    with self._lock:
                        self._batch.clear()

        exporter = Exporter()
        """,
    )
    good = (
        """
        import os
        import threading
        import time

        class Exporter:
            def __init__(self):
                self._lock = threading.Lock()
                self._batch = []
                self._start()
                os.register_at_fork(after_in_child=self._start)

            def _start(self):
                self._lock = threading.Lock()
                self._thread = threading.Thread(target=self._flush_forever, daemon=True)
                self._thread.start()

            def _flush_forever(self):
                while True:
                    time.sleep(1)
                    with self._lock:
                        self._batch.clear()

        exporter = Exporter()
        """,
    )
    scenario = "fork-library-state"

    def check(self, project, facts: ModuleFacts) -> Iterable[Finding]:
        processes = processes_of(project)
        if self._one_process(project):
            return
        if facts.module in self._app_modules(project, processes):
            return  # each worker imports the app after the server forked it (unless it is preloaded)
        after_fork = processes.after_fork_code()
        named = {
            (related.path, related.span)
            for findings in all_fork_with_threads(project).values()
            for finding in findings
            for related in finding.related
        }
        forked_after_import = facts.module in self._imported_by_forking_modules(project, processes)
        for call in facts.calls:
            if call.in_main_guard or not self._thread_start(processes, call) or (facts.path, call.span) in named:
                continue  # (a thread the project's own fork comes after: CCL302 says so at the fork)
            if call.function == MODULE_SCOPE and forked_after_import:
                continue  # the project's own forks come after its import: CCL302 reports them
            kept = self._kept_in(project, processes, facts, call)
            if kept is None:
                continue
            where, owner, handle = kept
            starter = call.function
            if starter in after_fork or (starter != MODULE_SCOPE and processes.in_child(starter, _NO_ACCESS)):
                continue  # started after the fork, in the child
            if self._restarted(processes, facts, starter, owner, handle, after_fork):
                continue
            thread = self._thread_function(project, processes, facts, call)
            locks = self._locks_taken(processes, thread) if thread else []
            taken = (
                f"; the lock{'s' if len(locks) > 1 else ''} {', '.join(f'`{lock}`' for lock in locks)} it takes "
                "may be copied locked"
                if locks
                else ""
            )
            target = f" (`{processes.program.display_name(thread)}()`)" if thread else ""
            message = (
                f"a background thread{target} {where} is not running in processes forked after it started "
                f"(gunicorn, uWSGI and Celery workers, multiprocessing with fork): work the child hands it is never "
                f"done{taken}. Fix: restart it in the child with os.register_at_fork(after_in_child=...), or start "
                "it lazily per pid (if self._pid != os.getpid())"
            )
            yield Finding(self.code, message, facts.path, call.span)
        if not project.model.entries.request_handlers:  # (an app's connections: CCL304 follows them)
            if not any(path == facts.path for path, _ in processes.entries.fork_hooks):
                yield from self._connections_at_import(processes, facts)

    @staticmethod
    def _thread_start(processes: Processes, call: CallSite) -> bool:
        """A thread's ``start()`` (a thread pool makes its threads at submit, and is left out)."""
        return call.method == "start" and processes.thread_start(call)

    @staticmethod
    def _imported_by_forking_modules(project, processes: Processes):
        def find():
            forking = {processes.by_path[s.path].module for s in processes.starts if processes.inherits(s)}
            return {name for module in sorted(forking) for name in processes.imported_by(module)}

        return project.shared("imported-by-forking-modules", find)

    @staticmethod
    def _one_process(project) -> bool:
        """Evidence that the project runs in one process."""
        server = project.server
        if server is not None and not server.several_workers:
            return True
        return project.settings.server in ("threaded", "evented")

    @staticmethod
    def _app_modules(project, processes: Processes):
        """The modules of a web app that its server's workers import after the fork (all of them
        when it is preloaded: then none): those defining request handlers, those importing them,
        and what they import."""
        server = project.server
        if server is not None and server.preload:
            return set()

        def find():
            handlers = project.model.entries.request_handlers
            homes = {processes.program.functions[h][1].module for h in handlers if h in processes.program.functions}
            modules = processes.program.modules
            homes |= {name for name, facts in modules.items() if facts.imported_modules & homes}
            return {name for home in sorted(homes) for name in processes.imported_by(home)}

        return project.shared("app-modules", find)

    @staticmethod
    def _kept_in(
        project, processes: Processes, facts: ModuleFacts, call: CallSite
    ) -> Optional[Tuple[str, str, Optional[str]]]:
        """Where a long-lived background thread is kept, as a message says it, and its owner (a class
        or the module). None for a thread started per call (kept in a local, or fire-and-forget in a
        function), kept on objects nothing shows to be long-lived (an instance in a module global,
        or held by one), or started by a script's top-level code."""
        program = processes.program
        receiver = call.text.rsplit(".", 1)[0] if call.text.count(".") else ""
        if call.function == MODULE_SCOPE:
            if _runs_its_program(processes, facts, call):
                return None  # a script: its threads are the program's, not a library's
            if receiver and "." not in receiver and receiver in _module_variables(facts):
                return f"kept in the module global `{receiver}`", facts.module, f"global:{facts.module}.{receiver}"
            daemon = _daemon(processes, facts, call, None)
            return ("started at import", facts.module, None) if daemon else None
        key = project.model.threads.receiver_key(call)
        if key is not None and key.startswith("local:"):
            key = _container_keeping(project, processes, call, receiver)
        if key is None or key.startswith("local:"):
            return None
        kind, _, rest = key.partition(":")
        if kind == "self":
            owner, attribute = program.split_class(rest)
            if owner is None:
                return None
            where = f"kept in `{owner.rsplit('.', 1)[-1]}.{attribute}`"
            family = {owner, *program.subclasses_of(owner)}
            return (where, owner, key) if family & processes.long_lived_classes() else None
        if kind == "class":
            owner, attribute = program.split_class(rest)
            return (f"kept in the class attribute `{rest.rsplit('.', 1)[-1]}`", owner, key) if owner else None
        if kind == "global":
            return f"kept in the module global `{rest.rsplit('.', 1)[-1]}`", facts.module, key
        return None

    @staticmethod
    def _restarted(
        processes: Processes, facts: ModuleFacts, starter: str, owner: str, handle: Optional[str], after_fork
    ) -> bool:
        """Something re-creates the thread in a new process: a post-fork hook that runs the owner's
        code (a method of the class; for a module, the starter or code that sets the thread again),
        a per-pid check, a restart of a dead thread, or a starter that picks its thread by a name a
        helper it calls makes from the current pid."""
        program = processes.program
        hooked = processes.modules_handling_forks
        if owner in program.classes:
            family = set(program.mro(owner)) | set(program.subclasses_of(owner))
            functions = [f for f, (info, _) in program.functions.items() if info.class_qualname in family]
            if any(f in after_fork for f in functions) or program.classes[owner][1].path in hooked:
                return True  # (a module's own at-fork hook tends to the instances it keeps: a WeakSet of them)
        else:
            module = program.modules.get(owner)
            functions = [*(module.functions if module else ()), MODULE_SCOPE]
            if handle is None and facts.path in {path for path, _ in processes.entries.fork_hooks}:
                return True  # a thread started at import, in a module that handles forks
            if starter in after_fork or any(
                function in after_fork for function, _, _ in processes.writes_of(handle or "")
            ):
                return True
        if processes.per_pid(functions):
            return True
        if starter == MODULE_SCOPE:
            return False
        callees = [callee for callee, _ in processes.calls.callees.get(starter, ())]
        if any(c.method == "is_alive" for function in [starter, *callees] for c in processes.calls.calls_of(function)):
            return True  # a restart of a dead thread
        # a thread chosen by a name a helper makes from the current pid (a stream per process); the pid
        # in the thread's own name (``name=f"worker-{os.getpid()}"``) chooses nothing
        return any(c.callee == "os.getpid" for function in callees for c in processes.calls.calls_of(function))

    @staticmethod
    def _thread_function(project, processes: Processes, facts: ModuleFacts, call: CallSite) -> Optional[str]:
        """What the thread runs: the target of its ``Thread(...)``, or a subclass's ``run``."""
        program = processes.program
        owner = program.resolve_name(call.receiver_type) if call.receiver_type else None
        if owner in program.classes:
            return program.method_of(owner, "run")
        threads = project.model.threads
        key = threads.receiver_key(call) if call.method == "start" else None
        for root in threads.roots:
            if root.kind != VISIBLE or root.path != facts.path or root.starter != call.function:
                continue
            if (key is not None and root.handle == key) or root.span == call.span or root.span.row == call.span.row:
                return root.function
        return None

    @staticmethod
    def _locks_taken(processes: Processes, thread: str) -> List[str]:
        locks: List[str] = []
        for function in processes.reachable(thread):
            entry = processes.program.functions.get(function)
            state = entry[1].state.get(function) if entry else None
            for held in state.thread_lock_withs if state else ():
                if held.display not in locks:
                    locks.append(held.display)
        return locks[:3]

    def _connections_at_import(self, processes: Processes, facts: ModuleFacts) -> Iterable[Finding]:
        """A connection made at import (one that connects when it is made, not at first use) and
        kept in a module global, in a project that does not fork itself (where it does, CCL304
        follows the connection into the children)."""
        state = facts.state.get(MODULE_SCOPE)
        if state is None or processes.starts or processes.per_pid([*facts.functions, MODULE_SCOPE]):
            return
        for creation in state.writes:
            built = processes.program.object_type(creation.built) if creation.built else None
            if built not in EAGER_CONNECTION_TYPES or processes.main_guarded(facts, creation.span):
                continue
            message = (
                f"`{creation.display}` ({built}) is a connection the module makes at import: every process forked "
                "after the import (gunicorn, uWSGI and Celery workers, multiprocessing with fork) shares it with the "
                "parent. Fix: make it lazily per pid (if self._pid != os.getpid()), or re-create it in "
                "os.register_at_fork(after_in_child=...)"
            )
            yield Finding(self.code, message, facts.path, creation.span)


_NO_ACCESS = Access("", "", Span(0, 0, 0, 0), (), (), 0)


def _container_keeping(project, processes: Processes, call: CallSite, local: str) -> Optional[str]:
    """The long-lived container a thread kept in a local is added to (``self.consumers.append(consumer)``
    in the function that starts it): the thread is kept there."""
    for other in processes.calls.calls_of(call.function):
        if other.method in ("append", "add", "insert", "appendleft") and any(
            ref is not None and ref.text == local for ref in other.args
        ):
            key = project.model.threads.receiver_key(other)
            if key is not None and not key.startswith("local:"):
                return key
    return None


def _runs_its_program(processes: Processes, facts: ModuleFacts, start: CallSite) -> bool:
    """After starting the thread, the module's top-level code goes on calling the project's own
    functions or methods (``consumer.feed(10)``, ``main()``): it is a program run at import, not a
    library setting itself up."""
    program = processes.program
    for call in facts.calls:
        if call.function != MODULE_SCOPE or not before(start.span, call.span) or call.method == "start":
            continue
        target = program.resolve_call(call)
        info = program.functions.get(target, (None,))[0] if target else None
        if info is not None and info.name not in CONSTRUCTORS:
            return True
    return False


def _module_variables(facts: ModuleFacts):
    state = facts.state.get(MODULE_SCOPE)
    return {w.display for w in state.writes} if state is not None else set()


def _daemon(processes: Processes, facts: ModuleFacts, call: CallSite, handle: Optional[str]) -> bool:
    """The thread is a daemon: ``Thread(..., daemon=True)``, ``t.daemon = True``, ``setDaemon(True)``,
    or a ``Thread`` subclass that makes itself one."""
    program = processes.program
    calls = [c for c in facts.calls if c.function == call.function]
    owner = program.resolve_name(call.receiver_type) if call.receiver_type else None
    if owner in program.classes:  # a Thread subclass: its own constructor says so
        family = set(program.mro(owner))
        calls = list(processes.calls.calls_of(program.method_of(owner, "__init__") or "")) + calls
        for function, (info, module) in program.functions.items():
            state = module.state.get(function) if info.class_qualname in family else None
            if state is not None and any(w.display == "self.daemon" and w.literal == "True" for w in state.writes):
                return True
    same_line = [c for c in calls if c.span.row == call.span.row or c.literal_keywords.get("daemon") is True]
    if any(c.literal_keywords.get("daemon") is True for c in same_line):
        return True
    if any(c.method == "setDaemon" and c.literal is True for c in calls):
        return True
    state = facts.state.get(call.function)
    receiver = call.text.rsplit(".", 1)[0]
    return state is not None and any(
        w.literal == "True" and w.display in (f"{receiver}.daemon", "self.daemon") for w in state.writes
    )
