"""``python -m conclint.demo.forkcheck hazard|fixed TIMEOUT``: run the fork-with-threads
scenario in a process of its own and say, as one JSON line, whether the forked worker
exited or was still blocked after TIMEOUT seconds (then it is killed).

Its own process because the orchestrator has threads of its own: forking it would be
the very hazard the scenario shows.
"""

from __future__ import annotations

import json
import os
import signal
import sys
import time
import warnings


def main(argv=None) -> int:
    args = sys.argv[1:] if argv is None else argv
    variant = args[0] if args else "hazard"
    timeout = float(args[1]) if len(args) > 1 else 1.0
    warnings.simplefilter(
        "ignore", DeprecationWarning
    )  # Python 3.12+ warns about fork() with threads: that is the point
    from conclint.demo.scenarios import fork_with_threads as scenario

    fork = scenario.fork_after_threads if variant == "hazard" else scenario.fork_before_threads
    started = time.monotonic()
    pid = fork()
    while time.monotonic() - started < timeout:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            code = os.WEXITSTATUS(status) if os.WIFEXITED(status) else -os.WTERMSIG(status)
            print(json.dumps({"exited": True, "code": code, "after": round(time.monotonic() - started, 4)}), flush=True)
            return 0
        time.sleep(0.01)
    os.kill(pid, signal.SIGKILL)
    os.waitpid(pid, 0)
    print(json.dumps({"exited": False, "after": timeout}), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
