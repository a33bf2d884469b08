"""The project-wide concurrency model, one part per question a rule asks.

| part | module | question |
|---|---|---|
| ``program`` | program.py | what does a name mean (functions, classes, types, one key per piece of state)? |
| ``calls`` | callgraph.py | who calls whom? |
| ``entries`` | entries.py | where does concurrent execution start, and why do we think so? |
| ``contexts`` | contexts.py | where does each function run (which entries reach it, by which chain)? |
| ``tasks`` | tasks.py | which event-loop tasks share an object, and which methods overlap themselves? |
| ``suspensions`` | suspensions.py | which awaits really let another task run? |

Locks (``locks.py``) and the thread-race summaries build on these parts.
"""

from __future__ import annotations

from typing import Iterable, Optional, Sequence

from conclint.model.callgraph import CallGraph
from conclint.model.contexts import Contexts
from conclint.model.entries import EntryPoints
from conclint.model.facts import ModuleFacts
from conclint.model.program import Program
from conclint.model.suspensions import Suspensions
from conclint.model.tasks import TaskSharing


class ConcurrencyModel:
    def __init__(
        self,
        modules: Sequence[ModuleFacts],
        thread_entry_decorators: Iterable[str] = (),
        thread_entry_calls: Iterable[str] = (),
        threaded_server: Optional[str] = None,  # where we read that requests run in threads
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
        self.tasks = TaskSharing(self.program, self.calls, self.entries)
        self.calls.more_callers = self.tasks.argument_callers
        self.suspensions = Suspensions(self.program)
