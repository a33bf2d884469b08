"""Where code runs in a child or worker process, which start method applies, and what the
parent does before and after the workers start.

A *start* is where children are made: ``os.fork()``, a ``Process(...).start()`` (or a
``Process`` subclass's), a ``multiprocessing.Pool`` (its workers fork in the constructor), a
``ProcessPoolExecutor`` (at its first submit), a ``DataLoader`` with worker processes, and the
prefork pool Celery runs tasks in. A *hand-off* is where the parent gives children work: the
start itself, or a ``pool.map(task, ...)``. Around a hand-off the parent's code splits into
what runs *before* it (inherited by a forked child, lost by a spawned one) and what runs
*after* it (where reading a global the children changed expects to see their change).

The start method of each start is explicit (``get_context("spawn")``, ``set_start_method``,
``mp_context=``) or the default for the target Python (engine/target.py): ``fork`` on Linux up
to 3.13, ``forkserver`` from 3.14.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Dict, FrozenSet, Iterable, List, Optional, Set, Tuple

from conclint.engine.findings import Span
from conclint.engine.paths import short_path
from conclint.engine.target import PythonTarget
from conclint.model.apis import (
    CELERY_APP_TYPES,
    CELERY_TASK_DECORATORS,
    CROSS_PROCESS_TYPE_PREFIXES,
    DATALOADER_TYPES,
    DATASET_METHODS,
    FORK_CALLS,
    GUNICORN_POST_FORK_HOOKS,
    POST_FORK_CONNECTIONS,
    POST_FORK_DECORATORS,
    PROCESS_CLASSES,
    PROCESS_STARTING_CONSTRUCTORS,
    PROCESS_TYPES,
    START_METHODS,
    THREAD_CLASSES,
    THREAD_STARTING_CONSTRUCTORS,
    THREAD_TYPES,
)
from conclint.model.callgraph import CallGraph
from conclint.model.contexts import Contexts
from conclint.model.entries import FORK_BRANCH, PROCESS, EntryPoints
from conclint.model.facts import MODULE_SCOPE, Access, CallSite, ModuleFacts, Write
from conclint.model.program import Program

FORK, SPAWN, FORKSERVER = START_METHODS
OS_FORK, PROCESS_OBJECT, POOL, EXECUTOR, DATALOADER, CELERY = (
    "os.fork",
    "process",
    "pool",
    "executor",
    "dataloader",
    "celery",
)
STATE_KINDS = ("global", "class")
# types of values that are data a process keeps (its own copy after a fork), not a library's object
DATA_TYPE_PREFIXES = (
    "dict",
    "list",
    "set",
    "frozenset",
    "tuple",
    "int",
    "float",
    "str",
    "bytes",
    "bytearray",
    "builtins.",
    "collections.",
    "typing.",
    "weakref.",
    "queue.",
    "array.",
    "itertools.count",
    "cachetools.",
    "threading.",
)  # module globals and class attributes: what a process has its own copy of
WAIT_CALLS = frozenset({"os.waitpid", "os.wait", "os.wait3", "os.wait4", "os.waitid"})
CALLER_DEPTH = 3  # how far up the parent's callers "before" and "after" a hand-off are followed
Place = Tuple[str, str]  # (path, function): MODULE_SCOPE functions are per module
Region = Dict[Place, Tuple[Optional[Span], Optional[Span]]]  # accesses after the first span, before the second


def before(first: Span, second: Span) -> bool:
    return (first.row, first.col) < (second.row, second.col)


def inside(span: Span, outer: Span) -> bool:
    return (outer.row, outer.col) <= (span.row, span.col) and (span.end_row, span.end_col) <= (
        outer.end_row,
        outer.end_col,
    )


@dataclass(frozen=True)
class ProcessStart:
    """Where children are made, how, and with which start method."""

    kind: str  # OS_FORK, PROCESS_OBJECT, POOL, EXECUTOR, DATALOADER, CELERY
    how: str  # as a message says it: "os.fork()", "Process(...).start()", "Pool(4)"
    path: str
    parent: str  # the function whose code makes the children (MODULE_SCOPE at top level)
    span: Span  # where the children are made
    methods: FrozenSet[str]  # the start methods it may use; empty: the default
    where_set: str = ""  # where the code chose it: "set at jobs.py:12"
    children: Tuple[str, ...] = ()  # what the children run first (targets, tasks, run(), dataset methods)
    many: bool = True  # several children run the same code (a pool, starts in a loop, a spawner of workers)
    initializer: Optional[str] = None  # what each child runs first (a pool initializer, a worker_init_fn)


@dataclass(frozen=True)
class Handoff:
    """The parent gives children work here: ``child`` runs in the processes of ``start``."""

    start: ProcessStart
    child: str
    path: str
    parent: Optional[str]  # None: no code of the project is the parent (Celery's worker)
    span: Span
    reason: str  # "Pool.map(...) at jobs.py:40"


class Processes:
    def __init__(
        self, program: Program, calls: CallGraph, entries: EntryPoints, contexts: Contexts, target: PythonTarget
    ) -> None:
        self.program = program
        self.calls = calls
        self.entries = entries
        self.contexts = contexts
        self.target = target
        self.by_path: Dict[str, ModuleFacts] = {m.path: m for m in program.modules.values()}
        self._call_paths: Dict[int, str] = {}
        for facts in program.modules.values():
            for call in facts.calls:
                self._call_paths[id(call)] = facts.path
        self.global_method = self._global_start_method()
        calls_at = {(facts.path, call.span): call for facts in program.modules.values() for call in facts.calls}
        self._contexts: List[Tuple[str, str, Span, str]] = sorted(  # (path, function, span, method)
            (
                (path, calls_at[(path, span)].function if (path, span) in calls_at else MODULE_SCOPE, span, method)
                for call, method, path, span in entries.start_methods
                if call == "get_context"
            ),
            key=lambda c: (c[0], c[2]),
        )
        self._worker_inits: Set[str] = set()  # DataLoader worker_init_fn
        self.starts: List[ProcessStart] = []
        self.handoffs: List[Handoff] = []
        self._find_starts()
        self.child_code: Dict[str, Tuple[Handoff, Tuple[str, ...]]] = {}
        for handoff in self.handoffs:
            for function, chain in self.calls.reachable_from([handoff.child]).items():
                self.child_code.setdefault(function, (handoff, chain))
        self.post_fork_hooks: Set[str] = self._find_post_fork_hooks()
        # modules whose top-level code registers an at-fork hook: it tends to whatever the module keeps
        self.modules_handling_forks: Set[str] = {
            path
            for path, span in entries.fork_hooks
            if (path, span) in self._calls_at and self._calls_at[(path, span)].function == MODULE_SCOPE
        }
        self._reachable: Dict[str, Dict[str, Tuple[str, ...]]] = {}
        self._thread_starters: Dict[str, bool] = {}
        self._long_lived: Optional[Set[str]] = None
        self._import_time: Optional[Dict[str, Tuple[str, ...]]] = None
        self._reads: Optional[Dict[str, List[Tuple[str, Access, ModuleFacts]]]] = None
        self._writes: Dict[str, List[Tuple[str, Write, ModuleFacts]]] = {}
        self._uses: Dict[str, List[Tuple[str, Access, ModuleFacts]]] = {}

    # ---- start methods -------------------------------------------------------------------
    def _global_start_method(self) -> Tuple[FrozenSet[str], str]:
        found = [
            (method, path, span)
            for call, method, path, span in self.entries.start_methods
            if call == "set_start_method"
        ]
        if not found:
            return frozenset(), ""
        _, path, span = found[0]
        return frozenset(m for m, _, _ in found), f"set_start_method() at {short_path(path)}:{span.row}"

    def _methods_of(self, call: CallSite, path: str) -> Tuple[FrozenSet[str], str]:
        """The start methods a multiprocessing call may use, and where the code chose them: the
        ``get_context()`` inside the call, else the nearest one before it in the same function,
        else those at the module's top level, else any in the module; else ``set_start_method()``."""
        built_from = call.receiver_type if call.method in ("start", "Pool", "Process") else None
        built_from = built_from or call.callee or call.receiver_type or ""
        uses_context = built_from.startswith("multiprocessing.get_context") or any(
            k in call.keywords for k in ("mp_context", "context", "multiprocessing_context")
        )
        contexts = [c for c in self._contexts if c[0] == path] if uses_context else []
        if not contexts:
            return self.global_method
        nested = [c for c in contexts if inside(c[2], call.span)]
        earlier = [c for c in contexts if c[1] == call.function and before(c[2], call.span)]
        top = [c for c in contexts if c[1] == MODULE_SCOPE]
        chosen = nested or earlier[-1:] or top or contexts
        _, _, span, _ = chosen[0]
        return frozenset(c[3] for c in chosen), f"get_context() at {short_path(path)}:{span.row}"

    def inherits(self, start: ProcessStart) -> bool:
        """The children are forked copies of the parent (its memory, threads' locks, sockets)."""
        if start.kind in (OS_FORK, CELERY):
            return True
        return FORK in start.methods if start.methods else self.target.default_forks

    def reimports(self, start: ProcessStart) -> bool:
        """The children import the main module afresh: the parent's later changes are not there."""
        if start.kind in (OS_FORK, CELERY):
            return False
        if start.methods:
            return bool(start.methods & {SPAWN, FORKSERVER}) and FORK not in start.methods
        return self.target.default_reimports

    def describe_fork_method(self, start: ProcessStart) -> str:
        """Why the children are forked, as a message says it."""
        if start.kind == OS_FORK:
            return ""
        if start.kind == CELERY:
            return " (Celery's default prefork pool forks its workers)"
        if start.methods:
            return f" (the 'fork' start method, {start.where_set})" if start.where_set else " (the 'fork' start method)"
        return f" ({self.target.describe_fork_default()})"

    def describe_reimport_method(self, start: ProcessStart) -> str:
        if start.methods:
            methods = "/".join(sorted(start.methods))
            return (
                f"the '{methods}' start method, {start.where_set}"
                if start.where_set
                else f"the '{methods}' start method"
            )
        return self.target.describe_reimport_default()

    # ---- starts and hand-offs ----------------------------------------------------------------
    def _find_starts(self) -> None:
        self._calls_at: Dict[Tuple[str, Span], CallSite] = {
            (facts.path, call.span): call for facts in self.program.modules.values() for call in facts.calls
        }
        by_entry: Dict[Tuple[str, Span], List] = {}
        for entry in self.entries.entries:
            if entry.context == PROCESS and entry.reason != FORK_BRANCH and "register_at_fork" not in entry.reason:
                by_entry.setdefault((entry.path, entry.span), []).append(entry)
        for facts in self.program.modules.values():
            calls = sorted(facts.calls, key=lambda c: (c.span.row, c.span.col))
            self._pools(calls, facts, by_entry)
            for call in calls:
                self._start_from_call(call, calls, facts, by_entry)
            self._fork_branches(facts)
            self._celery_tasks(facts)
        for (path, span), entries in by_entry.items():  # pool tasks whose pool this code did not make
            for entry in entries:
                call = self._calls_at.get((path, span))
                methods, where = self._methods_of(call, path) if call is not None else self.global_method
                kind = EXECUTOR if "ProcessPoolExecutor" in entry.reason else POOL
                start = ProcessStart(kind, entry.reason, path, entry.starter or MODULE_SCOPE, span, methods, where)
                self.starts.append(start)
                self._handoff(start, entry.function, path, entry.starter, span, entry.reason)

    def _handoff(self, start: ProcessStart, child: Optional[str], path, parent, span, reason) -> None:
        if child is not None and child in self.program.functions:
            where = f"{reason} at {short_path(path)}:{span.row}"
            self.handoffs.append(Handoff(start, child, path, parent, span, where))

    def _pools(self, calls: List[CallSite], facts: ModuleFacts, by_entry) -> None:
        """Process pools made here; the tasks the same function gives them after (up to the next pool)."""
        pools = [
            call
            for call in calls
            if call.callee in PROCESS_STARTING_CONSTRUCTORS
            or ((call.receiver_type or "").startswith("multiprocessing.get_context") and call.method == "Pool")
        ]
        for pool in pools:
            kind = EXECUTOR if "ProcessPoolExecutor" in (pool.callee or "") else POOL
            methods, where = self._methods_of(pool, facts.path)
            init = self.program.resolve_ref(pool.kwargs.get("initializer"), pool)
            how = f"{pool.text or 'Pool'}()"
            start = ProcessStart(kind, how, facts.path, pool.function, pool.span, methods, where, initializer=init)
            self.starts.append(start)
            following = [p for p in pools if p.function == pool.function and before(pool.span, p.span)]
            until = following[0].span if following else None
            for call in calls:
                if call.function != pool.function or not before(pool.span, call.span):
                    continue
                if until is not None and not before(call.span, until):
                    break
                entries = by_entry.pop((facts.path, call.span), None)
                for entry in entries or ():
                    self._handoff(start, entry.function, facts.path, entry.starter, call.span, entry.reason)

    def _start_from_call(self, call: CallSite, calls: List[CallSite], facts: ModuleFacts, by_entry) -> None:
        path = facts.path
        if call.callee in FORK_CALLS:
            many = call.in_loop or not any(c.callee in WAIT_CALLS for c in calls if c.function == call.function)
            how = f"{call.callee}()"
            start = ProcessStart(OS_FORK, how, path, call.function, call.span, frozenset({FORK}), many=many)
            self.starts.append(start)
            return
        if call.callee in DATALOADER_TYPES:
            self._dataloader(call, facts)
            return
        key = (path, call.span)
        if key in by_entry and any(e.reason.endswith("Process(target=...)") for e in by_entry[key]):
            entries = by_entry.pop(key)
            later = [
                c for c in calls if c.function == call.function and c.method == "start" and before(call.span, c.span)
            ]
            at = later[0].span if later else call.span
            methods, where = self._methods_of(call, path)
            how = f"{call.text}(...).start()"
            many = any(e.many for e in entries)
            start = ProcessStart(PROCESS_OBJECT, how, path, call.function, at, methods, where, many=many)
            self.starts.append(start)
            for entry in entries:
                self._handoff(start, entry.function, path, entry.starter, call.span, entry.reason)
            return
        if call.method == "start" and call.receiver_type:
            owner = self.program.resolve_name(call.receiver_type)
            subclass = owner in self.program.classes and self.program.is_subclass_of(owner, PROCESS_CLASSES)
            if subclass or call.receiver_type in PROCESS_TYPES:
                methods, where = self._methods_of(call, path)
                run = self.program.method_of(owner, "run") if subclass else None
                children = (run,) if run else ()
                start = ProcessStart(
                    PROCESS_OBJECT,
                    f"{call.text}()",
                    path,
                    call.function,
                    call.span,
                    methods,
                    where,
                    children,
                    call.in_loop,
                )
                self.starts.append(start)
                if run:
                    self._handoff(start, run, path, call.function, call.span, f"{call.text}()")

    def _dataloader(self, call: CallSite, facts: ModuleFacts) -> None:
        """``DataLoader(dataset, num_workers=4)``: the dataset's methods run in worker processes."""
        if "num_workers" not in call.keywords or call.literal_keywords.get("num_workers", 1) in (0, None):
            return
        methods, where = self._methods_of(call, facts.path)
        dataset = call.args[0] if call.args else call.kwargs.get("dataset")
        owner = self.program.resolve_name(dataset.value_type or dataset.receiver_type) if dataset else None
        if owner not in self.program.classes:  # ``DataLoader(Frames(path), ...)``: the class made in the call
            made = (
                self.program.resolve_name(inner.callee)
                for inner in facts.calls
                if inner.function == call.function and inner is not call and inside(inner.span, call.span)
            )
            owner = next((c for c in made if c in self.program.classes), None)
        names = (self.program.method_of(owner, n) for n in DATASET_METHODS) if owner in self.program.classes else ()
        children = tuple(m for m in names if m)
        how = f"{call.text}(num_workers=...)"
        init = self.program.resolve_ref(call.kwargs.get("worker_init_fn"), call)
        start = ProcessStart(
            DATALOADER, how, facts.path, call.function, call.span, methods, where, children, initializer=init
        )
        self.starts.append(start)
        for child in children:
            self._handoff(start, child, facts.path, call.function, call.span, how)
        if init:
            self._worker_inits.add(init)

    def _fork_branches(self, facts: ModuleFacts) -> None:
        """Functions called in an ``os.fork()`` child branch: hand-offs of the fork before them."""
        forks = [s for s in self.starts if s.kind == OS_FORK and s.path == facts.path]
        for entry in self.entries.entries:
            if entry.reason != FORK_BRANCH or entry.path != facts.path:
                continue
            earlier = [s for s in forks if s.parent == entry.starter and before(s.span, entry.span)]
            if earlier:
                fork = earlier[-1]
                self._handoff(fork, entry.function, facts.path, entry.starter, fork.span, fork.how)

    def _celery_tasks(self, facts: ModuleFacts) -> None:
        """Celery tasks run in the workers of its prefork pool, forked after the task modules were imported."""
        for qualname, info in facts.functions.items():
            for name, receiver in zip(info.decorators, info.decorator_receivers):
                is_task = name in CELERY_TASK_DECORATORS or (
                    name.rsplit(".", 1)[-1] == "task" and self.program.object_type(receiver) in CELERY_APP_TYPES
                )
                if is_task:
                    how = f"Celery task @{name.rsplit('.', 1)[-1]}"
                    start = ProcessStart(CELERY, how, facts.path, MODULE_SCOPE, info.span, frozenset({FORK}))
                    self.starts.append(start)
                    self.handoffs.append(Handoff(start, qualname, facts.path, None, info.span, how))
                    break

    def fork_at_call(self, path: str, call: CallSite) -> Optional[ProcessStart]:
        """The start made at this call (os.fork(), a Process start, a pool), if any."""
        for start in self.starts:
            if start.path == path and start.span == call.span and start.kind != CELERY:
                return start
        return None

    # ---- child code ------------------------------------------------------------------------
    def in_child(self, function: str, access: Access) -> bool:
        return access.in_child or function in self.child_code or bool(self.contexts.contexts_of(function, PROCESS))

    def handoffs_reaching(self, function: str) -> List[Tuple[Handoff, Tuple[str, ...]]]:
        """Every hand-off whose child code reaches ``function``, with the chain from the child."""
        found = []
        for handoff in self.handoffs:
            chain = self.reachable(handoff.child).get(function)
            if chain is not None:
                found.append((handoff, chain))
        return found

    def reachable(self, function: str) -> Dict[str, Tuple[str, ...]]:
        if function not in self._reachable:
            self._reachable[function] = self.calls.reachable_from([function])
        return self._reachable[function]

    def describe(self, handoff: Handoff, chain: Tuple[str, ...]) -> str:
        """``helper() <- task() <- Pool.map(...) at jobs.py:40``."""
        names = " <- ".join(f"{self.program.display_name(q)}()" for q in reversed(chain))
        return f"{names} <- {handoff.reason}"

    # ---- the parent's code before and after a hand-off -------------------------------------------
    def calls_in(self, path: str, function: str) -> List[CallSite]:
        if function == MODULE_SCOPE:
            facts = self.by_path.get(path)
            return [c for c in facts.calls if c.function == MODULE_SCOPE] if facts else []
        return self.calls.calls_of(function)

    def path_of(self, function: str, call: Optional[CallSite] = None) -> Optional[str]:
        if function == MODULE_SCOPE:
            return self._call_paths.get(id(call)) if call is not None else None
        entry = self.program.functions.get(function)
        return entry[1].path if entry is not None else None

    def parent_after(self, path: str, function: str, span: Span) -> Region:
        """The parent's code that runs after ``span`` of ``function``: the rest of it, what it
        calls from there on, and the code after the call in its callers."""
        region: Region = {}
        self._extend(region, path, function, span, None, 0)
        return region

    def parent_before(self, path: str, function: str, span: Span) -> Region:
        """The parent's code that runs before ``span`` of ``function``: what comes before it there,
        what it calls before, and the code before the call in its callers."""
        region: Region = {}
        self._extend(region, path, function, None, span, 0)
        return region

    def _extend(
        self, region: Region, path: str, function: str, after: Optional[Span], until: Optional[Span], depth: int
    ) -> None:
        place = (path, function)
        if place in region and region[place] == (None, None):
            return
        region[place] = (after, until)
        in_child = self._child_branch_calls(path, function)
        for call in self.calls_in(path, function):
            if call.span in in_child:
                continue  # the child's branch after os.fork(): not the parent's code
            if (after is not None and not before(after, call.span)) or (
                until is not None and not before(call.span, until)
            ):
                continue
            target = self.program.resolve_call(call)
            if target is None:
                continue
            for reached in self.reachable(target):
                reached_path = self.path_of(reached)
                if reached_path is not None:
                    region[(reached_path, reached)] = (None, None)
        if depth >= CALLER_DEPTH or function == MODULE_SCOPE:
            return
        for caller, call in self.calls.callers_of(function):
            caller_path = self.path_of(caller, call)
            if caller_path is not None and (caller_path, caller) not in region:
                if after is not None:
                    self._extend(region, caller_path, caller, call.span, None, depth + 1)
                else:
                    self._extend(region, caller_path, caller, None, call.span, depth + 1)

    def _child_branch_calls(self, path: str, function: str) -> FrozenSet[Span]:
        facts = self.program.functions[function][1] if function in self.program.functions else None
        if facts is None:
            facts = self.by_path.get(path)
        state = facts.state.get(function) if facts is not None else None
        return frozenset(state.child_calls) if state is not None else frozenset()

    @staticmethod
    def in_region(region: Region, path: str, function: str, span: Span) -> bool:
        bounds = region.get((path, function))
        if bounds is None:
            return False
        after, until = bounds
        return (after is None or before(after, span)) and (until is None or before(span, until))

    # ---- state ------------------------------------------------------------------------------
    def state_key(self, raw: str) -> Optional[str]:
        """The canonical key of a module global or class attribute that does not cross processes."""
        key = self.program.canonical_key(raw)
        if key is None or key.partition(":")[0] not in STATE_KINDS or self.crosses_processes(key):
            return None
        return key

    def crosses_processes(self, key: str) -> bool:
        """Values, arrays, manager proxies and queues are made to be shared with children."""
        _kind, _, rest = key.partition(":")
        module, path = self.program.split_module(rest)
        if module is None:
            return False
        variable = path.split(".", 1)[0]
        built = self.program.object_type(f"{module}.{variable}") or ""
        return built.startswith(CROSS_PROCESS_TYPE_PREFIXES)

    def library_object(self, key: str, write: Write) -> Optional[str]:
        """The type of a library's object the write goes to (``db.session.add()`` on a Flask-SQLAlchemy
        ``db``, ``limiter.clear()``, an attribute of an alias of ``flask.g``), when it is not data the
        process keeps (a dict, a list, a counter, a project object): its state lives in the library
        (a per-request proxy, a session, a store), not in this module's variable."""
        _kind, _, rest = key.partition(":")
        module, path = self.program.split_module(rest)
        if module is None:
            return None
        parts = path.split(".")
        written_on = parts if write.kind == "mutate" else parts[:-1] if write.kind in ("assign", "rmw") else parts
        built = self.program.object_type(f"{module}.{parts[0]}")
        initial = self._initial_value(module, parts[0])
        if built is None and initial is not None and initial.sources and self._aliases_a_library_object(initial):
            return "an alias of another library's object"
        if _kind == "global" and initial is not None and initial.literal == "None":
            if write.literal == "None":
                return "a reset of what this process made (None again)"
            if write.kind == "mutate" and len(parts) == 1:
                return "an object made later, of a type nothing shows"  # (``session = None``, then session.add())
        for attribute in written_on[1:]:
            owner = self.program.resolve_name(built) if built else None
            if built is None or owner not in self.program.classes:
                break
            built = self.program.attribute_type(owner, attribute)
        if not built and write.kind == "mutate" and len(written_on) > 1:
            return "an attribute of a type nothing shows"  # ``calibre_db.session.add()``: not data we know of
        if not built or built.startswith(DATA_TYPE_PREFIXES) or self.program.split_module(built)[0] is not None:
            return None
        return built

    def _initial_value(self, module: str, variable: str) -> Optional[Write]:
        """The module-level assignment that gives ``variable`` its first value."""
        state = self.program.modules[module].state.get(MODULE_SCOPE)
        for write in state.writes if state is not None else ():
            if write.display == variable and write.kind == "assign":
                return write
        return None

    def _aliases_a_library_object(self, initial: Write) -> bool:
        """``g: Context = flask_g`` at module level: the variable is another library's object."""
        if initial.built is not None:
            return False
        return all(k.startswith("global:") and self.program.canonical_key(k) is None for k in initial.sources)

    def reads_of(self, key: str, uses: bool = False) -> List[Tuple[str, Access, ModuleFacts]]:
        """Reads of ``key`` that look at its value: not the receiver of its own update
        (``seen.append(x)``, ``totals[k] = v``), unless ``uses`` asks for every use of it."""
        self._index()
        return self._uses.get(key, []) if uses else self._reads.get(key, [])

    def writes_of(self, key: str) -> List[Tuple[str, Write, ModuleFacts]]:
        self._index()
        return self._writes.get(key, [])

    def _index(self) -> None:
        if self._reads is not None:
            return
        self._reads, self._writes, self._uses = {}, {}, {}
        for facts in self.program.modules.values():
            for function, state in facts.state.items():
                updated = {(w.key, w.span.row, w.span.col) for w in state.writes}
                for read in state.reads:
                    key = self.program.canonical_key(read.key)
                    if key:
                        self._uses.setdefault(key, []).append((function, read, facts))
                        if (read.key, read.span.row, read.span.col) not in updated:
                            self._reads.setdefault(key, []).append((function, read, facts))
                for write in state.writes:
                    key = self.program.canonical_key(write.key)
                    if key:
                        self._writes.setdefault(key, []).append((function, write, facts))

    # ---- per-process set-up ------------------------------------------------------------------
    def _find_post_fork_hooks(self) -> Set[str]:
        """Functions that run in each child after the fork: at-fork hooks, pool initializers,
        uWSGI ``@postfork``, Celery's ``worker_process_init``, gunicorn's ``post_fork``."""
        hooks = set(self.entries.initializers)
        for facts in self.program.modules.values():
            for qualname, info in facts.functions.items():
                if any(d in POST_FORK_DECORATORS for d in info.decorators):
                    hooks.add(qualname)
                if facts.path.endswith(("gunicorn.conf.py", "gunicorn_config.py", "gunicorn_conf.py")):
                    if info.parent is None and info.class_qualname is None and info.name in GUNICORN_POST_FORK_HOOKS:
                        hooks.add(qualname)
            for call in facts.calls:
                if call.callee in POST_FORK_CONNECTIONS and call.args:
                    target = self.program.resolve_ref(call.args[0], call)
                    if target:
                        hooks.add(target)
        return hooks | self._worker_inits

    def import_time_code(self) -> Dict[str, Tuple[str, ...]]:
        """What importing the project runs: the functions module-level code calls (outside a
        ``__main__`` block) and the decorators it applies, and what they call."""
        if self._import_time is None:
            roots: Set[str] = set()
            for facts in self.program.modules.values():
                for call in facts.calls:
                    if call.function == MODULE_SCOPE and not call.in_main_guard:
                        target = self.program.resolve_call(call)
                        if target is not None:
                            roots.add(target)
                for info in facts.functions.values():
                    if info.parent is None and info.class_qualname is None:
                        roots.update(d for d in info.decorators if d in self.program.functions)
            self._import_time = self.calls.reachable_from(sorted(roots))
        return self._import_time

    def after_fork_code(self) -> Dict[str, Tuple[str, ...]]:
        """Everything the post-fork hooks run."""
        return self.calls.reachable_from(sorted(self.post_fork_hooks))

    # ---- threads --------------------------------------------------------------------------
    def thread_start(self, call: CallSite) -> bool:
        """``Thread(...).start()``, a ``Timer``, a ``Thread`` subclass started, a thread pool made."""
        if call.callee in THREAD_STARTING_CONSTRUCTORS:
            return True
        if call.method == "start" and call.receiver_type:
            owner = self.program.resolve_name(call.receiver_type)
            return call.receiver_type in THREAD_TYPES or (
                owner in self.program.classes and self.program.is_subclass_of(owner, THREAD_CLASSES)
            )
        return False

    def starts_threads(self, function: str, seen: Optional[Set[str]] = None) -> bool:
        """``function`` (or what it calls) starts a thread."""
        if function in self._thread_starters:
            return self._thread_starters[function]
        seen = seen if seen is not None else set()
        seen.add(function)
        result = any(self.thread_start(call) for call in self.calls.calls_of(function))
        if not result:
            result = any(
                self.starts_threads(callee, seen)
                for callee, _ in self.calls.callees.get(function, ())
                if callee not in seen
            )
        self._thread_starters[function] = result
        return result

    def starts_a_thread(self, call: CallSite) -> bool:
        if self.thread_start(call):
            return True
        target = self.program.resolve_call(call)
        return target is not None and self.starts_threads(target)

    def imported_by(self, module: str) -> Iterable[str]:
        """``module`` and the project modules it imports, directly or not, nearest first."""
        modules = self.program.modules
        seen, pending = set(), [module]
        while pending:
            name = pending.pop()
            if name in seen or name not in modules:
                continue
            seen.add(name)
            yield name
            # imported_modules is a frozenset: sorted, so the seed does not pick the module named
            pending.extend(sorted((m for m in modules[name].imported_modules if m in modules), reverse=True))

    def main_guarded(self, facts: ModuleFacts, span: Span) -> bool:
        return any(inside(span, guard) for guard in facts.main_guards)

    def long_lived_classes(self) -> Set[str]:
        """Classes whose instances live as long as the process: one is kept in a module global, or
        in an attribute of such an instance (and the classes those instances inherit from)."""
        if self._long_lived is None:
            found = set(self.entries.global_instances) | self._logging_handlers()
            pending = list(found)
            while pending:
                owner = pending.pop()
                for built in self.program.classes[owner][0].attribute_types.values():
                    held = self.program.resolve_name(built)
                    if held in self.program.classes and held not in found:
                        found.add(held)
                        pending.append(held)
            self._long_lived = found | {base for c in found for base in self.program.class_bases(c)}
        return self._long_lived

    def _logging_handlers(self) -> Set[str]:
        """Project classes deriving from a ``logging`` handler: a handler lives as long as the logging
        configuration, which an app sets up at start-up, before its server or task queue forks workers."""
        return {
            name
            for name in self.program.classes
            if any(_is_logging_handler(base) for base in self.program.class_bases(name))
        }

    def per_pid(self, functions: Iterable[str]) -> bool:
        """Some of these functions compare ``os.getpid()`` with a pid they keep (``self._pid``):
        they make their state again in a new process."""
        for function in functions:
            if not any(c.callee == "os.getpid" for c in self.calls.calls_of(function)):
                continue
            entry = self.program.functions.get(function)
            state = entry[1].state.get(function) if entry is not None else None
            if state is not None and any(_names_a_pid(a.display) for a in (*state.reads, *state.writes)):
                return True
        return False


def _is_logging_handler(base: str) -> bool:
    """``logging.Handler``, ``logging.StreamHandler``, ``logging.handlers.QueueHandler``, ..."""
    module, _, name = base.rpartition(".")
    return module in ("logging", "logging.handlers") and name.endswith("Handler")


def _names_a_pid(display: str) -> bool:
    last = display.rsplit(".", 1)[-1].lower()
    return last == "pid" or last.endswith("_pid") or last.startswith("_pid") or last.startswith("pid_")
