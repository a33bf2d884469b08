"""CCL101-CCL103: races on shared state between threads, reported as conflicting pairs.

One analysis per project looks at every write of shared state once (RacerD's reporting
pass): a write is reported only when another access to the same state (a write; for CCL103
an access under a lock) can run at the same time, from a thread context that can overlap
its own, with no lock in common and nothing ordering the two (model/conflicts.py). Each
statement gets at most one code: check-then-act before read-modify-write before inconsistent
locking.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Dict, FrozenSet, Iterable, List, Optional, Tuple

from conclint.engine.findings import Finding, Related
from conclint.engine.paths import short_path
from conclint.model.apis import INHERITED_RESOURCE_TYPES
from conclint.model.concurrency import ConcurrencyModel
from conclint.model.conflicts import Conflict, Site
from conclint.model.facts import RMW_KINDS, ModuleFacts, Write
from conclint.model.locks import inside_a_lock_class, lock_keys, lock_name
from conclint.model.thread_contexts import CONTRACT, Reach, before
from conclint.rules.base import Rule

REMOVING_METHODS = frozenset({"pop", "popleft", "popitem", "remove", "discard", "clear"})
ADDING_METHODS = frozenset({"append", "appendleft", "extend", "extendleft", "insert", "add", "update", "setdefault"})
GENERIC_FIX = (
    "hold one `threading.Lock` around both, or keep the state per thread (`threading.local`) or behind a `queue.Queue`"
)


# What none of CCL101-CCL103 reports: one paragraph in each rule's documentation
NOT_REPORTED = """\
        Not reported: a single thread (confined state); writes before the thread starts or
        after it is joined; a hand-off (one side writes then sets an `Event` or puts on a
        `Queue`, the other waits on it then reads); a lock every caller holds (also a
        property read under a lock, a project decorator that wraps in a lock,
        `multiprocessing.Value.get_lock()`); the tasks of a single-worker executor; a
        `submit(f).result()` waited for at once; an object the thread made itself and did not
        publish; writes in `__init__` to the object being built; `threading.local` state;
        one constant every writer stores; atomic container operations (`d[k] = v`,
        `list.append`, `deque.popleft`, `next(itertools.count())`, `queue.Queue`). A lock made
        by the same call guards nothing: `lock = threading.Lock()` then `with lock:` in one
        function is no lock for the state other calls share. Start-up orders a lazily created
        singleton (`if _x is None: _x = X()`) before the threads when the main path calls its
        getter before it starts every thread that uses it (or builds every object whose methods
        do) and nothing resets it; a getter that creates only when called with a flag
        (`init=True`) creates only where a call passes it, so not in threads whose calls pass
        no flag. An unlocked test that only decides whether to take the lock is a hint when the
        locked act recomputes the state from a read under the lock, or first re-checks and
        claims another state there. A forked child's `after_in_child` hook runs in a child with
        one thread: its calls overlap nothing."""


class ThreadRaceAnalysis:
    """Every write of shared state in the project, checked once against what can overlap it."""

    def __init__(self, project) -> None:
        self.model: ConcurrencyModel = project.model
        self.program = self.model.program
        self.threads = self.model.threads
        self.conflicts = self.model.conflicts
        self._by_path: Dict[str, List[Finding]] = {}
        for facts in project.modules():
            self._by_path[facts.path] = list(self._classify_module(facts))

    def findings(self, facts: ModuleFacts, code: str) -> Iterable[Finding]:
        return [f for f in self._by_path.get(facts.path, ()) if f.code == code]

    # ---- facts about state ------------------------------------------------------------------
    def locks(self, site: Site, regions: Optional[Iterable[str]] = None) -> FrozenSet[str]:
        return lock_keys(self.program, site.access, None if regions is None else tuple(regions))

    def shared_reason(self, key: str) -> Optional[str]:
        """What the state is, for the message; None for state that is never shared: the
        attributes of a request handler object (one per request) but its server's."""
        kind, _, rest = key.partition(":")
        if kind == "global":
            return "a module global"
        if kind == "class":
            return "a class attribute, shared by every instance and thread"
        if kind == "cell":
            owner = rest.rsplit(".", 1)[0]
            return f"a variable of `{self.program.display_name(owner)}()` that its closures share"
        if kind == "self":
            owner, attribute = self.program.split_class(rest)
            if owner is None:
                return None
            family = [owner, *self.program.class_bases(owner)]
            if not self.model.entries.handler_classes.isdisjoint(family):
                if attribute.startswith("server."):
                    return "an attribute of the server object, shared by every request thread"
                return None  # one handler object per request
            return f"an attribute of a `{owner.rsplit('.', 1)[-1]}` object"
        return None

    def guarding_lock(self, key: str) -> Optional[Tuple[str, Site]]:
        """A lock an access of this state holds somewhere (as written there), and that access."""
        for site in self.conflicts.sites(key):
            held = self.locks(site)
            for entry, lock_key in zip(site.access.locks, site.access.lock_keys):
                if self.program.canonical_key(lock_key.lstrip("?")) in held or lock_key.lstrip("?") in held:
                    return lock_name(entry).lstrip("?").rsplit(".", 1)[-1] if entry.startswith("?") else lock_name(
                        entry
                    ), site
        return None

    def _same_constant(self, key: str, write: Write) -> bool:
        """Every write stores the same constant (``self.closed = True``): the order cannot matter."""
        return write.literal is not None and all(
            other.access.literal == write.literal for other in self.conflicts.writes(key)
        )

    # ---- classification -----------------------------------------------------------------
    def _classify_module(self, facts: ModuleFacts) -> Iterable[Finding]:
        for function, state in facts.state.items():
            if not self.threads.reaches_of(function):
                continue
            lock_class = inside_a_lock_class(self.program, function)
            acts: Dict[Tuple, List[Finding]] = {}  # one check-then-act finding per check
            for write in state.writes:
                key = self.program.canonical_key(write.key)
                if key is None or key.startswith("param:") or self.model.initialisation.before_sharing(function, key):
                    continue
                reason = self.shared_reason(key)
                if reason is None:
                    continue
                site = Site(function, write, facts, key)
                finding = self._classify(site, reason, lock_class)
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

    def _classify(self, site: Site, reason: str, lock_class: bool) -> Optional[Finding]:
        """The unguarded side of a race: check-then-act, else read-modify-write, else
        inconsistent locking (a read-modify-write of state guarded elsewhere, seen only through
        contracts, is CCL103: the lock is what the class promises).

        A class that owns a lock is evidence only for a read-modify-write racing a
        read-modify-write of the state the lock guards: reviewed on real code, its other pairs
        (a flag, a reference swapped, a value cached twice) were lifecycle steps, harmless or
        ordered by how the object is used."""
        write: Write = site.access
        if lock_class:
            return None  # a lock class's own bookkeeping follows the lock's protocol
        writes = self.conflicts.writes(site.key)
        guarded = [other for other in writes if self.locks(other)]
        check = write.checked_by
        if check is not None and write.kind in (*RMW_KINDS, "mutate"):
            protected = self.locks(site, check.locks)
            if protected or not self._consequential(site):
                return None
            if _decided_under_lock(site):
                return None  # the outside test only decides whether to take the lock
            if write.method in REMOVING_METHODS:  # adding cannot empty what the check saw filled
                writes = [other for other in writes if other.access.method not in ADDING_METHODS]
            # the author locked the act (or it is arithmetic) on state a lock guards: a class owning
            # that lock is evidence
            assumed = writes if guarded and (self.locks(site) or _is_rmw(write)) else []
            conflict = self._conflict(site, writes, assumed)
            return self._check_then_act(site, reason, conflict) if conflict is not None else None
        if self.locks(site) or write.kind not in RMW_KINDS:
            return None
        if _is_rmw(write):
            others = [other for other in writes if not _same_literal(write, other.access)]
            assumed = [other for other in guarded if _is_rmw(other.access)]
            conflict = self._conflict(site, others, assumed)
            if conflict is not None and not (guarded and self._assumed_only(conflict)):
                return self._read_modify_write(site, reason, conflict)
        blind_item_store = write.kind == "item" and write.derived_from is None  # d[k] = v: atomic
        if guarded and not blind_item_store and not self._same_constant(site.key, write):
            others = [other for other in guarded if not _same_literal(write, other.access)]
            conflict = self._conflict(site, others, [other for other in others if _is_rmw(other.access)])
            if conflict is not None:
                return self._inconsistent(site, conflict)
        return None

    def _conflict(self, site: Site, others: List[Site], assumed: List[Site]) -> Optional[Conflict]:
        """A conflict with a context the project shows (a thread it starts, a declared contract),
        else one of ``assumed`` through contexts assumed only because a class or module owns a
        lock: reviewed on real code, such a lock is evidence for the read-modify-writes it guards
        (a counter bumped under it and reset without it), not for flags, references swapped or
        values cached, which were lifecycle steps, harmless or ordered by use."""
        conflict = self.conflicts.first_conflict(site, frozenset(), others, self.locks, inferred=False)
        if conflict is None and assumed:
            conflict = self.conflicts.first_conflict(site, frozenset(), assumed, self.locks, inferred=True)
        return conflict

    def _consequential(self, site: Site) -> bool:
        """An act whose repeat is not harmless: a read-modify-write, taking an entry out, an
        append (twice is a duplicate), building a new object or an empty container (one is lost,
        with what was put in it), or an act under a lock (broken double-checked locking, a flag
        checked in one locked region and set in another). Not a value computed and stored twice
        (two threads store equal values: a cache filled twice, a constant flag set twice)."""
        write: Write = site.access
        if _is_rmw(write) or write.removes:
            return True
        if write.kind == "mutate":
            return write.method in REMOVING_METHODS or write.method in ("append", "appendleft", "insert", "extend")
        if self.locks(site):
            return True
        if write.literal is not None or not write.built:
            return False
        built = self.program.realize(write.built) or write.built
        if built in INHERITED_RESOURCE_TYPES:  # a connection, a client, a socket
            return True
        made = built.rsplit(".", 1)[-1]
        return made in ("list", "dict", "set", "deque") or (made[:1].isupper() and not made.isupper())

    def _assumed_only(self, conflict: Conflict) -> bool:
        """Both sides run concurrently only by a contract, not by a thread the project starts."""
        roots = self.threads.roots
        return roots[conflict.mine.root].kind == CONTRACT and roots[conflict.theirs.root].kind == CONTRACT

    # ---- messages -----------------------------------------------------------------------
    def _runs(self, function: str, reach: Reach) -> str:
        return self.threads.explain(function, reach)

    def _sides(self, site: Site, conflict: Conflict) -> str:
        """Why the two accesses overlap: both thread contexts (one when it is the same line)."""
        mine = self._runs(site.function, conflict.mine)
        if conflict.mine.root == conflict.theirs.root and conflict.other.function == site.function:
            return mine
        return f"{mine}; {self._runs(conflict.other.function, conflict.theirs)}"

    def _other(self, site: Site, conflict: Conflict, verb: str) -> str:
        other = conflict.other
        if other.access is site.access:
            return f"the same {verb} in another thread"
        where = f"{short_path(other.facts.path)}:{other.access.span.row}"
        return f"the {verb} in `{self.program.display_name(other.function)}()` at {where}"

    def _related(self, site: Site, conflict: Conflict, label: str) -> List[Related]:
        related = []
        other = conflict.other
        if other.access is not site.access:
            related.append(Related(label, other.facts.path, other.access.span))
        for reach in (conflict.mine, conflict.theirs):
            root = self.threads.roots[reach.root]
            entry = Related(
                f"{'contract' if root.kind == CONTRACT else 'thread entry'}: {root.reason}", root.path, root.span
            )
            if entry not in related:
                related.append(entry)
        return related

    def _fix(self, key: str, what: str) -> str:
        guard = self.guarding_lock(key)
        if guard is not None:
            return f"hold `{guard[0]}` (the lock used for it elsewhere) around {what}"
        return (
            GENERIC_FIX
            if what == "the check and the write"
            else (
                "hold a `threading.Lock` around the read and the write, or use an atomic counter (`itertools.count`) "
                "or a `queue.Queue`"
            )
        )

    def _check_then_act(self, site: Site, reason: str, conflict: Conflict) -> Finding:
        write: Write = site.access
        check = write.checked_by
        broken_dcl = bool(self.locks(site))
        shape = "broken double-checked locking" if broken_dcl else "check-then-act"
        where = "under the lock but checked outside it, with no re-check inside" if broken_dcl else "without a lock"
        message = (
            f"{shape} on `{write.display}` ({reason}): checked at line {check.span.row}, then written here {where}; "
            f"{self._other(site, conflict, 'write')} can change it in between. {self._sides(site, conflict)}. "
            f"Fix: {self._fix(site.key, 'the check and the write')}"
        )
        related = [Related(f"`{check.display}` checked here", site.facts.path, check.span)]
        related += self._related(site, conflict, "the other write")
        return Finding("CCL102", message, site.facts.path, write.span, tuple(related))

    def _read_modify_write(self, site: Site, reason: str, conflict: Conflict) -> Finding:
        write: Write = site.access
        read = write.derived_from
        where = "" if read is None or read.span.row == write.span.row else f" (read at line {read.span.row})"
        message = (
            f"unsynchronized read-modify-write of `{write.display}` ({reason}){where}: it races with "
            f"{self._other(site, conflict, 'write')}, and one of the updates is lost. {self._sides(site, conflict)}. "
            f"Fix: {self._fix(site.key, 'the read and the write')}"
        )
        related = []
        if read is not None and read.span != write.span:
            related.append(Related(f"`{read.display}` read here", site.facts.path, read.span))
        related += self._related(site, conflict, "the other write")
        return Finding("CCL101", message, site.facts.path, write.span, tuple(related))

    def _inconsistent(self, site: Site, conflict: Conflict) -> Finding:
        other = conflict.other
        held = [lock_name(e) for e, k in zip(other.access.locks, other.access.lock_keys)]
        lock = (
            held[-1].lstrip("?").rsplit(".", 1)[-1]
            if held and held[-1].startswith("?")
            else (held[-1] if held else "its lock")
        )
        verb = "written" if other.is_write else "read"
        where = f"{short_path(other.facts.path)}:{other.access.span.row}"
        message = (
            f"`{site.access.display}` is written here without a lock, but {verb} under `{lock}` in "
            f"`{self.program.display_name(other.function)}()` at {where}, and the two can run at the same time. "
            f"{self._sides(site, conflict)}. Fix: hold `{lock}` here too"
        )
        related = self._related(site, conflict, f"{verb} under `{lock}` here")
        return Finding("CCL103", message, site.facts.path, site.access.span, tuple(related))


def thread_race_analysis(project) -> ThreadRaceAnalysis:
    return project.shared("thread-races", lambda: ThreadRaceAnalysis(project))


class _ThreadRaceRule(Rule):
    def check(self, project, facts: ModuleFacts) -> Iterable[Finding]:
        return thread_race_analysis(project).findings(facts, self.code)


class UnsynchronizedReadModifyWrite(_ThreadRaceRule):
    code = "CCL101"
    name = "unsynchronized-read-modify-write"
    summary = "Shared state is read and written back from threads without a lock: updates are lost."
    explanation = (
        """
        `total += 1` is three steps: read `total`, add, store. Two threads that read the same
        value both store value + 1, and one increment is lost. conclint reports a write of
        shared state (a module global, a class attribute, an attribute of an object several
        threads use, a closure variable) whose new value is computed from a read of the same
        state, with no lock held across the read and the write, when another write of the same
        state (or the same line in another thread) can run at the same time.

        **When conclint reports.** Only a pair that can really overlap: two accesses of the same
        state, at least one a write, from thread contexts that can run at the same time, with no
        lock in common and nothing ordering them. The message names both sides (the other one is
        in the related locations), why each runs in a thread, and the lock that would fix it.
        Thread contexts are:

        - threads the project starts: `threading.Thread(target=...)` and `Thread` subclasses,
          `threading.Timer`, thread-pool tasks (`submit`, `map`, `Future.add_done_callback`),
          threaded servers' request handlers, Flask routes, your `thread-entry-*` settings;
        - the code that started a thread, from the start until it joins it (`join()`,
          `result()`, `shutdown()`, the end of the pool's `with` block);
        - the owner of a `Thread` subclass calling its other methods while `run()` runs;
        - the concurrency callers bring, said in the message as "assumed concurrent": the public
          methods of a class that declares itself thread-safe (its docstring, a
          `# conclint: thread-safe` comment on its line, the `thread-safe` setting), of a
          long-lived client (it holds an HTTP session or a connection pool, or it is a
          `requests` auth handler), and, for the state its lock guards, of a class that owns a
          lock (it expects threads).

"""
        + NOT_REPORTED
        + """

        Fix: hold one `threading.Lock` around the read and the write, or use an atomic
        counter (`itertools.count`) or a `queue.Queue`.
    """
    )
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
    explanation = (
        """
        `if key not in cache: cache[key] = build()` in two threads: both see the key
        missing, both build, one result is thrown away (or a counter is double-spent:
        `if self.balance >= amount: self.balance -= amount` overdraws). conclint reports a
        write of shared state inside a condition that tested the same state, when no lock is
        held across the check and the write and another write of it can run in between.

        Broken double-checked locking is reported too: the check outside the lock, the write
        inside it, and no re-check under the lock (`if self._conn is None: with self._lock:
        self._conn = connect()`): two threads pass the check and both connect. So is a flag
        checked in one locked section and set in another.

        **When conclint reports.** Only a pair that can really overlap: two accesses of the same
        state, at least one a write, from thread contexts that can run at the same time, with no
        lock in common and nothing ordering them. The message names both sides (the other one is
        in the related locations), why each runs in a thread, and the lock that would fix it.
        Thread contexts are:

        - threads the project starts: `threading.Thread(target=...)` and `Thread` subclasses,
          `threading.Timer`, thread-pool tasks (`submit`, `map`, `Future.add_done_callback`),
          threaded servers' request handlers, Flask routes, your `thread-entry-*` settings;
        - the code that started a thread, from the start until it joins it (`join()`,
          `result()`, `shutdown()`, the end of the pool's `with` block);
        - the owner of a `Thread` subclass calling its other methods while `run()` runs;
        - the concurrency callers bring, said in the message as "assumed concurrent": the public
          methods of a class that declares itself thread-safe (its docstring, a
          `# conclint: thread-safe` comment on its line, the `thread-safe` setting), of a
          long-lived client (it holds an HTTP session or a connection pool, or it is a
          `requests` auth handler), and, for the state its lock guards, of a class that owns a
          lock (it expects threads).

"""
        + NOT_REPORTED
        + """

        Fix: hold one lock around the check and the act (re-check under it), or use an atomic
        operation (`cache.setdefault(key, value)`).
    """
    )
    bad = (
        """
        import socket
        from concurrent.futures import ThreadPoolExecutor

        connections = {}

        def connection(host):
            if host not in connections:
                connections[host] = socket.socket()
            return connections[host]

        with ThreadPoolExecutor() as pool:
            pool.map(connection, ["a", "b", "a"])
        """,
    )
    good = (
        """
        import socket
        import threading
        from concurrent.futures import ThreadPoolExecutor

        connections = {}
        connections_lock = threading.Lock()

        def connection(host):
            with connections_lock:
                if host not in connections:
                    connections[host] = socket.socket()
                return connections[host]

        with ThreadPoolExecutor() as pool:
            pool.map(connection, ["a", "b", "a"])
        """,
    )
    scenario = "room-created-twice"


class InconsistentLocking(_ThreadRaceRule):
    code = "CCL103"
    name = "inconsistent-locking"
    summary = "State written under a lock in one place is written without any lock in another."
    explanation = (
        """
        Guarding state with a lock says threads share it. A write of the same state without
        the lock races with the guarded accesses. conclint reports an unlocked write of state
        that is read or written under a lock elsewhere, when the two can run at the same time:
        in threads the project starts, or because the class (or module) that owns the lock is
        used from callers' threads ("assumed concurrent: the class owns `self._lock`"). Not
        reported: writes in `__init__`, helpers every caller calls with the lock held (or
        reached only under it), a lock class's own bookkeeping, one constant every writer
        stores, a blind store of one entry (`d[k] = v`, atomic).

        **When conclint reports.** Only a pair that can really overlap: two accesses of the same
        state, at least one a write, from thread contexts that can run at the same time, with no
        lock in common and nothing ordering them. The message names both sides (the other one is
        in the related locations), why each runs in a thread, and the lock that would fix it.
        Thread contexts are:

        - threads the project starts: `threading.Thread(target=...)` and `Thread` subclasses,
          `threading.Timer`, thread-pool tasks (`submit`, `map`, `Future.add_done_callback`),
          threaded servers' request handlers, Flask routes, your `thread-entry-*` settings;
        - the code that started a thread, from the start until it joins it (`join()`,
          `result()`, `shutdown()`, the end of the pool's `with` block);
        - the owner of a `Thread` subclass calling its other methods while `run()` runs;
        - the concurrency callers bring, said in the message as "assumed concurrent": the public
          methods of a class that declares itself thread-safe (its docstring, a
          `# conclint: thread-safe` comment on its line, the `thread-safe` setting), of a
          long-lived client (it holds an HTTP session or a connection pool, or it is a
          `requests` auth handler), and, for the state its lock guards, of a class that owns a
          lock (it expects threads).

"""
        + NOT_REPORTED
        + """

        Fix: take the same lock for every write.
    """
    )
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


def _same_literal(write: Write, other) -> bool:
    """Both store one constant (``closed = True``): the order of the two cannot matter."""
    return write.literal is not None and isinstance(other, Write) and other.literal == write.literal


def _is_rmw(access) -> bool:
    return isinstance(access, Write) and (
        access.kind == "rmw" or (access.kind in RMW_KINDS and access.derived_from is not None)
    )


def _decided_under_lock(site: Site) -> bool:
    """The unlocked test is a hint, not the check: the locked act re-reads the state it writes
    (``if self._tasks: with self._lock:`` a loop over ``self._tasks`` fills ``new``, then
    ``self._tasks = new``: the new value is computed from an earlier read in the same locked
    region), or the region first re-checks
    and claims another state (``with lock: if self._pid == pid: return; self._pid = pid``), so a
    second thread past the outside test leaves at the re-check. Broken double-checked locking
    (``with lock: self._conn = connect()``, nothing read again) is neither."""
    write: Write = site.access
    regions = set(write.locks)
    if not regions:
        return False
    read = write.derived_from
    if write.kind == "assign" and read is not None and regions & set(read.locks) and read.span.row < write.span.row:
        return True  # recomputed from an earlier read under the lock (not ``self.n -= 1``: the check still decides)
    state = site.facts.state.get(site.function)
    for other in state.writes if state else ():
        check = other.checked_by
        if other.key == write.key or check is None or not before(other.span, write.span):
            continue
        # ``if self._pid == pid: return`` then ``self._pid = pid`` (the claim follows the re-check,
        # it is not inside its body), with this act after it in the same block or deeper
        exit_guard = other.span.col < check.span.col and write.span.col >= other.span.col
        if exit_guard and regions & set(check.locks) and regions & set(other.locks):
            return True  # re-checked and claimed under the same lock before this act
    return False
