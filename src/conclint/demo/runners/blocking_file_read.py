"""CCL204: /ping waits while a coroutine reads a large log file."""

from __future__ import annotations

from typing import List

from conclint.demo import client
from conclint.demo.drive import blocking_scenario
from conclint.demo.launch import ServerError, ServerProcess
from conclint.demo.registry import Scenario
from conclint.demo.results import Result, Scale

SCENARIO = Scenario(
    "blocking-file-read",
    model="evented",
    rules=("CCL204",),
    chart="latency",
    summary="reading a large file in a coroutine stops the loop until the last line is read",
)


def run(scale: Scale) -> List[Result]:
    lines = scale.pick(3_000_000, 1_000_000)
    server = ServerProcess("evented", SCENARIO.name).start()
    reply = client.request(server.port, "POST", f"/log?lines={lines}", timeout=60)
    if not reply.ok:
        server.stop()
        raise ServerError(f"POST /log on {server.describe()} failed: {reply.error or reply.body}")
    size = f"{reply.body['lines'] / 1e6:g} million lines, {reply.body['bytes'] / 1e6:.0f} MB"
    cases = (
        ("CCL204", "hazard", "/errors", f"reads the access log ({size}) line by line"),
        ("CCL204", "fixed", "/errors-fixed", "the same read in asyncio.to_thread()"),
    )
    return blocking_scenario(SCENARIO.name, cases, 0.3, scale.pick(8, 6), server=server, measured=True)
