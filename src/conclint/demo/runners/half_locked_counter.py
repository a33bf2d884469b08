"""CCL103: locked sales and unlocked batch imports of one total; the locked sales get lost."""

from __future__ import annotations

from typing import List

from conclint.demo import client
from conclint.demo.drive import count_run, get_json
from conclint.demo.launch import ServerProcess
from conclint.demo.registry import Scenario
from conclint.demo.results import Result, Scale

SCENARIO = Scenario(
    "half-locked-counter",
    model="threaded",
    rules=("CCL103",),
    chart="counts",
    summary="a total written under a lock in one handler and without it in another loses updates",
)
BATCH = 5


def run(scale: Scale) -> List[Result]:
    sales, imports, width = scale.pick(60, 32), scale.pick(20, 10), scale.pick(16, 10)
    expected = sales + imports * BATCH
    results = []
    with ServerProcess("threaded", SCENARIO.name, workers=8) as server:
        for variant, path in (("hazard", "/import"), ("fixed", "/import-locked")):
            calls = [lambda: client.request(server.port, "POST", "/sale")] * sales
            for index in range(imports):  # spread the imports among the sales
                calls.insert(
                    index * (len(calls) // imports),
                    lambda path=path: client.request(server.port, "POST", f"{path}?count={BATCH}"),
                )
            how = (
                f"{sales} POST /sale (each adds 1 under total_lock) mixed with {imports} POST {path}?count={BATCH} "
                f"({width} at a time) on 8 worker threads"
            )
            results.append(
                count_run(
                    SCENARIO.name,
                    "CCL103",
                    "threaded",
                    variant,
                    expected,
                    "sales",
                    how,
                    send=lambda _key, calls=calls: client.run_all(calls, width),
                    read=lambda _key: get_json(server, "/total")["total"],
                )
            )
    return results
