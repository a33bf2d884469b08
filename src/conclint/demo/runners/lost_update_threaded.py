"""CCL101: concurrent POST /hit on worker threads; the count comes out short."""

from __future__ import annotations

from typing import List

from conclint.demo import client
from conclint.demo.drive import count_run, get_json
from conclint.demo.launch import ServerProcess
from conclint.demo.registry import Scenario
from conclint.demo.results import Result, Scale

SCENARIO = Scenario(
    "lost-update-threaded",
    model="threaded",
    rules=("CCL101",),
    chart="counts",
    summary="a hit counter read and written back by several threads loses hits",
)


def run(scale: Scale) -> List[Result]:
    n, width = scale.pick(100, 40), scale.pick(16, 10)
    results = []
    with ServerProcess("threaded", SCENARIO.name, workers=8) as server:
        for variant, path, key in (("hazard", "/hit", "hits"), ("fixed", "/hit-locked", "locked_hits")):
            how = (
                f"{n} concurrent POST {path} ({width} at a time) on 8 worker threads; each reads the count, "
                "works 0.5-2 ms, writes it back + 1"
            )
            results.append(
                count_run(
                    SCENARIO.name,
                    "CCL101",
                    "threaded",
                    variant,
                    n,
                    "hits",
                    how,
                    send=lambda _key, path=path: client.many(server.port, "POST", path, n, width),
                    read=lambda _key, key=key: get_json(server, "/hits")[key],
                )
            )
    return results
