"""CCL111-CCL113: lost updates between tasks of one event loop.

Code between two suspension points is atomic for the loop; a value read before a
suspension point (or in one callback) and written back after it (or in a later
callback) overwrites whatever other tasks did in between.
"""

from __future__ import annotations

from typing import Iterable, Optional, Tuple

from conclint.engine.findings import Finding, Related, Span
from conclint.engine.paths import short_path
from conclint.model.facts import NO_SPAN, RMW_KINDS, FunctionState, ModuleFacts, Write
from conclint.model.locks import inside_a_lock_class, lock_name
from conclint.rules.base import Rule

CALLBACK_POSITION = {"call_soon": 0, "call_soon_threadsafe": 0, "call_later": 1, "call_at": 1, "add_done_callback": 0}
LOOP_STATE_KINDS = ("global", "class", "self", "cell")
# consuming a stream: two tasks reading one stream would interleave its data, so asyncio,
# trio, anyio and aiohttp streams refuse a second concurrent reader
STREAM_READS = frozenset(
    (
        "read",
        "aread",
        "readany",
        "readline",
        "readexactly",
        "readuntil",
        "readchunk",
        "receive",
        "receive_some",
        "recv",
        "__anext__",
    )
)
TRUE_LITERALS = ("True", "1")
# what holds a program's settings (``self.config``, ``_config``, ``app.settings``): a read returns the stored setting
SETTINGS_HOLDERS = frozenset(("config", "conf", "cfg", "settings", "configuration"))
# plain values built from what was read: equal when the reads are (not a client, a lock, a task)
VALUE_TYPES = frozenset(("Path", "PurePath", "str", "int", "float", "bool", "bytes", "tuple", "frozenset", "Decimal"))
# entered or iterated by the one task that runs the ``async with`` / ``async for``
ONE_TASK_PROTOCOL = frozenset(("__aenter__", "__aexit__", "__anext__"))


def _tracked(key: str, project) -> bool:
    kind = key.partition(":")[0]
    if kind == "param":
        return project.settings.await_parameter_attributes
    return kind in LOOP_STATE_KINDS and project.model.program.canonical_key(key) is not None


def _common_async_lock(first, second) -> bool:
    return bool(set(first.async_locks) & set(second.async_locks))


def _suspension_before(state: FunctionState, write) -> Optional[Span]:
    """The last suspension point on the path to ``write`` (the one other tasks ran at)."""
    index = write.suspended_at
    return state.suspension_spans[index] if 0 <= index < len(state.suspension_spans) else None


def _real_suspension(project, qualname: str, state: FunctionState, earlier, write) -> Optional[Span]:
    """The last suspension point between ``earlier`` and ``write`` that lets other tasks run;
    None when each one awaits a project coroutine that never suspends (``await
    self.cancel()`` where ``cancel`` awaits nothing: no other task runs there). Every
    suspension point placed between the two counts, whichever branch it is in."""
    spans = state.suspension_spans
    indices = set(range(earlier.suspended_at + 1, write.suspended_at + 1))
    start, end = (earlier.span.row, earlier.span.col), (write.span.end_row, write.span.end_col)
    indices.update(i for i, span in enumerate(spans) if start < (span.row, span.col) < end)
    indices = sorted(i for i in indices if 0 <= i < len(spans))
    if not indices:  # counted on the path but not placed (a loop's next iteration): keep the finding
        return _suspension_before(state, write) or NO_SPAN
    targets = state.suspension_targets
    suspensions = project.model.suspensions
    real = [
        i
        for i in indices
        if not suspensions.awaits_without_suspending(qualname, spans[i], targets[i] if i < len(targets) else "")
        and not _escaped_before(suspensions, qualname, state, write, i)
    ]
    if not real:
        return None
    on_path = [i for i in real if i <= write.suspended_at]
    return spans[(on_path or real)[-1]]


def _escaped_before(suspensions, qualname: str, state: FunctionState, write, index: int) -> bool:
    """``write`` is reached only through an exception the awaited operand at ``index`` raises
    before it suspends: ``await self._pending[key]`` raising KeyError, or an awaited helper
    that raises the caught exception synchronously only."""
    for escape in state.escapes:
        if escape.suspension != index or not _within(write.span, escape.region):
            continue
        target = state.suspension_targets[index] if index < len(state.suspension_targets) else ""
        if escape.lookup or suspensions.raises_before_suspending(
            qualname, state.suspension_spans[index], target, escape.caught
        ):
            return True
    return False


def _within(inner: Span, outer: Span) -> bool:
    return (outer.row, outer.col) <= (inner.row, inner.col) and (inner.end_row, inner.end_col) <= (
        outer.end_row,
        outer.end_col,
    )


def _shared_self(project, qualname: str, write: Write, fills_a_cache: bool = False) -> Tuple[bool, str]:
    """Is the state shared by several tasks, and why (for ``self`` state): module globals,
    class attributes and cells are; an object's attributes when the model saw the object
    shared (or with ``await-unshared-self``): a per-request or per-connection object that
    one task drives is not a race, however its methods await.

    An object seen shared only by its class (it holds a lock, some method is spawned) counts
    when ``fills_a_cache`` (CCL112 storing an entry of a mapping, ``self.cache[key] = await
    ...``: callers ask for keys concurrently, that is what the mapping is for); otherwise the method
    itself must run in several tasks, or the state be guarded by an event-loop lock elsewhere
    (``if self.conn is None`` in a ``connect()`` its owner calls once is not a race), unless
    the object is a module global any task can call."""
    model = project.model
    if not write.key.startswith("self:") or project.settings.await_unshared_self:
        return True, ""
    reason = model.tasks.shared_between_tasks(qualname)
    if reason is None:
        return False, ""
    if not fills_a_cache and not model.tasks.kept_in_a_global(qualname):
        overlap = model.tasks.runs_in_several_tasks(qualname)
        guarded = _guarded_elsewhere(project, qualname, write.key) if overlap is None else None
        if overlap is not None and overlap.startswith("assumed shared"):
            reason = overlap
        elif overlap is not None:
            reason = f"`{model.program.display_name(qualname)}()` runs in several tasks: {overlap}"
        elif guarded is not None:
            reason = f"{reason}, and `{write.display}` is guarded by `{guarded[0]}` at {guarded[1]}:{guarded[2]}"
        else:
            return False, ""
    if reason.startswith("assumed shared"):
        return True, f" ({reason})"
    return True, f" (the object is shared: {reason})"


def _guarded_elsewhere(project, qualname: str, key: str) -> Optional[Tuple[str, str, int]]:
    """Where ``self`` state is read or written under an event-loop lock (the lock, the file,
    the line) by a method the object runs (one its class overrides does not count): its
    author expects tasks to contend for the state, so an unguarded check or read across an
    await elsewhere is a race on the same state."""

    def index() -> dict:
        found: dict = {}
        for facts in project.modules():
            for function, state in facts.state.items():
                for access in (*state.reads, *state.writes):
                    if access.async_locks and access.key.startswith("self:"):
                        canonical = project.model.program.canonical_key(access.key) or access.key
                        where = (lock_name(access.async_locks[0]), short_path(facts.path), access.span.row)
                        found.setdefault(canonical, {}).setdefault(function, where)
        return found

    model = project.model
    owner = model.program.owner_class(qualname)
    guards = project.shared("loop-guarded-state", index).get(model.program.canonical_key(key) or key, {})
    for function, where in sorted(guards.items()):
        method = model.program.owner_class(function)
        info = model.program.functions.get(function, (None,))[0]
        name = info.name if info is not None and info.class_qualname else None
        if owner is None or method is None or name is None:
            continue
        if model.program.method_of(owner, name) == function or owner in model.program.class_bases(method):
            return where
    return None


class _LockedByCallers:
    """Helpers that every caller calls with an event-loop lock held (``async with self._lock:
    await self._connect()``, or ``await lock.acquire()`` first): their check and act are
    guarded there."""

    def __init__(self, project) -> None:
        self.model = project.model
        self.locked_spans = {
            f: set(state.async_locked_calls) for facts in project.modules() for f, state in facts.state.items()
        }
        self.memo: dict = {}

    def always(self, function: str) -> bool:
        # a task runs on its own, whatever its spawner held when it started it
        return not self.model.tasks.is_spawned(function) and self.model.calls.every_caller(
            function, self.memo, self._holds
        )

    def _holds(self, caller: str, call) -> bool:
        if self.model.tasks.is_spawn_call(caller, call):
            return False
        return call.span in self.locked_spans.get(caller, ()) or self.always(caller)


def _locked_by_callers(project, qualname: str) -> bool:
    return project.shared("loop-locked-callers", lambda: _LockedByCallers(project)).always(qualname)


def _rechecked_under_lock(state: FunctionState, write: Write) -> bool:
    """The act was decided again under an event-loop lock it still holds: a re-check of the
    written state, or of state written with it in that lock's region (double-checked locking
    on a token: ``async with lock: if token == self.token: self.token = ...; self.expires = ...``)."""
    if not write.rechecked:
        return False
    if write.key in write.rechecked:
        return True
    held = set(write.async_locks)
    return any(
        other.key in write.rechecked and held & set(other.async_locks) for other in state.writes if other is not write
    )


def _across_await(
    code: str, facts: ModuleFacts, suspension: Span, write: Write, earlier, verb: str, what: str, fix: str, why: str
) -> Finding:
    """A finding at ``write``: ``earlier`` (the read or the check) and the suspension point between them."""
    known = suspension != NO_SPAN
    where = f"line {suspension.row}" if known else "a later line"
    message = f"`{write.display}` {what.format(where=where)}{why}. Fix: {fix}"
    related = [Related(f"`{earlier.display}` {verb} here", facts.path, earlier.span)]
    if known:
        related.append(Related("other tasks run here", facts.path, suspension))
    return Finding(code, message, facts.path, write.span, tuple(related))


def _async_functions(project, facts: ModuleFacts):
    """The coroutines to check; not the lifecycle steps an owner calls once, in order, from one
    place (``start()``, what only ``connect()`` calls): their races need two concurrent starts
    (see ``TaskSharing.lifecycle_wired``)."""
    for qualname, state in facts.state.items():
        info = facts.functions.get(qualname)
        if info is not None and info.is_async and not project.model.tasks.lifecycle_wired(qualname):
            yield qualname, info, state


def _one_task_object(project, qualname: str, info, state: FunctionState, write: Write, earlier, buffers: bool) -> bool:
    """``self`` state that only one task at a time can reach by the object's own protocol:
    the bookkeeping of a lock class, the ``__aenter__``/``__anext__`` of an object not seen
    shared (run by the task in the ``async with``/``async for``), a stream's own ``read()``
    waiting on the object's stream, or (with
    ``buffers``) a buffer checked and filled around reads of the object's own stream (a second
    concurrent reader is refused by asyncio, trio, anyio and aiohttp streams alike)."""
    if not write.key.startswith("self:"):
        return False
    if inside_a_lock_class(project.model.program, qualname):
        return True
    if info.name in ONE_TASK_PROTOCOL:
        return project.model.tasks.shared_between_tasks(qualname) is None  # a shared one is entered by every task
    waits = state.suspension_targets[earlier.suspended_at + 1 : write.suspended_at + 1]
    own = f"{info.self_name}."
    if not waits or not all(target.startswith(own) and target.rsplit(".", 1)[-1] in STREAM_READS for target in waits):
        return False
    return buffers or info.name in STREAM_READS


def _check_across_await(write: Write, state: FunctionState) -> bool:
    """A check, a suspension point, then the act; not a one-way flag (``self.closed = True``:
    every task writes the same constant, nothing is lost) and not a claim (the task marks the
    state itself before its first await, so others see the claim)."""
    check = write.checked_by
    if (
        check is None
        or write.kind not in (*RMW_KINDS, "mutate")
        or (write.kind == "assign" and write.literal is not None)
    ):
        return False
    if check.suspensions >= write.suspensions or _common_async_lock(check, write):
        return False
    if check.claimed and write.claimed:
        return False  # past a re-entry guard this task claimed: no other run of the function is here
    return not any(_claims(other, write, check) for other in state.writes)


def _claims(other: Write, write: Write, check) -> bool:
    """``other`` claims the check for this task before it suspends: it writes the state the
    check read (``if self._loading: return; self._loading = True; await ...``), or other
    state the same condition tested (``if self._task or self._starting: raise;
    self._starting = Event(); await ...; self._task = task``): a second task fails the check."""
    if other is write or other.checked_by is None or other.suspensions != check.suspensions:
        return False
    if other.key == write.key:
        return other.checked_by is check
    # other state of the same condition, set to something that fails it (a new object, a true value)
    if other.condition != write.condition:
        return False
    made = (other.built or "").rsplit(".", 1)[-1]
    return (made[:1].isupper() and other.literal is None) or other.literal in TRUE_LITERALS


def _rereads_settings(project, qualname: str, state: FunctionState, check, write: Write) -> bool:
    """The act stores what reads of the program's settings returned, and settings calls are all
    that suspends between check and act (``if self.path is None: self.path = Path(await
    self.config.localpath())``; an awaited project helper that only reads settings counts):
    concurrent first callers repeat a cheap read and store equal values, which issue 18's
    decision counts as no hazard. Not when the value is built into an object with identity that
    others keep (a client, a lock, a connection, a task), nor a caller's own value."""
    if write.removes or write.kind not in ("assign", "item") or any(s.startswith("arg:") for s in write.sources):
        return False  # a caller's own value (a parameter) differs between the tasks
    if write.built is not None and write.built.rsplit(".", 1)[-1] not in VALUE_TYPES:
        return False
    indices = range(check.suspended_at + 1, min(write.suspended_at + 1, len(state.suspension_spans)))
    return bool(indices) and all(_suspends_on_settings(project, qualname, state, i, 0) for i in indices)


def _suspends_on_settings(project, qualname: str, state: FunctionState, index: int, depth: int) -> bool:
    """Suspension point ``index`` waits on a call on what holds the settings (``self.config.x()``,
    ``async with self.config.guild(g).all() as data:``), or on a project coroutine that waits on
    nothing else."""
    span = state.suspension_spans[index]
    inside = [
        call
        for call in project.model.calls.calls_of(qualname)
        if (call.awaited or call.entered_async) and _within(call.span, span)
    ]
    if not inside:
        target = state.suspension_targets[index] if index < len(state.suspension_targets) else ""
        return _reads_settings(target)
    call = min(inside, key=lambda c: (c.span.row, c.span.col, -c.span.end_row, -c.span.end_col))
    if _reads_settings(call.text or call.display):
        return True
    helper = project.model.program.resolve_call(call)
    entry = project.model.program.functions.get(helper) if helper is not None and depth == 0 else None
    helper_state = entry[1].state.get(helper) if entry is not None and entry[0].is_async else None
    return (
        helper_state is not None
        and bool(helper_state.suspension_spans)
        and all(
            _suspends_on_settings(project, helper, helper_state, i, depth + 1)
            for i in range(len(helper_state.suspension_spans))
        )
    )


def _reads_settings(callee: str) -> bool:
    """``self.config.localpath`` or ``_config.custom(...).all``: a call on what holds the settings."""
    receiver = [part.split("(", 1)[0].split("[", 1)[0] for part in callee.split(".")[:-1]]
    return any(part.lstrip("_").lower() in SETTINGS_HOLDERS for part in receiver)


def _own_member_check(fill: Write, empty: Write) -> bool:
    """The fill is decided by its own check of the entry (``if member not in cache[k]:`` around
    ``cache[k][member] = ...``): the entry is a container of independent members, each added
    whole, and its empty state is a valid one, not a half-built result."""
    return fill.checked_by is not None and fill.condition != empty.condition


class StaleReadAcrossAwait(Rule):
    code = "CCL111"
    name = "stale-read-across-await"
    summary = "Shared state read before an `await` is written back after it, from the stale value."
    explanation = """
        One event loop runs one task at a time, but every `await` (and `async for`,
        `async with`, `yield` in an async generator) lets other tasks run. A value read
        before the suspension point and written back after it overwrites what those tasks
        stored in between: `self.total += await fetch()` loads `self.total` before the
        await runs; `balance = self.balance; await audit(); self.balance = balance - x`
        loses concurrent withdrawals.

        Checked:

        - module globals, class attributes and `nonlocal` cells;
        - attributes of `self` when several tasks can be in the method on one object:
            - the instance is kept in a module global (or in a module-level dict); or
            - the class is seen shared (it holds an event-loop lock, its methods are
              spawned as several tasks, one of them is a server's handler, or one instance
              is passed to every task a loop or `gather` spawns:
              `gather(*(deposit(wallet, 10) for _ in range(100)))`), and either the state
              is read or written under an event-loop lock in a method the object runs, or
              the method itself runs in several tasks (it or a caller is spawned in a loop
              or twice in one `gather` on the same object, two spawned tasks reach it, or a
              web request handler or a connection handler of `asyncio.start_server`,
              `websockets.serve` or `trio.serve_tcp` does);
            - CCL112 also takes the class alone for a cache fill
              (`self.cache[key] = await ...`; an entry saved and put back is no fill);
        - the public coroutine methods of a long-lived client, and what they call: a class
          that holds an HTTP session (`aiohttp.ClientSession`, `httpx.AsyncClient`), a
          connection or pool, or credentials (`self._token`), and sends requests through it
          (`await self._session.get(...)`), is assumed shared by its callers' tasks (one
          client, many tasks); an attribute's name alone counts in a class named like a
          client (`ApiClient`, `TokenManager`); `await-shared` names more classes,
          `await-not-shared` takes some back;
        - not a `connect()` (`start`, `close`, `login`, `commit`...) its owner calls once, on a shared
          client: it does not race with itself; not a per-request object that one task creates and drives: it races with
          nobody;
        - not a coroutine wired into its owner's lifecycle, of any state: one whose every caller in
          the project is a lifecycle step called once (`launch_shards()` called only from
          `connect()`, which only `start()` calls; spawned once counts, as with
          `asyncio.run(runner())`); a lifecycle helper that a request method, a handler or a
          repeated spawn also reaches stays checked;
        - every object with `await-unshared-self = true`; other parameters too with
          `await-parameter-attributes = true`.

        Not reported:

        - no suspension point between the read and the write (an `await` of a project
          coroutine that never suspends, undecorated and awaiting nothing that does, is
          none);
        - read and write inside one `async with` of an `asyncio.Lock` (trio, anyio locks
          alike);
        - a value re-read after the await, or one that does not depend on the earlier read
          (`self.x = await self.x` stores what the awaitable it holds resolves to, the same
          for every task awaiting it; an entry stored under a key the await returned,
          `d[resp["id"]] = ...`, is a new entry, not the one read);
        - locals;
        - a function every caller calls with an event-loop lock held (a task it is spawned
          as holds nothing);
        - code past a re-entry guard this task claimed before its first await (`if
          self._closing: return; self._closing = True; await ...`): no other run of the
          coroutine is there until the flag is set back;
        - code reached only when the one await of a `try` raised before it suspended: the
          handler of `KeyError` for `await self._pending[key]`, or of an exception an awaited
          project helper raises only before its first suspension point;
        - `self` state in a stream's own `read()`/`receive()` waiting on the object's own
          stream, in the `__aenter__`/`__aexit__`/`__anext__` of an object not seen shared,
          and in a lock class's own methods (see CCL112).

        Fix: re-read after the await (or move the read after it), or hold an
        `asyncio.Lock` across the read and the write.
    """
    bad = (
        """
        import asyncio

        class Wallet:
            def __init__(self):
                self.balance = 100

            async def withdraw(self, amount):
                balance = self.balance
                await asyncio.sleep(0.01)
                self.balance = balance - amount

        wallet = Wallet()  # shared by every request handler
        """,
    )
    good = (
        """
        import asyncio

        class Wallet:
            def __init__(self):
                self.balance = 100
                self.lock = asyncio.Lock()

            async def withdraw(self, amount):
                async with self.lock:
                    balance = self.balance
                    await asyncio.sleep(0.01)
                    self.balance = balance - amount

        wallet = Wallet()  # shared by every request handler
        """,
    )
    scenario = "lost-update-evented"

    def check(self, project, facts: ModuleFacts) -> Iterable[Finding]:
        for qualname, info, state in _async_functions(project, facts):
            for write in state.writes:
                read = write.derived_from
                if not _tracked(write.key, project) or write.kind not in RMW_KINDS or read is None:
                    continue
                if (
                    read.suspensions >= write.suspensions
                    or (read.claimed and write.claimed)
                    or _common_async_lock(read, write)
                    or _check_across_await(write, state)
                ):
                    continue
                if _one_task_object(project, qualname, info, state, write, read, buffers=False) or _locked_by_callers(
                    project, qualname
                ):
                    continue
                suspension = _real_suspension(project, qualname, state, read, write)
                if suspension is None:
                    continue
                shared, why = _shared_self(project, qualname, write)
                if not shared:
                    continue
                recheck = write.checked_by
                if recheck is not None and recheck.suspensions == write.suspensions:
                    continue  # compared with the fresh value after the await (compare-and-set)
                yield _across_await(
                    self.code,
                    facts,
                    suspension,
                    write,
                    read,
                    "read",
                    f"is written from a value read at line {read.span.row}, before the suspension point at {{where}} "
                    "in "
                    f"`async def {info.name}()`: other tasks that changed it meanwhile are overwritten",
                    "re-read it after the await, or hold an `asyncio.Lock` across the read and the write",
                    why,
                )


class CheckThenActAcrossAwait(Rule):
    code = "CCL112"
    name = "check-then-act-across-await"
    summary = "A check on shared state, an `await`, then an act that relies on the check."
    explanation = """
        `if key not in cache: cache[key] = await load(key)`: every task that arrives while
        the first one awaits sees the key missing and loads it again (a cache stampede);
        `if self.conn is None: self.conn = await connect()` opens several connections;
        `if self.balance >= amount: await ...; self.balance -= amount` overdraws. The EAFP
        form, `try: return cache[key]` with `except KeyError:`, is the same check. So is a
        check through what the state holds (`if self.token.is_expired():`, `if
        self.session.closed:`), and the act may be in an awaited helper of the same object
        that writes the checked state after its own await (`if time.time() >=
        self.expires_at: await self._refresh()`; reported at the helper's call).

        Not reported:

        - no suspension point between the check and the act (see CCL111 for awaits that
          never suspend);
        - a check and act inside one `async with` of an asyncio/trio/anyio lock;
        - a re-check after the await, or under a lock still held at the act (of the written
          state, or of state written with it there: double-checked locking on a token; for an
          act in an awaited helper, a re-check under the lock held at the helper's call);
        - a function every caller calls with an event-loop lock held (a task it is spawned
          as holds nothing);
        - a claim before the first await (the checked state, or other state of the same
          condition set to a new object or `True`), and everything past a re-entry guard
          claimed so;
        - an act reached only when an awaited operand raised before it suspended (see
          CCL111);
        - the future-sharing pattern (store the in-flight task or future before awaiting
          it, so later callers await the same one);
        - a lazy read of the program's settings, when calls on what holds them (`self.config`,
          `_config`, `settings`, or an awaited project helper that makes only such calls) are
          all that suspends between check and act and the value
          stored is what they returned (`self.path = Path(await self.config.localpath())`):
          every first caller stores an equal value after a cheap read; not an object with
          identity built from it (a client, a connection), nor a caller's own value.

        Nor objects that one task at a time drives by their own protocol:

        - a buffer checked and refilled around reads of the object's own stream
          (`await self._stream.read()`, `async for c in self._iter`; streams refuse a
          second concurrent reader);
        - the `__aenter__`/`__aexit__`/`__anext__` of an object not seen shared (run by the
          task in the `async with` or `async for`);
        - the bookkeeping of a class that is itself a lock (it defines `acquire` and
          `release`; a pool, whose `release(conn)` takes a connection back, is none unless
          its name says lock);
        - a method the object spawns once as its own background task
          (`create_task(self._run())`, outside any loop).

        An external store is checked the same way where the coroutine runs in several tasks:
        `if not await cache.exists(key): await cache.set(key, await compute(key))` (a lookup,
        then a store of the same key on the same client object, an await between) repeats
        the computation in every task that misses meanwhile; `set(..., nx=True)`, `add` and
        `setnx` refuse an existing key and are none. An awaited `cache.add(...)` is a
        client's coroutine, not a container's method.

        So is an entry published before it is ready: `cache[k] = {}` right after the check,
        then `cache[k][v] = await ...` filling it across awaits; a task that passes the check
        meanwhile returns the half-filled entry. Not an entry of independent members, each
        added whole under its own check (`if m not in cache[k]: ... cache[k][m] = ...`): its
        empty state is a valid one.

        Double initialisation behind a flag is reported too, where the coroutine runs in
        several tasks (a request handler or FastAPI dependency reaches it, it is spawned
        repeatedly, or it is a shared client's public coroutine): `if self._ready: return;
        await self._load(); self._ready = True` lets every request that arrives during the
        set-up run it again (set the flag, or store the set-up's task, before the first
        await).

        Module globals, class attributes and cells are reported in those methods all the
        same; `self` state is checked on objects seen shared by several tasks (see CCL111).

        Fix: share the in-flight future, re-check after the await, or hold an
        `asyncio.Lock` across the check and the act.
    """
    bad = (
        """
        cache = {}

        async def get(key, load):
            if key not in cache:
                cache[key] = await load(key)
            return cache[key]
        """,
    )
    good = (
        """
        import asyncio

        inflight = {}

        async def get(key, load):
            if key not in inflight:
                inflight[key] = asyncio.ensure_future(load(key))
            return await inflight[key]
        """,
    )
    scenario = "cache-stampede"

    def check(self, project, facts: ModuleFacts) -> Iterable[Finding]:
        for qualname, info, state in _async_functions(project, facts):
            reported = set()  # ``self.a, self.b = await ...``: one finding for the statement
            for write in state.writes:
                if not _tracked(write.key, project) or not _check_across_await(write, state):
                    continue
                check = write.checked_by
                if (write.span.row, write.condition, write.suspended_at) in reported:
                    continue
                if _one_task_object(project, qualname, info, state, write, check, buffers=True) or _locked_by_callers(
                    project, qualname
                ):
                    continue
                suspension = _real_suspension(project, qualname, state, check, write)
                if (
                    _rechecked_under_lock(state, write)
                    or suspension is None
                    or _rereads_settings(project, qualname, state, check, write)
                ):
                    continue
                if write.key.startswith("self:") and project.model.tasks.background_routine(qualname):
                    continue  # only the object's one background task runs it: no other task passes the same check
                # a cache fill stores a new value, or one an await produced; a saved entry put
                # back (``self.vars["x"] = saved``) is no fill
                fills = write.kind == "item" and not write.removes and (write.derived_from is None or write.awaited)
                shared, why = _shared_self(project, qualname, write, fills_a_cache=fills)
                if not shared:
                    continue
                reported.add((write.span.row, write.condition, write.suspended_at))
                yield _across_await(
                    self.code,
                    facts,
                    suspension,
                    write,
                    check,
                    "checked",
                    f"is checked at line {check.span.row}, then written here after the suspension point at {{where}} "
                    "in "
                    f"`async def {info.name}()`: other tasks pass the same check meanwhile",
                    "share the in-flight future, re-check after the await, or hold an `asyncio.Lock` across check "
                    "and act",
                    why,
                )
            yield from self._acts_in_helpers(project, facts, qualname, info, state)
            yield from self._set_up_behind_a_flag(project, facts, qualname, info, state)
            yield from self._external_store(project, facts, qualname, info, state)
            yield from self._published_before_ready(project, facts, qualname, info, state)

    def _published_before_ready(self, project, facts: ModuleFacts, qualname: str, info, state) -> Iterable[Finding]:
        """``if k in cache: return cache[k]; cache[k] = {}; for v in await ...: cache[k][v] = await
        ...``: the entry is published empty and filled across awaits; a concurrent caller passes the
        check and returns it half-filled."""
        for empty in state.writes:
            check = empty.checked_by
            if not (empty.kind == "item" and empty.empty and check is not None) or not _tracked(empty.key, project):
                continue
            if check.suspensions != empty.suspensions or check.claimed:
                continue
            fill = next(
                (
                    w
                    for w in state.writes
                    if w.key == empty.key
                    and w.kind == "item"
                    and w.into_entry
                    and w.suspensions > empty.suspensions
                    and not _common_async_lock(check, w)
                    and not _own_member_check(w, empty)
                ),
                None,
            )
            if fill is None or _locked_by_callers(project, qualname):
                continue
            suspension = _real_suspension(project, qualname, state, empty, fill)
            if suspension is None:
                continue
            shared, why = _shared_self(project, qualname, empty, fills_a_cache=True)
            if not shared:
                continue
            yield _across_await(
                self.code,
                facts,
                suspension,
                empty,
                check,
                "checked",
                f"is given an empty entry here, after the check at line {check.span.row}, and filled at line "
                f"{fill.span.row}, after the suspension point at {{where}} in `async def {info.name}()`: a task that "
                "passes the check meanwhile gets the entry half-filled",
                "build the entry in a local and store it when complete, or share the in-flight future",
                why,
            )

    def _external_store(self, project, facts: ModuleFacts, qualname: str, info, state) -> Iterable[Finding]:
        """``if not await cache.exists(key): await cache.set(key, await compute(key))`` in a
        coroutine that runs in several tasks: no state in the process, the same stampede on the
        store (an atomic ``set(..., nx=True)`` or ``add`` refuses the second store)."""
        model = project.model
        if not state.store_acts or _locked_by_callers(project, qualname):
            return
        overlap = None
        for check, act in state.store_acts:
            if check.suspensions >= act.suspensions or _common_async_lock(check, act) or check.claimed:
                continue
            suspension = _real_suspension(project, qualname, state, check, act)
            if suspension is None:
                continue
            overlap = overlap or model.tasks.runs_in_several_tasks(qualname)
            if overlap is None:
                return
            why = (
                f" ({overlap})"
                if overlap.startswith("assumed shared")
                else (f" (`{info.name}()` runs in several tasks: {overlap})")
            )
            yield _across_await(
                self.code,
                facts,
                suspension,
                act,
                check,
                "checked",
                f"stores the key checked with `{check.display}` at line {check.span.row}, after the suspension "
                f"point at {{where}} in `async def {info.name}()`: other tasks miss the same key meanwhile and "
                "compute it again",
                "store atomically (`set(key, value, nx=True)`, `add`), share the in-flight future, or hold a lock "
                "across check and store",
                why,
            )

    def _set_up_behind_a_flag(self, project, facts: ModuleFacts, qualname: str, info, state) -> Iterable[Finding]:
        """``if self._ready: return; await self._load(); self._ready = True`` in a coroutine that
        runs in several tasks (request handlers, tasks spawned repeatedly): every request that
        arrives during the set-up passes the flag and runs the set-up again."""
        model = project.model
        for write in state.writes:
            check = write.checked_by
            if write.kind != "assign" or write.literal not in TRUE_LITERALS or check is None or write.claimed:
                continue
            if check.suspensions >= write.suspensions or _common_async_lock(check, write) or check.claimed:
                continue
            if any(_claims(other, write, check) for other in state.writes) or not _tracked(write.key, project):
                continue
            overlap = model.tasks.runs_in_several_tasks(qualname)
            if overlap is None or _locked_by_callers(project, qualname):
                continue
            suspension = _real_suspension(project, qualname, state, check, write)
            if suspension is None or _rechecked_under_lock(state, write):
                continue
            if write.key.startswith("self:") and not _shared_self(project, qualname, write)[0]:
                continue
            why = f" ({overlap})" if overlap.startswith("assumed shared") else f" (`{info.name}()` runs in "
            why += "" if overlap.startswith("assumed shared") else f"several tasks: {overlap})"
            yield _across_await(
                self.code,
                facts,
                suspension,
                write,
                check,
                "checked",
                f"is checked at line {check.span.row} and set only after the set-up awaits at {{where}} in "
                f"`async def {info.name}()`: every task that arrives meanwhile passes the check and runs the set-up "
                "again",
                "set the flag (or store the set-up's task) before the first await, or hold an `asyncio.Lock` "
                "across check and set-up",
                why,
            )

    def _acts_in_helpers(self, project, facts: ModuleFacts, qualname: str, info, state) -> Iterable[Finding]:
        """``if time.time() >= self.expires_at: await self._refresh()`` where ``_refresh`` writes
        ``self.expires_at`` after its own await: every task that passes the check refreshes."""
        model = project.model
        if not state.helper_awaits or _locked_by_callers(project, qualname):
            return
        reported = set()
        for index, checked in state.helper_awaits:
            if not 0 <= index < len(state.suspension_spans):
                continue
            span = state.suspension_spans[index]
            helper = model.suspensions.awaited_target(qualname, span, state.suspension_targets[index])
            entry = model.program.functions.get(helper) if helper is not None else None
            helper_state = entry[1].state.get(helper) if entry is not None and entry[0].is_async else None
            if helper_state is None or helper == qualname:
                continue  # a coroutine awaiting itself again is checked as itself
            locked = any(_within(call, span) for call in state.async_locked_calls)
            tracked = [read for read in checked if _tracked(read.key, project)]
            # decided again under the lock the call holds (double-checked locking): the outer,
            # unlocked check of the same state is only a shortcut
            rechecked = {model.program.canonical_key(read.key) for read in tracked if locked and read.async_locks}
            checks = {
                model.program.canonical_key(read.key): read
                for read in tracked
                if model.program.canonical_key(read.key) not in rechecked
            }
            for write in helper_state.writes:
                key = model.program.canonical_key(write.key)
                check = checks.get(key)
                if check is None or key in reported or not _acts_after_own_await(project, helper, helper_state, write):
                    continue
                if check.claimed or (write.key.startswith("self:") and model.tasks.background_routine(qualname)):
                    continue
                shared, why = _shared_self(project, qualname, write)
                if not shared:
                    continue
                reported.add(key)
                name = model.program.display_name(helper)
                message = (
                    f"`{check.display}` is checked at line {check.span.row}, then written by `{name}()` after its own "
                    f"await (line {write.span.row}) in `async def {info.name}()`: other tasks pass the same check "
                    f"meanwhile{why}. Fix: share the in-flight future, re-check after the await, or hold an "
                    "`asyncio.Lock` across check and act"
                )
                related = (
                    Related(f"`{check.display}` checked here", facts.path, check.span),
                    Related(f"`{write.display}` written here, after `{name}()` suspended", entry[1].path, write.span),
                )
                yield Finding(self.code, message, facts.path, span, related)


def _acts_after_own_await(project, helper: str, state: FunctionState, write: Write) -> bool:
    """``write`` is an act of the helper after a suspension point of its own that lets other
    tasks run, and the helper does not decide it again after that await."""
    if write.kind not in (*RMW_KINDS, "mutate") or (write.kind == "assign" and write.literal is not None):
        return False
    if write.suspensions == 0 or write.async_locks or write.claimed:
        return False
    if write.checked_by is not None:
        return False  # the helper decides it itself (again after the await, or as its own check-then-act)
    spans, targets = state.suspension_spans, state.suspension_targets
    return any(
        not project.model.suspensions.awaits_without_suspending(
            helper, spans[i], targets[i] if i < len(targets) else ""
        )
        for i in range(min(write.suspended_at + 1, len(spans)))
    )


class StaleReadAcrossCallbacks(Rule):
    code = "CCL113"
    name = "stale-read-across-callbacks"
    summary = "A value read in one loop callback is written back, stale, in a callback scheduled from it."
    explanation = """
        In callback style (`loop.call_soon`, `call_later`, `call_at`, `add_done_callback`)
        each callback runs atomically, but a value read in one callback and handed to a
        later one (as an argument or through a closure) is stale by the time the later
        callback writes it back: 100 timers that each read a counter and schedule its
        increment end with a total near 4.

        Fix: read the state in the callback that writes it.
    """
    bad = (
        """
        import asyncio

        total = 0

        def write_back(value):
            global total
            total = value + 1

        def read_then_schedule(loop):
            loop.call_later(0.01, write_back, total)
        """,
    )
    good = (
        """
        import asyncio

        total = 0

        def increment():
            global total
            total = total + 1

        def schedule(loop):
            loop.call_later(0.01, increment)
        """,
    )
    scenario = "lost-update-evented"

    def check(self, project, facts: ModuleFacts) -> Iterable[Finding]:
        model = project.model
        calls_by_span = {call.span: call for call in facts.calls}
        for scheduler, state in facts.state.items():
            for schedule in state.schedules:
                call = calls_by_span.get(schedule.span)
                # ``asyncio.get_running_loop().call_later(...)``: a chained receiver has no dotted text
                position = CALLBACK_POSITION.get(call.method or call.text.rsplit(".", 1)[-1]) if call else None
                if position is None or position >= len(call.args):
                    continue
                callback = model.program.resolve_ref(call.args[position], call)
                if callback is None:
                    continue
                # what each parameter of the callback receives: a partial's arguments first
                passed = [*schedule.partial_sources.get(position, ()), *schedule.arg_sources[position + 1 :]]
                yield from self._stale_writes(project, facts, scheduler, state, schedule, callback, passed)

    def _stale_writes(self, project, facts, scheduler, state, schedule, callback, passed, depth=0) -> Iterable[Finding]:
        """Writes in ``callback`` (or, for a lambda, in what it calls) from values read in ``scheduler``."""
        model = project.model
        info, callback_facts = model.program.functions[callback]
        callback_state = callback_facts.state.get(callback)
        if callback_state is None:
            return
        params = list(info.params[1:] if info.self_name else info.params)
        received = {name: passed[i] for i, name in enumerate(params) if i < len(passed)}
        for write in callback_state.writes:
            if write.kind not in RMW_KINDS or write.derived_from is not None or not _tracked(write.key, project):
                continue
            key = model.program.canonical_key(write.key)
            if key is None or not self._carries(key, write.sources, received, scheduler, state, model):
                continue
            read = next((r for r in state.reads if model.program.canonical_key(r.key) == key), None)
            if read is None:
                continue
            message = (
                f"`{write.display}` is written back in callback `{model.program.display_name(callback)}()` "
                f"from a value read at line {read.span.row} in `{model.program.display_name(scheduler)}()`, "
                "which scheduled it: other callbacks run in between and their updates are lost. "
                f"Fix: read `{write.display}` in the callback that writes it"
            )
            related = (
                Related(f"`{read.display}` read here", facts.path, read.span),
                Related("callback scheduled here", facts.path, schedule.span),
            )
            yield Finding(self.code, message, callback_facts.path, write.span, related)
        if info.is_lambda and depth == 0:
            # ``call_later(0.1, lambda: store(value))``: follow the lambda into what it calls
            calls_by_span = {call.span: call for call in callback_facts.calls}
            for inner in callback_state.lambda_calls:
                call = calls_by_span.get(inner.span)
                target = model.program.resolve_call(call) if call is not None else None
                if target is not None:
                    yield from self._stale_writes(
                        project, facts, scheduler, state, schedule, target, list(inner.arg_sources), 1
                    )

    @staticmethod
    def _carries(key, sources, received, scheduler, state, model) -> bool:
        """Does a value built from ``sources`` carry the scheduler's read of ``key``?"""
        for source in sources:
            if source.startswith("arg:"):
                carried = received.get(source[4:], ())
                if any(model.program.canonical_key(k) == key for k in carried):
                    return True
                # a lambda's argument that is one of the scheduler's locals
                if any(
                    k.startswith(f"cell:{scheduler}.") and key in _local_keys(k, scheduler, state, model)
                    for k in carried
                ):
                    return True
            elif source.startswith(f"cell:{scheduler}.") and key in _local_keys(source, scheduler, state, model):
                return True
        return False


def _local_keys(cell: str, scheduler: str, state, model) -> set:
    local = cell[len(f"cell:{scheduler}.") :]
    return {model.program.canonical_key(k) for k in state.local_sources.get(local, ())}
