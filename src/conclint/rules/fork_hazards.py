"""CCL301-CCL304: state and resources that do not cross a process boundary.

After ``fork()`` parent and child each have their own memory: a global the child
changes is never seen by the parent or its siblings, locks other threads held stay
locked in the child, and a connection made before the fork is shared by processes
that each think they own it.
"""

from __future__ import annotations

from typing import Dict, Iterable, List, Optional, Tuple

from conclint.engine.findings import Finding, Related
from conclint.engine.paths import short_path
from conclint.model.apis import (
    CROSS_PROCESS_TYPE_PREFIXES,
    FORK_CALLS,
    INHERITED_RESOURCE_TYPES,
    PROCESS_CLASSES,
    PROCESS_STARTING_CONSTRUCTORS,
    PROCESS_TYPES,
    THREAD_CLASSES,
    THREAD_STARTING_CONSTRUCTORS,
    THREAD_TYPES,
)
from conclint.model.concurrency import ConcurrencyModel
from conclint.model.entries import FORK_BRANCH, PROCESS, THREAD
from conclint.model.facts import MODULE_SCOPE, Access, CallSite, ModuleFacts, Write
from conclint.rules.base import Rule

STATE_KINDS = ("global", "class")


class ForkAnalysis:
    """Which code runs in child processes, what crosses the boundary, and how the start method is set."""

    def __init__(self, project) -> None:
        self.project = project
        self.model: ConcurrencyModel = project.model
        self.reads: Dict[str, List[Tuple[str, Access, ModuleFacts]]] = {}
        self.writes: Dict[str, List[Tuple[str, Write, ModuleFacts]]] = {}
        for facts in project.modules():
            for function, state in facts.state.items():
                for read in state.reads:
                    key = self.model.program.canonical_key(read.key)
                    if key:
                        self.reads.setdefault(key, []).append((function, read, facts))
                for write in state.writes:
                    key = self.model.program.canonical_key(write.key)
                    if key:
                        self.writes.setdefault(key, []).append((function, write, facts))
        set_globally = [method for call, method, _, _ in self.model.entries.start_methods if call == "set_start_method"]
        # the default start method: fork on Linux before Python 3.14, unless the code sets another
        self.default_forks = not set_globally or "fork" in set_globally
        self.context_methods: Dict[str, set] = {}
        for call, method, path, _ in self.model.entries.start_methods:
            if call == "get_context":
                self.context_methods.setdefault(path, set()).add(method)
        self._thread_starters: Dict[str, bool] = {}

    def start_method_note(self, *paths: str) -> str:
        """Where the code sets the start method, in the modules concerned (the message says so)."""
        for _, method, path, span in self.model.entries.start_methods:
            if path in paths:
                return f" (start method {method!r} set at {short_path(path)}:{span.row})"
        return ""

    # ---- where code runs --------------------------------------------------
    def in_child(self, function: str, access: Access) -> bool:
        return access.in_child or bool(self.model.contexts.contexts_of(function, PROCESS))

    def child_reason(self, function: str, access: Access, facts: ModuleFacts) -> Tuple[str, Optional[Related]]:
        contexts = self.model.contexts.contexts_of(function, PROCESS)
        if contexts:
            context = min(contexts, key=lambda c: len(c.chain))
            entry = context.entry
            return context.describe(self.model.program.display_name), Related(
                f"child process starts: {entry.reason}", entry.path, entry.span
            )
        return f"the child's branch after os.fork() in `{self.model.program.display_name(function)}()`", None

    def crosses_processes(self, key: str) -> bool:
        """Values, arrays, manager proxies and queues are made to be shared with children."""
        _kind, _, rest = key.partition(":")
        module, path = self.model.program.split_module(rest)
        if module is None:
            return False
        variable = path.split(".", 1)[0]
        built = self.model.program.object_type(f"{module}.{variable}") or ""
        return built.startswith(CROSS_PROCESS_TYPE_PREFIXES)

    def parent_reads(
        self, key: str, paths: Iterable[str], starters: Iterable[str]
    ) -> List[Tuple[str, Access, ModuleFacts]]:
        """Reads of ``key`` by the parent: outside child code, in the modules that start the
        children or hold the write (another program that happens to import the module is not
        this program's parent) and, when we know the function that starts the child, in what
        that function runs (module-level code when it starts at the top level)."""
        paths = set(paths)
        starters = [s for s in starters if s]
        parent_code = set(self.model.calls.reachable_from([s for s in starters if s != MODULE_SCOPE]))
        if MODULE_SCOPE in starters or not starters:
            parent_code.add(MODULE_SCOPE)
        # threads running in the parent (a flusher started at import) read it too
        parent_code |= {
            f
            for f, contexts in self.model.contexts.by_function.items()
            if any(c.entry.context == THREAD for c in contexts)
        }
        return [
            (f, r, m)
            for f, r, m in self.reads.get(key, ())
            if m.path in paths and not self.in_child(f, r) and (not starters or f in parent_code)
        ]

    def child_entries(self, function: str):
        return [c.entry for c in self.model.contexts.contexts_of(function, PROCESS)]

    # ---- threads and forks, in order --------------------------------------
    def starts_threads(self, function: str, seen=None) -> bool:
        if function in self._thread_starters:
            return self._thread_starters[function]
        seen = seen if seen is not None else set()
        seen.add(function)
        entry = self.model.program.functions.get(function)
        facts = entry[1] if entry else None
        result = False
        if facts is not None:
            result = any(self.thread_start(call) for call in facts.calls if call.function == function)
            if not result:
                result = any(
                    self.starts_threads(callee, seen)
                    for callee, _ in self.model.calls.callees.get(function, ())
                    if callee not in seen
                )
        self._thread_starters[function] = result
        return result

    def _receiver_class(self, call: CallSite) -> Optional[str]:
        owner = self.model.program.resolve_name(call.receiver_type)
        return owner if owner in self.model.program.classes else None

    def thread_start(self, call: CallSite) -> bool:
        if call.callee in THREAD_STARTING_CONSTRUCTORS:
            return True
        if call.method == "start" and call.receiver_type:
            owner = self._receiver_class(call)
            return call.receiver_type in THREAD_TYPES or (
                owner is not None and self.model.program.is_subclass_of(owner, THREAD_CLASSES)
            )
        return False

    def forks_with(self, call: CallSite, path: str) -> bool:
        """Does this multiprocessing start use the fork method? A ``get_context(...)`` object
        forks when its module asks for "fork"; the default context unless set otherwise."""
        built_from = call.receiver_type if call.method == "start" else (call.callee or call.receiver_type or "")
        if (built_from and built_from.startswith("multiprocessing.get_context")) or "mp_context" in call.keywords:
            methods = self.context_methods.get(path)
            return "fork" in methods if methods else self.default_forks
        return self.default_forks

    def fork_start(self, call: CallSite, path: str) -> Optional[str]:
        """How the call forks, or None: ``os.fork()``, a Process start, a process pool."""
        if call.callee in FORK_CALLS:
            return f"{call.callee}()"
        if not self.forks_with(call, path):
            return None
        if call.callee in PROCESS_STARTING_CONSTRUCTORS or (
            (call.receiver_type or "").startswith("multiprocessing.get_context") and call.method == "Pool"
        ):
            return f"{call.text or call.callee}() with the fork start method"
        if call.method == "start" and call.receiver_type:
            owner = self._receiver_class(call)
            if call.receiver_type in PROCESS_TYPES or (
                owner is not None and self.model.program.is_subclass_of(owner, PROCESS_CLASSES)
            ):
                return f"{call.text or 'Process(...).start'}() with the fork start method"
        return None


def fork_analysis(project) -> ForkAnalysis:
    return project.shared("fork", lambda: ForkAnalysis(project))


def _state_key(analysis: ForkAnalysis, raw: str) -> Optional[str]:
    key = analysis.model.program.canonical_key(raw)
    if key is None or key.partition(":")[0] not in STATE_KINDS or analysis.crosses_processes(key):
        return None
    return key


class GlobalWriteInChildProcess(Rule):
    code = "CCL301"
    name = "global-write-in-child-process"
    summary = "A module global or class attribute is changed in a child process; the parent never sees it."
    explanation = """
        After `fork()` (and with `spawn`, even more so) the child has its own copy of every
        global. The child sets `winner = "Argentina"`, the parent still prints "The
        Netherlands"; `RESULTS.append(x)` in pool workers leaves the parent's `RESULTS` empty.
        conclint reports a write of a module global or class attribute in code that runs in
        a child process (`multiprocessing.Process` targets and subclasses' `run`, `Pool` and
        `ProcessPoolExecutor` tasks, `os.fork()` child branches, and what they call) when
        code in the parent reads that state.

        Not reported: a pool `initializer` or `os.register_at_fork` hook setting per-process
        globals, writes to `multiprocessing.Value`/`Array` and manager proxies, state only
        read back inside the child, values returned to the parent.

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
    )
    scenario = "winner"

    def check(self, project, facts: ModuleFacts) -> Iterable[Finding]:
        analysis = fork_analysis(project)
        initializers = analysis.model.entries.initializers
        for function, state in facts.state.items():
            entries = analysis.child_entries(function)
            if function in initializers or (entries and all(e.function in initializers for e in entries)):
                continue  # per-process set-up (a pool initializer, an after-fork hook, and what they call)
            for write in state.writes:
                if not analysis.in_child(function, write) or write.checked_by is not None:
                    continue  # (a write under a check of the same state is a per-process memo)
                key = _state_key(analysis, write.key)
                if key is None:
                    continue
                paths = {facts.path, *(e.path for e in entries)}
                # after os.fork() the forking module is the program: any of its parent code reads it
                forked = write.in_child or any(e.reason == FORK_BRANCH for e in entries)
                starters = [] if forked else [e.starter for e in entries]
                parent = analysis.parent_reads(key, paths, starters)
                if not parent:
                    continue
                why, entry = analysis.child_reason(function, write, facts)
                _, read, read_facts = parent[0]
                message = (
                    f"`{write.display}` is changed in a child process ({why}){analysis.start_method_note(*paths)}: "
                    "the parent and the "
                    "other workers keep their own copy, and the parent reads it at "
                    f"{short_path(read_facts.path)}:{read.span.row}. "
                    f"Fix: return the value to the parent (pool results, a Queue, a Pipe) or keep it in shared storage "
                    f"(multiprocessing.Value, a Manager, a file, a database)"
                )
                related = [Related(f"the parent reads `{read.display}` here", read_facts.path, read.span)]
                if entry is not None:
                    related.append(entry)
                yield Finding(self.code, message, facts.path, write.span, tuple(related))


class ForkWithThreads(Rule):
    code = "CCL302"
    name = "fork-with-threads"
    summary = "A process forks after starting threads: locks those threads hold stay locked in the child."
    explanation = """
        `fork()` copies only the calling thread. Any lock another thread held at that moment
        (logging's handler locks, the import lock, your own) is copied locked, with no
        thread left to release it: the child hangs the first time it takes it. CPython 3.12+
        warns about forking a multi-threaded process at run time.

        conclint reports `os.fork()`, and starting a `multiprocessing` process or pool with
        the fork start method (the default on Linux before Python 3.14), after a
        `Thread.start()`, a `ThreadPoolExecutor` or a `threading.Timer` earlier in the same
        function (directly or through the functions it calls) or at module import, when the
        child then runs Python code (a child that calls `exec*` or `_exit` at once is fine).

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
    )
    scenario = "fork-with-threads"

    def check(self, project, facts: ModuleFacts) -> Iterable[Finding]:
        analysis = fork_analysis(project)
        if any(path == facts.path for path, _ in analysis.model.entries.fork_hooks):
            return  # the module re-creates what the child needs after fork (register_at_fork)
        at_import = self._threads_at_import(project, analysis, facts)
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
                how = analysis.fork_start(call, facts.path)
                if (
                    how is not None
                    and started is not None
                    and call.span not in exec_at_once
                    and _follows(started[0], call)
                ):
                    thread_call, where = started
                    message = (
                        f"{how} runs after threads were started ({thread_call.text or 'Thread(...).start'}() at "
                        f"{short_path(where)}:{thread_call.span.row})"
                        f"{analysis.start_method_note(facts.path)}: locks those threads hold (logging's among them) "
                        "are copied locked "
                        f"into the child, which hangs when it takes one. Fix: fork before starting threads, use the "
                        f"'spawn' or 'forkserver' start method, or re-create what the child needs after fork"
                    )
                    related = (Related("threads started here", where, thread_call.span),)
                    yield Finding(self.code, message, facts.path, call.span, related)
                if started is None and (analysis.thread_start(call) or self._calls_thread_starter(analysis, call)):
                    started = (call, facts.path)

    @staticmethod
    def _calls_thread_starter(analysis: ForkAnalysis, call: CallSite) -> bool:
        target = analysis.model.program.resolve_call(call)
        return target is not None and analysis.starts_threads(target)

    def _threads_at_import(self, project, analysis: ForkAnalysis, facts: ModuleFacts):
        """The first thread started at import (module-level code outside a ``__main__`` block)
        by this module or the project modules it imports, directly or not: another script in
        the same folder is another program."""
        starters = project.shared("threads-at-import", lambda: self._import_time_starts(project, analysis))
        modules = analysis.model.program.modules
        seen, pending = set(), [facts.module]
        while pending:
            name = pending.pop()
            if name in seen or name not in modules:
                continue
            seen.add(name)
            if name in starters:
                return starters[name]
            # imported_modules is a frozenset: sorted, so the seed does not pick the module named
            pending.extend(sorted((m for m in modules[name].imported_modules if m in modules), reverse=True))
        return None

    @staticmethod
    def _import_time_starts(project, analysis: ForkAnalysis):
        starts = {}
        for module in project.modules():
            for call in module.calls:
                if call.function == MODULE_SCOPE and not call.in_main_guard and analysis.thread_start(call):
                    starts.setdefault(module.module, (call, module.path))
        return starts


def _follows(thread_call: CallSite, fork_call: CallSite) -> bool:
    """A thread started in a branch that returns does not precede code after that branch."""
    return thread_call.exit_branch is None or thread_call.exit_branch == fork_call.exit_branch


class PerWorkerState(Rule):
    code = "CCL303"
    name = "per-worker-state"
    summary = "A request handler changes module-level state of an app served by several worker processes."
    explanation = """
        A prefork server (gunicorn's sync or gthread workers, `uvicorn --workers N`) runs N
        copies of the app, one per process. A hit counter, a cache or a rate limit kept in a
        module global is N independent values: requests spread over the workers see
        different counts that add up to nothing.

        conclint looks for evidence of several worker processes (a `gunicorn.conf.py`,
        `gunicorn_config.py` or `gunicorn_conf.py` setting `workers` above 1, a `Procfile` or `Dockerfile` command
        running `gunicorn -w N` or `uvicorn --workers N`, or `server = "prefork"` with
        `workers` in `[tool.conclint]`) and reports writes of module-level state in request
        handlers (Flask, FastAPI, aiohttp, Starlette, Django views, WSGI and ASGI callables)
        and what they call. Without such evidence it stays silent (the thread rules still
        apply to threaded servers).

        Fix: keep shared state outside process memory (Redis, a database, a file), or
        accept it as per-worker (and name it so).
    """
    example_settings = {"server": "prefork", "workers": 4}
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
        if server is None or not server.several_workers:
            return
        analysis = fork_analysis(project)
        model = analysis.model
        chains = model.calls.reachable_from(model.entries.request_handlers)
        for function, state in facts.state.items():
            chain = chains.get(function)
            if chain is None:
                continue
            reason, path, span = model.entries.request_handlers[chain[0]]
            for write in state.writes:
                key = _state_key(analysis, write.key)
                if key is None:
                    continue
                route = " <- ".join(f"{model.program.display_name(q)}()" for q in reversed(chain))
                message = (
                    f"`{write.display}` is module-level state changed by a request handler ({route}, {reason}), but "
                    "the app "
                    f"runs in {server.describe()}: each worker changes its own copy, so the values diverge between "
                    "workers. "
                    f"Fix: keep it in shared storage (Redis, a database, a file)"
                )
                related = [Related(f"request handler: {reason}", path, span)]
                if server.path:
                    related.append(Related(f"several workers: {server.source}", server.path, server.span))
                yield Finding(self.code, message, facts.path, write.span, tuple(related))


class ResourceInheritedAcrossFork(Rule):
    code = "CCL304"
    name = "resource-inherited-across-fork"
    summary = "A connection or client created before a fork is used in the child processes."
    explanation = """
        A database connection, an engine's pool, a Redis client, a `requests.Session`, a
        socket or a gRPC channel made before `fork()` is copied into every child with the
        same socket underneath: the processes interleave their bytes on one connection,
        read each other's replies, or close it under each other.

        conclint reports such a resource when it is created at module level of an app that
        gunicorn preloads (`preload_app = True`, `--preload`) and used by request handlers,
        or created in the parent before a `multiprocessing` process or pool starts (with the
        fork start method) or before `os.fork()`, and used by child code.

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
        analysis = fork_analysis(project)
        model = analysis.model
        server = project.server
        preloaded = server is not None and server.preload and server.several_workers
        handler_code = model.calls.reachable_from(model.entries.request_handlers) if preloaded else {}
        for function, state in facts.state.items():
            if function in model.entries.initializers:
                continue
            for creation in state.writes:
                built = model.program.object_type(creation.built) if creation.built else None
                if built not in INHERITED_RESOURCE_TYPES or analysis.in_child(function, creation):
                    continue
                key = model.program.canonical_key(creation.key)
                use = self._child_use(analysis, key, handler_code) if key and key.startswith("global:") else None
                if use is None:
                    continue
                user, read, read_facts, why = use
                message = (
                    f"`{creation.display}` ({built}) is created before the fork and used in "
                    f"{why}{analysis.start_method_note(facts.path, read_facts.path)}: "
                    f"parent and children share one connection underneath. Fix: create it in the child "
                    f"(post_fork, a pool initializer, lazily per pid) or dispose of it after the fork"
                )
                related = (
                    Related(f"used in the child by `{model.program.display_name(user)}()`", read_facts.path, read.span),
                )
                yield Finding(self.code, message, facts.path, creation.span, related)

    @staticmethod
    def _child_use(analysis: ForkAnalysis, key: str, handler_code) -> Optional[Tuple[str, Access, ModuleFacts, str]]:
        model = analysis.model
        for function, read, facts in analysis.reads.get(key, ()):
            if function in handler_code:
                return function, read, facts, "request handlers of a preloaded app served by several workers"
            if read.in_child and function != MODULE_SCOPE:
                return function, read, facts, "the child's branch after os.fork()"
            contexts = model.contexts.contexts_of(function, PROCESS)
            if any(c.entry.reason == FORK_BRANCH or analysis.default_forks for c in contexts):
                return function, read, facts, f"child process code ({model.program.display_name(function)}())"
        return None
