"""Shared-state accesses of one function, in evaluation order, with the locks held.

Runs after the module's scopes are complete, as a small walk of our own over the
function's statements (no libcst visit): for every read and write of state that can be
shared (module globals, class attributes, attributes of ``self``, closure cells) it
records which thread and event-loop locks are held, how many suspension points came
before, which earlier read a written value derives from, and which enclosing condition
checked the same state. Locals are followed only as carriers of such reads.
"""

from __future__ import annotations

from dataclasses import fields
from typing import Dict, List, Optional, Sequence, Set, Tuple

import libcst as cst

from conclint.engine.deadline import deadline
from conclint.model.apis import (
    MUTATING_METHODS,
    SCOPED_POOL_TYPES,
    SYNCHRONIZING_DECORATORS,
    THREAD_LOCAL_TYPES,
)
from conclint.model.facts import Access, Escape, FunctionInfo, FunctionState, Schedule, Write
from conclint.model.fork_branches import ForkBranches
from conclint.model.guards import UNKNOWN, mentions, negate
from conclint.model.guards import condition as parameter_condition
from conclint.model.held_locks import LockTracking, release
from conclint.model.positions import SpanMarker
from conclint.model.scopes import (
    DEFINITION,
    IMPORT,
    VALUE,
    Scope,
    block_ends_with,
    caught_names,
    dotted_parts,
    resolve_dotted,
)

Reads = List[Access]


EXITS = (cst.Return, cst.Raise, cst.Continue, cst.Break)
PURE_BUILTINS = frozenset(
    {
        "len",
        "int",
        "float",
        "str",
        "bool",
        "abs",
        "min",
        "max",
        "sum",
        "round",
        "list",
        "tuple",
        "dict",
        "set",
        "frozenset",
        "sorted",
        "reversed",
        "divmod",
        "pow",
        "bytes",
        "repr",
        "hash",
    }
)
EXEC_CALLS = frozenset(
    {"os._exit", "os.execv", "os.execve", "os.execl", "os.execle", "os.execlp", "os.execlpe", "os.execvp", "os.execvpe"}
)
# calls whose arguments do not escape: passing an owned object to them does not publish it
HARMLESS_BUILTINS = PURE_BUILTINS | frozenset({"print", "isinstance", "id", "type", "callable", "getattr", "hasattr"})
SCHEDULING_METHODS = frozenset({"call_soon", "call_soon_threadsafe", "call_later", "call_at", "add_done_callback"})
# a value that claims a guard (``self._closing = True``, ``self._task = Task()``) and one that releases it
CLAIMING_LITERALS = ("True", "1")
# awaited calls of an external store's client (a cache, Redis): a lookup, and a store that does not
# refuse an existing key (``set(key, v, nx=True)``, ``add`` and ``setnx`` do: they are atomic)
STORE_LOOKUPS = frozenset({"exists", "get", "has", "has_key", "contains", "hexists", "hget", "get_value"})
STORE_WRITES = frozenset({"set", "hset", "setex", "psetex", "put", "set_value"})
RELEASING_LITERALS = ("False", "None", "0")


FILLING_METHODS = frozenset({"append", "appendleft", "extend", "extendleft", "insert", "add", "update"})


def analyse_function_state(collector, info: FunctionInfo, node: cst.CSTNode, scope: Scope) -> Optional[FunctionState]:
    walker = AccessWalker(collector, info, node, scope)
    if isinstance(node, cst.Lambda):
        walker.expr(node.body)
    elif isinstance(node, cst.Module):
        for statement in node.body:
            walker.statement(statement)
    else:
        walker.block(node.body)
    return walker.finish()


class AccessWalker(LockTracking, ForkBranches):
    def __init__(self, collector, info: FunctionInfo, node: cst.CSTNode, scope: Scope) -> None:
        self.collector = collector
        self.facts = collector.facts
        self.info = info
        self.scope = scope
        self.state = FunctionState()
        synchronized = any(d in SYNCHRONIZING_DECORATORS for d in info.decorators)
        self.locks: List[str] = ["@synchronized#0"] if synchronized else []
        self.lock_identity: Dict[str, str] = {}
        self.regions = 0
        self.owned: Set[str] = set()  # locals holding an object this call built and has not published
        self.loop_replays = 0
        self.path_suspensions = 0
        self.last_suspension = -1
        self.last_lookup: Optional[list] = None  # the key lookup the last ``try`` statement guarded with
        self.literal_value: Optional[str] = None  # the constant being assigned, as written
        self.building: Optional[str] = None  # what the value being assigned constructs
        self.async_locks: List[str] = []
        self.taint: Dict[str, Reads] = {}
        # locals holding what an await returned (``resp = await ...``) or part of it, with the
        # suspension points on the path when it was returned
        self.fresh: Dict[str, int] = {}
        self.required: List[Tuple[str, ...]] = []  # per enclosing if body: the parameters its test needs true
        self.rebound: set = set()  # parameters assigned again in the body
        self.param_guards: List[tuple] = []  # the conditions on parameters holding here (model/guards.py)
        self.wait_guards: set = set()  # ids of the checks that are a wait loop's last test
        self.checks: List[Reads] = []
        self.claims: Dict[int, str] = {}  # id of a check on the stack -> the state this call claimed under it
        self.store_checks: List[List[Access]] = []  # per enclosing condition: the store lookups it tested
        self.awaited_call: Optional[cst.BaseExpression] = None  # the call an ``await`` is evaluating
        self.store_made: List[Access] = []  # store lookups of the expression being walked
        self.store_taint: Dict[str, Access] = {}  # local -> the store lookup it holds (``hit = await c.get(k)``)
        self.test_store_checks: List[Access] = []  # those of the last ``if`` test (for a guard that follows)
        self.pending_escape: Optional[Escape] = None  # what follows a ``try`` whose body returns: until the block ends
        self.conditions: List[Reads] = []  # every condition a write was checked by, numbered
        self.comprehension_names: List[set] = []
        self.schedule_markers: List[Tuple[cst.Call, List[Reads], Dict[int, List[Reads]], bool]] = []
        self.params = set()
        self.at_module = isinstance(node, cst.Module)
        self.fork_vars: Dict[str, cst.Call] = {}
        self.in_child = 0
        parameters = node.params if not self.at_module else cst.Parameters()
        for param in [*parameters.posonly_params, *parameters.params, *parameters.kwonly_params]:
            name = param.name.value
            if name != info.self_name:
                self.params.add(name)
                self.taint[name] = [Access(f"arg:{name}", name, None, (), (), 0)]

    def finish(self) -> Optional[FunctionState]:
        state = self.state
        for marker in state.suspension_spans:  # a flag assigned again no longer holds its default
            marker.requires = tuple(name for name in marker.requires if name not in self.rebound)
        for write in state.writes:  # a parameter assigned again no longer holds what the caller passed
            if write.requires:
                write.requires = tuple(tree for tree in write.requires if not mentions(tree) & self.rebound)
        for node, arguments, partials, scheduled in self.schedule_markers:
            schedule = Schedule(
                None, _keys_per_argument(arguments), {i: _keys_per_argument(p) for i, p in partials.items()}
            )
            self.collector.position_later(schedule, node)
            (state.schedules if scheduled else state.lambda_calls).append(schedule)
        if not any(getattr(state, f.name) for f in fields(state)):
            return None
        return state

    def set_taint(self, name: str, reads: Reads) -> None:
        """A local now carries these reads; remember every key it ever carried (closures see it)."""
        self.taint[name] = list(reads)
        self.owned.discard(name)
        if name in self.params:
            self.rebound.add(name)
        self.fresh.pop(name, None)  # bound anew; the binding marks it fresh again if it is
        keys = {r.key for r in reads if not r.key.startswith("arg:")}
        if keys:
            self.state.local_sources[name] = tuple(sorted(keys | set(self.state.local_sources.get(name, ()))))

    # ---- keys -----------------------------------------------------------
    def key_of(self, parts: Sequence[str]) -> Optional[Tuple[str, str]]:
        """(key, display) for a dotted reference to shared state, None for locals and modules."""
        head = parts[0]
        display = ".".join(parts)
        if any(head in names for names in self.comprehension_names):
            return None
        info = self.info
        if info.self_name == head and info.class_qualname:
            return self._object_key(info, parts, display)
        owner = self.scope.owner_of(head)
        if owner is self.scope and head in self.params and len(parts) >= 2:
            return f"param:{info.qualname}.{display}", display
        if owner is None or (owner is self.scope and not self.at_module):
            return None
        if owner.kind == "module":
            binding = owner._best(head)
            if binding is not None and binding.kind == IMPORT and binding.target:
                # another module's global (``from store import totals``, ``store.count``);
                # the model keeps only those that are variables of a project module
                return f"global:{binding.target}{display[len(head) :]}", display
            if binding is None or binding.kind not in (VALUE, DEFINITION):
                return None
            if binding.kind == DEFINITION:
                if len(parts) >= 2 and binding.target in self.facts.classes:
                    return f"class:{binding.target}.{'.'.join(parts[1:])}", display
                return None
            if self.facts.global_types.get(head) in THREAD_LOCAL_TYPES:
                return None
            return f"global:{self.facts.module}.{display}", display
        if owner.kind in ("function", "lambda") and owner.function is not None:
            enclosing = owner.function
            if enclosing.self_name == head and enclosing.class_qualname:
                # the enclosing method's ``self`` (or ``cls``), captured by a closure: its state
                return self._object_key(enclosing, parts, display)
            return f"cell:{owner.function.qualname}.{display}", display
        return None

    def _object_key(self, method: FunctionInfo, parts: Sequence[str], display: str) -> Optional[Tuple[str, str]]:
        """The key of ``self.x`` (``cls.x``) in ``method`` or a closure inside it."""
        if len(parts) < 2:
            return None
        owner = method.class_qualname
        if "classmethod" in method.decorators:
            return f"class:{owner}.{'.'.join(parts[1:])}", display
        if parts[1] == "__class__" and len(parts) >= 3:
            return f"class:{owner}.{'.'.join(parts[2:])}", display
        known = self.facts.classes.get(owner)
        if known is not None and known.attribute_types.get(parts[1]) in THREAD_LOCAL_TYPES:
            return None
        return f"self:{owner}.{'.'.join(parts[1:])}", display

    def _type_of(self, parts: Sequence[str]) -> Optional[str]:
        if len(parts) == 1:
            return self.scope.value_type(parts[0]) or self.facts.global_types.get(parts[0])
        if len(parts) == 2 and self.info.self_name == parts[0] and self.info.class_qualname:
            owner = self.facts.classes.get(self.info.class_qualname)
            return owner.attribute_types.get(parts[1]) if owner else None
        return None

    # ---- recording ------------------------------------------------------
    def _access(self, cls, key: str, display: str, node: cst.CSTNode, **extra):
        access = cls(
            key=key,
            display=display,
            span=None,
            locks=tuple(self.locks),
            lock_keys=self.held_lock_keys(),
            async_locks=tuple(self.async_locks),
            suspensions=self.path_suspensions,
            suspended_at=self.last_suspension,
            in_child=self.in_child > 0,
            claimed=bool(self.claims) and any(id(reads) in self.claims for reads in self.checks),
            **extra,
        )
        self.collector.position_later(access, node)
        return access

    def read(self, key: str, display: str, node: cst.CSTNode) -> Access:
        access = self._access(Access, key, display, node)
        self.state.reads.append(access)
        return access

    def _condition_number(self, reads: Reads) -> int:
        """The same number for every write a condition guards (the reads are its identity)."""
        for number, known in enumerate(self.conditions):
            if known is reads:
                return number
        self.conditions.append(reads)
        return len(self.conditions) - 1

    def write(
        self, key: str, display: str, node: cst.CSTNode, kind: str, derived: Reads, own_read: Optional[Access] = None
    ) -> Write:
        """``own_read``: an augmented assignment's load of its target, the read its value derives from."""
        # the freshest read of the same state the value uses: ``self.x = min(self.x, before + 1)``
        # merges what other tasks stored meanwhile, it does not overwrite it
        same = [r for r in reversed(derived) if r.key == key]
        derived_from = own_read or (max(same, key=lambda r: r.suspensions) if same else None)
        checked_by, condition, check = None, -1, None
        for reads in reversed(self.checks):
            if id(reads) in self.wait_guards and kind != "mutate":
                continue
            # ``if self.session.closed:`` checks ``self.session`` through what it holds
            matching = [r for r in reads if r.key == key or r.key.startswith(key + ".")]
            if matching:  # the freshest read decides (a re-check after an await wins over a snapshot)
                checked_by = max(matching, key=lambda r: r.suspensions)
                condition = self._condition_number(reads)
                check = reads
                break
        sources = tuple(sorted({r.key for r in derived}))
        held = set(self.async_locks)
        rechecked = tuple(sorted({r.key for reads in self.checks for r in reads if held & set(r.async_locks)}))
        write = self._access(
            Write,
            key,
            display,
            node,
            kind=kind,
            derived_from=derived_from,
            checked_by=checked_by,
            sources=sources,
            rechecked=rechecked,
            condition=condition,
            built=self.building if kind in ("assign", "item") else None,
            literal=self.literal_value if kind in ("assign", "item") else None,
            requires=tuple(self.param_guards),
        )
        self.state.writes.append(write)
        if kind == "assign":
            self._claim(key, check, checked_by)
        return write

    def _claim(self, key: str, check: Optional[Reads], checked_by: Optional[Access]) -> None:
        """``if self._closing: return; self._closing = True`` before any await: a re-entry guard
        this call now holds, until the check ends or the state is set back (``= False``)."""
        if self.literal_value in RELEASING_LITERALS:
            for held in [c for c, claimed in self.claims.items() if claimed == key]:
                del self.claims[held]
            return
        made = (self.building or "").rsplit(".", 1)[-1]
        claiming = (made[:1].isupper() and self.literal_value is None) or self.literal_value in CLAIMING_LITERALS
        if check is not None and claiming and checked_by.suspensions == self.path_suspensions:
            self.claims.setdefault(id(check), key)

    def pop_check(self) -> Reads:
        reads = self.checks.pop()
        self.claims.pop(id(reads), None)
        self.wait_guards.discard(id(reads))  # its id may be reused once it is gone
        return reads

    def suspend(self, node: cst.CSTNode) -> None:
        """Mark a suspension point; its span is filled in with the others' positions."""
        marker = SpanMarker()
        marker.target = _suspension_target(node)
        marker.requires = tuple(sorted({name for names in self.required for name in names}))
        self.collector.position_later(marker, node)
        self.state.suspension_spans.append(marker)
        self.path_suspensions += 1
        self.last_suspension = len(self.state.suspension_spans) - 1

    def _helper_await(self, node: cst.Await) -> None:
        """``if time.time() >= self.expires_at: await self._refresh()``: the helper may act on the
        checked state after its own await (the model knows what it writes)."""
        call = node.expression
        parts = dotted_parts(call.func) if isinstance(call, cst.Call) else None
        if not parts or len(parts) != 2 or parts[0] != self.info.self_name or not self.checks:
            return
        checked = tuple(
            read
            for reads in self.checks
            if id(reads) not in self.wait_guards
            for read in reads
            if read.key.startswith(("self:", "global:", "class:"))
        )
        if checked:
            self.state.helper_awaits.append((self.last_suspension, checked))

    def _store_act(self, act: Access) -> None:
        for checks in reversed(self.store_checks):
            lookups = [check for check in checks if check.key == act.key]
            if lookups:
                self.state.store_acts.append((lookups[-1], act))
                return

    def _store_checks_of(self, test: cst.BaseExpression, made_before: int) -> List[Access]:
        """The store lookups a test made or reads through locals (``if hit is None:``)."""
        found = self.store_made[made_before:]
        del self.store_made[made_before:]
        if self.store_taint:
            found += [self.store_taint[n.value] for n in _names_in(test) if n.value in self.store_taint]
        return found

    def path_mark(self) -> Tuple[int, int, Tuple[str, ...]]:
        return self.path_suspensions, self.last_suspension, tuple(self.locks)

    def rejoin(self, mark: Tuple[int, int, Tuple[str, ...]]) -> None:
        """After a branch that always leaves (return, raise...), what it did is not on the
        path of the code that follows: its suspension points and the locks it took."""
        self.path_suspensions, self.last_suspension, locks = mark
        self.locks[:] = list(locks)

    def _escape(self, handler, suspension: int, awaited: cst.Await, start, record: bool = True) -> Escape:
        """Code reached through ``handler`` when the try body's one await raised (maybe before it suspended)."""
        caught = tuple(caught_names(handler))
        marker = SpanMarker()
        self.collector.position_later(marker, start)
        # the region's ends, made a Span once positions are known (``after``: from the end of ``start``)
        escape = Escape(
            (marker, marker, False), suspension, caught, _looked_up(awaited) and bool(set(caught) & LOOKUP_RAISES)
        )
        if record:
            self.state.escapes.append(escape)
        return escape

    # ---- statements -----------------------------------------------------
    def block(self, body) -> None:
        if isinstance(body, cst.SimpleStatementSuite):
            for small in body.body:
                self.small(small)
            return
        guards = store_guards = param_guards = 0
        for statement in body.body:
            self.last_lookup = None
            self.store_made.clear()
            self.statement(statement)
            if self.pending_escape is not None:
                until = SpanMarker()
                self.collector.position_later(until, body.body[-1])
                self.pending_escape.region = (self.pending_escape.region[0], until, True)
                self.state.escapes.append(self.pending_escape)
                self.pending_escape = None
            if isinstance(statement, cst.If) and statement.orelse is None and block_ends_with(statement.body, EXITS):
                # ``if x is not None: return x`` guards everything after it, like an else
                self.checks.append(self._guard_reads(statement.test))
                guards += 1
                self.store_checks.append(self.test_store_checks)  # ``if await c.exists(k): return``
                store_guards += 1
                tree = self._param_condition(statement.test)
                if tree is not None:  # ``if not init: raise``: the rest of the block needs ``init``
                    self.param_guards.append(negate(tree))
                    param_guards += 1
                # ``if not lock.acquire(False): return``: the rest of the block holds the lock
                test = statement.test
                if isinstance(test, cst.UnaryOperation) and isinstance(test.operator, cst.Not):
                    acquired = self._acquired_lock(test.expression)
                    if acquired:
                        self.hold(self.locks, acquired)
            elif (
                isinstance(statement, cst.While)
                and statement.orelse is None
                and not _holds(statement.body, cst.Break)
                and not _holds(statement.test, cst.Await)
            ):
                # ``while not self._free: await sleep()``: what follows runs just after the test
                # was read again, with no suspension point since; it decides a take
                # (``self._free.pop()``), not a value computed before the loop
                guard = self._guard_reads(statement.test)
                self.wait_guards.add(id(guard))
                self.checks.append(guard)
                guards += 1
            elif (
                isinstance(statement, (cst.Try, cst.TryStar))
                and self.last_lookup
                and block_ends_with(statement.body, EXITS)
            ):
                # ``try: return cache[key] except KeyError: pass``: what follows runs on a miss
                self.checks.append(self.last_lookup)
                guards += 1
        for _ in range(guards):
            self.pop_check()
        del self.store_checks[len(self.store_checks) - store_guards :]
        del self.param_guards[len(self.param_guards) - param_guards :]

    def _param_condition(self, test: cst.BaseExpression) -> Optional[tuple]:
        """The test as a condition on the parameters, None when it says nothing of them."""
        tree = parameter_condition(test, self.params) if self.params else UNKNOWN
        return tree if mentions(tree) else None

    def _guard_reads(self, test: cst.BaseExpression) -> Reads:
        """The shared state a guard tested, without recording its reads (or writes:
        ``while queue.pop():``) a second time."""
        reads, writes = self.state.reads, self.state.writes
        before, written = len(reads), len(writes)
        found = self.expr(test)
        del reads[before:]
        del writes[written:]
        return found

    def statement(self, node: cst.CSTNode) -> None:
        deadline.tick()
        if isinstance(node, cst.SimpleStatementLine):
            for small in node.body:
                self.small(small)
        elif isinstance(node, cst.If):
            self.conditional(node.test, node.body, node.orelse)
        elif isinstance(node, cst.While):
            acquired = self._acquired_lock(node.test)
            reads = self.expr(node.test)
            self.checks.append(reads)
            if acquired:
                self.hold(self.locks, acquired)
            self.loop_body(node.body)
            if acquired:
                release(self.locks, acquired)
            self.pop_check()
            if node.orelse is not None:
                self.block(node.orelse.body)
        elif isinstance(node, cst.For):
            reads = self.expr(node.iter)
            self.bind_local(node.target, reads)
            fresh = self.fresh_since(node.iter)
            if node.asynchronous is not None:
                self.suspend(node)
                fresh = self.path_suspensions  # each item is what the iteration's await returned
            if fresh is not None:
                self.mark_fresh(node.target, fresh)
            self.loop_body(node.body, node if node.asynchronous is not None else None)
            if node.orelse is not None:
                self.block(node.orelse.body)
        elif isinstance(node, cst.With):
            self.with_statement(node)
        elif isinstance(node, (cst.Try, cst.TryStar)):
            before = len(self.state.reads)
            suspended = len(self.state.suspension_spans)
            self.block(node.body)
            # in coroutines only: a thread's memo dict filled twice with equal values is benign
            lookup = _lookup_guard(node, self.state.reads[before:]) if self.info.is_async else None
            single = _single_await(node) if len(self.state.suspension_spans) == suspended + 1 else None
            for handler in node.handlers:
                if single is not None:
                    self._escape(handler, suspended, single, handler)
                caught = lookup and _catches_missing_key(handler)
                if caught:
                    self.checks.append(lookup)  # the handler runs when the key is missing
                self.block(handler.body)
                if caught:
                    self.pop_check()
            going_on = [h for h in node.handlers if not block_ends_with(h.body, EXITS)]
            if single is not None and node.orelse is None and len(going_on) == 1 and block_ends_with(node.body, EXITS):
                self.pending_escape = self._escape(going_on[0], suspended, single, node, record=False)
            if node.orelse is not None:
                self.block(node.orelse.body)
            if node.finalbody is not None:
                self.block(node.finalbody.body)
            self.last_lookup = lookup
        elif isinstance(node, cst.Match):
            self.expr(node.subject)
            for case in node.cases:
                self.block(case.body)
        # nested functions and classes are analysed on their own

    def loop_body(self, body, next_iteration: Optional[cst.CSTNode] = None) -> None:
        """Walk a loop body; in a coroutine whose loop suspends, walk it once more as the next
        round would run, so a value read late in one round and written back after the next
        round's await is seen (the second walk only completes what the first recorded)."""
        first_writes = len(self.state.writes)
        first_reads = len(self.state.reads)
        suspended_before = len(self.state.suspension_spans)
        self.block(body)
        if not (self.info.is_async and self.loop_replays < 2 and len(self.state.suspension_spans) > suspended_before):
            return
        real = self.state
        earlier = {id(read) for read in real.reads[first_reads:]}
        writes = real.writes[first_writes:]
        self.state = FunctionState(suspension_spans=list(real.suspension_spans))
        markers = len(self.schedule_markers)
        after_first = self.path_mark()
        self.loop_replays += 1
        if next_iteration is not None:
            self.suspend(next_iteration)
        self.block(body)
        self.loop_replays -= 1
        replay, self.state = self.state, real
        del self.schedule_markers[markers:]
        for first, again in zip(writes, replay.writes):
            if first.derived_from is None and again.derived_from is not None and id(again.derived_from) in earlier:
                first.derived_from = again.derived_from
                first.suspensions = again.suspensions
                first.suspended_at = again.suspended_at
        real.suspension_spans.extend(replay.suspension_spans[len(real.suspension_spans) :])
        self.path_suspensions, self.last_suspension = after_first[0], after_first[1]

    def conditional(self, test, body, orelse) -> None:
        acquired = self._acquired_lock(test)
        child_side, fork = self._fork_test(test)
        made_before = len(self.store_made)
        reads = self.expr(test)
        self.checks.append(reads)
        store_checks = self._store_checks_of(test, made_before)
        self.store_checks.append(store_checks)
        before = self.path_mark()
        fresh_before = dict(self.fresh)
        if acquired:
            self.hold(self.locks, acquired)
        self.required.append(tuple(name for name in _names_required_true(test) if name in self.params))
        tree = self._param_condition(test)
        self.param_guards.extend([tree] if tree is not None else [])
        self._branch(body, child_side == "body", fork)
        if tree is not None:
            self.param_guards[-1] = negate(tree)  # the else branches run when the test failed
        self.required.pop()
        if acquired:
            release(self.locks, acquired)
        after_body = before if block_ends_with(body, EXITS) else self.path_mark()
        fresh_body = None if block_ends_with(body, EXITS) else self.fresh
        self.fresh = fresh_before
        self.rejoin(before)  # the else branch starts where the body started
        if isinstance(orelse, cst.If):
            self.in_child += child_side == "orelse"
            self.conditional(orelse.test, orelse.body, orelse.orelse)
            self.in_child -= child_side == "orelse"
        elif orelse is not None:
            self._branch(orelse.body, child_side == "orelse", fork)
        if tree is not None:
            self.param_guards.pop()
        else_leaves = orelse is not None and not isinstance(orelse, cst.If) and block_ends_with(orelse.body, EXITS)
        after_else = before if else_leaves else self.path_mark()
        # the code after the if follows whichever branch did not leave (the longer path if both went on)
        self.rejoin(max(after_body, after_else, key=lambda mark: mark[0]))
        # a local is fresh after the if only when it is on every path that goes on
        paths = [fresh for fresh in (fresh_body, None if else_leaves else self.fresh) if fresh is not None]
        self.fresh = (
            {name: min(p[name] for p in paths) for name in paths[0] if all(name in p for p in paths)} if paths else {}
        )
        self.pop_check()
        self.store_checks.pop()
        self.test_store_checks = store_checks

    def with_statement(self, node: cst.With) -> None:
        asynchronous = node.asynchronous is not None
        held: List[Tuple[str, str]] = []
        for item in node.items:
            reads = self.expr(item.item)
            kind = self.lock_kind(item.item, asynchronous)
            value_lock = self.value_lock(item.item) if not asynchronous else None
            if value_lock is not None:
                held.append(("thread", value_lock))
            elif kind == "imported":
                # maybe a lock built in another module: the model decides ("?" + its qualified name)
                held.append(("thread", "?" + self._imported_object(dotted_parts(item.item))))
            elif kind == "inherited":
                held.append(("thread", f"?self:{self.info.class_qualname}.{dotted_parts(item.item)[1]}"))
            elif kind is not None:
                held.append((kind, ".".join(dotted_parts(item.item) or [])))
            if asynchronous:
                self.suspend(item)
            if item.asname is not None:
                self.bind_local(item.asname.name, reads)
                self.own(item.asname.name, item.item)
            if self._is_pool(item.item):
                marker = SpanMarker()
                self.collector.position_later(marker, node)
                self.state.scoped_pools.append(marker)
        for kind, name in held:
            self.hold(self.locks if kind == "thread" else self.async_locks, name)
            if kind == "thread" and not asynchronous:
                # key: the lock as held ("?pkg.locks.guard" when only the model can tell it is one)
                self.state.thread_lock_withs.append(
                    self._access(
                        Access,
                        name,
                        name.lstrip("?").rsplit(".", 1)[-1] if name.startswith("?") else name,
                        node.items[0],
                    )
                )
        self.block(node.body)
        for kind, name in held:
            release(self.locks if kind == "thread" else self.async_locks, name)
        if asynchronous:
            self.suspend(node)

    def small(self, node: cst.BaseSmallStatement) -> None:
        if isinstance(node, cst.Assign):
            if self._holding_result(node.value):
                return
            made_before = len(self.store_made)
            reads = self.expr(node.value)
            looked_up = self.store_made[made_before:]
            for target in node.targets:
                if isinstance(target.target, cst.Name):
                    if looked_up:
                        self.store_taint[target.target.value] = looked_up[-1]
                    else:
                        self.store_taint.pop(target.target.value, None)
            fresh = self.fresh_since(node.value)
            for target in node.targets:
                # ``self.x = await self.x``: the stored awaitable's result, the same for every task awaiting it
                resolves = isinstance(node.value, cst.Await) and _same_expression(node.value.expression, target.target)
                self.assign_target(target.target, [] if resolves else reads, node.value)
                if fresh is not None:
                    self.mark_fresh(target.target, fresh)
            self.building = self.literal_value = None
        elif isinstance(node, cst.AnnAssign):
            if node.value is not None:
                self.assign_target(node.target, self.expr(node.value), node.value)
                fresh = self.fresh_since(node.value)
                if fresh is not None:
                    self.mark_fresh(node.target, fresh)
        elif isinstance(node, cst.AugAssign):
            self.augmented(node)
        elif isinstance(node, cst.Expr):
            if not self._lock_call(node.value):
                self.expr(node.value)
        elif isinstance(node, cst.Return):
            if node.value is not None:
                self.publish(node.value)
                self.expr(node.value)
                if isinstance(node.value, cst.Call) and self.info.returns is None:
                    self.info.returns = self.collector.resolve_type(self.scope, dotted_parts(node.value.func) or [])
        elif isinstance(node, cst.Del):
            self.delete(node.target)
        elif isinstance(node, cst.Raise):
            if node.exc is not None:
                self.expr(node.exc)
                parts = dotted_parts(node.exc.func if isinstance(node.exc, cst.Call) else node.exc)
                if parts:
                    self.state.raises.append((parts[-1], self.path_suspensions))
        elif isinstance(node, cst.Assert):
            self.expr(node.test)

    def augmented(self, node: cst.AugAssign) -> None:
        target = node.target
        if isinstance(target, cst.Name):
            resolved = self.writable_name(target.value)
            if resolved is None:
                self.set_taint(target.value, self.taint.get(target.value, []) + self.expr(node.value))
                return
            before = self.read(*resolved, target)
            self.write(*resolved, target, "rmw", [before, *self.expr(node.value)], own_read=before)
            return
        if isinstance(target, cst.Attribute):
            parts = dotted_parts(target)
            resolved = self.key_of(parts) if parts else self._type_of_self_attribute(target)
            if resolved is None:
                self.expr(target.value)
                self.expr(node.value)
                return
            before = self.read(*resolved, target)
            self.write(*resolved, target, "rmw", [before, *self.expr(node.value)], own_read=before)
            return
        if isinstance(target, cst.Subscript):
            container = self.expr(target.value)
            for element in target.slice:
                self.expr(element.slice)
            resolved = self._container_key(target.value)
            values = self.expr(node.value)
            if resolved is not None:
                self.write(*resolved, target, "rmw", [*container, *values])

    def _built_by(self, value: cst.Call) -> Optional[str]:
        """What a call builds: ``sqlite3.connect``, a project class, or, for ``cls()`` in a
        classmethod, the class itself."""
        parts = dotted_parts(value.func) or []
        if parts in (["cls"], ["type", "self"]) and self.info.class_qualname:
            return self.info.class_qualname
        return self.collector.resolve_type(self.scope, parts)

    def own(self, target: cst.BaseExpression, value: Optional[cst.BaseExpression]) -> None:
        """``conn = Connection(...)``: the local holds an object only this call knows, until it is
        published (stored in shared state, passed to a call, yielded); ``x = other`` does not."""
        if not isinstance(target, cst.Name):
            return
        self.owned.discard(target.value)
        if isinstance(value, cst.Call):
            parts = dotted_parts(value.func)
            if parts and parts[-1][:1].isupper() and not parts[-1].isupper():
                self.owned.add(target.value)

    def publish(self, value: cst.BaseExpression) -> None:
        """Every owned local ``value`` names is now known outside this call."""
        if self.owned:
            for name in _names_in(value):
                self.owned.discard(name.value)

    def _is_pool(self, expression: cst.BaseExpression) -> bool:
        """``ThreadPoolExecutor(...)``, ``multiprocessing.Pool(...)``, a task group or nursery:
        leaving its ``with`` block waits for everything submitted to it."""
        if isinstance(expression, cst.Call):
            parts = dotted_parts(expression.func)
            return bool(parts) and resolve_dotted(self.scope, parts) in SCOPED_POOL_TYPES
        return False

    def writable_name(self, name: str) -> Optional[Tuple[str, str]]:
        """A plain name assigned here writes shared state only under ``global`` or ``nonlocal``
        (or at module level, where every name is a global)."""
        if self.at_module or name in self.scope.globals or name in self.scope.nonlocals:
            return self.key_of([name])
        return None

    def _container_key(self, container: cst.BaseExpression) -> Optional[Tuple[str, str]]:
        while isinstance(container, cst.Subscript):  # ``self.tasks[tid]["status"]``: an entry of ``self.tasks``
            container = container.value
        parts = dotted_parts(container)
        return self.key_of(parts) if parts else None

    def assign_target(
        self, target: cst.BaseExpression, reads: Reads, value: Optional[cst.BaseExpression] = None
    ) -> None:
        fork = self._fork_call(value) if value is not None else None
        if isinstance(value, cst.Call) and isinstance(target, (cst.Name, cst.Attribute, cst.Subscript)):
            self.building = self._built_by(value)
        elif (
            isinstance(value, (cst.List, cst.Dict))
            and not value.elements
            and isinstance(target, (cst.Name, cst.Attribute))
        ):
            self.building = f"builtins.{type(value).__name__.lower()}"  # a new, empty container
        self.literal_value = _constant_text(value) if value is not None else None
        if fork is not None:
            first = target.elements[0].value if isinstance(target, cst.Tuple) and target.elements else target
            if isinstance(first, cst.Name):
                self.fork_vars[first.value] = fork
        if value is not None and not isinstance(target, cst.Name):
            self.publish(value)  # stored into shared state (or unpacked): others may use it now
        if isinstance(target, cst.Name):
            resolved = self.writable_name(target.value)
            if resolved is None:
                self.set_taint(target.value, reads)
                self.own(target, value)
            else:
                if value is not None:
                    self.publish(value)
                self.write(*resolved, target, "assign", reads)
        elif isinstance(target, cst.Attribute):
            parts = dotted_parts(target)
            resolved = self.key_of(parts) if parts else self._type_of_self_attribute(target)
            if resolved is not None:
                self.write(*resolved, target, "assign", reads)
            else:
                self.expr(target.value)
        elif isinstance(target, cst.Subscript):
            self.expr(target.value)  # naming the container is not reading the value stored
            for element in target.slice:
                self.expr(element.slice)
            resolved = self._container_key(target.value)
            if resolved is not None:
                write = self.write(*resolved, target, "item", reads)
                write.awaited = value is not None and self.awaited_value(value)
                write.into_entry = isinstance(target.value, cst.Subscript)
                write.empty = isinstance(value, (cst.List, cst.Dict, cst.Set)) and not value.elements
                since = [
                    self.fresh_since(e.slice.value) if isinstance(e.slice, cst.Index) else None for e in target.slice
                ]
                read = write.derived_from
                if read is not None and None not in since and min(since) > read.suspensions:
                    write.derived_from = (
                        None  # keyed by what an await after the read returned: a new entry, not the one read
                    )
        elif isinstance(target, (cst.Tuple, cst.List)):
            for element in target.elements:
                self.assign_target(element.value, reads)
        elif isinstance(target, cst.StarredElement):
            self.assign_target(target.value, reads)

    def fresh_since(self, value: cst.BaseExpression) -> Optional[int]:
        """For the value an await returns, or one built only from such values (``resp["data"]``):
        the suspension points on the path when the (oldest) await returned; else None."""
        if isinstance(value, cst.Await):
            return self.path_suspensions
        if not self.fresh:  # most functions never bind one: skip the walk
            return None
        names = [n.value for n in _names_in(value)]
        if not names or any(name not in self.fresh for name in names):
            return None
        return min(self.fresh[name] for name in names)

    def awaited_value(self, value: cst.BaseExpression) -> bool:
        """The value comes from an await: it holds one, or a local an await returned."""
        if _holds(value, cst.Await):
            return True
        return bool(self.fresh) and any(n.value in self.fresh for n in _names_in(value))

    def mark_fresh(self, target: cst.BaseExpression, since: int) -> None:
        for name in _target_names(target):
            self.fresh[name] = since

    def delete(self, target: cst.BaseExpression) -> None:
        if isinstance(target, (cst.Tuple, cst.List)):
            for element in target.elements:
                self.delete(element.value)
        elif isinstance(target, cst.Subscript):
            self.expr(target.value)
            resolved = self._container_key(target.value)
            if resolved is not None:
                self.write(*resolved, target, "item", []).removes = True
        elif isinstance(target, cst.Name):
            resolved = self.writable_name(target.value)
            if resolved is not None:
                self.write(*resolved, target, "assign", [])

    def bind_local(self, target: cst.BaseExpression, reads: Reads) -> None:
        if isinstance(target, cst.Name):
            if self.writable_name(target.value) is None:
                self.set_taint(target.value, reads)
        elif isinstance(target, (cst.Tuple, cst.List)):
            for element in target.elements:
                self.bind_local(element.value, reads)

    # ---- expressions ----------------------------------------------------
    def expr(self, node: Optional[cst.CSTNode]) -> Reads:
        if node is None:
            return []
        if isinstance(node, cst.Name):
            if node.value in self.taint and not any(node.value in n for n in self.comprehension_names):
                return list(self.taint[node.value])
            resolved = self.key_of([node.value])
            return [self.read(*resolved, node)] if resolved else []
        if isinstance(node, cst.Attribute):
            parts = dotted_parts(node)
            if parts:
                resolved = self.key_of(parts)
                if resolved:
                    return [self.read(*resolved, node)]
                return self.expr(node.value) if len(parts) > 2 else self._name_taint(parts[0])
            class_key = self._type_of_self_attribute(node)
            if class_key:
                return [self.read(*class_key, node)]
            return self.expr(node.value)
        if isinstance(node, cst.Call):
            return self.call(node)
        if isinstance(node, cst.Await):
            store = _store_call(node.expression)
            self.awaited_call = node.expression
            reads = self.expr(node.expression)
            act = self._access(Access, store[1], store[2], node) if store and store[0] in STORE_WRITES else None
            self.suspend(node)
            self._helper_await(node)
            if store and store[0] in STORE_LOOKUPS:
                self.store_made.append(self._access(Access, store[1], store[2], node))
            if act is not None:
                self._store_act(act)
            return reads
        if isinstance(node, cst.Yield):
            reads = (
                self.expr(node.value)
                if isinstance(node.value, cst.BaseExpression)
                else (self.expr(node.value.item) if isinstance(node.value, cst.From) else [])
            )
            if self.info.is_async:
                self.suspend(node)
            return reads
        if isinstance(node, cst.Lambda):
            return []
        if isinstance(node, (cst.ListComp, cst.SetComp, cst.GeneratorExp, cst.DictComp)):
            return self.comprehension(node)
        if isinstance(node, cst.NamedExpr):
            reads = self.expr(node.value)
            self.bind_local(node.target, reads)
            return reads
        reads: Reads = []
        for child in node.children:
            if isinstance(
                child,
                (
                    cst.BaseExpression,
                    cst.BaseElement,
                    cst.BaseDictElement,
                    cst.Arg,
                    cst.BaseFormattedStringContent,
                    cst.ComparisonTarget,
                    cst.SubscriptElement,
                    cst.BaseSlice,
                ),
            ):
                reads.extend(self.expr(child))
        return reads

    def _name_taint(self, name: str) -> Reads:
        return list(self.taint.get(name, []))

    def _type_of_self_attribute(self, node: cst.Attribute) -> Optional[Tuple[str, str]]:
        """``type(self).x`` reads the class attribute ``x``."""
        value = node.value
        if (
            isinstance(value, cst.Call)
            and isinstance(value.func, cst.Name)
            and value.func.value == "type"
            and len(value.args) == 1
            and isinstance(value.args[0].value, cst.Name)
            and value.args[0].value.value == self.info.self_name
            and self.info.class_qualname
        ):
            return f"class:{self.info.class_qualname}.{node.attr.value}", f"type(self).{node.attr.value}"
        return None

    def call(self, node: cst.Call) -> Reads:
        # ``await cache.add(k, v)``: a client's coroutine, not a container's method
        awaited, self.awaited_call = node is self.awaited_call, None
        if self.in_child:
            marker = SpanMarker()
            self.collector.position_later(marker, node)
            self.state.child_calls.append(marker)
        if self.locks:
            marker = SpanMarker()
            self.collector.position_later(marker, node)
            self.state.locked_calls.append(marker)
            self.state.locked_call_keys.append(self.held_lock_keys())
        if self.async_locks:
            marker = SpanMarker()
            self.collector.position_later(marker, node)
            self.state.async_locked_calls.append(marker)
        reads: Reads = []
        receiver_key = None
        func = node.func
        receiver_reads: Reads = []
        if isinstance(func, cst.Attribute):
            if isinstance(func.value, cst.Name) and func.value.value in self.owned:
                marker = SpanMarker()
                self.collector.position_later(marker, node)
                self.state.owned_calls.append(marker)
            receiver_reads = self.expr(func.value)
            reads.extend(receiver_reads)
            parts = dotted_parts(func.value)
            receiver_key = self.key_of(parts) if parts else None
            if receiver_key is None and isinstance(func.value, cst.Attribute):
                receiver_key = self._type_of_self_attribute(func.value)
        else:
            reads.extend(self.expr(func))
        arguments: List[Reads] = []
        partials: Dict[int, List[Reads]] = {}
        callee_parts = dotted_parts(func)
        harmless = bool(callee_parts) and len(callee_parts) == 1 and callee_parts[0] in HARMLESS_BUILTINS
        for arg in node.args:
            if arg.keyword is None and self._is_partial(arg.value):
                inner = [self.expr(a.value) for a in arg.value.args]
                partials[len(arguments)] = inner[1:]
                argument = [r for reads_of_arg in inner for r in reads_of_arg]
            else:
                argument = self.expr(arg.value)
            if not harmless:
                self.publish(arg.value)
            reads.extend(argument)
            if arg.keyword is None:
                arguments.append(argument)
        scheduled = isinstance(func, cst.Attribute) and func.attr.value in SCHEDULING_METHODS
        if scheduled or self.info.is_lambda:
            self.schedule_markers.append((node, arguments, partials, scheduled))
        if (
            receiver_key is not None
            and isinstance(func, cst.Attribute)
            and func.attr.value in MUTATING_METHODS
            and not awaited
        ):
            self.write(*receiver_key, node, "mutate", reads).method = func.attr.value
        if (
            isinstance(func, cst.Attribute)
            and isinstance(func.value, cst.Name)
            and func.attr.value in FILLING_METHODS
            and func.value.value in self.taint
            and func.value.value not in self.params
        ):
            # ``new.append(t)``: the local now holds what it is filled with (``self._tasks = new``)
            name = func.value.value
            self.taint[name] = self.taint[name] + [r for argument in arguments for r in argument]
        # What the call returns derives from its receiver (``self.items.get(k)``) and, for pure
        # builtins (``len(x)``, ``int(x)``), from its arguments; an arbitrary function's result
        # is not "the value read" (``port = sock.getsockname()[1]``).
        callee = dotted_parts(func) if not isinstance(func, cst.Attribute) else None
        if isinstance(func, cst.Attribute) or (callee and callee[0] in PURE_BUILTINS and len(callee) == 1):
            return reads
        kept = {id(r) for r in receiver_reads}
        return [r for r in reads if id(r) in kept]

    def _is_partial(self, value: cst.BaseExpression) -> bool:
        if isinstance(value, cst.Call) and value.args:
            parts = dotted_parts(value.func)
            return bool(parts) and resolve_dotted(self.scope, parts) == "functools.partial"
        return False

    def comprehension(self, node) -> Reads:
        reads: Reads = []
        names: set = set()
        self.comprehension_names.append(names)
        generator = node.for_in
        while generator is not None:
            reads.extend(self.expr(generator.iter))
            if generator.asynchronous is not None:
                self.suspend(generator)
            names.update(_target_names(generator.target))
            for condition in generator.ifs:
                reads.extend(self.expr(condition.test))
            generator = generator.inner_for_in
        if isinstance(node, cst.DictComp):
            reads.extend(self.expr(node.key))
            reads.extend(self.expr(node.value))
        else:
            reads.extend(self.expr(node.elt))
        self.comprehension_names.pop()
        return reads


def _constant_text(value: cst.BaseExpression) -> Optional[str]:
    """``True``, ``None``, ``3``, ``"done"``, ``State.CLOSED``: a value every writer writes alike."""
    if isinstance(value, cst.Name) and value.value in ("True", "False", "None"):
        return value.value
    if isinstance(value, (cst.Integer, cst.Float, cst.SimpleString)):
        return value.value
    if isinstance(value, cst.UnaryOperation) and isinstance(value.expression, (cst.Integer, cst.Float)):
        return "-" + value.expression.value
    parts = dotted_parts(value)
    if parts and len(parts) >= 2 and parts[-1].isupper():
        return ".".join(parts)
    return None


def _keys_per_argument(arguments: List[Reads]) -> Tuple[Tuple[str, ...], ...]:
    return tuple(tuple(sorted({r.key for r in reads})) for reads in arguments)


def _suspension_target(node: cst.CSTNode) -> str:
    """What a suspension point waits on, dotted: ``self.reader.read`` for ``await
    self.reader.read(n)``, ``self.stream.__anext__`` for ``async for x in self.stream``."""
    suffix = ""
    if isinstance(node, cst.Await):
        node = node.expression
    elif isinstance(node, (cst.For, cst.CompFor)):
        node, suffix = node.iter, ".__anext__"
    elif isinstance(node, cst.WithItem):
        node, suffix = node.item, ".__aenter__"
    if isinstance(node, cst.Call):
        node = node.func
    parts = dotted_parts(node) if isinstance(node, cst.BaseExpression) else None
    return ".".join(parts or ()) + suffix  # an unnamed async-for iterator is ".__anext__", never an await's ""


def _holds(node: cst.CSTNode, kind: type) -> bool:
    """A node of ``kind`` anywhere inside (an ``await``; a ``break``, an inner loop's too: a cautious answer)."""
    return isinstance(node, kind) or any(_holds(child, kind) for child in node.children)


def _names_required_true(test: cst.BaseExpression) -> List[str]:
    """The plain names an ``if`` test needs true: ``wait`` in ``if wait and tasks:``."""
    if isinstance(test, cst.Name):
        return [test.value]
    if isinstance(test, cst.BooleanOperation) and isinstance(test.operator, cst.And):
        return _names_required_true(test.left) + _names_required_true(test.right)
    return []


def _names_in(node: cst.CSTNode):
    """The names an expression uses (not the attribute names after a dot)."""
    if isinstance(node, cst.Name):
        yield node
    elif isinstance(node, cst.Attribute):
        yield from _names_in(node.value)
    else:
        for child in node.children:
            yield from _names_in(child)


def _target_names(target: cst.BaseExpression) -> List[str]:
    if isinstance(target, cst.Name):
        return [target.value]
    if isinstance(target, (cst.Tuple, cst.List)):
        return [name for element in target.elements for name in _target_names(element.value)]
    return []


LOOKUP_ERRORS = ("KeyError", "LookupError")
LOOKUP_RAISES = frozenset((*LOOKUP_ERRORS, "IndexError"))


def _store_call(node: cst.BaseExpression) -> Optional[Tuple[str, str, str]]:
    """``cache.get(key)``, ``self.redis.set(key, v)``: (the method, the store key, as shown); a
    store that refuses an existing key (``nx=True``) is atomic and gives None."""
    if not isinstance(node, cst.Call) or not isinstance(node.func, cst.Attribute) or not node.args:
        return None
    method = node.func.attr.value
    if method not in STORE_LOOKUPS and method not in STORE_WRITES:
        return None
    receiver = dotted_parts(node.func.value)
    first = node.args[0]
    if not receiver or first.keyword is not None or first.star:
        return None
    if any(arg.keyword is not None and arg.keyword.value == "nx" and not _is_false(arg.value) for arg in node.args):
        return None
    key = _EMPTY_MODULE.code_for_node(first.value)
    shown = ".".join(receiver)
    return method, f"store:{shown}:{key}", f"{shown}.{method}({key}{', ...' if method in STORE_WRITES else ''})"


def _is_false(value: cst.BaseExpression) -> bool:
    return isinstance(value, cst.Name) and value.value in ("False", "None")


_EMPTY_MODULE = cst.Module([])


def _single_await(node) -> Optional[cst.Await]:
    """The one ``await`` of a ``try`` whose body is one simple statement."""
    body = node.body
    if isinstance(body, cst.SimpleStatementSuite) or len(body.body) != 1:
        return None
    statement = body.body[0]
    if not isinstance(statement, cst.SimpleStatementLine) or len(statement.body) != 1:
        return None
    found = list(_nodes_of(statement, cst.Await))
    return found[0] if len(found) == 1 else None


def _nodes_of(node: cst.CSTNode, kind: type):
    if isinstance(node, kind):
        yield node
    if isinstance(node, (cst.Lambda, cst.FunctionDef)):
        return
    for child in node.children:
        yield from _nodes_of(child, kind)


def _looked_up(awaited: cst.Await) -> bool:
    """``await d[key]`` or ``await d[key].wait()``: the lookup runs (and may raise) before anything suspends."""
    operand = awaited.expression
    if isinstance(operand, cst.Call) and isinstance(operand.func, cst.Attribute):
        operand = operand.func.value
    return isinstance(operand, cst.Subscript)


def _same_expression(first: cst.BaseExpression, second: cst.BaseExpression) -> bool:
    """``self.x`` and ``self.x``: one dotted name written twice."""
    parts = dotted_parts(first)
    return parts is not None and parts == dotted_parts(second)


def _catches_missing_key(handler: cst.ExceptHandler) -> bool:
    return any(name in LOOKUP_ERRORS for name in caught_names(handler))


def _lookup_guard(node, reads) -> Optional[list]:
    """The reads of a one-statement ``try`` that looks a key up (``try: return cache[key]``)
    when a handler catches the miss (``except KeyError``): an EAFP form of ``if key in cache``."""
    if not reads or isinstance(node.body, cst.SimpleStatementSuite) or len(node.body.body) != 1:
        return None
    if not any(_catches_missing_key(handler) for handler in node.handlers):
        return None
    return list(reads)
