"""CCL201 and CCL210: /ping waits while a handler sleeps on the loop, itself or in a helper."""

from __future__ import annotations

from typing import List

from conclint.demo.drive import blocking_scenario
from conclint.demo.registry import Scenario
from conclint.demo.results import Result, Scale

SCENARIO = Scenario(
    "blocking-loop",
    model="evented",
    rules=("CCL201", "CCL210"),
    chart="latency",
    summary="time.sleep() in a coroutine, or in a helper it calls, stops the whole loop",
)


def run(scale: Scale) -> List[Result]:
    block = scale.pick(0.5, 0.3)
    cases = (
        ("CCL201", "hazard", f"/report?seconds={block}", f"calls time.sleep() itself, {block:g} s"),
        ("CCL201", "fixed", f"/report-fixed?seconds={block}", f"awaits asyncio.sleep(), {block:g} s"),
        (
            "CCL210",
            "hazard",
            f"/report-via-helper?seconds={block}",
            f"calls reports.render(), a helper in another module that sleeps {block:g} s",
        ),
        (
            "CCL210",
            "fixed",
            f"/report-via-helper-fixed?seconds={block}",
            f"runs reports.render() with run_in_executor, {block:g} s",
        ),
    )
    return blocking_scenario(SCENARIO.name, cases, block, scale.pick(8, 6))
