"""Who calls whom: the project's call graph, with calls resolved across modules, through
re-exports and to the overrides dynamic dispatch can reach."""

from __future__ import annotations

from collections import deque
from typing import Callable, Dict, Iterable, List, Optional, Sequence, Tuple

from conclint.model.facts import MODULE_SCOPE, CallSite, ModuleFacts
from conclint.model.program import Program

MAX_CALLER_DEPTH = 400
Caller = Tuple[str, CallSite]  # (the calling function or MODULE_SCOPE, the call)


class CallGraph:
    def __init__(self, program: Program) -> None:
        self.program = program
        self.callees: Dict[str, List[Tuple[str, CallSite]]] = {}
        self.callers: Dict[str, List[Caller]] = {}
        self.instantiations: Dict[str, List[Tuple[CallSite, ModuleFacts]]] = {}  # class -> where it is built
        # callers another part of the model finds (a spawned task calling a method on an object
        # passed to it); set by the model once that part exists
        self.more_callers: Callable[[str], Sequence[Caller]] = lambda function: ()
        self._calls_by_function: Optional[Dict[str, List[CallSite]]] = None
        self._caller_depth = 0
        self._build_call_graph(program.modules.values())

    def _build_call_graph(self, modules: Iterable[ModuleFacts]) -> None:
        for facts in modules:
            for call in facts.calls:
                target = self.program.resolve_call(call)
                alternatives = self.program.alternatives.get(target, ()) if target is not None else ()
                for callee in [target, *alternatives, *self._overrides(call, target)] if target is not None else ():
                    self.callers.setdefault(callee, []).append((call.function, call))
                    if call.function != MODULE_SCOPE:
                        self.callees.setdefault(call.function, []).append((callee, call))
                resolved = self.program.resolve_name(call.callee)
                if resolved in self.program.classes:
                    self.instantiations.setdefault(resolved, []).append((call, facts))

    def _overrides(self, call: CallSite, target: str) -> List[str]:
        """``self.emit()`` in a base class also runs a subclass's ``emit``: dynamic dispatch."""
        parts = call.text.split(".") if call.text else []
        if not (len(parts) == 2 and parts[0] in ("self", "cls") and call.class_context):
            return []
        return [
            f"{sub}.{parts[1]}"
            for sub in self.program.subclasses_of(call.class_context)
            if f"{sub}.{parts[1]}" in self.program.functions and f"{sub}.{parts[1]}" != target
        ]

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
        return [*self.callers.get(function, ()), *self.more_callers(function)]

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

    def calls_of_every_function(self) -> Iterable[CallSite]:
        """Every call of the project, module level included."""
        return (call for facts in self.program.modules.values() for call in facts.calls)

    def calls_of(self, function: str) -> List[CallSite]:
        """The calls written in ``function``'s own body."""
        if self._calls_by_function is None:
            self._calls_by_function = {}
            for facts in self.program.modules.values():
                for call in facts.calls:
                    self._calls_by_function.setdefault(call.function, []).append(call)
        return self._calls_by_function.get(function, [])
