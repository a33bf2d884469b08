"""CCL111 and CCL113: concurrent POST /hit on one event loop, and timer callbacks; both lose updates."""

from __future__ import annotations

import time
from typing import List

from conclint.demo import client
from conclint.demo.drive import count_run, get_json
from conclint.demo.launch import ServerProcess
from conclint.demo.registry import Scenario
from conclint.demo.results import Result, Scale

SCENARIO = Scenario(
    "lost-update-evented",
    model="evented",
    rules=("CCL111", "CCL113"),
    chart="counts",
    summary="a count read before an await (or in an earlier callback) is written back stale",
)
TICKS = 100


def run(scale: Scale) -> List[Result]:
    n, width = scale.pick(100, 40), scale.pick(16, 10)
    results = []
    with ServerProcess("evented", SCENARIO.name, workers=2) as server:

        def total(key: str) -> int:
            return get_json(server, "/totals")[key]

        for variant, path, key in (("hazard", "/hit", "hits"), ("fixed", "/hit-locked", "locked_hits")):
            how = (
                f"{n} concurrent POST {path} ({width} at a time) on one event loop; each reads the count, "
                "awaits 0.5-5 ms, writes it back + 1"
            )
            results.append(
                count_run(
                    SCENARIO.name,
                    "CCL111",
                    "evented",
                    variant,
                    n,
                    "hits",
                    how,
                    send=lambda _key, path=path: client.many(server.port, "POST", path, n, width),
                    read=lambda _key, key=key: total(key),
                )
            )
        for variant, path, key in (("hazard", "/ticks", "ticks"), ("fixed", "/ticks-fresh", "fresh_ticks")):

            def ticks(_key: str, path=path) -> List[client.Reply]:
                reply = client.request(server.port, "POST", f"{path}?n={TICKS}")
                if reply.ok:
                    time.sleep(float(reply.body["settled_after"]) + 0.3)
                return [reply]

            how = (
                "each reads the count and schedules the write of count + 1 10 ms later"
                if variant == "hazard"
                else "each schedules an increment 10 ms later that reads the count when it writes"
            )
            results.append(
                count_run(
                    SCENARIO.name,
                    "CCL113",
                    "evented",
                    variant,
                    TICKS,
                    "ticks",
                    f"{TICKS} timer callbacks 0.4 ms apart; {how}",
                    send=ticks,
                    read=lambda _key, key=key: total(key),
                )
            )
    return results
