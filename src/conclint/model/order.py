"""What orders two accesses in different threads: a hand-off (one side writes, then sets an
``Event``, puts on a ``Queue`` or notifies a ``Condition``; the other waits on the same object,
then reads) and a join (code after ``self._thread.join()`` or ``pool.shutdown()`` runs after
everything that thread or pool ran).

The start of a thread and the starter's join are windows of the starter's own code
(model/thread_contexts.py); here are the orders between functions, and the order start-up
gives a lazily created singleton: created on the main path before any thread that uses it is
started, it is created once, before every thread.
"""

from __future__ import annotations

from typing import Dict, FrozenSet, List, Optional, Set, Tuple

from conclint.engine.findings import Span
from conclint.model.callgraph import CallGraph
from conclint.model.facts import MODULE_SCOPE, CallSite, ModuleFacts, Write
from conclint.model.program import Program
from conclint.model.thread_contexts import BESIDE, JOIN_METHODS, VISIBLE, ThreadContexts, ThreadRoot, before

SIGNAL_METHODS = frozenset({"set", "put", "put_nowait", "notify", "notify_all", "set_result", "release"})
WAIT_METHODS = frozenset({"wait", "wait_for", "get", "join", "acquire", "result"})

Sync = Tuple[Span, str, str]  # (where, "signal" or "wait", the object's key)
MAX_ANCESTORS = 5000  # callers of a getter followed back, transitively
MAX_START_UP_DEPTH = 12  # callers of a thread's starter followed up to find the start-up call


class Order:
    def __init__(self, program: Program, calls: CallGraph, contexts: ThreadContexts) -> None:
        self.program = program
        self.calls = calls
        self.contexts = contexts
        self._syncs: Dict[str, List[Sync]] = {}
        self._writers: Optional[Dict[str, List[Tuple[str, Write]]]] = None
        self._at_start_up: Dict[Tuple[str, str], bool] = {}

    def _syncs_of(self, function: str) -> List[Sync]:
        if function not in self._syncs:
            found: List[Sync] = []
            for call in self.calls.calls_of(function):
                kind = "signal" if call.method in SIGNAL_METHODS else "wait" if call.method in WAIT_METHODS else None
                key = self._object(call) if kind else None
                if key is not None:
                    found.append((call.span, kind, key))
            self._syncs[function] = found
        return self._syncs[function]

    def _object(self, call: CallSite) -> Optional[str]:
        key = self.contexts.receiver_key(call)
        return key if key is not None and not key.startswith("local:") else None

    def handed_off(self, first: str, first_span: Span, second: str, second_span: Span) -> bool:
        """``first`` (in function ``first``) happens before ``second``: after it, its function
        signals an object that the other function waits on before ``second``."""
        signals = {key for span, kind, key in self._syncs_of(first) if kind == "signal" and before(first_span, span)}
        if not signals:
            return False
        return any(
            kind == "wait" and key in signals and before(span, second_span)
            for span, kind, key in self._syncs_of(second)
        )

    def joined_before(self, root: ThreadRoot, function: str, span: Span) -> bool:
        """Code of ``function`` at ``span`` runs after the thread (or pool) of ``root`` ended: the
        function joins the object the root's thread is kept in before it."""
        if root.handle is None:
            return False
        return any(
            call.method in JOIN_METHODS and self._object(call) == root.handle and before(call.span, span)
            for call in self.calls.calls_of(function)
        )

    # ---- start-up ------------------------------------------------------------------------
    def created_at_start_up(self, function: str, write: Write, key: str) -> bool:
        """``if _x is None: _x = X()`` in a getter that the main path calls before it starts
        every thread that reaches the getter (the call comes earlier in the starter, or in a
        caller of the starter, up the chain), when nothing else ever writes ``_x`` but the
        module's own initial value: the instance exists before any thread can test it, so the
        threads only read it. A getter first called from threads, one that something resets
        (``_x = None`` elsewhere), or one reached from threads no visible code starts (a
        framework's request handlers, a contract) stays a hazard: two threads can both create."""
        if not key.startswith(("global:", "class:")) or write.kind != "assign" or write.checked_by is None:
            return False
        if write.literal is not None:
            return False
        memo = (function, key)
        if memo not in self._at_start_up:
            self._at_start_up[memo] = self._only_getter_writes(function, key) and self._all_started_after(function)
        return self._at_start_up[memo]

    def _only_getter_writes(self, function: str, key: str) -> bool:
        if self._writers is None:
            self._writers = {}
            for facts in self.program.modules.values():
                for owner, state in facts.state.items():
                    for other in state.writes:
                        canonical = self.program.canonical_key(other.key)
                        if canonical is not None and canonical.startswith(("global:", "class:")):
                            self._writers.setdefault(canonical, []).append((owner, other))
        return all(
            owner == MODULE_SCOPE or (owner == function and other.literal is None)
            for owner, other in self._writers.get(key, ())
        )

    def _ancestors(self, function: str) -> FrozenSet[str]:
        """The functions that call ``function``, transitively (itself included)."""
        found: Set[str] = {function}
        queue = [function]
        while queue and len(found) < MAX_ANCESTORS:
            for caller, _call in self.calls.callers_of(queue.pop()):
                if caller != MODULE_SCOPE and caller not in found:
                    found.add(caller)
                    queue.append(caller)
        return frozenset(found)

    def _all_started_after(self, getter: str) -> bool:
        reaches = self.contexts.reaches_of(getter)
        if not reaches:
            return False
        ancestors = self._ancestors(getter)
        roots = {reach.root for reach in reaches}
        return all(self._started_after(self.contexts.roots[index], ancestors) for index in roots)

    def _started_after(self, root: ThreadRoot, ancestors: FrozenSet[str]) -> bool:
        """The thread of ``root`` starts after a call that creates the singleton (a call of
        something in ``ancestors``) on the path of the code that starts it; a thread no visible
        code starts (callers' threads calling a method, a callback) runs on an object, so after
        every place that builds one, when each builds it after that call."""
        if root.kind in (VISIBLE, BESIDE) and root.starter is not None:
            start = root.after or root.span
            if root.starter == MODULE_SCOPE:
                module = next((m for m in self.program.modules.values() if m.path == root.path), None)
                return module is not None and self._called_before(module, MODULE_SCOPE, start, ancestors, 0, set())
            return self._called_before(None, root.starter, start, ancestors, 0, set())
        return self._built_after(root.function, ancestors, 0, set())

    def _called_before(
        self, module: Optional[ModuleFacts], function: str, span: Span, ancestors: FrozenSet[str], depth: int, seen
    ) -> bool:
        """Code of ``function`` before ``span`` calls into ``ancestors`` unconditionally (no
        guard on a parameter), or every caller of ``function`` does before its call, or (for a
        method) every place that builds its object does before it."""
        calls = [c for c in module.calls if c.function == MODULE_SCOPE] if module else self.calls.calls_of(function)
        for call in calls:
            if not before(call.span, span) or call.requires or call.exit_branch is not None:
                continue
            target = self.program.resolve_call(call)
            if target is not None and target in ancestors:
                return True
        if module is not None or function in seen or depth >= MAX_START_UP_DEPTH:
            return False
        seen.add(function)
        callers = self.calls.callers_of(function)
        if callers and all(
            caller != MODULE_SCOPE and self._called_before(None, caller, call.span, ancestors, depth + 1, seen)
            for caller, call in callers
        ):
            return True
        return self._built_after(function, ancestors, depth + 1, seen)

    def _built_after(self, function: str, ancestors: FrozenSet[str], depth: int, seen) -> bool:
        """``function`` is a method that runs on an instance, and every instance of its class
        (or a subclass) is built after a call into ``ancestors``."""
        info = self.program.functions.get(function, (None,))[0]
        if info is None or not info.class_qualname or not info.self_name or depth >= MAX_START_UP_DEPTH:
            return False
        if any(name.rsplit(".", 1)[-1] in ("classmethod", "staticmethod") for name in info.decorators):
            return False
        owner = info.class_qualname
        family = [owner, *self.program.subclasses_of(owner)]
        built = [(call, facts) for cls in family for call, facts in self.calls.instantiations.get(cls, ())]
        return bool(built) and all(
            self._called_before(
                facts if call.function == MODULE_SCOPE else None, call.function, call.span, ancestors, depth + 1, seen
            )
            for call, facts in built
        )
