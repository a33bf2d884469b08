"""CCL206: /ping waits while a coroutine's sqlite3 insert waits for a busy database."""

from __future__ import annotations

import os
import sqlite3
from typing import List

from conclint.demo.drive import blocking_scenario, later
from conclint.demo.launch import ServerProcess
from conclint.demo.registry import Scenario
from conclint.demo.results import Result, Scale

SCENARIO = Scenario(
    "blocking-database",
    model="evented",
    rules=("CCL206",),
    chart="latency",
    summary="a sqlite3 query in a coroutine waits for a busy database, and the loop waits with it",
)


def run(scale: Scale) -> List[Result]:
    block = scale.pick(0.5, 0.3)
    cases = (
        (
            "CCL206",
            "hazard",
            "/order?item=book",
            f"a sqlite3 INSERT while a batch job holds the write lock {block:g} s",
        ),
        ("CCL206", "fixed", "/order-fixed?item=book", "the same INSERT in asyncio.to_thread()"),
    )

    def busy_database(server: ServerProcess):
        def hold_the_lock():
            """The batch job: take the write lock now, release it ``block`` seconds later."""
            batch = sqlite3.connect(
                os.path.join(server.state_dir, "orders.sqlite3"), isolation_level=None, check_same_thread=False
            )
            batch.execute("BEGIN IMMEDIATE")

            def release() -> None:
                batch.execute("COMMIT")
                batch.close()

            return later(block, release)

        return hold_the_lock

    return blocking_scenario(SCENARIO.name, cases, block, scale.pick(8, 6), trigger=busy_database)
