"""CCL302: a worker forked while a thread holds a lock hangs at its first log line."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from typing import List

from conclint.demo.drive import workers_data
from conclint.demo.registry import Scenario
from conclint.demo.results import Result, Scale

SCENARIO = Scenario(
    "fork-with-threads",
    model="prefork",
    rules=("CCL302",),
    chart="workers",
    summary="a process forked while another thread holds a lock inherits it locked, and hangs",
)


def fork_check(variant: str, timeout: float) -> dict:
    """``python -m conclint.demo.forkcheck``: its own process (this one has threads)."""
    command = [sys.executable, "-m", "conclint.demo.forkcheck", variant, str(timeout)]
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
        return json.loads(out.strip().splitlines()[-1])
    except (ValueError, IndexError):
        return {"exited": False, "error": f"the fork check printed {out[-200:]!r}"}


def run(scale: Scale) -> List[Result]:
    results = []
    hazard_timeout = scale.pick(1.0, 0.8)
    for variant in ("hazard", "fixed"):
        timeout = hazard_timeout if variant == "hazard" else 5.0
        outcome = fork_check(variant, timeout)
        exited = bool(outcome.get("exited"))
        if exited:
            after_ms = round(outcome["after"] * 1000)
            observed = f"exited {after_ms} ms"
            seen = {"exited after (ms)": after_ms}
        elif "error" in outcome:
            after_ms, observed, seen = None, "failed", {}
        else:
            after_ms = round(outcome["after"] * 1000)
            observed = f"hung > {outcome['after']:g} s"
            seen = {"blocked, killed after (ms)": after_ms}
        how = (
            "starts a log-writer thread that holds its lock, then forks"
            if variant == "hazard"
            else "forks, then starts the log-writer thread"
        )
        detail = f"a master {how}; the worker's first log line takes the lock: {outcome.get('error') or observed}"
        correct = exited and outcome.get("code") == 0
        ok = (not exited and "error" not in outcome) if variant == "hazard" else correct
        data = workers_data({"worker": seen}, ["exited after (ms)", "blocked, killed after (ms)"], axis="ms")
        results.append(
            Result(
                SCENARIO.name,
                "CCL302",
                "prefork",
                variant,
                "exits at once",
                observed,
                0,
                0 if exited else 1,
                "workers still blocked",
                ok,
                detail,
                data,
            )
        )
    return results
