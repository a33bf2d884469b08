"""CCL205: /ping waits while a coroutine waits on a thread's future with result()."""

from __future__ import annotations

from typing import List

from conclint.demo.drive import blocking_scenario
from conclint.demo.registry import Scenario
from conclint.demo.results import Result, Scale

SCENARIO = Scenario(
    "blocking-wait",
    model="evented",
    rules=("CCL205",),
    chart="latency",
    summary="future.result() on a thread's work, in a coroutine, stops the loop until the thread is done",
)


def run(scale: Scale) -> List[Result]:
    block = scale.pick(0.5, 0.3)
    cases = (
        ("CCL205", "hazard", f"/report?seconds={block}", f"future.result() of a {block:g} s job in a thread pool"),
        ("CCL205", "fixed", f"/report-fixed?seconds={block}", "await asyncio.wrap_future() of the same job"),
    )
    return blocking_scenario(SCENARIO.name, cases, block, scale.pick(8, 6))
