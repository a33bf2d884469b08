"""CCL203: /ping waits while a coroutine waits for subprocess.run()."""

from __future__ import annotations

from typing import List

from conclint.demo.drive import blocking_scenario
from conclint.demo.registry import Scenario
from conclint.demo.results import Result, Scale

SCENARIO = Scenario(
    "blocking-subprocess",
    model="evented",
    rules=("CCL203",),
    chart="latency",
    summary="subprocess.run() in a coroutine stops the loop until the program exits",
)


def run(scale: Scale) -> List[Result]:
    block = scale.pick(0.5, 0.3)
    cases = (
        ("CCL203", "hazard", f"/thumbnail?seconds={block}", f"subprocess.run() of a converter that takes {block:g} s"),
        ("CCL203", "fixed", f"/thumbnail-fixed?seconds={block}", "asyncio.create_subprocess_exec(), awaited"),
    )
    return blocking_scenario(SCENARIO.name, cases, block, scale.pick(8, 6))
