"""What orders two accesses in different threads: a hand-off (one side writes, then sets an
``Event``, puts on a ``Queue`` or notifies a ``Condition``; the other waits on the same object,
then reads) and a join (code after ``self._thread.join()`` or ``pool.shutdown()`` runs after
everything that thread or pool ran).

The start of a thread and the starter's join are windows of the starter's own code
(model/thread_contexts.py); here are the orders between functions.
"""

from __future__ import annotations

from typing import Dict, List, Optional, Tuple

from conclint.engine.findings import Span
from conclint.model.callgraph import CallGraph
from conclint.model.facts import CallSite
from conclint.model.program import Program
from conclint.model.thread_contexts import JOIN_METHODS, ThreadContexts, ThreadRoot, before

SIGNAL_METHODS = frozenset({"set", "put", "put_nowait", "notify", "notify_all", "set_result", "release"})
WAIT_METHODS = frozenset({"wait", "wait_for", "get", "join", "acquire", "result"})

Sync = Tuple[Span, str, str]  # (where, "signal" or "wait", the object's key)


class Order:
    def __init__(self, program: Program, calls: CallGraph, contexts: ThreadContexts) -> None:
        self.program = program
        self.calls = calls
        self.contexts = contexts
        self._syncs: Dict[str, List[Sync]] = {}

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
