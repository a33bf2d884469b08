"""CCL303: each worker process counts its own hits; no worker ever counts them all."""

from __future__ import annotations

from typing import Dict, List

from conclint.demo import client
from conclint.demo.drive import workers_data
from conclint.demo.launch import ServerProcess
from conclint.demo.registry import Scenario
from conclint.demo.results import Result, Scale, attempts, failures, tried

SCENARIO = Scenario(
    "per-worker-state",
    model="prefork",
    rules=("CCL303",),
    chart="workers",
    summary="a counter in a module global of a prefork app counts per worker process",
)


def run(scale: Scale) -> List[Result]:
    m, workers = scale.pick(40, 24), scale.pick(4, 3)
    results = []
    with ServerProcess("prefork", SCENARIO.name, workers=workers) as server:
        for variant, path in (("hazard", "/hit"), ("fixed", "/hit-shared")):

            def attempt(number: int, path=path, variant=variant):
                replies = client.many(server.port, "GET", path, m, workers)
                counts: Dict[int, int] = {}
                for reply in replies:
                    if reply.ok:
                        pid = int(reply.body["worker"])
                        counts[pid] = max(counts.get(pid, 0), int(reply.body["hits"]))
                highest = max(counts.values(), default=0)
                detail = (
                    f"{m} GET {path} ({workers} at a time) over {workers} worker processes; the highest count "
                    f"each worker gave: {', '.join(str(counts[p]) for p in sorted(counts))}{failures(replies)}"
                    f"{tried(number)}"
                )
                if variant == "hazard":
                    ok = len(counts) > 1 and highest < m
                else:
                    ok = highest == m and all(r.ok for r in replies)
                data = workers_data(
                    {f"worker {pid}": {"hits counted": counts[pid]} for pid in sorted(counts)},
                    ["hits counted"],
                    axis="the highest count it gave",
                )
                data["expected"] = m
                result = Result(
                    SCENARIO.name,
                    "CCL303",
                    "prefork",
                    variant,
                    f"count {m}",
                    f"count {highest}",
                    m,
                    highest,
                    "hits counted by the last request",
                    ok,
                    detail,
                    data,
                )
                return ok, result

            results.append(attempts(attempt)[1])
    return results
