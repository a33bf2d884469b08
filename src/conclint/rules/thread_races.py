"""CCL101-CCL103: races on shared state between threads.

All three look at the same writes, so one analysis per project classifies every write
of shared state once, and each rule reports its own code: a statement gets at most one
of them (check-then-act before read-modify-write before inconsistent locking).
"""

from __future__ import annotations

from dataclasses import replace
from typing import Dict, Iterable, List, Optional, Tuple

from conclint.engine.findings import Finding, Related
from conclint.engine.paths import short_path
from conclint.model.concurrency import THREAD, ConcurrencyModel, ExecutionContext
from conclint.model.facts import MODULE_SCOPE, RMW_KINDS, ModuleFacts, Write
from conclint.model.lock_classes import inside_a_lock_class
from conclint.model.state import lock_name
from conclint.rules.base import Rule

CONSTRUCTORS = ("__init__", "__new__", "__post_init__", "__init_subclass__", "__set_name__", "__setstate__")
WriteSite = Tuple[str, Write, ModuleFacts]  # (function, write, module)


class ThreadRaceAnalysis:
    """Every write of shared state in the project, classified once."""

    def __init__(self, project) -> None:
        self.model: ConcurrencyModel = project.model
        self.writers: Dict[str, List[WriteSite]] = {}
        self.locked_call_spans: Dict[str, set] = {}
        self._initialisation: Dict[str, bool] = {}
        self._locked_by_callers: Dict[str, bool] = {}
        for facts in project.modules():
            for function, state in facts.state.items():
                self.locked_call_spans[function] = set(state.locked_calls)
        for facts in project.modules():
            for function, state in facts.state.items():
                if self._is_initialisation(function):
                    continue
                for write in state.writes:
                    key = self.model.canonical_key(write.key)
                    if key is not None:
                        self.writers.setdefault(key, []).append((function, write, facts))
        self._shared_through = self._classes_shared_through_subclasses()
        self._by_path: Dict[str, List[Finding]] = {}
        for facts in project.modules():
            self._by_path[facts.path] = list(self._classify_module(facts))

    def findings(self, facts: ModuleFacts, code: str) -> Iterable[Finding]:
        return [f for f in self._by_path.get(facts.path, ()) if f.code == code]

    # ---- facts about functions and state -----------------------------------
    def _is_initialisation(self, function: str) -> bool:
        """Code that runs before the object, module or process is shared: module level,
        constructors, per-process set-up hooks, and helpers only they call."""
        if (
            function == MODULE_SCOPE
            or function.rsplit(".", 1)[-1] in CONSTRUCTORS
            or function in self.model.initializers
        ):
            return True
        return self.model.every_caller(function, self._initialisation, self._is_initialisation_direct)

    def _is_initialisation_direct(self, caller: str, call) -> bool:
        # a call from module-level code may run after threads started (a script's main code)
        return caller != MODULE_SCOPE and self._is_initialisation(caller)

    def locks(self, write) -> Tuple[str, ...]:
        return self.model.real_locks(write.locks)

    def always_called_locked(self, function: str) -> bool:
        """A helper whose every call in the project is made with a lock held, directly or by
        callers that are themselves always called so (or named ``*_locked``)."""
        if function.endswith("_locked"):
            return True
        return self.model.every_caller(function, self._locked_by_callers, self._call_holds_lock)

    def _call_holds_lock(self, caller: str, call) -> bool:
        return (
            call.span in self.locked_call_spans.get(caller, ())
            or self._is_initialisation_direct(caller, call)
            or self.always_called_locked(caller)
        )

    def _classes_shared_through_subclasses(self) -> Dict[str, str]:
        shared = dict(self.model.shared_classes)
        for owner, reason in self.model.shared_classes.items():
            for base in self.model.class_bases(owner):
                shared.setdefault(base, reason)
        return shared

    def shared_reason(self, key: str) -> Optional[str]:
        kind, _, rest = key.partition(":")
        if kind == "global":
            return "a module global"
        if kind == "class":
            return "a class attribute, shared by every instance and thread"
        if kind == "cell":
            owner = rest.rsplit(".", 1)[0]
            return f"a variable of `{self.model.display_name(owner)}()` that its closures share"
        if kind == "self":
            owner, attribute = self.model.split_class(rest)
            if owner is None:
                return None
            # a list, not a set: the first class with a reason names it, and a set's order
            # changes with the string hash seed (the class's own reason first, then its bases')
            family = [owner, *self.model.class_bases(owner)]
            if not self.model.handler_classes.isdisjoint(family):
                if attribute.startswith("server."):
                    return "an attribute of the server object, shared by every request thread"
                return None  # one handler object per request
            for member in family:
                if member in self._shared_through:
                    return (
                        f"an attribute of a `{owner.rsplit('.', 1)[-1]}` shared between threads "
                        f"({self._shared_through[member]})"
                    )
        return None

    def lock_elsewhere(self, key: str) -> Optional[Tuple[str, WriteSite]]:
        for site in self.writers.get(key, ()):
            locks = self.locks(site[1])
            if locks:
                return lock_name(locks[-1]), site
        return None

    def other_writers(self, key: str, function: str) -> List[WriteSite]:
        return [site for site in self.writers.get(key, ()) if site[0] != function]

    # ---- classification -----------------------------------------------------
    def _classify_module(self, facts: ModuleFacts) -> Iterable[Finding]:
        for function, state in facts.state.items():
            if self._is_initialisation(function):
                continue
            contexts = self.model.contexts_of(function, THREAD)
            locked_by_callers = self.always_called_locked(function)
            acts: Dict[Tuple, List[Finding]] = {}  # one check-then-act finding per check
            for write in state.writes:
                key = self.model.canonical_key(write.key)
                if key is None or key.startswith("param:") or self.locks(write) or locked_by_callers:
                    continue
                finding = self._classify(facts, function, write, key, self._sharing_contexts(key, contexts))
                if finding is None:
                    continue
                if finding.code == "CCL102":
                    acts.setdefault((write.checked_by.span, key), []).append(finding)
                else:
                    yield finding
            for group in acts.values():
                first = group[0]
                if len(group) > 1:
                    more = f" ({len(group) - 1} more write{'s' if len(group) > 2 else ''} under the same check)"
                    first = replace(
                        first,
                        message=first.message + more,
                        related=first.related
                        + tuple(Related("also written under the same check", f.path, f.span) for f in group[1:]),
                    )
                yield first

    def _sharing_contexts(self, key: str, contexts: List[ExecutionContext]) -> List[ExecutionContext]:
        """The thread contexts in which the state is shared: a closure's variable is fresh for
        each call of the function that owns it, so only threads started inside one call share it."""
        if not key.startswith("cell:"):
            return contexts
        owner = key[5:].rsplit(".", 1)[0]
        return [c for c in contexts if owner not in c.chain]

    def _classify(self, facts, function: str, write: Write, key: str, contexts: List[ExecutionContext]):
        reason = self.shared_reason(key)
        elsewhere = self.lock_elsewhere(key)
        if contexts and reason is not None and self._concurrent(key, function, contexts):
            context = max(contexts, key=lambda c: (c.entry.many, -len(c.chain)))
            if write.checked_by is not None and write.kind in (*RMW_KINDS, "mutate"):
                return self._check_then_act(facts, function, write, context, reason, elsewhere)
            if write.kind in RMW_KINDS and (write.kind == "rmw" or write.derived_from is not None):
                read_locks = set(self.locks(write.derived_from)) if write.derived_from else set()
                if not read_locks & set(self.locks(write)):
                    return self._read_modify_write(facts, function, write, key, context, reason, elsewhere)
        blind_item_store = write.kind == "item" and write.derived_from is None  # d[k] = v: atomic
        if (
            elsewhere is not None
            and write.kind in RMW_KINDS
            and not blind_item_store
            and not self._same_constant(key, write)
            and not inside_a_lock_class(self.model, function)
        ):
            return self._inconsistent(facts, function, write, elsewhere)
        return None

    def _same_constant(self, key: str, write: Write) -> bool:
        """Every write stores the same constant (``self.closed = True``): the order cannot matter."""
        return write.literal is not None and all(w.literal == write.literal for _, w, _ in self.writers.get(key, ()))

    def _concurrent(self, key: str, function: str, contexts: List[ExecutionContext]) -> bool:
        """Two writers can overlap: many instances of the entry, two entries, or another writer.

        For attributes of ``self``, many instances of an entry overlap only when they share
        one object (a pool running ``self.process``), not when each thread has its own.
        """
        per_object = key.startswith("self:") and ".server." not in key
        entries = {c.entry for c in contexts if not per_object or c.entry.shared_self}
        if any(entry.many for entry in entries) or len(entries) > 1:
            return True
        mine = {c.entry for c in contexts}
        for other, _write, _facts in self.other_writers(key, function):
            theirs = {c.entry for c in self.model.contexts_of(other, THREAD)}
            if theirs - mine:  # another thread
                return True
            if not theirs and self._runs_beside(other, mine):  # the thread that started ours
                return True
        return False

    def _runs_beside(self, other: str, entries) -> bool:
        """Can ``other`` (code outside any thread) run while one of these threads runs? When
        we know the function that started the thread, only what that function goes on to run
        (a ``mt_interact()`` loop that only writes) does; a thread started at module level, or
        by a class, leaves the whole program beside it."""
        for entry in entries:
            starter = entry.starter
            if starter is None or starter == MODULE_SCOPE:
                return True
            if other in self.model.reachable_from([starter]):
                return True
        return False

    # ---- messages -----------------------------------------------------------
    def _why_concurrent(self, function: str, context: ExecutionContext) -> str:
        how = "in several threads at once" if context.entry.many else "in a thread"
        return f"`{self.model.display_name(function)}()` runs {how}: {context.describe(self.model.display_name)}"

    def _entry_related(self, context: ExecutionContext) -> Related:
        return Related(f"thread entry: {context.entry.reason}", context.entry.path, context.entry.span)

    def _fix(self, elsewhere) -> str:
        if elsewhere is not None:
            return f"hold `{elsewhere[0]}` (the lock used for it elsewhere) around the check and the write"
        return (
            "hold one `threading.Lock` around both, or keep the state per thread (`threading.local`) or behind a "
            "`queue.Queue`"
        )

    def _check_then_act(self, facts, function, write, context, reason, elsewhere) -> Finding:
        check = write.checked_by
        message = (
            f"check-then-act on `{write.display}` ({reason}): checked at line {check.span.row}, then written here "
            f"without a lock; another thread can change it in between. {self._why_concurrent(function, context)}. "
            f"Fix: {self._fix(elsewhere)}"
        )
        related = (Related(f"`{check.display}` checked here", facts.path, check.span), self._entry_related(context))
        return Finding("CCL102", message, facts.path, write.span, related)

    def _read_modify_write(self, facts, function, write, key, context, reason, elsewhere) -> Finding:
        read = write.derived_from
        where = "" if read is None or read.span.row == write.span.row else f" (read at line {read.span.row})"
        fix = (
            f"hold `{elsewhere[0]}` (the lock used for it elsewhere) around the read and the write"
            if elsewhere
            else (
                "hold a `threading.Lock` around the read and the write, or use an atomic counter "
                "(`itertools.count`) or a `queue.Queue`"
            )
        )
        message = (
            f"unsynchronized read-modify-write of `{write.display}` ({reason}){where}: concurrent updates are lost. "
            f"{self._why_concurrent(function, context)}. Fix: {fix}"
        )
        related = [self._entry_related(context)]
        if read is not None and read.span != write.span:
            related.insert(0, Related(f"`{read.display}` read here", facts.path, read.span))
        for other_function, other, other_facts in self.other_writers(key, function)[:3]:
            related.append(
                Related(f"also written in `{self.model.display_name(other_function)}()`", other_facts.path, other.span)
            )
        return Finding("CCL101", message, facts.path, write.span, tuple(related))

    def _inconsistent(self, facts, function, write, elsewhere) -> Finding:
        lock, (other_function, other, other_facts) = elsewhere
        message = (
            f"`{write.display}` is written here without a lock, but under `{lock}` in "
            f"`{self.model.display_name(other_function)}()` at {short_path(other_facts.path)}:{other.span.row}: "
            f"guarding it there says it is shared, and this write races with that one. Fix: hold `{lock}` here too"
        )
        related = (Related(f"written under `{lock}` here", other_facts.path, other.span),)
        return Finding("CCL103", message, facts.path, write.span, related)


def thread_race_analysis(project) -> ThreadRaceAnalysis:
    return project.shared("thread-races", lambda: ThreadRaceAnalysis(project))


class _ThreadRaceRule(Rule):
    def check(self, project, facts: ModuleFacts) -> Iterable[Finding]:
        return thread_race_analysis(project).findings(facts, self.code)


class UnsynchronizedReadModifyWrite(_ThreadRaceRule):
    code = "CCL101"
    name = "unsynchronized-read-modify-write"
    summary = "Shared state is read and written back from threads without a lock: updates are lost."
    explanation = """
        `total += 1` is three steps: read `total`, add, store. Two threads that read the same
        value both store value + 1, and one increment is lost. conclint reports a write of
        shared state (a module global, a class attribute, an attribute of an object several
        threads use, a closure variable) whose new value is computed from a read of the same
        state, in code that runs in threads (a `threading.Thread` target, a thread pool task,
        a threading server's handler, a Flask route, anything they call), with no lock held
        across the read and the write, when another thread can write it too.

        Not reported: updates under a lock, `threading.local` attributes, locals, writes in
        `__init__`, a single atomic container operation (`d[k] = v`, `lst.append(x)`,
        `d.setdefault(k, v)`, `next(counter)`), state only one thread ever writes.

        Fix: hold one `threading.Lock` around the read and the write, or use an atomic
        counter (`itertools.count`) or a `queue.Queue`.
    """
    bad = (
        """
        import threading

        hits = 0

        def worker():
            global hits
            hits += 1

        threads = [threading.Thread(target=worker) for _ in range(100)]
        """,
    )
    good = (
        """
        import threading

        hits = 0
        hits_lock = threading.Lock()

        def worker():
            global hits
            with hits_lock:
                hits += 1

        threads = [threading.Thread(target=worker) for _ in range(100)]
        """,
    )
    scenario = "lost-update-threaded"


class CheckThenAct(_ThreadRaceRule):
    code = "CCL102"
    name = "check-then-act"
    summary = "A decision on shared state is followed by a write that relies on it, without a lock."
    explanation = """
        `if key not in cache: cache[key] = build()` in two threads: both see the key
        missing, both build, one result is thrown away (or a counter is double-spent:
        `if self.balance >= amount: self.balance -= amount` overdraws). conclint reports a
        write of shared state inside a condition that tested the same state, in code that
        runs in threads, when no lock is held at the write.

        Double-checked locking, where the write happens under a lock, is fine.

        Fix: hold one lock around the check and the act, or use an atomic operation
        (`cache.setdefault(key, value)`).
    """
    bad = (
        """
        from concurrent.futures import ThreadPoolExecutor

        cache = {}

        def lookup(key):
            if key not in cache:
                cache[key] = key.upper()
            return cache[key]

        with ThreadPoolExecutor() as pool:
            pool.map(lookup, ["a", "b", "a"])
        """,
    )
    good = (
        """
        import threading
        from concurrent.futures import ThreadPoolExecutor

        cache = {}
        cache_lock = threading.Lock()

        def lookup(key):
            with cache_lock:
                if key not in cache:
                    cache[key] = key.upper()
                return cache[key]

        with ThreadPoolExecutor() as pool:
            pool.map(lookup, ["a", "b", "a"])
        """,
    )
    scenario = "room-created-twice"


class InconsistentLocking(_ThreadRaceRule):
    code = "CCL103"
    name = "inconsistent-locking"
    summary = "State written under a lock in one place is written without any lock in another."
    explanation = """
        Guarding a write with a lock says the state is shared between threads. A write of
        the same state without the lock elsewhere races with the guarded one, whether or not
        conclint can see where the threads start. The unlocked write is reported, naming the
        lock used elsewhere. Writes in `__init__` and helpers called only with the lock held
        (or named `*_locked`) are not reported.

        Fix: take the same lock for every write.
    """
    bad = (
        """
        import threading

        class Stats:
            def __init__(self):
                self._lock = threading.Lock()
                self.count = 0

            def add(self):
                with self._lock:
                    self.count += 1

            def reset(self):
                self.count = 0
        """,
    )
    good = (
        """
        import threading

        class Stats:
            def __init__(self):
                self._lock = threading.Lock()
                self.count = 0

            def add(self):
                with self._lock:
                    self.count += 1

            def reset(self):
                with self._lock:
                    self.count = 0
        """,
    )
    scenario = "half-locked-counter"
