"""The project-wide concurrency model, one part per question a rule asks.

| part | module | question |
|---|---|---|
| ``program`` | program.py | what does a name mean (functions, classes, types, one key per piece of state)? |
| ``calls`` | callgraph.py | who calls whom? |
| ``entries`` | entries.py | where does concurrent execution start, and why do we think so? |
| ``contexts`` | contexts.py | where does each function run (which entries reach it, by which chain)? |
| ``tasks`` | tasks.py | which event-loop tasks share an object, and which methods overlap themselves? |
| ``suspensions`` | suspensions.py | which awaits really let another task run? |
| ``threads`` | thread_contexts.py | which thread contexts reach a function, how many at once, under which locks? |
| ``contracts`` | contracts.py | which classes callers use from several threads (the concurrency callers bring)? |
| ``order`` | order.py | what orders two accesses in different threads (hand-offs, joins)? |
| ``initialisation`` | initialisation.py | which code runs before what it sets up is shared? |
| ``processes`` | processes.py | where do children start, how, and what does the parent do before and after? |
| ``conflicts`` | conflicts.py | which accesses to the same state can overlap with no common lock? |

The accesses themselves (what each function reads and writes, under which locks) are facts,
collected per module (accesses.py); the thread parts are built on first use.
"""

from __future__ import annotations

from functools import cached_property
from typing import Iterable, Optional, Sequence

from conclint.engine.target import PythonTarget
from conclint.model.callgraph import CallGraph
from conclint.model.clients import AsyncClients
from conclint.model.conflicts import Conflicts
from conclint.model.contexts import Contexts
from conclint.model.contracts import Contracts
from conclint.model.entries import EntryPoints
from conclint.model.facts import ModuleFacts
from conclint.model.initialisation import Initialisation
from conclint.model.locks import decorator_locks
from conclint.model.order import Order
from conclint.model.processes import Processes
from conclint.model.program import Program
from conclint.model.suspensions import Suspensions
from conclint.model.tasks import TaskSharing
from conclint.model.thread_contexts import ThreadContexts


class ConcurrencyModel:
    def __init__(
        self,
        modules: Sequence[ModuleFacts],
        thread_entry_decorators: Iterable[str] = (),
        thread_entry_calls: Iterable[str] = (),
        threaded_server: Optional[str] = None,  # where we read that requests run in threads
        thread_safe: Iterable[str] = (),  # classes and modules declared thread-safe
        python_target: Optional[PythonTarget] = None,  # the Python the code runs on (the default start method)
        await_shared: Iterable[str] = (),  # classes whose public coroutines callers' tasks run at once
        await_not_shared: Iterable[str] = (),  # classes never assumed shared for looking like clients
    ) -> None:
        self.program = Program(modules)
        self.calls = CallGraph(self.program)
        self.entries = EntryPoints(
            self.program,
            self.calls,
            thread_entry_decorators=thread_entry_decorators,
            thread_entry_calls=thread_entry_calls,
            threaded_server=threaded_server,
        )
        self.contexts = Contexts(self.entries, self.calls)
        clients = AsyncClients(self.program, self.calls, await_shared, await_not_shared)
        self.tasks = TaskSharing(self.program, self.calls, self.entries, clients)
        self.calls.more_callers = self.tasks.argument_callers
        self.suspensions = Suspensions(self.program)
        self.initialisation = Initialisation(self.calls, self.entries)
        self._thread_safe = tuple(thread_safe)
        self._python_target = python_target or PythonTarget()

    @cached_property
    def contracts(self) -> Contracts:
        return Contracts(self.program, self.calls, self._thread_safe)

    @cached_property
    def threads(self) -> ThreadContexts:
        locks = decorator_locks(self.program, list(self.program.modules.values()))
        return ThreadContexts(self.program, self.calls, self.entries, self.contracts, locks)

    @cached_property
    def order(self) -> Order:
        return Order(self.program, self.calls, self.threads)

    @cached_property
    def processes(self) -> Processes:
        return Processes(self.program, self.calls, self.entries, self.contexts, self._python_target)

    @cached_property
    def conflicts(self) -> Conflicts:
        return Conflicts(
            self.program, self.threads, self.order, self.program.modules.values(), self.initialisation.before_sharing
        )
