"""The reporting pass's question (RacerD's): which other access to the same state can run at
the same time as this one, with no lock in common and nothing ordering them?

Every read and write of shared state is indexed by its key; an access conflicts with another
when at least one is a write, some thread context of each can overlap (model/thread_contexts.py),
the locks held at each (the access's own and those every caller on the way holds) have none in
common, and neither is ordered before the other (model/order.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Dict, FrozenSet, Iterable, List, Optional, Union

from conclint.model.facts import MODULE_SCOPE, Access, ModuleFacts, Write
from conclint.model.guards import passed_values, reachable
from conclint.model.order import Order
from conclint.model.program import Program
from conclint.model.thread_contexts import BESIDE, Reach, ThreadContexts

# methods that reset or set up an object: they run while the threads that use it are idle (the
# issue's "a reset at start-up"); reviewed on real code, their races were debug triggers or start-up
# (a public reset() is API callers use while others work: it still pairs)
SET_UP = frozenset({"init", "initialize", "initialise", "setup", "reinit", "reinitialize"})
IDLE_PHASES = SET_UP | {"reset", "clear"}


@dataclass(frozen=True)
class Site:
    """One access of shared state, where it is."""

    function: str
    access: Union[Access, Write]
    facts: ModuleFacts
    key: str  # canonical

    @property
    def is_write(self) -> bool:
        return isinstance(self.access, Write)


@dataclass(frozen=True)
class Conflict:
    other: Site
    mine: Reach  # the context of the access asked about
    theirs: Reach  # the context of the other access


class Conflicts:
    def __init__(
        self,
        program: Program,
        contexts: ThreadContexts,
        order: Order,
        modules: Iterable[ModuleFacts],
        skip: Callable[[str, str], bool],
    ) -> None:
        self.program = program
        self.contexts = contexts
        self.order = order
        self.by_key: Dict[str, List[Site]] = {}
        self._threads_pass: Dict[int, bool] = {}  # id of a write with conditions -> a thread can meet them
        for facts in modules:
            for function, state in facts.state.items():
                if not contexts.reaches_of(function):
                    continue
                for access in (*state.reads, *state.writes):
                    key = program.canonical_key(access.key)
                    if key is not None and not key.startswith(("param:", "arg:")) and not skip(function, key):
                        self.by_key.setdefault(key, []).append(Site(function, access, facts, key))

    def sites(self, key: str) -> List[Site]:
        return self.by_key.get(key, [])

    def writes(self, key: str) -> List[Site]:
        return [site for site in self.sites(key) if site.is_write]

    def reaches(self, site: Site, inferred: bool = True) -> List[Reach]:
        """The thread contexts in which this access can run: for the code that started a
        thread, only what it does while the thread runs; for a closure's variable, only
        threads started inside one call of the function that owns it share it."""
        found = []
        name = site.function.rsplit(".", 1)[-1]
        if name.endswith("_locked"):
            return found  # named for its contract: every caller holds the lock
        if name.lstrip("_") in SET_UP or (name.startswith("_") and name.lstrip("_") in IDLE_PHASES):
            return found  # a set-up, or an internal reset, runs while the other threads are idle
        if not self.threads_can_meet(site):
            return found  # ``if init: _instance = X()`` where only start-up passes ``init=True``
        if isinstance(site.access, Write) and self.order.created_at_start_up(site.function, site.access, site.key):
            return found  # a singleton start-up creates before it starts the threads
        owner = site.key[5:].rsplit(".", 1)[0] if site.key.startswith("cell:") else None
        for reach in self.contexts.reaches_of(site.function):
            root = self.contexts.roots[reach.root]
            if root.kind == BESIDE and len(reach.chain) == 1 and not self.contexts.in_window(root, site.access.span):
                continue
            if owner is not None and owner in reach.chain:
                continue
            if not inferred and root.inferred:
                continue
            found.append(reach)
        return found

    def threads_can_meet(self, site: Site) -> bool:
        """A write behind conditions on its function's parameters (``if init: _instance = X()``)
        runs in a thread only if the function is a thread's root or a caller that runs in a thread
        calls it with arguments that can meet them: a getter whose only ``init=True`` call is made
        by code no thread runs (start-up) writes from the main thread alone; the threads' calls
        (``settings()``, the default ``init=False``) cannot reach the write (model/guards.py)."""
        requires = getattr(site.access, "requires", ())
        if not requires:
            return True
        known = self._threads_pass.get(id(site.access))
        if known is not None:
            return known
        function = site.function
        roots = {self.contexts.roots[reach.root].function for reach in self.contexts.reaches_of(function)}
        callee = self.program.functions[function][0] if function in self.program.functions else None
        meets = function in roots or callee is None
        for caller, call in self.contexts.calls.callers_of(function) if not meets else ():
            if self.runs_in_a_thread(caller, call) and reachable(requires, passed_values(call, callee, {})):
                meets = True
                break
        self._threads_pass[id(site.access)] = meets
        return meets

    def runs_in_a_thread(self, caller: str, call) -> bool:
        """The call is made in some thread context: the caller is reached from a thread, or it is
        the code that started one and the call comes while that thread runs."""
        contexts = self.contexts
        if caller == MODULE_SCOPE:
            return any(
                root.kind == BESIDE and root.starter == MODULE_SCOPE and contexts.in_window(root, call.span)
                for root in contexts.roots
            )
        for reach in contexts.reaches_of(caller):
            root = contexts.roots[reach.root]
            if not (root.kind == BESIDE and len(reach.chain) == 1) or contexts.in_window(root, call.span):
                return True
        return False

    def ordered(self, first: Site, mine: Reach, second: Site, theirs: Reach) -> bool:
        """One access surely happens before the other: a hand-off, or a join of the other's thread."""
        order = self.order
        if order.handed_off(first.function, first.access.span, second.function, second.access.span):
            return True
        if order.handed_off(second.function, second.access.span, first.function, first.access.span):
            return True
        roots = self.contexts.roots
        return order.joined_before(roots[theirs.root], first.function, first.access.span) or order.joined_before(
            roots[mine.root], second.function, second.access.span
        )

    def first_conflict(
        self,
        site: Site,
        protected: FrozenSet[str],
        others: Iterable[Site],
        protection: Callable[[Site], FrozenSet[str]],
        unguarded: bool = True,
        inferred: bool = True,
    ) -> Optional[Conflict]:
        """The first of ``others`` that can run at the same time as ``site`` with no common lock:
        ``protected`` are the locks ``site`` holds for the whole operation (a read-modify-write:
        both halves), ``protection(other)`` those of the other access. The other is preferably
        a different access than ``site`` itself (another thread running the same line counts).
        With ``unguarded``, only contexts of ``site`` whose callers hold no lock count: the
        side of a race to report is the one without the lock. Without ``inferred``, contexts
        assumed only because a class or module owns a lock do not count (for state that lock
        does not guard, nothing says it is shared)."""
        self_state = site.key.startswith("self:")
        candidates = sorted(others, key=lambda other: other.access is site.access)
        mine_all = self.reaches(site, inferred)
        for other in candidates:
            theirs_all = self.reaches(other, inferred)
            guard = protection(other)
            for mine in mine_all:
                if unguarded and mine.locks:
                    continue
                for theirs in theirs_all:
                    if not self.contexts.overlap(mine, theirs, self_state):
                        continue
                    if (mine.locks | protected) & (theirs.locks | guard):
                        continue
                    if other.access is not site.access and self.ordered(site, mine, other, theirs):
                        continue
                    return Conflict(other, mine, theirs)
        return None
