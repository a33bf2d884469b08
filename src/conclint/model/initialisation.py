"""Code that runs before what it sets up is shared: module-level code, per-process set-up hooks
(pool initializers, at-fork hooks), constructors, and helpers only such code calls. A
constructor sets up its own object: what it writes of ``self`` cannot race (no other thread
has the object yet), but a class attribute or a global it changes is shared all the same."""

from __future__ import annotations

from typing import Dict

from conclint.model.callgraph import CallGraph
from conclint.model.contracts import CONSTRUCTORS
from conclint.model.entries import EntryPoints
from conclint.model.facts import MODULE_SCOPE, CallSite


class Initialisation:
    def __init__(self, calls: CallGraph, entries: EntryPoints) -> None:
        self.calls = calls
        self.entries = entries
        self._memo: Dict[str, bool] = {}

    def before_sharing(self, function: str, key: str) -> bool:
        """The access of ``key`` in ``function`` happens before the state is shared."""
        if not self.only(function):
            return False
        return key.startswith("self:") or not self._constructs(function)

    def _constructs(self, function: str) -> bool:
        """Set-up of one object (a constructor, or helpers only constructors call), rather than
        of the module or the process."""
        return function != MODULE_SCOPE and function not in self.entries.initializers

    def only(self, function: str) -> bool:
        """``function`` runs only while something is being set up, before it is shared."""
        if function == MODULE_SCOPE or function.rsplit(".", 1)[-1] in CONSTRUCTORS:
            return True
        if function in self.entries.initializers:
            return True
        return self.calls.every_caller(function, self._memo, self._caller_sets_up)

    def _caller_sets_up(self, caller: str, call: CallSite) -> bool:
        # a call from module-level code may run after threads started (a script's main code)
        return caller != MODULE_SCOPE and self.only(caller)
