"""Worker processes that can be stopped: a file that overruns its time or memory costs one worker, not the run.

libcst's parser is native code that holds the GIL: nothing inside the process can interrupt
it (engine/deadline.py stops the Python part of the analysis, cooperatively). A process can
be killed. So the pool hands each worker one file at a time, largest first (the longest files
start early instead of making the tail of the run), and watches the CPU time the worker has
spent on its file (read from /proc; where there is none, only the wall clock). A worker
whose file overruns ``file-timeout`` by a margin is killed and replaced; the file is reported
CCL001 and the rest of the run goes on. The wall clock is a backstop, several times larger:
under load a file gets a fraction of a CPU, and the limit is what the file costs, not how
busy the machine is. Each worker runs under an address-space ceiling (``max-memory``): a file
that exhausts it is reported CCL001 and the worker is replaced.

A few small files are analysed in the calling process (starting a worker would cost more
than they do, and the cooperative deadline bounds them: libcst parses 128 KB in a fraction of
a second); so is everything in a process that cannot have children (flake8's daemonic
workers). ``--jobs 1`` uses one worker for the large files, in turn with the small ones.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import dataclasses
import gc
import multiprocessing
import os
import signal
import sys
import time
from collections import deque
from contextlib import contextmanager
from dataclasses import dataclass
from multiprocessing.connection import Connection, wait
from typing import Callable, Deque, Dict, Iterator, List, Optional, Pattern, Sequence

from conclint.engine.analysis import FileResult, analyse_file, file_size, out_of_memory_message, stopped_result
from conclint.engine.deadline import stopped_message
from conclint.engine.limits import MB, Limits, set_memory_ceiling
from conclint.engine.parsing import STACK_SIZE, run_with_deep_stack

try:
    import resource
except ImportError:  # Windows: no limits on memory
    resource = None  # type: ignore[assignment]

MIN_FILES_PER_POOL = 16  # fewer (small) files: analysed in the calling process
IN_PROCESS_BYTES = 128 * 1024  # a larger file goes to a worker whenever a limit is set
KILL_MARGIN = 1.0  # CPU seconds past file-timeout before the worker is killed: the deadline reports first
WALL_CLOCK_FACTOR = 5  # the wall-clock backstop: this many times file-timeout, plus WALL_CLOCK_EXTRA
WALL_CLOCK_EXTRA = 10.0
POLL_SECONDS = 0.25  # how often a busy worker's CPU time is looked at (only once its file overran in wall time)
CLOCK_TICKS = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


@contextmanager
def gc_paused() -> Iterator[None]:
    """No cyclic garbage collection while facts are built, loaded or queried: they hold no
    cycles worth collecting, and each automatic collection walked the whole growing heap
    (a run over the stdlib after a one-file edit spent 1.7 of its 4 s in them)."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _malloc_trim() -> Callable[[int], int]:
    try:
        return ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6").malloc_trim
    except (OSError, AttributeError):  # not glibc (macOS, Windows, musl): nothing to trim
        return lambda pad: 0


_TRIM = _malloc_trim()


def release_memory() -> None:
    """Hand the memory of parsed trees back to the system. libcst's parser and large Python
    objects live in the C heap, which keeps freed pages: a worker that parsed a 300 KB module
    stayed at 125 MB for the rest of the run; trimmed, it goes back to about 50 MB."""
    _TRIM(0)


def _analyse_batch(
    paths: Sequence[str],
    triggers: Optional[Pattern[str]] = None,
    timeout: Optional[float] = None,
    max_size: Optional[float] = None,
) -> List[FileResult]:
    """Analyse ``paths`` in this process (in a thread with a deep stack)."""
    gc.freeze()  # the run's facts so far: the collection after the batch need not walk them
    try:
        return run_with_deep_stack(lambda: _analysed(paths, triggers, timeout, max_size))
    finally:
        gc.unfreeze()


def _analysed(
    paths: Sequence[str], triggers: Optional[Pattern[str]], timeout: Optional[float], max_size: Optional[float]
) -> List[FileResult]:
    try:
        with gc_paused():
            return [analyse_file(path, triggers, timeout, None, max_size) for path in paths]
    finally:
        gc.collect()  # the cycles parsing left (only what this batch made: the rest is frozen)
        release_memory()


def _cpu_seconds(pid: int) -> Optional[float]:
    """The CPU time (user + system) process ``pid`` has spent, from /proc; None where there is none."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as handle:
            fields = handle.read().rsplit(b")", 1)[1].split()
    except (OSError, IndexError):
        return None
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS  # utime, stime: fields 14 and 15 of stat(5)


def _limit_memory(max_memory: float) -> None:
    """The address space this worker may add for its files: ``max_memory`` MB on top of what it
    holds when it starts (the interpreter, and the analysis thread's stack, reserved not used)."""
    if resource is None or not max_memory or not hasattr(resource, "RLIMIT_AS"):
        return
    try:
        with open("/proc/self/statm", "rb") as handle:
            mapped = int(handle.read().split()[0]) * resource.getpagesize()
    except (OSError, ValueError, IndexError):
        mapped = 256 * MB + STACK_SIZE
    try:
        ceiling = mapped + int(max_memory * MB)
        resource.setrlimit(resource.RLIMIT_AS, (ceiling, resource.getrlimit(resource.RLIMIT_AS)[1]))
    except (ValueError, OSError):  # a lower hard limit is already set: that one holds
        return
    set_memory_ceiling(max_memory)


def _die_with_parent(parent: int) -> None:
    """On Linux, the kernel kills this worker when the process that started it dies (even by SIGKILL):
    no parent is left to stop a file that overruns. Elsewhere the worker ends at its next file (EOF)."""
    try:
        prctl = ctypes.CDLL(None, use_errno=True).prctl
    except (OSError, AttributeError):
        return
    prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    if os.getppid() != parent:  # it died before that: too late for the kernel to tell
        os._exit(0)


def _serve(connection: Connection, max_memory: float, parent: int) -> None:
    """A worker: analyse the files it is sent, one at a time, until told to stop (or its parent goes)."""
    if sys.platform.startswith("linux"):
        _die_with_parent(parent)
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's to handle: it stops the workers
    if hasattr(signal, "pthread_sigmask"):
        signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})
    if resource is not None:
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))  # a worker killed at its limits leaves no core file
    if not os.environ.get("CONCLINT_DEBUG"):  # native code's last words ("memory allocation failed"): not ours
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, 2)
    gc.freeze()  # what the worker inherited or imported: no collection walks it again
    # one deep-stack thread for the worker's life: a thread per file could need a second stack
    # before the last one is unmapped, and that much address space again under max-memory
    run_with_deep_stack(lambda: _serve_files(connection, max_memory))


def _serve_files(connection: Connection, max_memory: float) -> None:
    _limit_memory(max_memory)
    while True:
        try:
            task = connection.recv()
        except (EOFError, OSError):
            return
        if task is None:
            return
        path, triggers, timeout, max_size = task
        result = _analysed([path], triggers, timeout, max_size)[0]
        exhausted = result.stopped and "ran out of memory" in result.findings[0].message
        connection.send((result, time.process_time(), exhausted))
        if exhausted:
            return  # the heap after a MemoryError is not to be trusted: the pool starts another worker


@dataclass
class _Worker:
    process: multiprocessing.process.BaseProcess
    connection: Connection
    path: Optional[str] = None  # the file it analyses now
    started: float = 0.0  # wall clock when it got that file
    cpu_before: float = 0.0  # its CPU time when it got that file (as it reported with its last result)

    @property
    def sentinel(self) -> int:
        return self.process.sentinel

    def kill(self) -> None:
        if self.process.is_alive():
            self.process.kill()
        self.process.join()
        self.connection.close()


def can_start_workers() -> bool:
    """A daemonic process (flake8's workers) may not have children."""
    return not multiprocessing.current_process().daemon


class Pool:
    """Up to ``size`` worker processes, started when first needed and replaced when one is killed."""

    def __init__(self, size: int, limits: Limits) -> None:
        self.size = size
        self.limits = limits
        self._idle: List[_Worker] = []
        self._busy: List[_Worker] = []
        self._started: List[_Worker] = []  # every worker not yet stopped, wherever Ctrl-C finds it

    def analyse(self, paths: Sequence[str], triggers: Optional[Pattern[str]]) -> Dict[str, FileResult]:
        """Each path's result; ``paths`` are handed out in the order given."""
        queue: Deque[str] = deque(paths)
        results: Dict[str, FileResult] = {}
        while queue or self._busy:
            while queue and (self._idle or len(self._busy) < self.size):
                self._hand_out(queue.popleft(), triggers)
            ready = set(wait([w.connection for w in self._busy] + [w.sentinel for w in self._busy], POLL_SECONDS))
            now = time.monotonic()
            for worker in list(self._busy):
                if worker.connection in ready or worker.sentinel in ready:
                    result = self._collect(worker)
                else:
                    result = self._stop_if_overrun(worker, now)
                if result is not None:
                    results[result.path] = result
        return results

    def close(self) -> None:
        """Stop every worker at once (idle ones wait for a file; busy ones' work is not wanted any more)."""
        for worker in self._started:
            worker.kill()
        self._idle, self._busy, self._started = [], [], []

    def _hand_out(self, path: str, triggers: Optional[Pattern[str]]) -> None:
        task = (path, triggers, self.limits.timeout, self.limits.max_file_size)
        if not self._idle:
            self._start()
        worker = self._idle.pop()
        try:
            worker.connection.send(task)
        except (OSError, EOFError):  # it died while idle: start another
            worker.kill()
            self._start()
            worker = self._idle.pop()
            worker.connection.send(task)
        worker.path, worker.started = path, time.monotonic()
        self._busy.append(worker)

    def _start(self) -> None:
        """One more idle worker. SIGINT is blocked until the worker ignores it and the pool knows
        it: Ctrl-C at any moment finds every worker the pool started, to stop it."""
        ours, theirs = multiprocessing.Pipe()
        process = multiprocessing.Process(
            target=_serve, args=(theirs, self.limits.max_memory, os.getpid()), name="conclint-worker", daemon=True
        )
        blocked = hasattr(signal, "pthread_sigmask")
        if blocked:
            previous = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
        try:
            process.start()
            worker = _Worker(process, ours)
            self._started = [*(w for w in self._started if w.process.exitcode is None), worker]
            self._idle.append(worker)
        finally:
            if blocked:
                signal.pthread_sigmask(signal.SIG_SETMASK, previous)
            theirs.close()

    def _collect(self, worker: _Worker) -> FileResult:
        """The result a worker sent, or what its death means for its file."""
        assert worker.path is not None
        self._busy.remove(worker)
        try:
            if worker.connection.poll():
                result, worker.cpu_before, exiting = worker.connection.recv()
                if exiting or not worker.process.is_alive():
                    worker.kill()
                else:
                    self._idle.append(worker)
                return result
        except (EOFError, OSError):
            pass
        worker.kill()
        return self._died(worker.path, worker.process.exitcode)

    def _died(self, path: str, exitcode: Optional[int]) -> FileResult:
        """A worker ended without a result: the memory ceiling (native code aborts when an
        allocation fails; the kernel's OOM killer sends SIGKILL), or a crash."""
        memory_signals = {signal.SIGABRT, getattr(signal, "SIGKILL", signal.SIGABRT)}
        if exitcode is not None and -exitcode in memory_signals:
            return stopped_result(path, out_of_memory_message(self.limits.max_memory))
        try:
            how = f"signal {signal.Signals(-exitcode).name}" if exitcode and exitcode < 0 else f"exit code {exitcode}"
        except ValueError:
            how = f"signal {-exitcode}"
        return FileResult(path, internal_error=f"the worker process analysing it died ({how})")

    def _stop_if_overrun(self, worker: _Worker, now: float) -> Optional[FileResult]:
        """Kill the worker when its file has overrun its CPU time (or, far more generously, the wall clock)."""
        timeout = self.limits.timeout
        elapsed = now - worker.started
        if timeout is None or elapsed <= timeout + KILL_MARGIN:  # its CPU time cannot be more than that
            return None
        cpu = _cpu_seconds(worker.process.pid or 0)
        backstop = timeout * WALL_CLOCK_FACTOR + WALL_CLOCK_EXTRA
        if cpu is not None and cpu - worker.cpu_before > timeout + KILL_MARGIN:
            message = stopped_message(timeout)
        elif elapsed > backstop:
            message = stopped_message(round(elapsed), "wall-clock time")
        else:
            return None
        assert worker.path is not None
        self._busy.remove(worker)
        worker.kill()
        return stopped_result(worker.path, message)


class Workers:
    """Where one run's files are analysed: in this process, or in a pool started on first need
    and reused by every demand round (a pool per round paid the start-up each time)."""

    def __init__(self, jobs: int, limits: Optional[Limits] = None) -> None:
        self.jobs = jobs
        self.limits = limits or Limits()
        self._pool: Optional[Pool] = None

    def analyse(
        self, paths: Sequence[str], triggers: Optional[Pattern[str]], timeout: Optional[float]
    ) -> List[FileResult]:
        """Per-file results in the order of ``paths``, whatever ``jobs`` is. ``timeout`` is
        part of the caller's cache key; it is the limits' one."""
        limits = dataclasses.replace(self.limits, timeout=timeout)
        sizes = {path: file_size(path) for path in paths}
        max_size = limits.max_file_size
        pooled = self.jobs > 1 and len(paths) >= MIN_FILES_PER_POOL
        possible = can_start_workers()
        remote = [
            path
            for path in paths
            if possible
            and (max_size is None or (sizes[path] or 0) <= max_size)  # too large: refused here, unread
            and (pooled or (limits.guarded and (sizes[path] or 0) > IN_PROCESS_BYTES))
        ]
        chosen = set(remote)
        local = [path for path in paths if path not in chosen]
        results = dict(zip(local, _analyse_batch(local, triggers, limits.timeout, max_size))) if local else {}
        if remote:
            if self._pool is None or self._pool.limits != limits:
                self.close()
                self._pool = Pool(self.jobs, limits)
            largest_first = sorted(remote, key=lambda path: sizes[path] or 0, reverse=True)
            results.update(self._pool.analyse(largest_first, triggers))
        return [results[path] for path in paths]

    def close(self) -> None:
        if self._pool is not None:
            self._pool.close()
            self._pool = None

    def __enter__(self) -> Workers:
        return self

    def __exit__(self, *exc) -> None:
        self.close()
