"""Where each function runs in threads, how many instances of it at once, and which locks
every caller on the way holds.

A *root* is one way code comes to run in a thread: a visible start (``Thread(target=...)``,
a pool task, a threaded server's handler), a contract (the class is meant to be used from
several threads: model/contracts.py), the owner of a ``Thread`` subclass calling its other
methods while ``run()`` runs, or the code that started a thread going on beside it (until it
joins). A *reach* is a root, the call chain from it down to a function, the locks every call
on that chain holds, and whether the object the function runs on was made by its caller and
not yet published (then its ``self`` state is not shared).
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from typing import Dict, FrozenSet, Iterable, List, Optional, Sequence, Tuple

from conclint.engine.findings import Span
from conclint.engine.paths import short_path
from conclint.model.apis import THREAD_CLASSES, THREAD_POOL_TYPES
from conclint.model.callgraph import CallGraph
from conclint.model.contracts import CONSTRUCTORS, Contracts, is_public_method
from conclint.model.entries import THREAD, EntryPoint, EntryPoints
from conclint.model.facts import MODULE_SCOPE, CallSite, ModuleFacts
from conclint.model.guards import mentions, passed_values, reachable
from conclint.model.locks import call_lock_keys, lock_keys
from conclint.model.program import Program

VISIBLE, CONTRACT, OWNER, BESIDE = "visible", "contract", "owner", "beside"
# waiting for a thread, a future or a pool to finish (a method of it; ``os.path.join`` is none)
JOIN_METHODS = frozenset({"join", "result", "shutdown", "terminate"})
JOIN_CALLS = frozenset({"concurrent.futures.wait", "concurrent.futures.as_completed"})
NOT_JOINS = frozenset({"os.path.join", "posixpath.join", "ntpath.join", "shlex.join"})
MAX_VARIANTS = 4  # reaches of one function from one root: distinct lock sets kept, the rest add nothing new
MAX_STATES_PER_ROOT = 20000
# a call chain kept for the message: its first and last calls, with the middle elided once it is long (a chain
# thousands deep is still followed to its end, but does not copy thousands of names into every reach)
CHAIN_HEAD, CHAIN_TAIL = 20, 39
ELIDED = "…"


def _extend(chain: Tuple[str, ...], callee: str) -> Tuple[str, ...]:
    if len(chain) < CHAIN_HEAD + CHAIN_TAIL:
        return (*chain, callee)
    return (*chain[:CHAIN_HEAD], ELIDED, *chain[-CHAIN_TAIL + 1 :], callee)


def before(first: Span, second: Span) -> bool:
    return (first.row, first.col) < (second.row, second.col)


def is_join(call: CallSite) -> bool:
    """``t.join()``, ``future.result()``, ``pool.shutdown()``, ``wait(futures)``."""
    if call.callee in JOIN_CALLS:
        return True
    return call.method in JOIN_METHODS and "." in call.text and call.callee not in NOT_JOINS


@dataclass(frozen=True)
class ThreadRoot:
    function: str
    kind: str  # VISIBLE, CONTRACT, OWNER, BESIDE
    reason: str
    path: str
    span: Span
    many: bool  # several instances at once
    shared_self: bool = True  # those instances share one ``self``
    starter: Optional[str] = None  # the function whose code starts it
    after: Optional[Span] = None  # where it starts (BESIDE: only the starter's code after it runs beside)
    until: Optional[Span] = None  # where the starter waits for it to end (join, result, a pool's ``with``)
    group: Optional[str] = None  # tasks of one single-worker executor run one at a time
    partners: Tuple[int, ...] = ()  # OWNER and BESIDE roots: the roots they run beside
    handle: Optional[str] = None  # where the thread or pool object is kept (``self:mod.C._thread``)
    inferred: bool = False  # CONTRACT roots only inferred from a lock the class or module owns
    per_task: Tuple[str, ...] = ()  # parameters each instance gets its own object in (``submit(f, conn)``)


@dataclass(frozen=True)
class Reach:
    root: int
    chain: Tuple[str, ...]  # from the root function down to the function reached
    locks: FrozenSet[str]  # lock keys every call on the chain holds
    owned: bool  # it runs on an object its caller made and has not published


class ThreadContexts:
    def __init__(
        self,
        program: Program,
        calls: CallGraph,
        entries: EntryPoints,
        contracts: Contracts,
        decorator_locks: Dict[str, str],
    ) -> None:
        self.program = program
        self.calls = calls
        self.entries = entries
        self.contracts = contracts
        self.decorator_locks = decorator_locks
        self.roots: List[ThreadRoot] = []
        self.reaches: Dict[str, List[Reach]] = {}
        self._inline: Dict[str, List[Tuple[str, CallSite]]] = {}  # ``submit(f).result()``: f runs as a call
        self._calls_at: Dict[Tuple[str, Span], CallSite] = {
            (facts.path, call.span): call for facts in program.modules.values() for call in facts.calls
        }
        self._single_workers = self._single_worker_executors()
        self._child_code: Optional[FrozenSet[str]] = None
        self._guarded_params: Dict[str, set] = {}  # function -> the parameters its calls are guarded on
        self._parts: Dict[Tuple[str, str], bool] = {}  # (class, attribute) -> built by the class itself
        self._property_reads = self._find_property_reads()
        self._getters_read: Dict[str, List[Tuple[str, CallSite]]] = {}  # function -> getters its reads call
        self._extra_locks: Dict[Tuple[str, Span], FrozenSet[str]] = {}
        for getter, readers in self._property_reads.items():
            for reader, call, locks in readers:
                self._getters_read.setdefault(reader, []).append((getter, call))
                self._extra_locks[(reader, call.span)] = locks
        self._visible_roots([e for e in entries.entries if e.context == THREAD])
        self._owner_roots()
        visible = len(self.roots)
        for index in range(visible):
            self._propagate(index)
        self._contract_roots()
        for index in range(visible, len(self.roots)):
            self._propagate(index)

    # ---- roots -------------------------------------------------------------------------
    def _visible_roots(self, entries: Sequence[EntryPoint]) -> None:
        started = set()
        for entry in entries:
            if (entry.function, entry.path, entry.span) in started:
                continue  # one start found by two specs is one root
            started.add((entry.function, entry.path, entry.span))
            call = self._calls_at.get((entry.path, entry.span))
            if call is not None and call.result_at_once and call.function != MODULE_SCOPE:
                self._inline.setdefault(call.function, []).append((entry.function, call))
                continue  # the caller waits for it at once: it runs as a call of the caller
            facts = self.program.functions[entry.function][1]
            starter = entry.starter
            after = until = handle = None
            if starter is not None and call is not None:
                after, until = self._window(facts if starter == MODULE_SCOPE else None, starter, call)
                handle = self._handle(starter, call)
            group = self._group(call)
            per_task = self._per_task(entry.function, call)
            index = len(self.roots)
            self.roots.append(
                ThreadRoot(
                    entry.function,
                    VISIBLE,
                    entry.reason,
                    entry.path,
                    entry.span,
                    entry.many and group is None,
                    entry.shared_self,
                    starter,
                    after,
                    until,
                    group,
                    handle=handle,
                    per_task=per_task,
                )
            )
            if starter is not None and after is not None:
                what = "the module" if starter == MODULE_SCOPE else f"`{self.program.display_name(starter)}()`"
                self.roots.append(
                    ThreadRoot(
                        starter if starter != MODULE_SCOPE else f"{facts.module}.{MODULE_SCOPE}",
                        BESIDE,
                        f"{what} goes on running after it starts the thread at line {after.row}",
                        entry.path,
                        after,
                        False,
                        starter=starter,
                        after=after,
                        until=until,
                        partners=(index,),
                    )
                )

    def _window(self, module: Optional[ModuleFacts], starter: str, call: CallSite) -> Tuple[Span, Optional[Span]]:
        """Where the started code begins to run beside its starter (the ``start()`` after a
        ``Thread(...)``, else the call itself) and where the starter waits for it to end (the
        first join-like call after it, or the end of the pool's ``with`` block around it)."""
        own = [c for c in self._calls_in(starter, module) if not before(c.span, call.span)]
        start = next((c.span for c in own if c.method == "start" and c is not call), None)
        after = start if start is not None and call.method != "submit" else call.span
        joins = [c.span for c in own if is_join(c) and before(after, c.span)]
        entry = self.program.functions.get(starter)
        state = entry[1].state.get(starter) if entry is not None else None
        pools = [p for p in (state.scoped_pools if state else ()) if before(p, call.span)]
        ends = [
            Span(p.end_row, p.end_col, p.end_row, p.end_col)
            for p in pools
            if (p.end_row, p.end_col) > (call.span.row, call.span.col)
        ]
        candidates = sorted([*joins, *ends], key=lambda s: (s.row, s.col))
        return after, (candidates[0] if candidates else None)

    def _calls_in(self, function: str, module: Optional[ModuleFacts]) -> List[CallSite]:
        if module is not None:  # module-level code of one module
            return [c for c in module.calls if c.function == MODULE_SCOPE]
        return self.calls.calls_of(function)

    def _handle(self, starter: str, call: CallSite) -> Optional[str]:
        """The shared state the thread (or pool) object is stored in, ``self._thread = Thread(...)``."""
        entry = self.program.functions.get(starter)
        state = entry[1].state.get(starter) if entry is not None else None
        for write in state.writes if state else ():
            if write.span.row == call.span.row and write.built:
                return self.program.canonical_key(write.key)
        return None

    def _per_task(self, function: str, call: Optional[CallSite]) -> Tuple[str, ...]:
        """The parameters of a pool task that each task gets its own object in: an argument the
        submitting loop binds anew (``for conn in accept(): pool.submit(handle, conn)``), or the
        items ``pool.map(f, items)`` hands out one per task."""
        if call is None or call.method not in ("submit", "map", "imap", "imap_unordered", "apply_async"):
            return ()
        info = self.program.functions[function][0]
        params = info.params[1:] if info.self_name else info.params
        if call.method in ("map", "imap", "imap_unordered"):
            return params[:1]
        varies = call.arg_varies[1:]
        return tuple(param for param, varied in zip(params, varies) if varied)

    def receiver_key(self, call: CallSite) -> Optional[str]:
        """The state a call's receiver is: ``self._pool.submit`` -> ``self:mod.C._pool``."""
        receiver = call.text.rsplit(".", 1)[0] if call.text.count(".") >= 1 else ""
        if not receiver:
            return None
        head, _, rest = receiver.partition(".")
        if head in ("self", "cls") and call.class_context and rest:
            return self.program.canonical_key(f"self:{call.class_context}.{rest}")
        if not rest and call.function != MODULE_SCOPE:
            module = self.program.functions.get(call.function, (None, None))[1]
            if module is not None and head in module.global_types:
                return f"global:{module.module}.{head}"
            return f"local:{call.function}.{head}"
        return None

    def _single_worker_executors(self) -> Dict[str, str]:
        """Executors built with one worker (``ThreadPoolExecutor(max_workers=1)``), by the
        state that holds them; for a local, its function."""
        found: Dict[str, str] = {}
        for facts in self.program.modules.values():
            for call in facts.calls:
                if self.program.object_type(call.callee) not in THREAD_POOL_TYPES:
                    continue
                if call.literal_keywords.get("max_workers") != 1 and not (call.literal == 1 and not call.keywords):
                    continue
                state = facts.state.get(call.function)
                stored = [w for w in (state.writes if state else ()) if w.span.row == call.span.row and w.built]
                if stored:
                    key = self.program.canonical_key(stored[0].key) or stored[0].key
                    found[key] = key
                elif call.function != MODULE_SCOPE:
                    found[f"local-function:{call.function}"] = f"local:{call.function}"
        return found

    def _group(self, call: Optional[CallSite]) -> Optional[str]:
        if call is None or not call.method:
            return None
        key = self.receiver_key(call)
        if key in self._single_workers:
            return key
        if key is not None and key.startswith("local:") and f"local-function:{call.function}" in self._single_workers:
            return f"local:{call.function}"
        return None

    def _find_property_reads(self) -> Dict[str, List[Tuple[str, CallSite, FrozenSet[str]]]]:
        """``self.balance`` read where ``balance`` is a property: a call of its getter, with the
        locks held at the read (properties are reached by reads, not by calls)."""
        found: Dict[str, List[Tuple[str, CallSite, FrozenSet[str]]]] = {}
        for facts in self.program.modules.values():
            for function, state in facts.state.items():
                for read in state.reads:
                    if not read.key.startswith("self:"):
                        continue
                    owner, attribute = self.program.split_class(read.key[5:])
                    getter = self.program.method_of(owner, attribute) if owner and "." not in attribute else None
                    if getter is None or not _is_property(self.program.functions[getter][0].decorators):
                        continue
                    call = CallSite(
                        None, read.display, function, False, read.span, class_context=owner, method=attribute
                    )
                    found.setdefault(getter, []).append((function, call, lock_keys(self.program, read)))
        return found

    def _owner_roots(self) -> None:
        """The other public methods of a ``Thread`` subclass run in its owner's thread, beside ``run()``."""
        runs: Dict[str, List[int]] = {}
        for index, root in enumerate(self.roots):
            info = self.program.functions[root.function][0] if root.function in self.program.functions else None
            if root.kind == VISIBLE and info is not None and info.name == "run" and info.class_qualname:
                runs.setdefault(info.class_qualname, []).append(index)
        for owner in sorted(runs):
            if not any(base in THREAD_CLASSES for base in self.program.class_bases(owner)):
                continue
            info, facts = self.program.classes[owner]
            for function, (method, _facts) in sorted(self.program.functions.items()):
                if method.class_qualname != owner or not is_public_method(method.name):
                    continue
                if method.name in ("run", "start", "join", *CONSTRUCTORS):
                    continue
                callers = self.calls.callers_of(function)
                family = {owner, *self.program.class_bases(owner), *self.program.subclasses_of(owner)}
                if callers and all(self.program.owner_class(caller) in family for caller, _call in callers):
                    continue  # a helper the thread's own methods call, not its owner

                self.roots.append(
                    ThreadRoot(
                        function,
                        OWNER,
                        f"called by the owner of the `{info.name}` thread while its `run()` runs",
                        facts.path,
                        info.span,
                        False,
                        partners=tuple(runs[owner]),
                    )
                )

    def _contract_roots(self) -> None:
        self._locked_memo: Dict[str, bool] = {}
        for function in self.contracts.roots():
            readers = self._property_reads.get(function, ())
            if readers and all(self._call_holds_a_lock(reader, call) for reader, call, _locks in readers):
                continue  # a property every reader reads with a lock held
            if self.calls.every_caller(function, self._locked_memo, self._call_holds_a_lock):
                continue  # an internal helper every caller reaches with a lock held: the callers are the roots
            callers = self.calls.callers_of(function)
            if callers and all(caller == MODULE_SCOPE for caller, _call in callers):
                continue  # set-up the module runs when it is imported, before any caller's thread
            if function in self.contracts.inferred_functions and (callers or function in self.reaches):
                continue  # the project shows how it runs: no need to assume
            info, facts = self.program.functions[function]
            owner = self.program.classes.get(info.class_qualname) if info.class_qualname else None
            where = owner[0].span if owner else info.span
            self.roots.append(
                ThreadRoot(
                    function,
                    CONTRACT,
                    f"assumed concurrent: {self.contracts.why(function)}",
                    (owner[1] if owner else facts).path,
                    where,
                    True,
                    inferred=self.contracts.inferred(function),
                )
            )

    def _call_holds_a_lock(self, caller: str, call: CallSite) -> bool:
        """The call is made with a lock held, there or by every caller of the caller, or in a
        forked child's ``after_in_child`` hook (the child has one thread: nothing overlaps it)."""
        if self._locks_at(caller).get(call.span) or self._extra_locks.get((caller, call.span)):
            return True
        if caller in self._fork_child_code():
            return True
        return caller != MODULE_SCOPE and self.calls.every_caller(caller, self._locked_memo, self._call_holds_a_lock)

    def _fork_child_code(self) -> FrozenSet[str]:
        """Functions that run only in a forked child's ``os.register_at_fork(after_in_child=...)``
        hook: the hook, what only such code calls, and a private method that nothing calls by a
        resolved name but such code calls by its name (``client._after_fork()`` on the clients it
        iterates)."""
        if self._child_code is not None:
            return self._child_code
        found: set = set()
        queue = []
        for path, span in self.entries.fork_hooks:
            call = self._calls_at.get((path, span))
            target = self.program.resolve_ref(call.kwargs.get("after_in_child"), call) if call is not None else None
            if target is not None and target not in found:
                found.add(target)
                queue.append(target)
        by_name: Dict[str, List[str]] = {}
        while queue:
            function = queue.pop()
            for call in self.calls.calls_of(function):
                target = self.program.resolve_call(call)
                if target is None and call.method.startswith("_") and not call.method.startswith("__"):
                    if not by_name:
                        for name, (info, _facts) in self.program.functions.items():
                            if info.class_qualname:
                                by_name.setdefault(info.name, []).append(name)
                    targets = [t for t in by_name.get(call.method, ()) if not self.calls.callers_of(t)]
                else:
                    targets = [target] if target is not None else []
                for callee in targets:
                    callers = self.calls.callers_of(callee)
                    if callee not in found and all(caller in found for caller, _call in callers):
                        found.add(callee)
                        queue.append(callee)
        self._child_code = frozenset(found)
        return self._child_code

    # ---- propagation -------------------------------------------------------------------
    def _locks_at(self, function: str) -> Dict[Span, FrozenSet[str]]:
        entry = self.program.functions.get(function)
        state = entry[1].state.get(function) if entry is not None else None
        if state is None:
            return {}
        return {
            span: call_lock_keys(self.program, keys) for span, keys in zip(state.locked_calls, state.locked_call_keys)
        }

    def _owned_at(self, function: str) -> FrozenSet[Span]:
        entry = self.program.functions.get(function)
        state = entry[1].state.get(function) if entry is not None else None
        return frozenset(state.owned_calls) if state is not None else frozenset()

    def _edges(self, root: ThreadRoot, function: str) -> Iterable[Tuple[str, CallSite]]:
        if root.kind == BESIDE and function == root.function:
            module = self.program.modules.get(function.rsplit(".", 1)[0]) if function.endswith(MODULE_SCOPE) else None
            own = self._calls_in(root.starter or function, module)
            for call in own:
                if self.in_window(root, call.span):
                    target = self.program.resolve_call(call)
                    if target is not None:
                        yield target, call
            return
        yield from self.calls.callees.get(function, ())
        yield from self._inline.get(function, ())
        yield from self._getters_read.get(function, ())

    def _own_part(self, info, call: CallSite) -> bool:
        """``self.parser.feed()`` on an object the caller owns, where ``parser`` is one its class
        builds itself (``self.parser = Parser()`` in ``__init__``): a part of the owned object.
        An attribute passed in (``self.poller = poller``) may be shared, and is not."""
        parts = call.text.split(".")
        if len(parts) != 3 or parts[0] != info.self_name or not info.class_qualname:
            return False
        key = (info.class_qualname, parts[1])
        if key not in self._parts:
            self._parts[key] = False
            for owner in [info.class_qualname, *self.program.class_bases(info.class_qualname)]:
                init = self.program.functions.get(f"{owner}.__init__")
                state = init[1].state.get(f"{owner}.__init__") if init else None
                for write in state.writes if state else ():
                    if write.key == f"self:{owner}.{parts[1]}" and write.built:
                        self._parts[key] = True
        return self._parts[key]

    def _receiver_locks(self, call: CallSite, callee: str, held: FrozenSet[str]) -> FrozenSet[str]:
        """``with self.manager._lock: self.manager.update()``: the callee holds its own ``self._lock``."""
        receiver = call.text.rsplit(".", 1)[0] if call.text.count(".") >= 2 else ""
        info = self.program.functions.get(callee, (None,))[0]
        if not receiver.startswith("self.") or info is None or not info.class_qualname or not call.class_context:
            return frozenset()
        path = self.program.canonical_key(f"self:{call.class_context}.{receiver[5:]}") or ""
        found = set()
        for key in held:
            if path and key.startswith(path + "."):
                own = f"self:{info.class_qualname}.{key[len(path) + 1 :]}"
                found.add(self.program.canonical_key(own) or own)
        return frozenset(found)

    def in_window(self, root: ThreadRoot, span: Span) -> bool:
        """For a BESIDE root, whether code at ``span`` of the starter runs while the thread runs."""
        if root.kind != BESIDE:
            return True
        return root.after is not None and before(root.after, span) and (root.until is None or before(span, root.until))

    def _propagate(self, index: int) -> None:
        root = self.roots[index]
        start_locks = frozenset([self.decorator_locks[root.function]] if root.function in self.decorator_locks else [])
        queue = deque([(root.function, (root.function,), start_locks, False, ())])
        seen = set()
        variants: Dict[str, int] = {}
        while queue and len(seen) < MAX_STATES_PER_ROOT:
            function, chain, locks, owned, passed = queue.popleft()
            if (function, locks, owned, passed) in seen or variants.get(function, 0) >= MAX_VARIANTS:
                continue
            seen.add((function, locks, owned, passed))
            variants[function] = variants.get(function, 0) + 1
            self.reaches.setdefault(function, []).append(Reach(index, chain, locks, owned))
            held = self._locks_at(function)
            owned_calls = self._owned_at(function)
            info = self.program.functions.get(function, (None,))[0]
            own_prefix = f"{info.self_name}." if info is not None and info.self_name else None
            values = dict(passed)
            for callee, call in self._edges(root, function):
                if values and call.requires and not reachable(call.requires, values):
                    continue  # behind ``if init:`` where the call that got here passed ``init=False``
                on_self = own_prefix is not None and call.text.startswith(own_prefix) and call.text.count(".") == 1
                per_task = function == root.function and call.text.split(".", 1)[0] in root.per_task
                part = owned and own_prefix is not None and self._own_part(info, call)
                now_owned = (
                    call.span in owned_calls or (owned and on_self) or part or (per_task and call.text.count(".") == 1)
                )
                now_locks = (
                    locks | held.get(call.span, frozenset()) | self._extra_locks.get((function, call.span), frozenset())
                )
                if callee in self.decorator_locks:
                    now_locks = now_locks | {self.decorator_locks[callee]}
                now_locks = now_locks | self._receiver_locks(call, callee, frozenset(now_locks))
                decisive = self._decisive(callee, call, values)
                queue.append((callee, _extend(chain, callee), frozenset(now_locks), now_owned, decisive))

    def _decisive(self, callee: str, call: CallSite, values: Dict[str, object]) -> Tuple[Tuple[str, object], ...]:
        """The constants ``call`` passes to the parameters that ``callee``'s own calls are
        guarded on (model/guards.py): what decides which of them a thread can reach."""
        guarded = self._guarded_params.get(callee)
        if guarded is None:
            guarded = set()
            for own in self.calls.calls_of(callee):
                for tree in own.requires:
                    guarded |= mentions(tree)
            self._guarded_params[callee] = guarded
        info = self.program.functions.get(callee, (None,))[0]
        if not guarded or info is None:
            return ()
        given = passed_values(call, info, values)
        return tuple(sorted(((name, value) for name, value in given.items() if name in guarded), key=repr))

    # ---- questions -----------------------------------------------------------------------
    def reaches_of(self, function: str) -> List[Reach]:
        return self.reaches.get(function, [])

    def overlap(self, first: Reach, second: Reach, self_state: bool) -> bool:
        """Can code reached by ``first`` run at the same time as code reached by ``second``?
        ``self_state``: they touch an attribute of ``self`` (the same object only when the
        roots share it, and never an object a caller made for itself)."""
        if self_state and (first.owned or second.owned):
            return False
        a, b = self.roots[first.root], self.roots[second.root]
        if first.root == second.root:
            return a.kind in (VISIBLE, CONTRACT) and a.many and (a.shared_self or not self_state)
        if a.group is not None and a.group == b.group:
            return False  # one worker runs them one after the other
        sides = [r for r in (a, b) if r.kind in (OWNER, BESIDE)]
        if len(sides) == 2:
            return False  # both run in the thread that started (or owns) the other threads
        if sides:
            other = second.root if a.kind in (OWNER, BESIDE) else first.root
            return other in sides[0].partners
        if a.kind == b.kind == VISIBLE and a.starter is not None and a.starter == b.starter:
            if a.until is not None and b.after is not None and before(a.until, b.after):
                return False  # the first was joined before the second started
            if b.until is not None and a.after is not None and before(b.until, a.after):
                return False
        return True

    def explain(self, function: str, reach: Reach) -> str:
        """Why ``function`` runs in a thread, as a message says it: ``helper()`` runs in several
        threads at once: helper() <- worker() <- threading.Thread(target=...) at jobs.py:40."""
        root = self.roots[reach.root]
        name = f"`{self.program.display_name(function)}()`"
        chain = " <- ".join(
            q if q == ELIDED else f"{self.program.display_name(q)}()"
            for q in reversed(reach.chain)
            if MODULE_SCOPE not in q
        )
        if root.kind == CONTRACT:
            via = f": {chain}" if len(reach.chain) > 1 else ""
            return f"{name} can run in several threads at once{via} ({root.reason})"
        if root.kind in (OWNER, BESIDE):
            via = f": {chain}" if len(reach.chain) > 1 else ""
            return f"{name} runs beside a thread{via} ({root.reason})"
        many = "in several threads at once" if root.many else "in a thread"
        return f"{name} runs {many}: {chain} <- {root.reason} at {short_path(root.path)}:{root.span.row}"


def _is_property(decorators: Sequence[str]) -> bool:
    return any(name.rsplit(".", 1)[-1] in ("property", "cached_property") for name in decorators)
