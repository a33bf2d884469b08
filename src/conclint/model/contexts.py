"""Where each function runs: for every function reachable from an entry point, the entry and
the call chain from it (``helper() <- worker() <- threading.Thread(target=...) at jobs.py:40``)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Dict, List, Tuple

from conclint.engine.paths import short_path
from conclint.model.callgraph import CallGraph
from conclint.model.entries import EntryPoint, EntryPoints


@dataclass(frozen=True)
class ExecutionContext:
    entry: EntryPoint
    chain: Tuple[str, ...]  # qualnames from the entry function down to this one

    def describe(self, short) -> str:
        """``helper() <- worker() <- threading.Thread(target=...) at jobs.py:40``."""
        names = " <- ".join(f"{short(q)}()" for q in reversed(self.chain))
        return f"{names} <- {self.entry.reason} at {short_path(self.entry.path)}:{self.entry.span.row}"


class Contexts:
    def __init__(self, entries: EntryPoints, calls: CallGraph) -> None:
        self.by_function: Dict[str, List[ExecutionContext]] = {}
        for entry in entries.entries:
            for function, chain in calls.reachable_from([entry.function]).items():
                self.by_function.setdefault(function, []).append(ExecutionContext(entry, chain))

    def contexts_of(self, qualname: str, context: str) -> List[ExecutionContext]:
        """The contexts of one kind (THREAD, LOOP, PROCESS) ``qualname`` runs in."""
        return [c for c in self.by_function.get(qualname, ()) if c.entry.context == context]
