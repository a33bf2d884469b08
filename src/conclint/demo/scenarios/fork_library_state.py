"""CCL305, a library's state inherited by a forked worker.

`Telemetry` is a metrics client written the way such libraries are: `record()` adds a
span to a batch under a lock, and a flusher thread the client starts writes the batch
out every few milliseconds, holding the lock while it writes. The application sets it
up at start-up (`setup()`), then forks a worker (a gunicorn or uWSGI worker, a
multiprocessing child). `fork()` copies only the thread that called it: the worker has
no flusher, so the spans it records are never written; and if the flusher held the
lock at that moment, the worker's copy of the lock stays locked, and its first
`record()` hangs for ever.

`ForkSafeTelemetry` is the fix: `os.register_at_fork(after_in_child=...)` gives the
child a new lock, an empty batch and a flusher of its own.

`reproduce()` runs the application in a process of its own (`python -m
conclint.demo.forkhost`): a process with threads of its own, such as a test runner,
must not fork).
"""

import json
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time

FLUSH_EVERY = 0.02  # seconds between flushes
SLOW_SINK = 0.05  # seconds a flush takes (a slow disk, a full socket buffer), lock held


class Telemetry:
    """The hazard: the flusher thread and its lock live in the parent only."""

    def __init__(self, sink):
        self._sink = sink
        self._lock = threading.Lock()
        self._batch = []
        self.flushing = threading.Event()  # set while a flush holds the lock (the demo forks then)
        self._thread = threading.Thread(target=self._flush_forever, name="telemetry-flusher", daemon=True)
        self._thread.start()  # expect: CCL305

    def record(self, name):
        with self._lock:
            self._batch.append(f"{os.getpid()} {name}")

    def _flush_forever(self):
        while True:
            time.sleep(FLUSH_EVERY)
            self._flush()

    def _flush(self):
        with self._lock:
            self.flushing.set()
            batch, self._batch = self._batch, []
            if batch:
                with open(self._sink, "a", encoding="utf-8") as out:
                    out.write("".join(line + "\n" for line in batch))
            time.sleep(SLOW_SINK)
            self.flushing.clear()


class ForkSafeTelemetry:
    """The fix: the child re-creates its lock, its batch and its flusher after the fork."""

    def __init__(self, sink):
        self._sink = sink
        self.flushing = threading.Event()
        self._start()
        os.register_at_fork(after_in_child=self._start)

    def _start(self):
        self._lock = threading.Lock()
        self._batch = []  # the parent's spans are the parent's to send
        self.flushing = threading.Event()
        self._thread = threading.Thread(target=self._flush_forever, name="telemetry-flusher", daemon=True)
        self._thread.start()

    def record(self, name):
        with self._lock:
            self._batch.append(f"{os.getpid()} {name}")

    def _flush_forever(self):
        while True:
            time.sleep(FLUSH_EVERY)
            self._flush()

    def _flush(self):
        with self._lock:
            self.flushing.set()
            batch, self._batch = self._batch, []
            if batch:
                with open(self._sink, "a", encoding="utf-8") as out:
                    out.write("".join(line + "\n" for line in batch))
            time.sleep(SLOW_SINK)
            self.flushing.clear()


telemetry = None  # the library's default client, as `setup()` leaves it
fork_safe_telemetry = None  # the same with the fix, as `setup(fork_safe=True)` leaves it


def setup(sink, fork_safe=False):
    """What the application calls at start-up, before its server forks the workers."""
    global telemetry, fork_safe_telemetry
    if fork_safe:
        fork_safe_telemetry = ForkSafeTelemetry(sink)
        return fork_safe_telemetry
    telemetry = Telemetry(sink)
    return telemetry


# ---- reproducing it ----------------------------------------------------------------------
SPANS = 20  # spans each worker records


def reproduce(timeout: float = 1.0) -> dict:
    """Fork a worker after the client is set up, twice per variant: once while the flusher holds
    its lock, once while it sleeps. Expected: the worker records its spans and they are written.
    Returns the numbers, and whether the hazard showed and the fix held."""
    results = {}
    for variant in ("hazard", "fixed"):
        results[variant] = {moment: _run_host(variant, moment, timeout) for moment in ("mid-flush", "idle")}
    hazard, fixed = results["hazard"], results["fixed"]
    return {
        "rule": "CCL305",
        "scenario": "fork-library-state",
        "expected": f"the worker exits and its {SPANS} spans are written",
        "hazard": hazard,
        "fixed": fixed,
        "reproduced": hazard["mid-flush"]["hung"] and not hazard["idle"]["hung"] and hazard["idle"]["written"] == 0,
        "fix_holds": all(not r["hung"] and r["written"] == SPANS for r in fixed.values()),
    }


def _run_host(variant: str, moment: str, timeout: float) -> dict:
    """One run of the application in its own process (its own session, killed when late)."""
    with tempfile.TemporaryDirectory(prefix="conclint-fork-library-") as folder:
        sink = os.path.join(folder, "spans.log")
        command = [sys.executable, "-m", "conclint.demo.forkhost", variant, moment, sink, str(timeout), str(SPANS)]
        process = subprocess.Popen(
            command,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
            text=True,
        )
        try:
            out, _ = process.communicate(timeout=timeout + 10)
        except subprocess.TimeoutExpired:
            out = ""
        finally:
            try:
                os.killpg(process.pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
            process.wait()
        try:
            outcome = json.loads(out.strip().splitlines()[-1])
        except (ValueError, IndexError):
            return {"hung": False, "written": -1, "error": f"the host printed {out[-200:]!r}"}
        return outcome
