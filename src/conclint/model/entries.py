"""Where concurrent execution starts: thread targets, pool tasks, request and connection
handlers, loop callbacks, coroutines, child processes; and what registers per-process set-up
(pool initializers, at-fork hooks) or start methods. Each entry says why conclint thinks so."""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Dict, Iterable, List, Optional, Set, Tuple

from conclint.engine.findings import Span
from conclint.model.apis import (
    CONNECTION_SERVERS,
    ENDPOINT_CONSTRUCTORS,
    ENTRY_SPECS_BY_CALLEE,
    HANDLER_METHOD_PREFIXES,
    HANDLER_REGISTRATION_CALLS,
    POOL_INITIALIZER_CALLS,
    PROCESS_CLASSES,
    PROTOCOL_CLASSES,
    ROUTE_DECORATOR_FUNCTIONS,
    ROUTE_DECORATOR_METHODS,
    ROUTE_RECEIVERS,
    START_METHOD_CALLS,
    THREAD_CLASSES,
    THREADED_ROUTE_RECEIVERS,
    THREADING_SERVER_MIXINS,
    WEB_ROUTE_METHODS,
    EntrySpec,
)
from conclint.model.callgraph import CallGraph
from conclint.model.facts import CallSite, ClassInfo, FunctionInfo, ModuleFacts, Ref
from conclint.model.program import Program

THREAD, LOOP, PROCESS = "thread", "loop", "process"
# calls that register pool initializers, fork hooks, start methods or web endpoints
_REGISTERING_CALLEES = (
    POOL_INITIALIZER_CALLS
    | START_METHOD_CALLS
    | frozenset(ENDPOINT_CONSTRUCTORS)
    | frozenset(CONNECTION_SERVERS)
    | frozenset({"multiprocessing.util.register_after_fork", "os.register_at_fork"})
)
FORK_BRANCH = "os.fork() child branch"
GREENLET_SERVERS = frozenset({"gevent.monkey.patch_all", "gevent.pywsgi.WSGIServer", "gevent.pywsgi.WSGIHandler"})
Registration = Tuple[str, str, Span]  # (why, path, span)


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


class EntryPoints:
    def __init__(
        self,
        program: Program,
        calls: CallGraph,
        thread_entry_decorators: Iterable[str] = (),
        thread_entry_calls: Iterable[str] = (),
        threaded_server: Optional[str] = None,  # where we read that requests run in threads
    ) -> None:
        self.program = program
        self.calls = calls
        self._thread_entry_decorators = set(thread_entry_decorators)
        self._thread_entry_calls = set(thread_entry_calls)
        self.entries: List[EntryPoint] = []
        self.shared_classes: Dict[str, str] = {}  # class -> why its instances are shared
        self.handler_classes: Set[str] = set()
        self.request_handlers: Dict[str, Registration] = {}  # function -> (reason, path, span)
        self.connection_handlers: Dict[str, Registration] = {}  # the same, for asyncio/trio/websockets servers
        self.initializers: Set[str] = set()  # per-process set-up: pool initializers, after_in_child hooks
        self.start_methods: List[Tuple[str, str, str, Span]] = []  # (call, "spawn", path, span) set in the code
        self.fork_hooks: List[Tuple[str, Span]] = []  # os.register_at_fork(after_in_child=...) calls
        self.global_instances: Dict[str, str] = {}  # class -> the module global holding an instance
        self._find_entries(list(program.modules.values()))
        if threaded_server:
            for handler, (reason, _path, span) in self.request_handlers.items():
                facts = self.program.functions[handler][1]
                self._add_entry(
                    THREAD, handler, f"{reason} on a threaded server ({threaded_server})", facts, span, True
                )

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
        if function is not None and function in self.program.functions:
            self.entries.append(EntryPoint(context, function, reason, facts.path, span, many, shared_self, starter))

    def _spec_for(self, call: CallSite) -> List[EntrySpec]:
        specs = list(ENTRY_SPECS_BY_CALLEE.get(call.callee or "", ()))
        if call.receiver_type and call.method:
            specs += ENTRY_SPECS_BY_CALLEE.get(f"{call.receiver_type}.{call.method}", ())
        return specs

    def _find_wrappers(self, modules: List[ModuleFacts]) -> Dict[str, Tuple[int, EntrySpec]]:
        """Project functions that run the function they are given in a thread (a helper around
        ``run_in_executor``, ``Thread(target=...)`` or ``submit``): the position of that parameter
        in a call of the wrapper, and the entry it makes."""
        wrappers: Dict[str, Tuple[int, EntrySpec]] = {}
        for facts in modules:
            for call in facts.calls:
                info = self.program.functions.get(call.function, (None,))[0]
                if info is None:
                    continue
                for spec in self._spec_for(call):
                    ref = call.kwargs.get(spec.keyword) if spec.keyword else None
                    if ref is None and spec.position is not None and spec.position < len(call.args):
                        ref = call.args[spec.position]
                    if spec.context != THREAD or ref is None or ref.text not in info.params or spec.handler_class:
                        continue
                    position = info.params.index(ref.text) - (1 if info.self_name else 0)
                    reason = f"{self.program.display_name(call.function)}() (it runs what it is given: {spec.reason})"
                    wrappers[call.function] = (
                        position,
                        EntrySpec(call.function, THREAD, position, ref.text, spec.many, reason),
                    )
        return wrappers

    def _find_entries(self, modules: List[ModuleFacts]) -> None:
        wrappers = self._find_wrappers(modules)
        # a gevent-patched process serves Flask's requests in greenlets, not preemptive threads
        self._greenlets = any(call.callee in GREENLET_SERVERS for facts in modules for call in facts.calls)
        for facts in modules:
            for name, type_name in facts.global_types.items():
                resolved = self.program.resolve_name(type_name)
                # ``Request = Annotated[AsgiRequest, ...]`` names the type: no instance is kept there
                if resolved in self.program.classes and name not in facts.type_aliases:
                    where = (
                        f"an entry of the module global `{name[:-2]}`"
                        if name.endswith("[]")
                        else f"the module global `{name}`"
                    )
                    self.global_instances.setdefault(resolved, where)
        for facts in modules:
            for call in facts.calls:
                for spec in self._spec_for(call):
                    self._entry_from_call(spec, call, facts)
                wrapper = self.program.resolve_call(call) if wrappers else None
                if wrapper in wrappers:
                    self._entry_from_call(wrappers[wrapper][1], call, facts)
                self._process_facts_from_call(call, facts)
                if call.callee in self._thread_entry_calls:
                    ref = call.args[0] if call.args else next(iter(call.kwargs.values()), None)
                    self._add_entry(
                        THREAD, self.program.resolve_ref(ref, call), f"{call.text}(...)", facts, call.span, True
                    )
                resolved = self.program.resolve_name(call.callee)
                if resolved in self.program.classes and self.program.is_subclass_of(resolved, THREADING_SERVER_MIXINS):
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
                for callee, call in self.calls.callees.get(qualname, ()):
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
            target = self.program.resolve_ref(call.args[position] if position < len(call.args) else keyword, call)
            if target:
                self.connection_handlers.setdefault(
                    target, (f"connection handler of {call.text}()", facts.path, call.span)
                )
        if callee in POOL_INITIALIZER_CALLS or (
            (call.receiver_type or "").endswith("get_context") and call.text.endswith(".Pool")
        ):
            target = self.program.resolve_ref(call.kwargs.get("initializer"), call)
            if target:
                self.initializers.add(target)
        if callee == "multiprocessing.util.register_after_fork" and len(call.args) > 1:
            target = self.program.resolve_ref(call.args[1], call)
            if target:
                self.initializers.add(target)
        if callee == "os.register_at_fork" and "after_in_child" in call.kwargs:
            self.fork_hooks.append((facts.path, call.span))
        if callee == "os.register_at_fork":
            for keyword in ("after_in_child", "before", "after_in_parent"):
                target = self.program.resolve_ref(call.kwargs.get(keyword), call)
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
            target = self.program.resolve_ref(ref, call)
            if target:
                self.request_handlers.setdefault(
                    target, (f"request handler registered with {call.text}()", facts.path, call.span)
                )

    def _request_handler_from_signature(self, info: FunctionInfo, facts: ModuleFacts) -> None:
        for name in info.decorators:
            if name in ROUTE_DECORATOR_FUNCTIONS:
                self.request_handlers.setdefault(
                    info.qualname, (ROUTE_DECORATOR_FUNCTIONS[name], facts.path, info.span)
                )
                return
        for name, receiver in zip(info.decorators, info.decorator_receivers):
            framework = ROUTE_RECEIVERS.get(self.program.object_type(receiver) or "")
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
        target = self.program.resolve_ref(ref, call)
        receiver = ref.text.split(".")[0] if ref is not None and "." in ref.text else None
        # ``Thread(target=probe.run)`` for a ``probe`` made per start: each thread has its own object
        shared_self = receiver in (None, "self", "cls") or receiver in facts.global_types
        self._add_entry(
            spec.context, target, spec.reason, facts, call.span, spec.many or call.in_loop, shared_self, call.function
        )
        if target is not None and spec.context == THREAD and ref is not None and "." in ref.text:
            owner = self.program.functions[target][0].class_qualname if target in self.program.functions else None
            if owner:
                self.shared_classes.setdefault(owner, f"its bound method `{ref.text}` is a thread target")

    def _handler_entries(self, spec: EntrySpec, ref: Optional[Ref], call: CallSite, facts: ModuleFacts) -> None:
        handler = self.program.resolve_name(ref.target) if ref is not None else None
        if handler not in self.program.classes:
            return
        self.handler_classes.add(handler)
        self.handler_classes.update(b for b in self.program.class_bases(handler) if b in self.program.classes)
        for owner in [handler, *self.program.class_bases(handler)]:
            for qualname, (info, _) in self.program.functions.items():
                if info.class_qualname == owner and info.name.startswith(HANDLER_METHOD_PREFIXES):
                    self._add_entry(spec.context, qualname, spec.reason, facts, call.span, True)

    def _entries_from_decorators(self, info: FunctionInfo, facts: ModuleFacts) -> None:
        for name, receiver in zip(info.decorators, info.decorator_receivers):
            if name in self._thread_entry_decorators:
                self._add_entry(THREAD, info.qualname, f"@{name}", facts, info.span, True)
            elif (
                not self._greenlets
                and self.program.object_type(receiver) in THREADED_ROUTE_RECEIVERS
                and name.rsplit(".", 1)[-1] in ROUTE_DECORATOR_METHODS
            ):
                self._add_entry(THREAD, info.qualname, f"Flask route @{name} (threaded server)", facts, info.span, True)

    def _entries_from_class(self, qualname: str, info: ClassInfo, facts: ModuleFacts) -> None:
        bases = self.program.class_bases(qualname)
        sites = self.calls.instantiations.get(qualname, [])
        many = len(sites) > 1 or any(call.in_loop for call, _ in sites)
        if any(base in THREAD_CLASSES for base in bases):
            self._add_entry(
                THREAD,
                self.program.method_of(qualname, "run"),
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
                self.program.method_of(qualname, "run"),
                f"multiprocessing.Process subclass {info.name}.run",
                facts,
                info.span,
                many,
                False,
            )
        if any(base in PROTOCOL_CLASSES for base in bases):
            for method, (function, _) in self.program.functions.items():
                if function.class_qualname == qualname:
                    self._add_entry(LOOP, method, f"asyncio protocol {info.name}", facts, info.span, True)
        if qualname in self.global_instances:
            self.shared_classes.setdefault(qualname, f"an instance is kept in {self.global_instances[qualname]}")
