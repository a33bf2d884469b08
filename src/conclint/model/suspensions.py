"""Where a coroutine can give the loop to another task: an ``await`` of a project coroutine
that never suspends (or suspends only when asked to) is no suspension point."""

from __future__ import annotations

from typing import Dict, List, Optional, Set, Tuple

from conclint.engine.findings import Span
from conclint.model.facts import CallSite, FunctionInfo
from conclint.model.program import Program

# decorators that leave a coroutine as written: any other may wrap it in waiting (retry, throttle)
_TRANSPARENT_DECORATORS = frozenset(("staticmethod", "classmethod", "abstractmethod", "override", "overload", "final"))


class Suspensions:
    def __init__(self, program: Program) -> None:
        self.program = program
        self._awaited_calls: Optional[Dict[Tuple[str, int, int], CallSite]] = None  # (function, end row, end col)
        self._suspending: Optional[Set[str]] = None  # coroutines that may suspend when awaited

    def awaited_target(self, function: str, suspension: Span, waits_on: str) -> Optional[str]:
        """The project coroutine an ``await`` of ``function`` runs (``await self._send(x)``)."""
        call = self._awaited_call(function, suspension, waits_on)
        if call is None:
            return None
        if not call.text:  # both "" for an unnamed receiver: ``await self.browsers[key].cancel()``
            return self.program.method_of_receiver(call)
        return self.program.resolve_call(call)

    def _awaited_call(self, function: str, suspension: Span, waits_on: str) -> Optional[CallSite]:
        """The awaited call ends where the ``await`` does and names what the suspension waits
        on (an ``async for`` ending on an ``await`` line names ``__anext__``, not that call)."""
        if self._awaited_calls is None:
            self._awaited_calls = {
                (call.function, call.span.end_row, call.span.end_col): call
                for facts in self.program.modules.values()
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
        entry = self.program.functions.get(function)
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

    def raises_before_suspending(self, function: str, suspension: Span, waits_on: str, caught) -> bool:
        """The suspension point awaits a project function that raises one of ``caught`` only
        before its first suspension point (``if self.transport is None: raise NotConnected()``):
        a handler of that exception runs with no other task in between."""
        target = self.awaited_target(function, suspension, waits_on)
        state = self.program.functions[target][1].state.get(target) if target is not None else None
        raised = [before for name, before in state.raises if name in caught] if state is not None else []
        return bool(raised) and not any(raised)

    def _not_asked_to_suspend(self, target: str, call: CallSite) -> bool:
        info, facts = self.program.functions[target]
        state = facts.state.get(target)
        if state is None or not info.off_by_default or call.unpacks or not _quiet_candidate(info):
            return False
        if info.class_qualname and any(
            f"{sub}.{info.name}" in self.program.functions for sub in self.program.subclasses_of(info.class_qualname)
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
        for function, (info, facts) in sorted(self.program.functions.items()):
            if not _quiet_candidate(info):
                continue
            state = facts.state.get(function)  # none: nothing recorded, so no suspension point either
            depends = []
            for span, waits_on in zip(state.suspension_spans, state.suspension_targets) if state else ():
                target = self.awaited_target(function, span, waits_on)
                if target is None or not _quiet_candidate(self.program.functions[target][0]):
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
                    for o in (f"{sub}.{info.name}" for sub in self.program.subclasses_of(info.class_qualname))
                    if o in self.program.functions
                ]
            for target in depends:
                waiters.setdefault(target, []).append(function)
        for target in list(waiters):
            if not _quiet_candidate(self.program.functions[target][0]) and target not in suspending:
                suspending.add(target)
                pending.append(target)
        while pending:
            for waiter in waiters.get(pending.pop(), ()):
                if waiter not in suspending:
                    suspending.add(waiter)
                    pending.append(waiter)
        return suspending


def _quiet_candidate(info: FunctionInfo) -> bool:
    return (
        info.is_async
        and not info.is_generator
        and all(name.rsplit(".", 1)[-1] in _TRANSPARENT_DECORATORS for name in info.decorators)
    )
