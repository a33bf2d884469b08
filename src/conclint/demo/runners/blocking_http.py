"""CCL202: /ping waits while a coroutine waits for a slow HTTP service with urllib."""

from __future__ import annotations

from typing import List

from conclint.demo.backends import SlowUpstream
from conclint.demo.drive import blocking_scenario
from conclint.demo.launch import ServerProcess
from conclint.demo.registry import Scenario
from conclint.demo.results import Result, Scale

SCENARIO = Scenario(
    "blocking-http",
    model="evented",
    rules=("CCL202",),
    chart="latency",
    summary="a synchronous HTTP call (urllib) in a coroutine stops the loop until the answer comes",
)


def run(scale: Scale) -> List[Result]:
    block = scale.pick(0.5, 0.3)
    cases = (
        ("CCL202", "hazard", f"/quote?seconds={block}", f"urlopen() to a service that answers in {block:g} s"),
        ("CCL202", "fixed", f"/quote-fixed?seconds={block}", "the same call in asyncio.to_thread()"),
    )
    with SlowUpstream() as upstream:
        server = ServerProcess("evented", SCENARIO.name, env={"CONCLINT_DEMO_UPSTREAM": upstream.url})
        return blocking_scenario(SCENARIO.name, cases, block, scale.pick(8, 6), server=server)
