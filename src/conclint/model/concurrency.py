"""The project-wide concurrency model: call graph, entry points, and where each function runs.

For every function it answers *how can this run concurrently, and why do we think so*:
the entry points (a thread target, a pool task, a loop callback, a child process) and
the call chain from each entry down to the function, so messages can say
``worker() <- threading.Thread(target=...) at jobs.py:40``.
"""

from __future__ import annotations

import os
from collections import deque
from dataclasses import dataclass
from typing import Callable, Dict, Iterable, Iterator, List, Optional, Sequence, Set, Tuple

from conclint.engine.findings import Span
from conclint.engine.modules import split_prefix
from conclint.engine.paths import short_path
from conclint.model.apis import (
    ASYNC_LOCK_TYPES,
    CONNECTION_SERVERS,
    ENDPOINT_CONSTRUCTORS,
    ENTRY_SPECS_BY_CALLEE,
    HANDLER_METHOD_PREFIXES,
    HANDLER_REGISTRATION_CALLS,
    POOL_INITIALIZER_CALLS,
    PROCESS_CLASSES,
    PROTOCOL_CLASSES,
    ROUTE_DECORATOR_METHODS,
    START_METHOD_CALLS,
    TASK_SPAWNERS,
    THREAD_CLASSES,
    THREADED_ROUTE_RECEIVERS,
    THREADING_SERVER_MIXINS,
    EntrySpec,
)
from conclint.model.facts import MODULE_SCOPE, CallSite, ClassInfo, FunctionInfo, ModuleFacts, Ref

THREAD, LOOP, PROCESS = "thread", "loop", "process"
# calls that register pool initializers, fork hooks, start methods or web endpoints
_REGISTERING_CALLEES = (
    POOL_INITIALIZER_CALLS
    | START_METHOD_CALLS
    | frozenset(ENDPOINT_CONSTRUCTORS)
    | frozenset(CONNECTION_SERVERS)
    | frozenset({"multiprocessing.util.register_after_fork", "os.register_at_fork"})
)
MAX_CALLER_DEPTH = 400
FORK_BRANCH = "os.fork() child branch"


@dataclass(frozen=True)
class EntryPoint:
    """Where concurrent execution of ``function`` starts, and why we think so."""

    context: str  # THREAD, LOOP or PROCESS
    function: str
    reason: str  # "threading.Thread(target=...)"
    path: str
    span: Span
    many: bool  # several instances can run at once (a pool, a server, a loop of starts)
    shared_self: bool = True  # those instances share one ``self`` (False: a Thread subclass's run)
    starter: Optional[str] = None  # the function whose call starts it (MODULE_SCOPE at top level)


@dataclass(frozen=True)
class ExecutionContext:
    entry: EntryPoint
    chain: Tuple[str, ...]  # qualnames from the entry function down to this one

    def describe(self, short) -> str:
        """``helper() <- worker() <- threading.Thread(target=...) at jobs.py:40``."""
        names = " <- ".join(f"{short(q)}()" for q in reversed(self.chain))
        return f"{names} <- {self.entry.reason} at {short_path(self.entry.path)}:{self.entry.span.row}"


class ConcurrencyModel:
    def __init__(
        self,
        modules: Sequence[ModuleFacts],
        thread_entry_decorators: Iterable[str] = (),
        thread_entry_calls: Iterable[str] = (),
        threaded_server: Optional[str] = None,  # where we read that requests run in threads
    ) -> None:
        self.modules = {m.module: m for m in modules}
        self.functions: Dict[str, Tuple[FunctionInfo, ModuleFacts]] = {}
        self.classes: Dict[str, Tuple[ClassInfo, ModuleFacts]] = {}
        for facts in modules:
            for qualname, info in facts.functions.items():
                self.functions[qualname] = (info, facts)
            for qualname, info in facts.classes.items():
                self.classes[qualname] = (info, facts)
        self._resolved: Dict[Optional[str], Optional[str]] = {}
        self._bases: Dict[str, List[str]] = {}
        self._mros: Dict[str, List[str]] = {}
        self._thread_entry_decorators = set(thread_entry_decorators)
        self._thread_entry_calls = set(thread_entry_calls)
        self.callees: Dict[str, List[Tuple[str, CallSite]]] = {}
        self.callers: Dict[str, List[Tuple[str, CallSite]]] = {}  # function -> (caller or MODULE_SCOPE, call)
        self.instantiations: Dict[str, List[Tuple[CallSite, ModuleFacts]]] = {}
        self.entries: List[EntryPoint] = []
        self.shared_classes: Dict[str, str] = {}  # class -> why its instances are shared
        self.handler_classes: Set[str] = set()
        self.request_handlers: Dict[str, Tuple[str, str, Span]] = {}  # function -> (reason, path, span)
        self.connection_handlers: Dict[str, Tuple[str, str, Span]] = {}  # the same, for asyncio/trio/websockets servers
        self.initializers: Set[str] = set()  # per-process set-up: pool initializers, after_in_child hooks
        self.start_methods: List[Tuple[str, str, str, Span]] = []  # (call, "spawn", path, span) set in the code
        self.fork_hooks: List[Tuple[str, Span]] = []  # os.register_at_fork(after_in_child=...) calls
        self._attributes_by_class: Optional[Dict[str, Set[str]]] = None
        self._subclasses: Optional[Dict[str, List[str]]] = None
        self._task_shared: Optional[Dict[str, str]] = None
        self._spawn_edges: Set[Tuple[str, Span]] = set()  # (spawner, span of the coroutine call it spawns)
        self._spawn_sites: Dict[str, List[Tuple[CallSite, ModuleFacts, bool]]] = {}  # coroutine function -> its spawns
        self._task_runs: Dict[str, Optional[str]] = {}
        self._awaited_calls: Optional[Dict[Tuple[str, int, int], CallSite]] = None  # (function, end row, end col)
        self._suspending: Optional[Set[str]] = None  # coroutines that may suspend when awaited
        self._routines: Dict[str, Optional[str]] = {}
        self._self_spawned: Set[str] = set()  # methods an object spawns as its own task: self._run()
        self._argument_callers: Dict[
            str, List[Tuple[str, CallSite]]
        ] = {}  # method -> spawned function calling it on a parameter
        self._calls_by_function: Optional[Dict[str, List[CallSite]]] = None
        self._caller_depth = 0
        self._type_imported_receivers(modules)
        self._build_call_graph(modules)
        self._find_entries(modules)
        if threaded_server:
            for handler, (reason, _path, span) in self.request_handlers.items():
                facts = self.functions[handler][1]
                self._add_entry(
                    THREAD, handler, f"{reason} on a threaded server ({threaded_server})", facts, span, True
                )
        self.contexts: Dict[str, List[ExecutionContext]] = {}
        self._propagate()

    # ---- resolution ---------------------------------------------------------
    def resolve_name(self, name: Optional[str], depth: int = 0) -> Optional[str]:
        """A project function or class by qualified name, following re-exports."""
        if depth == 0:
            if name not in self._resolved:  # the same few thousand names, asked for again and again
                self._resolved[name] = self._resolve_name(name, 0)
            return self._resolved[name]
        return self._resolve_name(name, depth)

    def _resolve_name(self, name: Optional[str], depth: int) -> Optional[str]:
        if not name or depth > 8:
            return None
        if name in self.functions or name in self.classes:
            return name
        module, _, attribute = name.rpartition(".")
        facts = self.modules.get(module)
        if facts is not None and attribute in facts.module_imports:
            return self.resolve_name(facts.module_imports[attribute], depth + 1)
        # a method through its class, re-exported: pkg.Cls.method
        owner, _, method = name.rpartition(".")
        if owner and owner not in self.classes:
            resolved_owner = self.resolve_name(owner, depth + 1)
            if resolved_owner in self.classes:
                return self.method_of(resolved_owner, method)
        return None

    def class_bases(self, qualname: str) -> List[str]:
        """All bases, transitively: project classes by qualname, outside ones as written."""
        if qualname not in self._bases:
            self._bases[qualname] = self._class_bases(qualname)
        return list(self._bases[qualname])

    def _class_bases(self, qualname: str) -> List[str]:
        seen: List[str] = []
        pending = [qualname]
        while pending:
            current = pending.pop()
            entry = self.classes.get(current)
            if entry is None:
                continue
            for base in entry[0].bases:
                resolved = self.resolve_name(base) or base
                if resolved not in seen:
                    seen.append(resolved)
                    pending.append(resolved)
        return seen

    def is_subclass_of(self, qualname: str, bases: Iterable[str]) -> bool:
        wanted = set(bases)
        return any(base in wanted for base in self.class_bases(qualname))

    def method_of(self, class_qualname: str, name: str) -> Optional[str]:
        for owner in [class_qualname, *self.class_bases(class_qualname)]:
            candidate = f"{owner}.{name}"
            if candidate in self.functions:
                return candidate
        return None

    def resolve_ref(self, ref: Optional[Ref], call: CallSite) -> Optional[str]:
        """The project function a reference names: ``worker``, ``self.run``, ``obj.method``, a lambda."""
        if ref is None:
            return None
        resolved = self.resolve_name(ref.target)
        if resolved in self.functions:
            return resolved
        parts = ref.text.split(".")
        if len(parts) == 2 and call.class_context and parts[0] in ("self", "cls"):
            return self.method_of(call.class_context, parts[1])
        if ref.receiver_type:
            owner = self.resolve_name(ref.receiver_type)
            if owner in self.classes:
                return self.method_of(owner, parts[-1])
        return None

    def resolve_call(self, call: CallSite) -> Optional[str]:
        resolved = self.resolve_name(call.callee)
        if resolved in self.functions:
            return resolved
        if resolved in self.classes:
            return self.method_of(resolved, "__init__")
        parts = call.text.split(".") if call.text else []
        if len(parts) == 2 and call.class_context and parts[0] in ("self", "cls"):
            return self.method_of(call.class_context, parts[1])
        if len(parts) >= 2:
            return self._method_of_receiver(call)
        return None

    def _method_of_receiver(self, call: CallSite) -> Optional[str]:
        """``pool.get()`` where the model knows what ``pool`` was built from."""
        owner = self.resolve_name(call.receiver_type) if call.receiver_type else None
        return self.method_of(owner, call.method) if owner in self.classes and call.method else None

    def object_type(self, name: Optional[str], depth: int = 0) -> Optional[str]:
        """A type name as it is, or the type a project module variable was built from."""
        if not name or depth > 8:  # re-exports can form cycles
            return None
        module, _, variable = name.rpartition(".")
        facts = self.modules.get(module)
        if facts is None:
            return name
        if variable in facts.module_imports:
            return self.object_type(facts.module_imports[variable], depth + 1)
        built = facts.global_types.get(variable)
        return self.object_type(built, depth + 1) if built and built != name else built

    def split_module(self, dotted: str) -> Tuple[Optional[str], str]:
        """("pkg.mod", "rest.of.it") for the longest project module prefix of ``dotted``."""
        return split_prefix(dotted, self.modules)

    def canonical_key(self, key: str, depth: int = 0) -> Optional[str]:
        """One spelling per piece of state, whichever module or subclass names it.

        ``global:pkg.store.totals`` seen through an import is the store module's own global;
        a project class reached that way is a class attribute; anything else a project
        module exports (functions, classes themselves, submodules) is not state (None).
        ``self:Sub.x`` becomes ``self:Root.x`` for the root project class of the hierarchy.
        """
        kind, _, rest = key.partition(":")
        if kind == "global":
            module, path = self.split_module(rest)
            if module is None:
                return None  # another library's object (flask.session, flask.g): not our state
            variable, _, attributes = path.partition(".")
            facts = self.modules[module]
            if variable in facts.module_imports and depth < 8:
                target = facts.module_imports[variable] + (f".{attributes}" if attributes else "")
                return self.canonical_key(f"global:{target}", depth + 1)
            qualified = f"{module}.{variable}"
            if qualified in self.classes:
                return f"class:{qualified}.{attributes}" if attributes else None
            if qualified in self.functions:
                return None
            return key
        if kind == "self":
            owner, attribute = self.split_class(rest)
            if owner is not None:
                return f"self:{self.defining_class(owner, attribute.split('.', 1)[0])}.{attribute}"
        return key

    def defining_class(self, qualname: str, attribute: str) -> str:
        """The highest class above ``qualname`` (first bases) whose own methods use ``self.<attribute>``:
        a subclass and the base that sets the attribute share it, two siblings do not."""
        if self._attributes_by_class is None:
            self._attributes_by_class = {}
            for facts in self.modules.values():
                for function, state in facts.state.items():
                    owner = self.functions.get(function, (None,))[0]
                    if owner is not None and owner.class_qualname:
                        used = self._attributes_by_class.setdefault(owner.class_qualname, set())
                        for access in (*state.reads, *state.writes):
                            if access.key.startswith("self:"):
                                used.add(access.key[5 + len(owner.class_qualname) + 1 :].split(".", 1)[0])
        best = current = qualname
        seen = {current}
        while True:
            info = self.classes[current][0]
            parent = next((self.resolve_name(b) for b in info.bases if self.resolve_name(b) in self.classes), None)
            if parent is None or parent in seen:
                return best
            seen.add(parent)
            if attribute in self._attributes_by_class.get(parent, ()):
                best = parent
            current = parent

    def split_class(self, dotted: str) -> Tuple[Optional[str], str]:
        return split_prefix(dotted, self.classes)

    def real_locks(self, held: Sequence[str]) -> Tuple[str, ...]:
        """The locks really held: ``?pkg.locks.guard`` entries count when that object is a lock."""
        from conclint.model.apis import THREAD_LOCK_TYPES, looks_like_lock

        real = []
        for entry in held:
            if entry.startswith("?"):
                name = entry[1:].split("#", 1)[0]
                if name.startswith("self:"):
                    owner, attribute = name[5:].rsplit(".", 1)
                    built = self.attribute_type(owner, attribute)
                else:
                    built = self.object_type(name)
                if built not in THREAD_LOCK_TYPES and not looks_like_lock(name.rsplit(".", 1)[-1]):
                    continue
                entry = entry[1:]
            real.append(entry)
        return tuple(real)

    def attribute_type(self, class_qualname: str, attribute: str) -> Optional[str]:
        """What ``self.<attribute>`` was built from, in the class or the project classes it inherits."""
        for owner in [class_qualname, *self.class_bases(class_qualname)]:
            entry = self.classes.get(owner)
            if entry is not None and attribute in entry[0].attribute_types:
                return entry[0].attribute_types[attribute]
        return None

    def short_name(self, qualname: str) -> str:
        return qualname.replace(".<locals>", "").rsplit(".", 2)[-1] if qualname.count(".") else qualname

    def display_name(self, qualname: str) -> str:
        """``Counter.inc`` for methods, ``worker`` for functions: the name a reader knows."""
        entry = self.functions.get(qualname)
        if entry is None:
            return qualname
        info = entry[0]
        if info.is_lambda:
            return f"lambda at line {info.span.row}"
        if info.class_qualname:
            return f"{info.class_qualname.rsplit('.', 1)[-1]}.{info.name}"
        return info.name

    def _type_imported_receivers(self, modules: Sequence[ModuleFacts]) -> None:
        """Types one module could not know alone: ``from .clients import session; session.get()``
        (what the other module built it from) and factories (``self.pool = self.make_pool()``)."""
        for facts in modules:
            for info in facts.classes.values():
                for attribute, built in list(info.attribute_types.items()):
                    info.attribute_types[attribute] = self.realize(built)
            for name, built in list(facts.global_types.items()):
                facts.global_types[name] = self.realize(built)
            for call in facts.calls:
                if call.receiver_type is None and call.receiver_object:
                    built = self.object_type(call.receiver_object)
                    if built != call.receiver_object:
                        call.receiver_type = built
                elif call.receiver_type:
                    call.receiver_type = self.realize(call.receiver_type)

    def realize(self, built: Optional[str], depth: int = 0) -> Optional[str]:
        """What a factory returns, for a type recorded as the factory (a project function, or a
        method still to be found: ``@method:pkg.Worker.make_pool``)."""
        if not built or depth > 8:
            return built
        if built.startswith("@method:"):
            owner, _, name = built[len("@method:") :].rpartition(".")
            target = self.method_of(owner, name) if owner in self.classes else None
            if target is None:
                # not known (yet): keep the marker, so a model over more modules can still read it
                # (the demand rounds build models over growing sets of the same facts)
                return built
            return self.realize(self.functions[target][0].returns, depth + 1)
        target = self.resolve_name(built)
        if target in self.functions:
            return self.realize(self.functions[target][0].returns, depth + 1)
        return built

    # ---- call graph ---------------------------------------------------------
    def _build_call_graph(self, modules: Sequence[ModuleFacts]) -> None:
        for facts in modules:
            for call in facts.calls:
                target = self.resolve_call(call)
                for callee in [target, *self._overrides(call, target)] if target is not None else ():
                    self.callers.setdefault(callee, []).append((call.function, call))
                    if call.function != MODULE_SCOPE:
                        self.callees.setdefault(call.function, []).append((callee, call))
                resolved = self.resolve_name(call.callee)
                if resolved in self.classes:
                    self.instantiations.setdefault(resolved, []).append((call, facts))

    def _overrides(self, call: CallSite, target: str) -> List[str]:
        """``self.emit()`` in a base class also runs a subclass's ``emit``: dynamic dispatch."""
        parts = call.text.split(".") if call.text else []
        if not (len(parts) == 2 and parts[0] in ("self", "cls") and call.class_context):
            return []
        return [
            f"{sub}.{parts[1]}"
            for sub in self.subclasses_of(call.class_context)
            if f"{sub}.{parts[1]}" in self.functions and f"{sub}.{parts[1]}" != target
        ]

    def subclasses_of(self, qualname: str) -> List[str]:
        if self._subclasses is None:
            self._subclasses = {}
            for name in self.classes:
                for base in self.class_bases(name):
                    self._subclasses.setdefault(base, []).append(name)
        return self._subclasses.get(qualname, [])

    # ---- entry points -------------------------------------------------------
    def _add_entry(
        self,
        context: str,
        function: Optional[str],
        reason: str,
        facts: ModuleFacts,
        span: Span,
        many: bool,
        shared_self: bool = True,
        starter: Optional[str] = None,
    ) -> None:
        if function is not None and function in self.functions:
            self.entries.append(EntryPoint(context, function, reason, facts.path, span, many, shared_self, starter))

    def _spec_for(self, call: CallSite) -> List[EntrySpec]:
        specs = list(ENTRY_SPECS_BY_CALLEE.get(call.callee or "", ()))
        if call.receiver_type and call.method:
            specs += ENTRY_SPECS_BY_CALLEE.get(f"{call.receiver_type}.{call.method}", ())
        return specs

    def _find_entries(self, modules: Sequence[ModuleFacts]) -> None:
        self._global_instances = {}
        for facts in modules:
            for name, type_name in facts.global_types.items():
                resolved = self.resolve_name(type_name)
                if resolved in self.classes:
                    where = (
                        f"an entry of the module global `{name[:-2]}`"
                        if name.endswith("[]")
                        else f"the module global `{name}`"
                    )
                    self._global_instances.setdefault(resolved, where)
        for facts in modules:
            for call in facts.calls:
                for spec in self._spec_for(call):
                    self._entry_from_call(spec, call, facts)
                self._process_facts_from_call(call, facts)
                if call.callee in self._thread_entry_calls:
                    ref = call.args[0] if call.args else next(iter(call.kwargs.values()), None)
                    self._add_entry(THREAD, self.resolve_ref(ref, call), f"{call.text}(...)", facts, call.span, True)
                resolved = self.resolve_name(call.callee)
                if resolved in self.classes and self.is_subclass_of(resolved, THREADING_SERVER_MIXINS):
                    handler = call.args[1] if len(call.args) > 1 else call.kwargs.get("RequestHandlerClass")
                    spec = EntrySpec(
                        resolved, THREAD, 1, None, True, f"{resolved.rsplit('.', 1)[-1]} request handler", True
                    )
                    self._handler_entries(spec, handler, call, facts)
                    self.shared_classes.setdefault(resolved, "the server object is shared by every request thread")
            for qualname, info in facts.functions.items():
                self._entries_from_decorators(info, facts)
                self._request_handler_from_signature(info, facts)
                if info.is_async:
                    self._add_entry(LOOP, qualname, "async def", facts, info.span, True)
            for qualname, info in facts.classes.items():
                self._entries_from_class(qualname, info, facts)
            for qualname, state in facts.state.items():
                child_calls = set(state.child_calls)
                for callee, call in self.callees.get(qualname, ()):
                    if call.span in child_calls:
                        self._add_entry(PROCESS, callee, FORK_BRANCH, facts, call.span, False, starter=qualname)

    def _process_facts_from_call(self, call: CallSite, facts: ModuleFacts) -> None:
        """Pool initializers, start methods and web handlers registered by a call."""
        callee = call.callee or ""
        method = call.text.rsplit(".", 1)[-1]
        if callee not in _REGISTERING_CALLEES and method not in HANDLER_REGISTRATION_CALLS and method != "Pool":
            return  # most calls: nothing to look up
        if callee in CONNECTION_SERVERS:  # ``asyncio.start_server(self.handle, ...)``: a task per connection
            keyword = (
                call.kwargs.get("client_connected_cb") or call.kwargs.get("handler") or call.kwargs.get("ws_handler")
            )
            position = CONNECTION_SERVERS[callee]
            target = self.resolve_ref(call.args[position] if position < len(call.args) else keyword, call)
            if target:
                self.connection_handlers.setdefault(
                    target, (f"connection handler of {call.text}()", facts.path, call.span)
                )
        if callee in POOL_INITIALIZER_CALLS or (
            (call.receiver_type or "").endswith("get_context") and call.text.endswith(".Pool")
        ):
            target = self.resolve_ref(call.kwargs.get("initializer"), call)
            if target:
                self.initializers.add(target)
        if callee == "multiprocessing.util.register_after_fork" and len(call.args) > 1:
            target = self.resolve_ref(call.args[1], call)
            if target:
                self.initializers.add(target)
        if callee == "os.register_at_fork" and "after_in_child" in call.kwargs:
            self.fork_hooks.append((facts.path, call.span))
        if callee == "os.register_at_fork":
            for keyword in ("after_in_child", "before", "after_in_parent"):
                target = self.resolve_ref(call.kwargs.get(keyword), call)
                if target:
                    self.initializers.add(target)
        if callee in START_METHOD_CALLS and isinstance(call.literal, str):
            self.start_methods.append((callee.rsplit(".", 1)[-1], call.literal, facts.path, call.span))
        position = ENDPOINT_CONSTRUCTORS.get(callee)
        if position is None and method in HANDLER_REGISTRATION_CALLS and "." in call.text:
            position = HANDLER_REGISTRATION_CALLS[method]
        if position is not None:
            ref = (
                call.args[position]
                if position < len(call.args)
                else call.kwargs.get("endpoint") or call.kwargs.get("view_func") or call.kwargs.get("handler")
            )
            target = self.resolve_ref(ref, call)
            if target:
                self.request_handlers.setdefault(
                    target, (f"request handler registered with {call.text}()", facts.path, call.span)
                )

    def _request_handler_from_signature(self, info: FunctionInfo, facts: ModuleFacts) -> None:
        from conclint.model.apis import ROUTE_RECEIVERS, WEB_ROUTE_METHODS

        for name, receiver in zip(info.decorators, info.decorator_receivers):
            framework = ROUTE_RECEIVERS.get(self.object_type(receiver) or "")
            if framework and name.rsplit(".", 1)[-1] in WEB_ROUTE_METHODS:
                self.request_handlers.setdefault(info.qualname, (f"{framework} @{name}", facts.path, info.span))
                return
        params = info.params
        if info.parent is None and info.class_qualname is None:
            if params[:2] == ("environ", "start_response"):
                self.request_handlers.setdefault(info.qualname, ("WSGI application", facts.path, info.span))
            elif info.is_async and params[:3] == ("scope", "receive", "send"):
                self.request_handlers.setdefault(info.qualname, ("ASGI application", facts.path, info.span))
            elif params[:1] == ("request",) and os.path.basename(facts.path) == "views.py":
                self.request_handlers.setdefault(info.qualname, ("Django view", facts.path, info.span))

    def _entry_from_call(self, spec: EntrySpec, call: CallSite, facts: ModuleFacts) -> None:
        ref = call.kwargs.get(spec.keyword) if spec.keyword else None
        if ref is None and spec.position is not None and spec.position < len(call.args):
            ref = call.args[spec.position]
        if spec.handler_class:
            self._handler_entries(spec, ref, call, facts)
            return
        target = self.resolve_ref(ref, call)
        receiver = ref.text.split(".")[0] if ref is not None and "." in ref.text else None
        # ``Thread(target=probe.run)`` for a ``probe`` made per start: each thread has its own object
        shared_self = receiver in (None, "self", "cls") or receiver in facts.global_types
        self._add_entry(
            spec.context, target, spec.reason, facts, call.span, spec.many or call.in_loop, shared_self, call.function
        )
        if target is not None and spec.context == THREAD and ref is not None and "." in ref.text:
            owner = self.functions[target][0].class_qualname if target in self.functions else None
            if owner:
                self.shared_classes.setdefault(owner, f"its bound method `{ref.text}` is a thread target")

    def _handler_entries(self, spec: EntrySpec, ref: Optional[Ref], call: CallSite, facts: ModuleFacts) -> None:
        handler = self.resolve_name(ref.target) if ref is not None else None
        if handler not in self.classes:
            return
        self.handler_classes.add(handler)
        self.handler_classes.update(b for b in self.class_bases(handler) if b in self.classes)
        for owner in [handler, *self.class_bases(handler)]:
            for qualname, (info, _) in self.functions.items():
                if info.class_qualname == owner and info.name.startswith(HANDLER_METHOD_PREFIXES):
                    self._add_entry(spec.context, qualname, spec.reason, facts, call.span, True)

    def _entries_from_decorators(self, info: FunctionInfo, facts: ModuleFacts) -> None:
        for name, receiver in zip(info.decorators, info.decorator_receivers):
            if name in self._thread_entry_decorators:
                self._add_entry(THREAD, info.qualname, f"@{name}", facts, info.span, True)
            elif (
                self.object_type(receiver) in THREADED_ROUTE_RECEIVERS
                and name.rsplit(".", 1)[-1] in ROUTE_DECORATOR_METHODS
            ):
                self._add_entry(THREAD, info.qualname, f"Flask route @{name} (threaded server)", facts, info.span, True)

    def _entries_from_class(self, qualname: str, info: ClassInfo, facts: ModuleFacts) -> None:
        bases = self.class_bases(qualname)
        sites = self.instantiations.get(qualname, [])
        many = len(sites) > 1 or any(call.in_loop for call, _ in sites)
        if any(base in THREAD_CLASSES for base in bases):
            self._add_entry(
                THREAD,
                self.method_of(qualname, "run"),
                f"threading.Thread subclass {info.name}.run",
                facts,
                info.span,
                many,
                False,
            )
            self.shared_classes.setdefault(qualname, "it is a Thread: its owner and its own thread both use it")
        if any(base in PROCESS_CLASSES for base in bases):
            self._add_entry(
                PROCESS,
                self.method_of(qualname, "run"),
                f"multiprocessing.Process subclass {info.name}.run",
                facts,
                info.span,
                many,
                False,
            )
        if any(base in PROTOCOL_CLASSES for base in bases):
            for method, (function, _) in self.functions.items():
                if function.class_qualname == qualname:
                    self._add_entry(LOOP, method, f"asyncio protocol {info.name}", facts, info.span, True)
        if qualname in self._global_instances:
            self.shared_classes.setdefault(qualname, f"an instance is kept in {self._global_instances[qualname]}")

    def every_caller(self, function: str, memo: Dict[str, bool], holds: Callable[[str, CallSite], bool]) -> bool:
        """True when ``function`` has callers and ``holds(caller, call)`` for every one of them
        (a cycle counts as not holding, so recursion cannot prove anything; a call chain
        thousands deep stays conservative rather than recurse further)."""
        if function in memo:
            return memo[function]
        memo[function] = False
        if self._caller_depth > MAX_CALLER_DEPTH:
            return False
        self._caller_depth += 1
        try:
            callers = self.callers_of(function)
            memo[function] = bool(callers) and all(holds(caller, call) for caller, call in callers)
        finally:
            self._caller_depth -= 1
        return memo[function]

    def callers_of(self, function: str) -> List[Tuple[str, CallSite]]:
        """The call graph's callers, and spawned functions that call ``function`` on an object
        passed to them (``wallet.deposit()`` in ``handle(wallet)``, spawned with a Wallet)."""
        self.task_shared_classes()
        return [*self.callers.get(function, ()), *self._argument_callers.get(function, ())]

    # ---- objects several tasks use -------------------------------------------
    def task_shared_classes(self) -> Dict[str, str]:
        """Classes whose instances several tasks of one event loop use at once, and why: kept
        in a module global, holding an event-loop lock, or with methods spawned as several
        tasks (in a loop, in one ``gather``, or from two places). An object held by a shared
        one is not counted: per-request objects hang off long-lived ones all the time."""
        if self._task_shared is None:
            self._task_shared = self._find_task_shared_classes()
        return self._task_shared

    def owner_class(self, function: str) -> Optional[str]:
        """The class whose ``self`` ``function`` uses: its own, or its enclosing method's (a closure)."""
        info = self.functions.get(function, (None,))[0]
        while info is not None and info.class_qualname is None and info.parent is not None:
            info = self.functions.get(info.parent, (None,))[0]
        return info.class_qualname if info is not None else None

    def shared_between_tasks(self, function: str) -> Optional[str]:
        """Why the ``self`` of method ``function`` can be used by several tasks, or None."""
        owner = self.owner_class(function)
        if owner is None:
            return None
        shared = self.task_shared_classes()
        for candidate in sorted(shared):
            if candidate == owner or owner in self.class_bases(candidate):
                return shared[candidate]
        return None

    def mro(self, qualname: str) -> List[str]:
        """The method resolution order (C3) over project classes; outside bases end it as
        written. A hierarchy C3 rejects falls back to the class and its bases as found."""
        if qualname in self._mros:
            return self._mros[qualname]
        self._mros[qualname] = [qualname]  # a cyclic hierarchy stops here
        entry = self.classes.get(qualname)
        if entry is None:
            return [qualname]
        bases = [self.resolve_name(b) or b for b in entry[0].bases]
        sequences = [list(self.mro(base)) for base in bases] + [bases]
        order = [qualname]
        while True:
            sequences = [sequence for sequence in sequences if sequence]
            if not sequences:
                break
            head = next((seq[0] for seq in sequences if not any(seq[0] in other[1:] for other in sequences)), None)
            if head is None:
                order = [qualname, *self.class_bases(qualname)]
                break
            order.append(head)
            sequences = [seq[1:] if seq[0] == head else seq for seq in sequences]
        self._mros[qualname] = order
        return order

    def _initialised_by(self, qualname: str, chaining: Set[str]) -> List[str]:
        """The class and the bases whose ``__init__`` runs for its instances: an ``__init__``
        that does not call a base's (``super().__init__()``) leaves the bases' attributes unset
        (redis's ``Pipeline(Redis)`` never builds the client's lock)."""
        owners = []
        for owner in self.mro(qualname):  # ``super().__init__()`` runs the next class of the MRO
            owners.append(owner)
            init = f"{owner}.__init__"
            if init in self.functions and init not in chaining:
                break
        return owners

    def kept_in_a_global(self, function: str) -> bool:
        """The ``self`` of method ``function`` may be a module-global instance: any task of
        the program can call any of its methods."""
        owner = self.owner_class(function)
        return owner is not None and any(
            candidate == owner or owner in self.class_bases(candidate) for candidate in self._global_instances
        )

    def _find_task_shared_classes(self) -> Dict[str, str]:
        shared = {owner: f"an instance is kept in {where}" for owner, where in sorted(self._global_instances.items())}
        chaining = {
            call.function for facts in self.modules.values() for call in facts.calls if call.method == "__init__"
        }
        for qualname in sorted(self.classes):
            for owner in self._initialised_by(qualname, chaining):  # a lock the class inherits counts
                for attribute, built in (
                    sorted(self.classes[owner][0].attribute_types.items()) if owner in self.classes else ()
                ):
                    if not attribute.endswith("[]") and (self.realize(built) or built) in ASYNC_LOCK_TYPES:
                        shared.setdefault(
                            qualname, f"it holds an event-loop lock (`self.{attribute}`), so tasks share it"
                        )
        for handler, (reason, path, span) in sorted({**self.connection_handlers, **self.request_handlers}.items()):
            owner = self.owner_class(handler)
            if owner is not None and self.functions[handler][0].is_async:
                # a bound method registered once serves every request: one object, a task each
                shared.setdefault(
                    owner, f"`{self.display_name(handler)}()` is a {reason} at {short_path(path)}:{span.row}"
                )
        spawns: Dict[str, List[Tuple[CallSite, ModuleFacts, bool]]] = {}
        spawns_of: Dict[str, str] = {}  # class -> why the spawns pass one instance to many tasks
        for facts in self.modules.values():
            calls_by_function: Dict[str, List[CallSite]] = {}
            for call in facts.calls:
                calls_by_function.setdefault(call.function, []).append(call)
            for calls in calls_by_function.values():
                for spawn in calls:
                    if (spawn.method or (spawn.callee or "").rsplit(".", 1)[-1]) not in TASK_SPAWNERS:
                        continue
                    # ``start_soon(worker, stats)``: the function, then the arguments it is called with
                    targets = [
                        (self.resolve_ref(ref, spawn), spawn.in_loop, spawn.args[1:], spawn.arg_varies[1:])
                        for ref in spawn.args[:1]
                    ]
                    inside = [call for call in calls if call is not spawn and _within(call.span, spawn.span)]
                    for call in inside:
                        target = self.resolve_call(call)
                        # a plain function an argument of the spawned call takes
                        # (``wait_for(..., predicate=self._make_predicate())``) and the objects built
                        # for it (``for c in [Conn(), Conn()]``) run now, in the spawner; a plain
                        # function the spawn takes itself may hand back the coroutine
                        if target is not None and target.endswith(".__init__"):
                            continue
                        nested = any(other is not call and _within(call.span, other.span) for other in inside)
                        if nested and target in self.functions and not self.functions[target][0].is_async:
                            continue
                        self._spawn_edges.add((call.function, call.span))
                        # ``conn.serve()`` for each accepted ``conn`` runs once per object
                        repeated = (spawn.in_loop or call.in_comprehension) and not call.receiver_varies
                        targets.append((target, repeated, call.args, call.arg_varies))
                        if (
                            call.text.startswith("self.")
                            and target in self.functions
                            and self.functions[target][0].class_qualname
                        ):
                            self._self_spawned.add(target)  # an object starting its own routine
                    for target, repeated, arguments, varies in targets:
                        if target is not None:
                            self._spawn_sites.setdefault(target, []).append((spawn, facts, repeated))
                        owner = self.owner_class(target) if target in self.functions else None
                        if owner is not None:
                            spawns.setdefault(owner, []).append((spawn, facts, repeated))
                        if target in self.functions:
                            for built, passed in self._objects_passed(target, arguments, varies):
                                if repeated:
                                    where = f"{spawn.text}() at {short_path(facts.path)}:{spawn.span.row}"
                                    spawns_of[built] = (
                                        f"every `{self.display_name(target)}()` task gets the same `{passed}` ({where})"
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
        return shared

    def _objects_passed(
        self, function: str, arguments: Sequence[Optional[Ref]], varies: Sequence[bool]
    ) -> Iterator[Tuple[str, str]]:
        """The project classes of the objects a spawn passes to ``function`` (``worker(wallet)``
        with ``wallet = Wallet()``) and calls methods of, with the name passed; not those the
        loop binds anew each time round. The methods ``function`` calls on the parameter
        (``wallet.deposit()``) are recorded as called from it: the spawned task runs them."""
        info = self.functions[function][0]
        params = info.params[1:] if info.self_name else info.params
        for index, (param, ref) in enumerate(zip(params, arguments)):
            built = self.resolve_name(ref.value_type) if ref is not None and ref.value_type else None
            if built not in self.classes:
                continue
            if index < len(varies) and varies[index]:
                continue  # each task gets its own object: its methods run once per object
            used = False
            for call in self._calls_of(function):
                receiver, _, method = call.text.partition(".")
                if receiver != param or "." in method or call.receiver_rebound:  # ``session = Session()`` first
                    continue
                target = self.method_of(built, method)
                if target is not None:
                    used = True
                    # an annotated parameter (``wallet: Wallet``) is in the call graph already
                    if not call.receiver_type and (function, call) not in self._argument_callers.get(target, ()):
                        self._argument_callers.setdefault(target, []).append((function, call))
            if used:
                yield built, ref.text

    def _calls_of(self, function: str) -> List[CallSite]:
        if self._calls_by_function is None:
            self._calls_by_function = {}
            for facts in self.modules.values():
                for call in facts.calls:
                    self._calls_by_function.setdefault(call.function, []).append(call)
        return self._calls_by_function.get(function, [])

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
            queue = deque([function])
            while queue and len(seen) <= MAX_CALLER_DEPTH:
                current = queue.popleft()
                if current in seen:
                    continue
                seen.add(current)
                for handlers, unit in ((self.request_handlers, "request"), (self.connection_handlers, "connection")):
                    if current in handlers:
                        reason, path, span = handlers[current]
                        starts += [
                            f"`{self.display_name(current)}()` is a {reason} at {short_path(path)}:{span.row}, a "
                            f"task per {unit}"
                        ] * 2
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
                        f"`{self.display_name(current)}()`"
                    )
                    starts += [f"{where} more than once"] * 2 if many else [where]
                for caller, call in self.callers_of(current):
                    if caller != MODULE_SCOPE and (call.function, call.span) not in self._spawn_edges:
                        queue.append(caller)
            if len(starts) > 1:
                self._task_runs[function] = starts[0] if starts[0] == starts[1] else f"{starts[0]} and {starts[1]}"
        return self._task_runs[function]

    def awaited_target(self, function: str, suspension: Span, waits_on: str) -> Optional[str]:
        """The project coroutine an ``await`` of ``function`` runs (``await self._send(x)``)."""
        call = self._awaited_call(function, suspension, waits_on)
        if call is None:
            return None
        if not call.text:  # both "" for an unnamed receiver: ``await self.browsers[key].cancel()``
            return self._method_of_receiver(call)
        return self.resolve_call(call)

    def _awaited_call(self, function: str, suspension: Span, waits_on: str) -> Optional[CallSite]:
        """The awaited call ends where the ``await`` does and names what the suspension waits
        on (an ``async for`` ending on an ``await`` line names ``__anext__``, not that call)."""
        if self._awaited_calls is None:
            self._awaited_calls = {
                (call.function, call.span.end_row, call.span.end_col): call
                for facts in self.modules.values()
                for call in facts.calls
                if call.awaited
            }
        call = self._awaited_calls.get((function, suspension.end_row, suspension.end_col))
        return call if call is not None and call.text == waits_on else None

    def never_suspends(self, function: str) -> bool:
        """A project coroutine that gives the loop no chance to run another task: undecorated,
        its body has no suspension point but awaits of coroutines like it (``async def
        cancel(self): self._cancel()``), and so does every override. Awaiting it runs it to
        the end at once. Coroutines that only await each other count as quiet."""
        if self._suspending is None:
            self._suspending = self._find_suspending()
        entry = self.functions.get(function)
        return entry is not None and _quiet_candidate(entry[0]) and function not in self._suspending

    def awaits_without_suspending(self, function: str, suspension: Span, waits_on: str) -> bool:
        """The suspension point awaits a project coroutine that never suspends, or one that
        suspends only when asked to and is not asked here (``await fire(event)`` where
        ``fire`` awaits only ``if wait:`` and ``wait=False`` is its default)."""
        target = self.awaited_target(function, suspension, waits_on)
        if target is None:
            return False
        return self.never_suspends(target) or self._not_asked_to_suspend(
            target, self._awaited_call(function, suspension, waits_on)
        )

    def _not_asked_to_suspend(self, target: str, call: CallSite) -> bool:
        info, facts = self.functions[target]
        state = facts.state.get(target)
        if state is None or not info.off_by_default or call.unpacks or not _quiet_candidate(info):
            return False
        if info.class_qualname and any(
            f"{sub}.{info.name}" in self.functions for sub in self.subclasses_of(info.class_qualname)
        ):
            return False  # an override may suspend whatever it is asked
        positional = info.params[1:] if info.self_name else info.params
        passed = {k for k in call.keywords if "=" not in k} | set(positional[: len(call.args)])
        left_out = set(info.off_by_default) - passed
        for span, waits_on, requires in zip(
            state.suspension_spans, state.suspension_targets, state.suspension_requires
        ):
            if left_out & set(requires):
                continue  # inside ``if wait:`` with ``wait`` left at its default
            inner = self.awaited_target(target, span, waits_on)
            if inner is None or not self.never_suspends(inner):
                return False
        return True

    def _find_suspending(self) -> Set[str]:
        """Every candidate coroutine that may suspend, as a greatest fixed point: assume all
        quiet, then mark those with an await of something else, and what awaits those."""
        waiters: Dict[str, List[str]] = {}  # a coroutine -> the candidates whose quiet depends on it
        suspending: Set[str] = set()
        pending: List[str] = []
        for function, (info, facts) in sorted(self.functions.items()):
            if not _quiet_candidate(info):
                continue
            state = facts.state.get(function)  # none: nothing recorded, so no suspension point either
            depends = []
            for span, waits_on in zip(state.suspension_spans, state.suspension_targets) if state else ():
                target = self.awaited_target(function, span, waits_on)
                if target is None or not _quiet_candidate(self.functions[target][0]):
                    depends = None
                    break
                depends.append(target)
            if depends is None:
                suspending.add(function)
                pending.append(function)
                continue
            if info.class_qualname:  # ``await obj.cancel()`` may run an override
                depends += [
                    o
                    for o in (f"{sub}.{info.name}" for sub in self.subclasses_of(info.class_qualname))
                    if o in self.functions
                ]
            for target in depends:
                waiters.setdefault(target, []).append(function)
        for target in list(waiters):
            if not _quiet_candidate(self.functions[target][0]) and target not in suspending:
                suspending.add(target)
                pending.append(target)
        while pending:
            for waiter in waiters.get(pending.pop(), ()):
                if waiter not in suspending:
                    suspending.add(waiter)
                    pending.append(waiter)
        return suspending

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
            for c, call in self.callers.get(function, ())
            if (call.function, call.span) not in self._spawn_edges
        ]
        for caller, _call in callers:
            roots.add(self._routine_of(caller, depth + 1))
        result = roots.pop() if spawned <= 1 and len(roots) == 1 else None
        self._routines[function] = result
        return result

    # ---- propagation --------------------------------------------------------
    def _propagate(self) -> None:
        for entry in self.entries:
            for function, chain in self.reachable_from([entry.function]).items():
                self.contexts.setdefault(function, []).append(ExecutionContext(entry, chain))

    def reachable_from(self, roots: Iterable[str]) -> Dict[str, Tuple[str, ...]]:
        """Every function the roots call, transitively, with the chain from its root."""
        chains: Dict[str, Tuple[str, ...]] = {}
        queue = deque((root, (root,)) for root in roots)
        while queue:
            function, chain = queue.popleft()
            if function in chains:
                continue
            chains[function] = chain
            for callee, _call in self.callees.get(function, ()):
                if callee not in chains:
                    queue.append((callee, (*chain, callee)))
        return chains

    def contexts_of(self, qualname: str, context: str) -> List[ExecutionContext]:
        return [c for c in self.contexts.get(qualname, ()) if c.entry.context == context]


def _within(inner: Span, outer: Span) -> bool:
    return (outer.row, outer.col) <= (inner.row, inner.col) and (inner.end_row, inner.end_col) <= (
        outer.end_row,
        outer.end_col,
    )


# decorators that leave a coroutine as written: any other may wrap it in waiting (retry, throttle)
_TRANSPARENT_DECORATORS = frozenset(("staticmethod", "classmethod", "abstractmethod", "override", "overload", "final"))


def _quiet_candidate(info: FunctionInfo) -> bool:
    return (
        info.is_async
        and not info.is_generator
        and all(name.rsplit(".", 1)[-1] in _TRANSPARENT_DECORATORS for name in info.decorators)
    )
