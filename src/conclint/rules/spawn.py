"""CCL306: state the parent sets that children started with ``spawn`` or ``forkserver`` never see.

Such children do not copy the parent: they start a fresh interpreter, import the main module
(as ``__mp_main__``, so its ``if __name__ == "__main__":`` block does not run) and the task's
module, and read every global at its initial value. Where children start and what the parent
does before is model/processes.py.
"""

from __future__ import annotations

from typing import Dict, Iterable, List, Set, Tuple

from conclint.engine.findings import Finding, Related
from conclint.engine.paths import short_path
from conclint.model.apis import INHERITED_RESOURCE_TYPES
from conclint.model.facts import MODULE_SCOPE, ModuleFacts
from conclint.model.processes import Handoff, Processes
from conclint.rules.base import Rule


class ParentStateLostAtSpawn(Rule):
    code = "CCL306"
    name = "parent-state-lost-at-spawn"
    summary = "A global the parent sets before starting workers is read by them, but spawned workers re-import it."
    explanation = """
        With the `spawn` and `forkserver` start methods (the default on macOS and Windows,
        and on Linux from Python 3.14) a worker is a fresh interpreter: it imports the
        module of its task again and reads every global at the value the import gives it.
        A global the parent set before starting a `Pool`, a `ProcessPoolExecutor` or a
        `Process` (a `global` assignment in `main()`, a setting filled from the command
        line, a module-level assignment in the `__main__` block) is not there: the worker
        sees the initial value, silently.

        conclint reports the parent's write when the worker's code reads that global and
        the start method re-imports: set in the code (`get_context("spawn")`,
        `set_start_method("forkserver")`, `mp_context=`), or the default for the Python
        the code runs on (from `target-version`, else `requires-python` in the pyproject.toml
        beside the configuration; without either, any Python 3, whose newest versions use
        forkserver). Module-level assignments outside the `__main__` block run again on
        import and are fine, and so is a global the worker sets for itself (a pool
        `initializer`).

        Fix: pass the value to the task as an argument, or set it in each worker through
        the pool's `initializer`/`initargs` (`Process(args=...)` for a process).
    """
    bad = (
        """
        import multiprocessing

        verbose = False

        def work(item):
            if verbose:
                print("working on", item)
            return item * 2

        def main(argv):
            global verbose
            verbose = "-v" in argv
            with multiprocessing.get_context("spawn").Pool(2) as pool:
                return pool.map(work, range(10))
        """,
    )
    good = (
        """
        import multiprocessing

        verbose = False

        def init(flag):
            global verbose
            verbose = flag

        def work(item):
            if verbose:
                print("working on", item)
            return item * 2

        def main(argv):
            context = multiprocessing.get_context("spawn")
            with context.Pool(2, initializer=init, initargs=("-v" in argv,)) as pool:
                return pool.map(work, range(10))
        """,
    )
    scenario = "parent-state-lost-at-spawn"

    def check(self, project, facts: ModuleFacts) -> Iterable[Finding]:
        return project.shared("CCL306", lambda: self._findings(project)).get(facts.path, ())

    def _findings(self, project) -> Dict[str, List[Finding]]:
        """Every finding of the project, by path: each hand-off is looked at once."""
        processes: Processes = project.model.processes
        found: Dict[str, List[Finding]] = {}
        reported: Set[Tuple[str, int, int]] = set()
        for handoff in processes.handoffs:
            if handoff.parent is None or not processes.reimports(handoff.start):
                continue
            child_reads = self._child_reads(processes, handoff)
            if not child_reads:
                continue
            start = handoff.start
            region = processes.parent_before(start.path, start.parent, start.span)
            for path, function in region:
                facts = processes.by_path.get(path)
                state = facts.state.get(function) if facts is not None else None
                for write in state.writes if state is not None else ():
                    if not processes.in_region(region, path, function, write.span) or write.in_child:
                        continue
                    if function == MODULE_SCOPE and not processes.main_guarded(facts, write.span):
                        continue  # runs again when the worker imports the module
                    if function in processes.child_code or (path, write.span.row, write.span.col) in reported:
                        continue
                    key = processes.state_key(write.key)
                    read = self._read_of(child_reads, key) if key else None
                    if read is None or self._set_in_child(processes, handoff, key):
                        continue
                    if self._inherited_resource(processes, write) and processes.inherits(start):
                        continue  # a connection: CCL304 says to make it in the child, which fixes both
                    reported.add((path, write.span.row, write.span.col))
                    found.setdefault(path, []).append(self._finding(processes, handoff, path, write, read))
        return found

    def _finding(self, processes: Processes, handoff: Handoff, path: str, write, read) -> Finding:
        reader, access, reader_facts = read
        start = handoff.start
        message = (
            f"`{write.display}` is set by the parent before the workers start ({handoff.reason}), but the workers "
            f"import the module afresh ({processes.describe_reimport_method(start)}): "
            f"`{processes.program.display_name(reader)}()` reads its initial value at "
            f"{short_path(reader_facts.path)}:{access.span.row}. Fix: pass it to the task as an argument, "
            "or set it in each worker through the pool's initializer/initargs"
        )
        related = (
            Related(f"the worker reads `{access.display}` here", reader_facts.path, access.span),
            Related(f"the workers start: {start.how}", start.path, start.span),
        )
        return Finding(self.code, message, path, write.span, related)

    @staticmethod
    def _child_reads(processes: Processes, handoff: Handoff):
        """Reads of globals and class attributes in the code the workers run, by key."""
        found = {}
        for function in processes.reachable(handoff.child):
            entry = processes.program.functions.get(function)
            state = entry[1].state.get(function) if entry is not None else None
            updated = {(w.key, w.span.row, w.span.col) for w in state.writes} if state is not None else set()
            for read in state.reads if state is not None else ():
                key = processes.state_key(read.key)
                if key is not None and (read.key, read.span.row, read.span.col) not in updated:
                    found.setdefault(key, (function, read, entry[1]))
        return found

    @staticmethod
    def _read_of(child_reads, key: str):
        """The worker's read of ``key`` or of a part of it (``settings.debug`` after ``settings = ...``)."""
        if key in child_reads:
            return child_reads[key]
        return next((read for read_key, read in child_reads.items() if read_key.startswith(key + ".")), None)

    @staticmethod
    def _inherited_resource(processes: Processes, write) -> bool:
        return bool(write.built) and processes.program.object_type(write.built) in INHERITED_RESOURCE_TYPES

    @staticmethod
    def _set_in_child(processes: Processes, handoff: Handoff, key: str) -> bool:
        """The workers set it for themselves: their initializer or their own code writes it."""
        code = set(processes.reachable(handoff.child))
        if handoff.start.initializer:
            code |= set(processes.reachable(handoff.start.initializer))
        return any(function in code for function, _, _ in processes.writes_of(key))
