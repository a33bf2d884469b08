"""Which tasks of one event loop share an object, and where a coroutine runs: spawn sites,
methods that run in several tasks at once, an object's own background routine.

Class-level evidence (an instance kept in a module global, an event-loop lock held, methods
spawned as several tasks) says the object is shared; whether one method overlaps itself is a
separate question (``runs_in_several_tasks``).
"""

from __future__ import annotations

from collections import deque
from typing import Dict, Iterator, List, Optional, Sequence, Set, Tuple

from conclint.engine.findings import Span
from conclint.engine.paths import short_path
from conclint.model.apis import ASYNC_LOCK_TYPES, TASK_SPAWNERS
from conclint.model.callgraph import MAX_CALLER_DEPTH, Caller, CallGraph
from conclint.model.clients import AsyncClients, lifecycle_step_name
from conclint.model.entries import EntryPoints
from conclint.model.facts import MODULE_SCOPE, CallSite, ModuleFacts, Ref
from conclint.model.program import Program

# run by every ``async with`` of the object, once per use, not once in its life
PER_USE_PROTOCOL = frozenset(("__aenter__", "__aexit__", "__enter__", "__exit__"))
SpawnSite = Tuple[CallSite, ModuleFacts, bool]  # (the spawning call, its module, spawned repeatedly)


class TaskSharing:
    def __init__(
        self, program: Program, calls: CallGraph, entries: EntryPoints, clients: Optional[AsyncClients] = None
    ) -> None:
        self.program = program
        self.clients = clients
        self.calls = calls
        self.entries = entries
        self._task_shared: Optional[Dict[str, str]] = None
        self._spawn_edges: Set[Tuple[str, Span]] = set()  # (spawner, span of the coroutine call it spawns)
        self._spawn_sites: Dict[str, List[SpawnSite]] = {}  # coroutine function -> its spawns
        self._task_runs: Dict[str, Optional[str]] = {}
        self._routines: Dict[str, Optional[str]] = {}
        self._self_spawned: Set[str] = set()  # methods an object spawns as its own task: self._run()
        self._argument_callers: Dict[str, List[Caller]] = {}  # method -> spawned function calling it on a parameter
        self._wired: Dict[Tuple[str, bool], bool] = {}

    def argument_callers(self, function: str) -> List[Caller]:
        """Spawned functions that call ``function`` on an object passed to them
        (``wallet.deposit()`` in ``handle(wallet)``, spawned with a Wallet)."""
        self.task_shared_classes()
        return self._argument_callers.get(function, [])

    def task_shared_classes(self) -> Dict[str, str]:
        """Classes whose instances several tasks of one event loop use at once, and why: kept
        in a module global, holding an event-loop lock, or with methods spawned as several
        tasks (in a loop, in one ``gather``, or from two places). An object held by a shared
        one is not counted: per-request objects hang off long-lived ones all the time."""
        if self._task_shared is None:
            self._task_shared = self._find_task_shared_classes()
        return self._task_shared

    def shared_between_tasks(self, function: str) -> Optional[str]:
        """Why the ``self`` of method ``function`` can be used by several tasks, or None."""
        owner = self.program.owner_class(function)
        if owner is None:
            return None
        shared = self.task_shared_classes()
        for candidate in sorted(shared):
            if candidate == owner or owner in self.program.class_bases(candidate):
                return shared[candidate]
        return None

    def _initialised_by(self, qualname: str, chaining: Set[str]) -> List[str]:
        """The class and the bases whose ``__init__`` runs for its instances: an ``__init__``
        that does not call a base's (``super().__init__()``) leaves the bases' attributes unset
        (redis's ``Pipeline(Redis)`` never builds the client's lock)."""
        owners = []
        for owner in self.program.mro(qualname):  # ``super().__init__()`` runs the next class of the MRO
            owners.append(owner)
            init = f"{owner}.__init__"
            if init in self.program.functions and init not in chaining:
                break
        return owners

    def kept_in_a_global(self, function: str) -> bool:
        """The ``self`` of method ``function`` may be a module-global instance: any task of
        the program can call any of its methods."""
        owner = self.program.owner_class(function)
        return owner is not None and any(
            candidate == owner or owner in self.program.class_bases(candidate)
            for candidate in self.entries.global_instances
        )

    def _find_task_shared_classes(self) -> Dict[str, str]:
        shared = {
            owner: f"an instance is kept in {where}" for owner, where in sorted(self.entries.global_instances.items())
        }
        chaining = {
            call.function
            for facts in self.program.modules.values()
            for call in facts.calls
            if call.method == "__init__"
        }
        for qualname in sorted(self.program.classes):
            for owner in self._initialised_by(qualname, chaining):  # a lock the class inherits counts
                for attribute, built in (
                    sorted(self.program.classes[owner][0].attribute_types.items())
                    if owner in self.program.classes
                    else ()
                ):
                    if not attribute.endswith("[]") and (self.program.realize(built) or built) in ASYNC_LOCK_TYPES:
                        shared.setdefault(
                            qualname, f"it holds an event-loop lock (`self.{attribute}`), so tasks share it"
                        )
        for handler, (reason, path, span) in sorted(
            {**self.entries.connection_handlers, **self.entries.request_handlers}.items()
        ):
            owner = self.program.owner_class(handler)
            if owner is not None and self.program.functions[handler][0].is_async:
                # a bound method registered once serves every request: one object, a task each
                shared.setdefault(
                    owner, f"`{self.program.display_name(handler)}()` is a {reason} at {short_path(path)}:{span.row}"
                )
        spawns: Dict[str, List[Tuple[CallSite, ModuleFacts, bool]]] = {}
        spawns_of: Dict[str, str] = {}  # class -> why the spawns pass one instance to many tasks
        for facts in self.program.modules.values():
            calls_by_function: Dict[str, List[CallSite]] = {}
            for call in facts.calls:
                calls_by_function.setdefault(call.function, []).append(call)
            for calls in calls_by_function.values():
                for spawn in calls:
                    if (spawn.method or (spawn.callee or "").rsplit(".", 1)[-1]) not in TASK_SPAWNERS:
                        continue
                    # ``start_soon(worker, stats)``: the function, then the arguments it is called with
                    targets = [
                        (self.program.resolve_ref(ref, spawn), spawn.in_loop, spawn.args[1:], spawn.arg_varies[1:])
                        for ref in spawn.args[:1]
                    ]
                    inside = [call for call in calls if call is not spawn and _within(call.span, spawn.span)]
                    for call in inside:
                        target = self.program.resolve_call(call)
                        # a plain function an argument of the spawned call takes
                        # (``wait_for(..., predicate=self._make_predicate())``) and the objects built
                        # for it (``for c in [Conn(), Conn()]``) run now, in the spawner; a plain
                        # function the spawn takes itself may hand back the coroutine
                        if target is not None and target.endswith(".__init__"):
                            continue
                        nested = any(other is not call and _within(call.span, other.span) for other in inside)
                        if (
                            nested
                            and target in self.program.functions
                            and not self.program.functions[target][0].is_async
                        ):
                            continue
                        self._spawn_edges.add((call.function, call.span))
                        # ``conn.serve()`` for each accepted ``conn`` runs once per object
                        repeated = (spawn.in_loop or call.in_comprehension) and not call.receiver_varies
                        targets.append((target, repeated, call.args, call.arg_varies))
                        if (
                            call.text.startswith("self.")
                            and target in self.program.functions
                            and self.program.functions[target][0].class_qualname
                        ):
                            self._self_spawned.add(target)  # an object starting its own routine
                    for target, repeated, arguments, varies in targets:
                        if target is not None:
                            self._spawn_sites.setdefault(target, []).append((spawn, facts, repeated))
                        owner = self.program.owner_class(target) if target in self.program.functions else None
                        if owner is not None:
                            spawns.setdefault(owner, []).append((spawn, facts, repeated))
                        if target in self.program.functions:
                            for built, passed in self._objects_passed(target, arguments, varies):
                                if repeated:
                                    where = f"{spawn.text}() at {short_path(facts.path)}:{spawn.span.row}"
                                    spawns_of[built] = (
                                        f"every `{self.program.display_name(target)}()` task gets the same "
                                        f"`{passed}` ({where})"
                                    )
        for owner, sites in sorted(spawns.items()):
            if len(sites) > 1 or sites[0][2]:
                spawn, facts, _ = sites[0]
                shared.setdefault(
                    owner,
                    f"its methods run in several tasks ({spawn.text}() at {short_path(facts.path)}:{spawn.span.row})",
                )
        for built, reason in sorted(spawns_of.items()):
            shared.setdefault(built, reason)
        for client, reason in sorted(self.clients.reasons().items()) if self.clients is not None else ():
            shared.setdefault(client, reason)
        return shared

    def _objects_passed(
        self, function: str, arguments: Sequence[Optional[Ref]], varies: Sequence[bool]
    ) -> Iterator[Tuple[str, str]]:
        """The project classes of the objects a spawn passes to ``function`` (``worker(wallet)``
        with ``wallet = Wallet()``) and calls methods of, with the name passed; not those the
        loop binds anew each time round. The methods ``function`` calls on the parameter
        (``wallet.deposit()``) are recorded as called from it: the spawned task runs them."""
        info = self.program.functions[function][0]
        params = info.params[1:] if info.self_name else info.params
        for index, (param, ref) in enumerate(zip(params, arguments)):
            built = self.program.resolve_name(ref.value_type) if ref is not None and ref.value_type else None
            if built not in self.program.classes:
                continue
            if index < len(varies) and varies[index]:
                continue  # each task gets its own object: its methods run once per object
            used = False
            for call in self.calls.calls_of(function):
                receiver, _, method = call.text.partition(".")
                if receiver != param or "." in method or call.receiver_rebound:  # ``session = Session()`` first
                    continue
                target = self.program.method_of(built, method)
                if target is not None:
                    used = True
                    # an annotated parameter (``wallet: Wallet``) is in the call graph already
                    if not call.receiver_type and (function, call) not in self._argument_callers.get(target, ()):
                        self._argument_callers.setdefault(target, []).append((function, call))
            if used:
                yield built, ref.text

    def runs_in_several_tasks(self, function: str) -> Optional[str]:
        """Why ``function`` itself can run in two tasks at once, or None: it (or a function that
        calls it) is spawned in a loop, in one ``gather`` or from two places, or two spawned
        functions both reach it, or a web request handler reaches it (a task per request).
        Class-level evidence (the object is shared) says nothing about which of its methods
        overlap; ``connect()`` called once by its owner does not race with itself."""
        self.task_shared_classes()
        if function not in self._task_runs:
            self._task_runs[function] = None  # a cycle adds nothing
            starts: List[str] = []
            seen: Set[str] = set()
            # each function with the class of the object it runs on: a caller in a base class
            # (``Entity.add_to_platform()`` calling ``self.async_added_to_hass()``) runs on the same one
            queue = deque([(function, self.program.owner_class(function))])
            while queue and len(seen) <= MAX_CALLER_DEPTH:
                current, receiver = queue.popleft()
                if current in seen:
                    continue
                seen.add(current)
                for handlers, unit in (
                    (self.entries.request_handlers, "request"),
                    (self.entries.connection_handlers, "connection"),
                ):
                    if current in handlers:
                        reason, path, span = handlers[current]
                        starts += [
                            f"`{self.program.display_name(current)}()` is a {reason} at "
                            f"{short_path(path)}:{span.row}, a "
                            f"task per {unit}"
                        ] * 2
                assumed = self.clients.shared_method(current, receiver) if self.clients is not None else None
                if assumed is not None:
                    starts += [assumed] * 2  # a public coroutine of a client: every caller's task
                sites = self._spawn_sites.get(current, ())
                if sites:
                    # spawned from two places counts once (``run()`` and ``async_run()`` each start
                    # ``main()``: alternatives); in a loop, or twice in one ``gather``, counts as many
                    places = [(facts.path, spawn.span) for spawn, facts, _ in sites]
                    many = next(
                        (site for site in sites if site[2] or places.count((site[1].path, site[0].span)) > 1), None
                    )
                    spawn, facts, _ = many or sites[0]
                    where = (
                        f"{spawn.text}() at {short_path(facts.path)}:{spawn.span.row} starts "
                        f"`{self.program.display_name(current)}()`"
                    )
                    starts += [f"{where} more than once"] * 2 if many else [where]
                for caller, call in self.calls.callers_of(current):
                    if caller != MODULE_SCOPE and (call.function, call.span) not in self._spawn_edges:
                        queue.append((caller, self._receiver_of(caller, call, receiver)))
            if len(starts) > 1:
                self._task_runs[function] = starts[0] if starts[0] == starts[1] else f"{starts[0]} and {starts[1]}"
        return self._task_runs[function]

    def _receiver_of(self, caller: str, call: CallSite, receiver: Optional[str]) -> Optional[str]:
        """The class of the object ``caller`` runs on, when it calls the callee on its own ``self``
        (``self.async_added_to_hass()``) from a base class of the callee's object: that object."""
        owner = self.program.owner_class(caller)
        info = self.program.functions.get(caller, (None,))[0]
        on_self = info is not None and info.self_name is not None and call.text.startswith(f"{info.self_name}.")
        if on_self and receiver is not None and owner is not None and owner in self.program.class_bases(receiver):
            return receiver
        return owner

    def lifecycle_wired(self, function: str) -> bool:
        """``function`` is wired into its owner's lifecycle: it has callers in the project and every
        one is a lifecycle step its owner calls once, in order, from one place (issue 18's
        decision: its races need two concurrent starts, debatable, not reported):
        ``launch_shards()`` called only from ``connect()``, a store's ``get_account()`` called
        only from a ``load()`` that only ``start()`` calls. A lifecycle method with no caller in
        the project is the project's API and stays checked (a client's ``connect()`` that every
        user's task may call)."""
        info = self.program.functions.get(function, (None,))[0]
        return (
            info is not None
            and bool(self._dispatched_callers(function, info))
            and self._lifecycle_step(function, 0, root=False)
        )

    def _dispatched_callers(self, function: str, info) -> List[Caller]:
        """The callers of a method, and those of the base-class methods it overrides: a call of
        ``self.store.get_account()`` on a store typed as the base reaches the override."""
        callers = list(self.calls.callers_of(function))
        if info.class_qualname:
            for base in self.program.class_bases(info.class_qualname):
                overridden = f"{base}.{info.name}"
                if overridden in self.program.functions:
                    callers += self.calls.callers_of(overridden)
        return callers

    def _lifecycle_step(self, function: str, depth: int, root: bool = True) -> bool:
        """A step of an owner's lifecycle: with no caller, named as one (``start``, ``connect``,
        ``_pre_login``, ``commit``); with callers, called
        only from such steps (spawned once by one counts: ``asyncio.run(runner())`` in ``run()``,
        ``create_task(self._read_loop())`` in ``start()``). Not when it is spawned repeatedly or
        from two places, or is a request or connection handler: those run once per task, however
        they are named; nor a lifecycle-named helper a
        shared client's request method calls (``await self._connect()`` in ``get()``); nor
        ``__aenter__``/``__aexit__``, which every ``async with`` of a shared object runs."""
        self.task_shared_classes()
        memo = (function, root)
        if memo in self._wired:
            return self._wired[memo]
        self._wired[memo] = False  # a cycle proves nothing
        info = self.program.functions.get(function, (None,))[0]
        sites = self._spawn_sites.get(function, ())
        if info is None or depth > MAX_CALLER_DEPTH or len(sites) > 1 or any(repeated for *_, repeated in sites):
            return False
        if function in self.entries.request_handlers or function in self.entries.connection_handlers:
            return False
        callers = self._dispatched_callers(function, info)
        if callers:
            # ``asyncio.run(main())`` under ``if __name__ == "__main__":`` runs once
            step = all(
                call.in_main_guard if caller == MODULE_SCOPE else self._lifecycle_step(caller, depth + 1)
                for caller, call in callers
            )
        else:
            step = root and info.name not in PER_USE_PROTOCOL and lifecycle_step_name(info.name)
        self._wired[memo] = step
        return step

    def background_routine(self, function: str) -> Optional[str]:
        """The one task ``function`` always runs in: a method an object spawns once as its own
        task, outside any loop (``create_task(self._run())`` in ``start()``), that every call
        chain to it starts from. None when it may run in several tasks or in a caller's own."""
        self.task_shared_classes()
        return self._routine_of(function, 0)

    def is_spawned(self, function: str) -> bool:
        """Started as a task somewhere (``create_task(f())``, ``start_soon(f)``, ``gather``)."""
        self.task_shared_classes()
        return function in self._spawn_sites

    def is_spawn_call(self, caller: str, call: CallSite) -> bool:
        """``call`` makes the coroutine a spawner runs as a task (``create_task(self._fill())``):
        it runs later, or beside the caller, not inside what the caller holds."""
        self.task_shared_classes()
        return (caller, call.span) in self._spawn_edges

    def _routine_of(self, function: str, depth: int) -> Optional[str]:
        if function in self._routines:
            return self._routines[function]
        self._routines[function] = None  # a cycle proves nothing
        if depth > MAX_CALLER_DEPTH:
            return None
        spawned = sum(2 if repeated else 1 for _, _, repeated in self._spawn_sites.get(function, ()))  # 2: many
        if spawned and function not in self._self_spawned:
            return None  # a task other code starts, as often as that code runs
        roots = {function} if spawned == 1 else set()
        callers = [
            (c, call)
            for c, call in self.calls.callers.get(function, ())
            if (call.function, call.span) not in self._spawn_edges
        ]
        for caller, _call in callers:
            roots.add(self._routine_of(caller, depth + 1))
        result = roots.pop() if spawned <= 1 and len(roots) == 1 else None
        self._routines[function] = result
        return result


def _within(inner: Span, outer: Span) -> bool:
    return (outer.row, outer.col) <= (inner.row, inner.col) and (inner.end_row, inner.end_col) <= (
        outer.end_row,
        outer.end_col,
    )
