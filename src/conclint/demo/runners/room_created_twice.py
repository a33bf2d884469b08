"""CCL102: concurrent joins of a new room; several requests create it, and the last one wins."""

from __future__ import annotations

from typing import List

from conclint.demo import client
from conclint.demo.drive import count_run, get_json
from conclint.demo.launch import ServerProcess
from conclint.demo.registry import Scenario
from conclint.demo.results import Result, Scale

SCENARIO = Scenario(
    "room-created-twice",
    model="threaded",
    rules=("CCL102",),
    chart="counts",
    summary="'create the room if it is missing' runs twice at once, and the second room replaces the first",
)


def run(scale: Scale) -> List[Result]:
    n, width = scale.pick(40, 24), scale.pick(16, 10)
    results = []
    with ServerProcess("threaded", SCENARIO.name, workers=8) as server:
        for variant, path in (("hazard", "/join"), ("fixed", "/join-locked")):

            def join_all(room: str, path=path) -> List[client.Reply]:
                joins = [
                    lambda user=user: client.request(server.port, "POST", f"{path}?room={room}&user=user{user}")
                    for user in range(n)
                ]
                return client.run_all(joins, width)

            how = (
                f"{n} users POST {path} to a new room ({width} at a time) on 8 worker threads; a request that "
                "finds the room missing creates it (1-2 ms), then adds its user"
            )
            results.append(
                count_run(
                    SCENARIO.name,
                    "CCL102",
                    "threaded",
                    variant,
                    n,
                    "members",
                    how,
                    send=join_all,
                    read=lambda room: len(get_json(server, f"/members?room={room}")["members"]),
                )
            )
    return results
