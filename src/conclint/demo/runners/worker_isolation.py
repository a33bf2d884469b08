"""No rule: a crash kills what shares its process; under prefork that is one worker."""

from __future__ import annotations

import subprocess
import threading
import time
from typing import Dict, List

from conclint.demo import client
from conclint.demo.drive import workers_data
from conclint.demo.launch import ServerError, ServerProcess
from conclint.demo.registry import Scenario
from conclint.demo.results import Result, Scale

SCENARIO = Scenario(
    "worker-isolation",
    model="threaded",
    rules=(None,),
    chart="workers",
    summary="a crash under the threaded model takes every request in flight with it; under prefork, one worker",
)
BESIDE = 2
CATEGORIES = ["completed", "lost"]


def crash_beside(server: ServerProcess, slow: float, beside: int):
    calls = [lambda: client.request(server.port, "GET", f"/slow?seconds={slow}", timeout=slow + 10)] * beside
    box: Dict[str, List[client.Reply]] = {}
    runner = threading.Thread(target=lambda: box.setdefault("replies", client.run_all(calls, beside)))
    runner.start()
    time.sleep(min(0.3, slow / 3))  # the slow requests are being served by then
    crash = client.request(server.port, "GET", "/crash", timeout=5)
    runner.join(slow + 15)
    return box.get("replies", []), crash


def _result(model: str, variant: str, completed: int, ok: bool, observed: str, detail: str) -> Result:
    data = workers_data(
        {f"{model} server": {"completed": completed, "lost": BESIDE - completed}}, CATEGORIES, axis="requests"
    )
    return Result(
        SCENARIO.name,
        None,
        model,
        variant,
        f"{BESIDE}/{BESIDE} done",
        observed,
        BESIDE,
        completed,
        "requests completed beside a crash",
        ok,
        detail,
        data,
    )


def run(scale: Scale) -> List[Result]:
    slow = scale.pick(1.0, 0.8)
    results = []
    with ServerProcess("threaded", SCENARIO.name, workers=4) as server:
        replies, _ = crash_beside(server, slow, BESIDE)
        completed = sum(r.ok for r in replies)
        try:
            server.process.wait(5)
        except subprocess.TimeoutExpired:
            pass  # it survived the crash: reported below
        after = client.request(server.port, "GET", "/pid", timeout=2)
        detail = (
            f"{BESIDE} GET /slow ({slow:g} s) on worker threads, then GET /crash on another thread of the same "
            f"process: it exited with {server.process.returncode if server.process else '?'}; the server "
            f"{'answers' if after.ok else 'is gone'}"
        )
        ok = completed < BESIDE and not after.ok
        results.append(_result("threaded", "hazard", completed, ok, f"{completed}/{BESIDE} threaded", detail))
    workers = BESIDE + 1
    with ServerProcess("prefork", SCENARIO.name, workers=workers) as server:
        replies, crash = crash_beside(server, slow, BESIDE)
        completed = sum(r.ok for r in replies)
        try:
            exited = server.wait_for("worker-exited", 5.0)
            started = server.wait_for("worker-started", 5.0)
            replaced = f"worker {exited['worker']} {exited['status']}; the master started worker {started['worker']}"
        except ServerError:
            replaced = "no worker was replaced"
        after = client.many(server.port, "GET", "/pid", workers * 2, workers, timeout=5)
        answered = all(r.ok for r in after)
        detail = (
            f"{BESIDE} GET /slow ({slow:g} s) on {BESIDE} of {workers} workers, then GET /crash on the third"
            f" ({'no reply' if not crash.ok else 'answered?'}): {replaced}; the server "
            f"{'answers' if answered else 'fails'}"
        )
        ok = completed == BESIDE and answered and replaced.startswith("worker")
        results.append(_result("prefork", "fixed", completed, ok, f"{completed}/{BESIDE} prefork", detail))
    return results
