"""CCL201-CCL210: blocking calls in event-loop code, direct and through helpers.

One analysis per project finds every blocking call site (the catalogue's APIs, by
qualified name or by the type of their receiver) in every function, then reports the
ones in event-loop code (``async def`` bodies and loop callbacks) directly, and for each
call from event-loop code into a synchronous project function that blocks somewhere
down its call chain, the chain itself (CCL210).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Dict, Iterable, List, Optional, Tuple

from conclint.engine.findings import Edit, Finding, Fix, Related, Span
from conclint.engine.paths import short_path
from conclint.model.apis import (
    INLINE_CALLERS,
    INLINE_METHODS,
    OFFLOAD_DECORATOR_NAMES,
    OFFLOAD_DECORATORS,
    OFFLOAD_FLAG_DECORATORS,
    THREAD_LOCK_TYPES,
)
from conclint.model.catalogue import (
    BOUNDED,
    COST_RANK,
    FAMILIES,
    FILE_OR_TEXT_READERS,
    FILE_READER,
    HTTP_VERB_LITERALS,
    HTTP_VERB_METHODS,
    LIKELY_HTTP_REQUEST,
    RUN_COROUTINE_THREADSAFE,
    SOCKET_TYPES,
    UNBOUNDED,
    BlockingApi,
    Catalogue,
    is_file_type,
)
from conclint.model.coroutine_drivers import CoroutineDrivers
from conclint.model.entries import LOOP, THREAD
from conclint.model.facts import CallSite, FunctionInfo, ModuleFacts
from conclint.model.guards import SELF, UNKNOWN, passed_values, reachable, returned
from conclint.model.import_time import GLOBAL, MEMO, ImportTime
from conclint.model.locks import real_locks
from conclint.rules.base import Rule


@dataclass(frozen=True)
class Site:
    """A blocking call (or ``with lock:``) in a function."""

    span: Span
    text: str  # as written
    api: BlockingApi
    path: str  # the module's path
    requires: Tuple[tuple, ...] = ()  # conditions on the function's parameters to reach it
    own_lock: bool = False  # ``with self._lock:`` on a lock the object builds itself (not one handed to it)

    @property
    def cost(self) -> str:
        return self.api.cost


Chain = Tuple[Tuple[str, ...], Site]  # the functions from the helper called down to the one that blocks, and where


Values = Dict[str, object]  # a function's parameters -> the constants one call passes (or leaves at their default)
CONSTRUCTING = SELF + "<constructing>"  # in values: the chain runs inside the object's own ``__init__``


def loop_library(facts: ModuleFacts) -> str:
    """The event-loop library whose alternatives to suggest: trio or anyio when imported."""
    if facts.imports_any("trio"):
        return "trio"
    if facts.imports_any("anyio"):
        return "anyio"
    return "asyncio"


def _non_blocking_form(call: CallSite, method: str) -> bool:
    """``q.get(block=False)``, ``q.get(False)``, ``lock.acquire(blocking=False)`` return at once."""
    if method in ("get", "put", "acquire"):
        if "block=False" in call.keywords or "blocking=False" in call.keywords:
            return True
        flag = call.args[1 if method == "put" else 0] if len(call.args) > (1 if method == "put" else 0) else None
        return flag is not None and flag.text == "False"
    return False


def _blocking_switches(facts: ModuleFacts) -> Dict[Tuple[str, str], List[Tuple[Span, bool]]]:
    """(function, socket as written) -> where it was switched, and whether to non-blocking.

    ``setblocking(False)`` and ``settimeout(0)`` make a socket non-blocking; ``setblocking(True)``
    and any other timeout make it block again (for up to the timeout).
    """
    switches: Dict[Tuple[str, str], List[Tuple[Span, bool]]] = {}
    for call in facts.calls:
        if call.method not in ("setblocking", "settimeout") or "." not in call.text:
            continue
        receiver = call.text.rsplit(".", 1)[0]
        value = (
            call.literal if call.literal is not None else (call.args[0].text if call.args and call.args[0] else None)
        )
        non_blocking = value in (False, "False", 0) if call.method == "setblocking" else value in (0, 0.0)
        switches.setdefault((call.function, receiver), []).append((call.span, non_blocking))
    return switches


def _socket_non_blocking(call: CallSite, switches, model) -> bool:
    """Was this socket last switched to non-blocking before the call, in this function or,
    for ``self.sock``, in the class's ``__init__``?"""
    receiver = call.text.rsplit(".", 1)[0]
    earlier = [(span, flag) for span, flag in switches.get((call.function, receiver), ()) if span < call.span]
    if earlier:
        return max(earlier)[1]
    if receiver.startswith("self.") and call.class_context:
        init = model.program.method_of(call.class_context, "__init__")
        set_up = switches.get((init, receiver), ()) if init else ()
        return bool(set_up) and max(set_up)[1]
    return False


class BlockingAnalysis:
    def __init__(self, project) -> None:
        settings = project.settings
        self.model = project.model
        self.catalogue = Catalogue(settings.blocking_calls, settings.allowed_blocking_calls)
        self.offload_decorators = frozenset(
            (*OFFLOAD_DECORATORS, *settings.offload_decorators, *settings.thread_entry_decorators)
        )
        self.direct: Dict[str, List[Site]] = {}
        self._slow_locks = self._locks_held_around_waits(project)
        self._thread_locks = self._locks_taken_in_threads(project)
        for facts in project.modules():
            self._collect_direct(facts)
        self._paths: Dict[Tuple[str, tuple], Optional[Chain]] = {}
        self.unbounded_only = settings.blocking_severity == UNBOUNDED
        self._lifespans: Optional[set] = None
        self.drivers = CoroutineDrivers(self.model.program)
        self.import_time = ImportTime(self.model.program, project.modules())
        self._positions = {id(call): index for facts in project.modules() for index, call in enumerate(facts.calls)}

    def canonical(self, name: Optional[str]) -> Optional[str]:
        """Follow re-exports through project modules (``from .http import get`` -> ``requests.get``)."""
        seen = 0
        while name and seen < 8:
            module, _, attribute = name.rpartition(".")
            program = self.model.program
            facts = program.modules.get(module) or program.modules.get(program.real_name(module))
            if facts is None or attribute not in facts.module_imports:
                return name
            name = facts.module_imports[attribute]
            seen += 1
        return name

    def _collect_direct(self, facts: ModuleFacts) -> None:
        switches = _blocking_switches(facts)
        for call in facts.calls:
            if call.awaited:
                continue
            api = self.api_for(call, switches)
            if api is not None:
                api = _priced(call, api)
                self.direct.setdefault(call.function, []).append(
                    Site(call.span, f"{call.display or call.text}()", api, facts.path, call.requires)
                )
        for qualname, state in facts.state.items():
            info = self.model.program.functions.get(qualname, (None,))[0]
            for access in state.thread_lock_withs:
                if not real_locks(self.model.program, (access.key,)):
                    continue  # an imported context manager that is not a lock after all
                key = _lock_key(info, access.key)
                key = key and (self.model.program.canonical_key(key) or key)
                if (
                    info is not None
                    and not info.is_async
                    and key is not None
                    and (key not in self._slow_locks or key not in self._thread_locks)
                ):
                    # a helper's ``with self._lock:`` waits only while another thread holds the lock and runs
                    # what it guards: nothing anywhere under this lock can block (reviewed on real code: locks
                    # around in-memory bookkeeping, made per object), or no thread takes it at all (every
                    # holder runs on the loop's thread, one after another, and a sync holder is never
                    # suspended holding it): no stall for a chain to report
                    continue
                api = BlockingApi(
                    "threading.Lock.acquire",
                    "CCL205",
                    self.catalogue.by_name.get("threading.Lock.acquire", _LOCK_API).alternatives,
                )
                owner, _, attribute = key[len("self:") :].rpartition(".") if key else ("", "", "")
                own = bool(owner) and self.model.program.attribute_type(owner, attribute) in THREAD_LOCK_TYPES
                site = Site(access.span, f"with {access.display}:", api, facts.path, own_lock=own)
                self.direct.setdefault(qualname, []).append(site)

    def _locks_held_around_waits(self, project) -> set:
        """Lock keys held around a call that can block or that calls project code (which might): a
        ``with`` on such a lock can wait as long as that call takes."""
        slow = set()
        program = self.model.program
        for facts in project.modules():
            switches = _blocking_switches(facts)
            calls = {call.span: call for call in facts.calls}
            for state in facts.state.values():
                for span, keys in zip(state.locked_calls, state.locked_call_keys):
                    call = calls.get(span)
                    if call is None or call.callee in program.functions or self.api_for(call, switches) is not None:
                        slow.update(program.canonical_key(key) or key for key in keys)
        return slow

    def _locks_taken_in_threads(self, project) -> set:
        """Lock keys (``self:mod.Class._lock``) some function taking them runs in a thread the project
        starts (a thread target, a pool task, an offloaded call: model/contexts.py)."""
        taken = set()
        program = self.model.program
        for facts in project.modules():
            for qualname, state in facts.state.items():
                if not self.model.contexts.contexts_of(qualname, THREAD):
                    continue
                info = program.functions.get(qualname, (None,))[0]
                for access in state.thread_lock_withs:
                    key = _lock_key(info, access.key)
                    if key is not None:
                        taken.add(program.canonical_key(key) or key)
        return taken

    def api_for(self, call: CallSite, switches) -> Optional[BlockingApi]:
        api = self.catalogue.lookup_function(self.canonical(call.callee))
        if api is not None:
            return api
        if call.callee in FILE_OR_TEXT_READERS and call.args and call.args[0] is not None:
            return FILE_READER if is_file_type(call.args[0].value_type) else None
        if call.receiver_type and call.method:
            api = self.catalogue.lookup_method(self.canonical(call.receiver_type), call.method, bool(call.args))
            if api is None or _non_blocking_form(call, call.method):
                return None
            if call.receiver_type in SOCKET_TYPES and (
                _socket_non_blocking(call, switches, self.model) or "BlockingIOError" in call.catches
            ):
                return None  # set non-blocking, or written for a non-blocking socket (it catches BlockingIOError)
            return api
        if (
            call.receiver_type is None
            and not call.entered_async  # ``async with session.request("GET", url)``: an async client's
            and call.method in HTTP_VERB_METHODS
            and self.model.program.resolve_call(call) is None  # a project method is followed as a helper
            and isinstance(call.literal, str)
            and call.literal.lower() in HTTP_VERB_LITERALS
            and self.catalogue.allows(LIKELY_HTTP_REQUEST.name)
        ):
            return LIKELY_HTTP_REQUEST
        return None

    def is_start_up(self, info: FunctionInfo) -> bool:
        """An app's start-up hook: a ``lifespan`` (by name, or given as ``lifespan=``), a ``startup`` handler."""
        if self._lifespans is None:
            self._lifespans = {
                target
                for call in self.model.calls.calls_of_every_function()
                for keyword, ref in call.kwargs.items()
                if keyword == "lifespan" and (target := self.model.program.resolve_ref(ref, call))
            }
        name = info.name.lower()
        return name == "lifespan" or "startup" in name or info.qualname in self._lifespans

    def offloaded(self, info: FunctionInfo) -> bool:
        """Its decorator runs it in a worker thread (``@sync_to_async``, ``@work(thread=True)``, the
        ``offload-decorators`` setting): calling it hands the body over, and the body is not loop code."""
        for name, flags in zip(info.decorators, info.decorator_flags or ((),) * len(info.decorators)):
            if name in self.offload_decorators or name.rsplit(".", 1)[-1] in OFFLOAD_DECORATOR_NAMES:
                return True
            if OFFLOAD_FLAG_DECORATORS.get(name) in flags:
                return True
        return False

    def is_loop_function(self, qualname: str) -> bool:
        entry = self.model.program.functions.get(qualname)
        if entry is None or self.offloaded(entry[0]):
            return False
        if entry[0].is_async:
            return not self.drivers.runs(entry[1])  # a code generator's own scheduler steps it: no loop waits
        return any(c.entry.function == qualname for c in self.model.contexts.contexts_of(qualname, LOOP))

    def blocking_path(self, qualname: str, values: Optional[Values] = None, visiting=None) -> Optional[Chain]:
        """``((f, g, h), site)`` when ``f`` calls ``g`` calls ``h`` and ``h`` blocks at ``site``; None if
        nothing below ``f`` blocks. The worst call is cited: an unbounded one before a bounded one.

        ``values``: the constants ``f``'s caller passes; a call or blocking site behind a guard
        those constants fail (``if not path: return`` for ``f(None)``) is left out."""
        values = self._entry_values(qualname, values or {})
        key = (qualname, tuple(sorted(values.items(), key=lambda item: item[0])))
        if key in self._paths:
            return self._paths[key]
        visiting = visiting if visiting is not None else set()
        if key in visiting:
            return None  # a cycle: the other way round will find it
        visiting.add(key)
        best: Optional[Chain] = None
        for site in self.direct.get(qualname, ()):
            if site.api is LIKELY_HTTP_REQUEST:
                continue  # in a sync helper, ``x.request("GET", ...)`` may well build a coroutine it returns
            if site.api.name.startswith(f"{RUN_COROUTINE_THREADSAFE}."):
                continue  # a helper for other threads, which typically returns first when on the loop's own thread
            if site.own_lock and values.get(CONSTRUCTING):
                continue  # the object is still being built and no thread has it yet: nobody else holds its lock
            if reachable(site.requires, values) and (best is None or _worse(site, best[1])):
                best = ((qualname,), site)
        if best is None or best[1].cost != UNBOUNDED:
            for callee, call in self.model.calls.callees.get(qualname, ()):
                info = self.model.program.functions[callee][0]
                if info.is_async or call.awaited or self.offloaded(info) or values.get(MEMO + callee):
                    continue
                if not reachable(call.requires, values):
                    continue
                below = self.blocking_path(callee, self.values_for(qualname, call, info, values), visiting)
                if below is not None and (best is None or _worse(below[1], best[1])):
                    best = ((qualname, *below[0]), below[1])
                    if best[1].cost == UNBOUNDED:
                        break
        visiting.discard(key)
        if best is not None or not visiting:
            self._paths[key] = best
        return best

    # ---- what the object's own attributes hold, along a constructor's chain ----------------------
    # ``Manager(None)`` runs ``__init__`` with ``path=None``; ``self.path = path`` (or a helper's result,
    # ``self._file = _maybe_path(path)``, that an early return decides) then holds at the calls after it,
    # and methods of the same object called from there see it (``if self.path is None: return``), as do
    # properties read as arguments (``self._load(self.location)``). A method that stores the attribute
    # itself, or one of the object's methods called in between that stores it, makes it unknown again.

    def _entry_values(self, qualname: str, values: Values) -> Values:
        """Drop ``self.x`` values the function stores itself: only its own assignments say what holds."""
        info = self.model.program.functions[qualname][0]
        if not info.self_values or not values:
            return values
        stored = {SELF + attribute for attribute, _source, _after in info.self_values}
        return {name: value for name, value in values.items() if name not in stored}

    def _self_call(self, call: CallSite, info: FunctionInfo) -> bool:
        parts = call.text.split(".") if call.text else []
        return info.self_name is not None and len(parts) == 2 and parts[0] == info.self_name

    def _source_value(self, source: tuple, facts: ModuleFacts, here: Values) -> tuple:
        """What ``self.x = <source>`` stores for these values: ``("value", v)`` or UNKNOWN."""
        if source[0] == "value":
            return source
        if source[0] == "param":
            return ("value", here[source[1]]) if source[1] in here else UNKNOWN
        if source[0] == "call" and source[1] < len(facts.calls):
            call = facts.calls[source[1]]
            target = self.model.program.resolve_call(call)
            entry = self.model.program.functions.get(target) if target else None
            if entry is not None and entry[0].early_returns:
                return returned(entry[0].early_returns, passed_values(call, entry[0], here))
        return UNKNOWN

    def _property_value(self, info: FunctionInfo, attribute: str, here: Values) -> tuple:
        """``self.location`` read where ``location`` is a property an early return decides."""
        target = self.model.program.method_of(info.class_qualname, attribute) if info.class_qualname else None
        if target is None:
            return UNKNOWN
        prop = self.model.program.functions[target][0]
        if not any(name.rsplit(".", 1)[-1] in ("property", "cached_property") for name in prop.decorators):
            return UNKNOWN
        return returned(prop.early_returns, {name: value for name, value in here.items() if name.startswith(SELF)})

    def _values_at(self, qualname: str, call: CallSite, values: Values) -> Values:
        """The values at ``call`` inside ``qualname``: its parameters', and its object's attributes'."""
        info, facts = self.model.program.functions[qualname]
        if info.self_name is None or info.is_async:
            return values  # in a coroutine another task may store the attribute at any await
        if not info.self_values and not any(name.startswith(SELF) for name in (*values, *call.passes.values())):
            return values  # nothing of the object is known or asked for here
        position = self._positions.get(id(call), -1)
        here = dict(values)
        set_at = {name: -1 for name in here if name.startswith(SELF)}
        for attribute, source, after in info.self_values:
            if after > position:
                break
            key = SELF + attribute
            value = self._source_value(source, facts, here)
            if value == UNKNOWN:
                here.pop(key, None)
            else:
                here[key] = value[1]
                set_at[key] = after
        for callee, other in self.model.calls.callees.get(qualname, ()):
            at = self._positions.get(id(other), -1)
            if at >= position or not self._self_call(other, info):
                continue
            for attribute, _source, _after in self.model.program.functions[callee][0].self_values:
                if at >= set_at.get(SELF + attribute, position):
                    here.pop(SELF + attribute, None)  # the object's own method stored it again
        for passed in call.passes.values():
            if passed.startswith(SELF) and passed not in here:
                value = self._property_value(info, passed[len(SELF) :], here)
                if value != UNKNOWN:
                    here[passed] = value[1]
        return here

    def values_for(self, caller: str, call: CallSite, callee: FunctionInfo, values: Values) -> Values:
        """The constants ``call`` inside ``caller`` gives ``callee``: its arguments' and, for a method of
        the same object (``self.load()``), what the object's attributes hold there."""
        here = self._values_at(caller, call, values)
        passed = passed_values(call, callee, here)
        caller_info = self.model.program.functions[caller][0]
        if self._self_call(call, caller_info):
            passed.update((name, value) for name, value in here.items() if name.startswith(SELF))
            if caller_info.name == "__init__" and not self._published_before(caller, call, caller_info):
                passed[CONSTRUCTING] = True
        # what the imports already ran holds all the way down (model/import_time.py)
        passed.update((name, value) for name, value in values.items() if name.startswith((GLOBAL, MEMO)))
        return passed

    def _published_before(self, qualname: str, call: CallSite, info: FunctionInfo) -> bool:
        """Did ``qualname`` (a constructor) hand its object out before ``call``: passed ``self`` or one of its
        methods to another call (``Thread(target=self.run)``, ``registry.add(self)``)?"""
        position = self._positions.get(id(call), -1)
        facts = self.model.program.functions[qualname][1]
        name = info.self_name
        for other in facts.calls:
            if other.function != qualname or self._positions.get(id(other), -1) >= position:
                continue
            refs = [ref.text for ref in (*other.args, *other.kwargs.values()) if ref is not None]
            if name in other.passes.values() or any(t == name or t.startswith(f"{name}.") for t in refs):
                return True
        return False

    def findings(self, facts: ModuleFacts) -> List[Finding]:
        found: List[Finding] = []
        for qualname, info in facts.functions.items():
            if not self.is_loop_function(qualname):
                continue
            where = (
                f"`async def {info.name}()`"
                if info.is_async
                else f"loop callback `{self.model.program.display_name(qualname)}`"
            )
            if self.is_start_up(info):
                where += ", start-up code that runs once before the app serves requests"
            library = loop_library(facts)
            inline_lambdas, inline_functions = self._run_inline(qualname, facts)
            for function in (qualname, *inline_lambdas):
                for site in self.direct.get(function, ()):
                    if not (self.unbounded_only and site.cost == BOUNDED):
                        found.append(self._direct_finding(facts, qualname, info, where, library, site))
            edges = [
                edge for function in (qualname, *inline_lambdas) for edge in self.model.calls.callees.get(function, ())
            ]
            imported = self.import_time.after_import(facts.module)
            for callee, call in [*edges, *inline_functions]:
                callee_info = self.model.program.functions[callee][0]
                if call.awaited or callee_info.is_async or self.offloaded(callee_info) or imported.get(MEMO + callee):
                    continue
                chain = self.blocking_path(callee, self.values_for(qualname, call, callee_info, imported))
                if chain is not None and not (self.unbounded_only and chain[1].cost == BOUNDED):
                    found.append(self._helper_finding(facts, where, library, call, chain))
        return found

    def _run_inline(self, qualname: str, facts: ModuleFacts) -> Tuple[List[str], List[Tuple[str, CallSite]]]:
        """Functions ``qualname`` hands to ``sorted``/``map``/``max``... which call them right away:
        lambdas (their calls count as the caller's) and named functions (with the handing call)."""
        lambdas: List[str] = []
        named: List[Tuple[str, CallSite]] = []
        for call in facts.calls:
            if call.function != qualname or not (call.callee in INLINE_CALLERS or call.method in INLINE_METHODS):
                continue
            for ref in (*call.args, *call.kwargs.values()):
                target = self.model.program.resolve_ref(ref, call) if ref is not None else None
                if target is None:
                    continue
                if self.model.program.functions[target][0].is_lambda:
                    lambdas.append(target)
                else:
                    named.append((target, call))
        return lambdas, named

    def _direct_finding(self, facts, qualname, info, where, library, site: Site) -> Finding:
        api = site.api
        family = FAMILIES[api.code][1]
        message = (
            f"`{site.text}` blocks the event loop inside {where} ({family}, {site.api.cost_text}): every other task "
            f"waits; use {api.alternative(library)} instead"
        )
        if api.name.startswith(f"{RUN_COROUTINE_THREADSAFE}."):
            message = (
                f"`{site.text}` waits inside {where}, on the loop's own thread, for a coroutine a loop must run "
                f"({family}, {site.api.cost_text}): when that loop is this one it never finishes (a deadlock); await "
                "the coroutine instead (`await asyncio.wrap_future(...)` for another loop's)"
            )
        fix = None
        if api.code == "CCL201" and info.is_async:
            fix = self._sleep_fix(facts, qualname, site.span, library)
        return Finding(api.code, message, facts.path, site.span, (), fix, (("cost", site.cost),))

    def _sleep_fix(self, facts: ModuleFacts, qualname: str, span: Span, library: str) -> Optional[Fix]:
        call = next((c for c in facts.calls if c.span == span and c.function == qualname), None)
        if call is None or call.in_comprehension or call.callee_span.row == 0:
            return None
        edits = [Edit(f"await {library}.sleep", call.callee_span)]
        if facts.module_imports.get(library) != library:
            anchor = facts.import_insertion if facts.import_insertion.row else Span(1, 1, 1, 1)
            edits.insert(0, Edit(f"import {library}\n", Span(anchor.row, 1, anchor.row, 1)))
        return Fix(f"Replace with `await {library}.sleep(...)`", tuple(edits))

    def _helper_finding(self, facts, where, library, call: CallSite, chain: Chain) -> Finding:
        model = self.model
        path, site = chain
        span, text, api, site_path = site.span, site.text, site.api, site.path
        steps = " -> ".join(f"{model.program.display_name(q)}()" for q in path)
        family = FAMILIES[api.code][1]
        message = (
            f"`{call.display or call.text}()` blocks the event loop inside {where}: {steps} -> `{text}` ({api.code}, "
            f"{family}, {site.api.cost_text}) at {short_path(site_path)}:{span.row}. Run it in a thread "
            f"({_offload(library)}) or make the chain async"
        )
        related = [Related(f"blocking call `{text}`", site_path, span)]
        for qualname in path:
            info, owner = model.program.functions[qualname]
            related.append(Related(f"`{model.program.display_name(qualname)}()` defined here", owner.path, info.span))
        return Finding("CCL210", message, facts.path, call.span, tuple(related), None, (("cost", site.cost),))


SHORT_SLEEP = 0.005  # seconds: a constant sleep this short, outside a loop, is a bounded stall


def _priced(call: CallSite, api: BlockingApi) -> BlockingApi:
    """The cost class the call's own arguments decide. A file of known small size (a ``/proc`` or ``/sys``
    pseudo-file, a file shipped next to the module: model/small_files.py) is read in one short system
    call; a constant ``time.sleep`` of at most SHORT_SLEEP seconds outside a loop stalls for no longer
    than that. Both are bounded."""
    if api.cost != UNBOUNDED:
        return api
    if api.code == "CCL204" and call.small_file:
        return replace(api, cost=BOUNDED, cost_note="a file of known small size")
    delay = call.literal
    if (
        api.code == "CCL201"
        and not call.in_loop
        and isinstance(delay, (int, float))
        and not isinstance(delay, bool)
        and 0 <= delay <= SHORT_SLEEP
    ):
        return replace(api, cost=BOUNDED, cost_note=f"a sleep of at most {SHORT_SLEEP * 1000:g} ms")
    return api


def _worse(site: Site, than: Site) -> bool:
    """Unbounded is worse than CPU-heavy, which is worse than bounded; between equals, the first found stays."""
    return COST_RANK[site.cost] > COST_RANK[than.cost]


def _lock_key(info, written: str) -> Optional[str]:
    """``self._lock`` in a method as the lock key held-lock facts use (``self:mod.Class._lock``); None
    for other forms, which stay reported."""
    if info is None or not info.class_qualname or not written.startswith("self.") or written.count(".") != 1:
        return None
    return f"self:{info.class_qualname}.{written[5:]}"


_LOCK_API = BlockingApi("threading.Lock.acquire", "CCL205", (("any", "an `asyncio.Lock` (`async with lock:`)"),))


def _offload(library: str) -> str:
    return {
        "asyncio": "`await asyncio.to_thread(...)`",
        "trio": "`await trio.to_thread.run_sync(...)`",
        "anyio": "`await anyio.to_thread.run_sync(...)`",
    }[library]


def blocking_analysis(project) -> BlockingAnalysis:
    return project.shared("blocking", lambda: BlockingAnalysis(project))


class _BlockingRule(Rule):
    def check(self, project, facts: ModuleFacts) -> Iterable[Finding]:
        analysis = blocking_analysis(project)
        found = project.shared(f"blocking:{facts.path}", lambda: analysis.findings(facts))
        return [f for f in found if f.code == self.code]


_ALTERNATIVES_NOTE = (
    "The catalogue (`docs/blocking-calls.md`) lists every API and its non-blocking alternative for asyncio, trio "
    "and anyio."
)
_NOT_REPORTED = """
        Not reported: calls handed to a thread rather than made (`await asyncio.to_thread(f, ...)`,
        `loop.run_in_executor(None, f)`, `anyio.to_thread.run_sync(f)`, an executor's `submit`,
        and lambdas or nested `def`s given to them), functions whose decorator runs them in a
        worker thread (`@sync_to_async`, `@asyncify`, Textual's `@work(thread=True)`, decorators
        named `run_in_executor`, `run_in_thread` or `to_thread`, and the `offload-decorators`
        setting), awaited calls, and methods of receivers that are not the catalogue's types (a
        dict's `.get`, your own `Session` class).

        Every finding names its cost class, in the message and as the `cost` property of the JSON
        and SARIF output: **unbounded** (network, sleep, subprocesses, waits, databases, directory
        walks, reads of data of unknown size), **bounded** (one short system call: a single `stat`
        or `exists`, an `open`, a small write) or **CPU-heavy** (decoding and resizing images).
        `blocking-severity = "unbounded"` reports only the calls that are not bounded. A call in
        an app's start-up hook (a `lifespan`, by name or given as `lifespan=`, or a `startup`
        handler) is named as start-up code: it runs once, before the app serves requests.
"""


def _explanation(what: str, fix: str) -> str:
    return f"""
        {what}

        An event loop runs one task at a time: while this call blocks, no other coroutine,
        callback or connection makes progress. Reported in `async def` bodies and loop
        callbacks; a synchronous helper that blocks is reported where event-loop code calls
        it (CCL210). {_ALTERNATIVES_NOTE}
        {_NOT_REPORTED}
        Fix: {fix}
    """


class BlockingSleepInAsync(_BlockingRule):
    code = "CCL201"
    name = "blocking-sleep-in-async"
    summary = "`time.sleep()` called inside an `async def` blocks the event loop."
    explanation = _explanation(
        "`time.sleep()` called in event-loop code; names are resolved through imports (`import time as t`, `from "
        "time import sleep as nap`).",
        "`await asyncio.sleep(...)` (`trio.sleep`, `anyio.sleep` in trio or anyio code). `conclint check --fix` "
        "makes this change.",
    )
    bad = (
        """
        import time

        async def poll():
            time.sleep(1)
        """,
        """
        from time import sleep as nap

        async def poll():
            nap(0.5)
        """,
    )
    good = (
        """
        import asyncio

        async def poll():
            await asyncio.sleep(1)
        """,
        """
        import asyncio, time

        async def poll():
            await asyncio.to_thread(time.sleep, 1)
        """,
    )
    scenario = "blocking-loop"


class BlockingNetworkCall(_BlockingRule):
    code = "CCL202"
    name = "blocking-network-call-in-async"
    summary = "A synchronous network call (requests, httpx.Client, urllib, sockets, smtplib...) in event-loop code."
    explanation = _explanation(
        "A synchronous HTTP client (`requests`, `httpx` module functions and `Client`, `urllib.request.urlopen`, "
        "`urllib3`, `http.client`), blocking `socket` calls and DNS look-ups, `smtplib`, `ftplib` or `xmlrpc.client` "
        "in event-loop code. Sockets set non-blocking (`setblocking(False)`) are not reported.",
        "an async client (`httpx.AsyncClient`, `aiohttp`), `asyncio.open_connection`, or run the call in a thread.",
    )
    bad = (
        """
        import requests

        async def fetch(url):
            return requests.get(url).text
        """,
        """
        import httpx

        async def fetch(url):
            client = httpx.Client()
            return client.get(url)
        """,
    )
    good = (
        """
        import httpx

        async def fetch(url):
            async with httpx.AsyncClient() as client:
                return await client.get(url)
        """,
    )
    scenario = "blocking-http"


class BlockingSubprocess(_BlockingRule):
    code = "CCL203"
    name = "blocking-subprocess-in-async"
    summary = "`subprocess`, `os.system`, `os.popen`, `os.spawn*` or `os.wait*` in event-loop code."
    explanation = _explanation(
        "Starting a process and waiting for it "
        "(`subprocess.run/call/check_call/check_output/getoutput/getstatusoutput/Popen`, `Popen.wait/communicate`, "
        "`os.system`, `os.popen`, `os.spawn*`, `os.posix_spawn*`, `os.wait*`) in event-loop code.",
        "`await asyncio.create_subprocess_exec(...)` (`trio.run_process`, `anyio.run_process`).",
    )
    bad = (
        """
        import subprocess

        async def build():
            subprocess.run(["make"], check=True)
        """,
    )
    good = (
        """
        import asyncio

        async def build():
            process = await asyncio.create_subprocess_exec("make")
            await process.wait()
        """,
    )
    scenario = "blocking-subprocess"


class BlockingFileIO(_BlockingRule):
    code = "CCL204"
    name = "blocking-file-io-in-async"
    summary = (
        "File-system I/O (`open`, file methods, `pathlib.Path` I/O, `shutil`, `os.path` look-ups) in event-loop code."
    )
    explanation = _explanation(
        "`open`, `io.open`, `os.fdopen` and the methods of the files they return, `pathlib.Path` I/O methods "
        "(`read_text`, `write_bytes`, `iterdir`, `glob`, `stat`, `exists`, `mkdir`, `unlink`, ...), `shutil` copies, "
        "moves and `rmtree`, and disk-touching `os.path`/`os` functions. Select away the family (`ignore = "
        '["CCL204"]`) if your disks are fast enough for you; `allowed-blocking-calls` removes single APIs.',
        "`aiofiles`, `anyio.Path`, `trio.Path`, or `await asyncio.to_thread(...)`.",
    )
    bad = (
        """
        async def load(path):
            with open(path) as handle:
                return handle.read()
        """,
    )
    good = (
        """
        import asyncio

        def read(path):
            with open(path) as handle:
                return handle.read()

        async def load(path):
            return await asyncio.to_thread(read, path)
        """,
    )
    scenario = "blocking-file-read"


class BlockingWait(_BlockingRule):
    code = "CCL205"
    name = "blocking-wait-in-async"
    summary = "Waiting on a thread or process primitive (lock, event, queue, future, join) in event-loop code."
    explanation = _explanation(
        "`threading` `Lock/RLock/Semaphore.acquire` (and `with` such a lock inside a coroutine), `Event.wait`, "
        "`Condition.wait`, `Thread.join`, blocking `queue.Queue.get/put/join`, "
        "`concurrent.futures.Future.result/exception`, `concurrent.futures.wait/as_completed`, `multiprocessing` "
        "`Process.join`, `Pool.map/apply`. Non-blocking forms (`get(block=False)`, `acquire(blocking=False)`, "
        "`get_nowait`) are not reported.",
        "the event loop's own primitives (`asyncio.Lock`, `asyncio.Event`, `asyncio.Queue`), `await "
        "asyncio.wrap_future(future)`, or run the wait in a thread.",
    )
    bad = (
        """
        import queue

        jobs = queue.Queue()

        async def next_job():
            return jobs.get()
        """,
    )
    good = (
        """
        import asyncio

        jobs = asyncio.Queue()

        async def next_job():
            return await jobs.get()
        """,
    )
    scenario = "blocking-wait"


class BlockingDatabaseCall(_BlockingRule):
    code = "CCL206"
    name = "blocking-database-call-in-async"
    summary = (
        "A synchronous database driver (sqlite3, psycopg2, pymysql, redis.Redis, pymongo, SQLAlchemy sync) in "
        "event-loop code."
    )
    explanation = _explanation(
        "Connecting, executing and fetching with `sqlite3`, `psycopg2`/`psycopg` sync connections and cursors, "
        "`pymysql`, `MySQLdb`, the sync `redis.Redis` client, `pymongo`, or SQLAlchemy's sync "
        "`Engine`/`Connection`/`Session`, in event-loop code.",
        "an async driver (`aiosqlite`, `asyncpg`, `psycopg.AsyncConnection`, `aiomysql`, `redis.asyncio`, `motor`, "
        "SQLAlchemy's `AsyncSession`), or run the query in a thread.",
    )
    bad = (
        """
        import sqlite3

        async def count_users(path):
            conn = sqlite3.connect(path)
            return conn.execute("select count(*) from users").fetchone()
        """,
    )
    good = (
        """
        import aiosqlite

        async def count_users(path):
            async with aiosqlite.connect(path) as conn:
                cursor = await conn.execute("select count(*) from users")
                return await cursor.fetchone()
        """,
    )
    scenario = "blocking-database"


class BlockingConsoleInput(_BlockingRule):
    code = "CCL207"
    name = "blocking-console-input-in-async"
    summary = "`input()`, `sys.stdin.read/readline` or `getpass.getpass()` in event-loop code."
    explanation = _explanation(
        "Reading the console (`input`, `sys.stdin.read/readline/readlines`, `getpass.getpass`) in event-loop code: "
        "the loop stops until someone types.",
        "read in a thread (`await asyncio.to_thread(input, prompt)`) or from an async stream connected to stdin.",
    )
    bad = (
        """
        async def ask():
            return input("name? ")
        """,
    )
    good = (
        """
        import asyncio

        async def ask():
            return await asyncio.to_thread(input, "name? ")
        """,
    )
    scenario = "blocking-console"


class ConfiguredBlockingCall(_BlockingRule):
    code = "CCL209"
    name = "configured-blocking-call"
    summary = "A call listed in the project's `blocking-calls` setting, made in event-loop code."
    explanation = """
        Your project knows APIs that block which conclint's catalogue does not. List them in
        `[tool.conclint]`, with the advice to show:

        ```toml
        [tool.conclint]
        blocking-calls = { "mylib.fetch" = "use mylib.aio.fetch" }
        ```

        They are then reported like the catalogue's APIs, directly in event-loop code and
        through helpers (CCL210). `allowed-blocking-calls` removes catalogue entries.
    """
    example_settings = {"blocking-calls": {"mylib.fetch": "use `await mylib.aio.fetch(...)`"}}
    bad = (
        """
        import mylib

        async def handler():
            return mylib.fetch("report")
        """,
    )
    good = (
        """
        import mylib.aio

        async def handler():
            return await mylib.aio.fetch("report")
        """,
    )


class BlockingCallViaHelper(_BlockingRule):
    code = "CCL210"
    name = "blocking-call-via-helper"
    summary = "Event-loop code calls a synchronous project function that blocks, directly or further down."
    explanation = """
        flake8-async and ruff see only calls written directly inside an `async def`. conclint
        follows the call graph across the whole project: `handler -> load_config() ->
        requests.get()` is reported at the call in `handler`, with the chain down to the
        blocking call and its rule, across modules (namespace packages too) and through cycles
        in the call graph. The chain cites its worst call: an unbounded one before a bounded one.

        The chain follows the constants the calls pass: a helper whose blocking branch sits
        behind a guard on a parameter (`if not path: return`, `if url is not None:`,
        `if verbose:`) is not blocking for a call that passes `None`, `False`, `""` or `0` there
        (or leaves a default that fails the guard), through every helper of the chain. A
        constructor's arguments are followed into the object's attributes: `Notebook(None)`
        whose `__init__` stores `self._file = path` (or a helper's result an early return
        decides, `self._file = as_path(path)`) does not reach `if self._file is None: return`
        guards, nor a property returning early on it, in the methods it calls; an attribute
        the object's own methods store again in between is unknown, and so is every attribute
        in a coroutine (another task may store it at any `await`).

        A helper's `with self._lock:` on a threading lock is a stall only when another thread
        can hold that lock while it runs something that can block: some function taking the
        lock runs in a thread the project starts (a thread target, a pool task, an offloaded
        call), and something held under it can block or calls project code. A lock only the
        loop's thread takes is never contended (a sync holder is not suspended holding it),
        and neither is the lock of an object still inside its own `__init__` (before it has
        handed itself to a thread or another call).

        What the imports already ran is not run again: a once flag (`if not _ready: _ready =
        True; ...`, a module global that starts falsy and is never reset) or a memoised function
        without parameters (`@functools.cache`) first called at the top level of the coroutine's
        module, or of a module it imports at its top level, has done its work before the
        coroutine can call it. Only modules conclint analyses in full count (a module without
        any concurrency word is only syntax-checked, and its top level is not seen).

        Not reported: helpers handed to a thread (`await asyncio.to_thread(load_config)`) or
        decorated to run in one, awaited calls, and helpers that never block.

        Fix: run the helper in a thread (`await asyncio.to_thread(helper, ...)`) or make the
        chain async.
    """
    bad = (
        """
        import requests

        def load_config(url):
            return requests.get(url).json()

        async def handler(url):
            return load_config(url)
        """,
    )
    good = (
        """
        import asyncio
        import requests

        def load_config(url):
            return requests.get(url).json()

        async def handler(url):
            return await asyncio.to_thread(load_config, url)
        """,
    )
    scenario = "blocking-loop"
