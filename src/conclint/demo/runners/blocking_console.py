"""CCL207: /ping waits while a coroutine reads a line from a console that is slow to answer."""

from __future__ import annotations

from typing import List

from conclint.demo.drive import blocking_scenario, later
from conclint.demo.launch import ServerProcess
from conclint.demo.registry import Scenario
from conclint.demo.results import Result, Scale

SCENARIO = Scenario(
    "blocking-console",
    model="evented",
    rules=("CCL207",),
    chart="latency",
    summary="sys.stdin.readline() in a coroutine stops the loop until someone types a line",
)


def run(scale: Scale) -> List[Result]:
    block = scale.pick(0.5, 0.3)
    cases = (
        ("CCL207", "hazard", "/approve?refund=R-17", f"sys.stdin.readline(); the operator answers after {block:g} s"),
        ("CCL207", "fixed", "/approve-fixed?refund=R-17", "the same read in run_in_executor()"),
    )

    def operator(server: ServerProcess):
        return lambda: later(block, lambda: server.write_stdin("y\n"))

    server = ServerProcess("evented", SCENARIO.name, stdin=True)
    return blocking_scenario(SCENARIO.name, cases, block, scale.pick(8, 6), server=server, trigger=operator)
