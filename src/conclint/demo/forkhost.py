"""``python -m conclint.demo.forkhost hazard|fixed mid-flush|idle SINK TIMEOUT SPANS``: the
application of the fork-library-state scenario, as a forking host runs it. It sets the
telemetry client up, forks one worker (while the client's flusher holds its lock, or while
it sleeps), lets the worker record SPANS spans and wait for them to be written, and prints
one JSON line: whether the worker hung (killed after TIMEOUT seconds) and how many of its
spans reached SINK.

A process of its own: the orchestrator (or a test runner) has threads of its own, and
forking it would be the very hazard the scenario shows.
"""

from __future__ import annotations

import json
import os
import signal
import sys
import time
import warnings


def main(argv=None) -> int:
    variant, moment, sink, timeout, spans = (sys.argv[1:] if argv is None else argv)[:5]
    timeout, spans = float(timeout), int(spans)
    # Python 3.12+ warns about fork() with threads: that is the point
    warnings.simplefilter("ignore", DeprecationWarning)
    from conclint.demo.scenarios import fork_library_state as scenario

    client = scenario.setup(sink, fork_safe=variant == "fixed")
    client.record("parent started")
    started = time.monotonic()
    while client.flushing.is_set() != (moment == "mid-flush") and time.monotonic() - started < timeout:
        time.sleep(0.001)
    pid = os.fork()
    if pid == 0:  # the worker: record, give the flusher time to write, leave without cleanup
        for n in range(spans):
            client.record(f"span {n}")
        time.sleep(scenario.FLUSH_EVERY * 4 + scenario.SLOW_SINK * 2)
        os._exit(0)
    hung = True
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        done, _status = os.waitpid(pid, os.WNOHANG)
        if done:
            hung = False
            break
        time.sleep(0.01)
    if hung:
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
    written = 0
    if os.path.exists(sink):
        with open(sink, encoding="utf-8") as lines:
            written = sum(1 for line in lines if line.startswith(f"{pid} "))
    print(json.dumps({"hung": hung, "written": written}), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
