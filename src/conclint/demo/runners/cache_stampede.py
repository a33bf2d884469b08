"""CCL112: concurrent GET /report for one key; every request that arrives during the load loads it again."""

from __future__ import annotations

from typing import List

from conclint.demo import client
from conclint.demo.drive import count_run, get_json
from conclint.demo.launch import ServerProcess
from conclint.demo.registry import Scenario
from conclint.demo.results import Result, Scale

SCENARIO = Scenario(
    "cache-stampede",
    model="evented",
    rules=("CCL112",),
    chart="counts",
    summary="requests that arrive while a cache entry loads all load it again",
)


def run(scale: Scale) -> List[Result]:
    n = scale.pick(20, 8)
    results = []
    with ServerProcess("evented", SCENARIO.name, workers=2) as server:
        for variant, path in (("hazard", "/report"), ("fixed", "/report-shared")):
            results.append(
                count_run(
                    SCENARIO.name,
                    "CCL112",
                    "evented",
                    variant,
                    1,
                    "loads",
                    f"{n} concurrent GET {path} for one key, whose loader takes 0.2 s",
                    send=lambda key, path=path: client.many(server.port, "GET", f"{path}?key={key}", n, n),
                    read=lambda key: get_json(server, f"/loads?key={key}")["loads"],
                )
            )
    return results
