"""CCL304: workers forked with one inventory connection read each other's answers."""

from __future__ import annotations

from typing import Dict, List

from conclint.demo import client
from conclint.demo.backends import Inventory, stock_of
from conclint.demo.drive import workers_data
from conclint.demo.launch import ServerProcess
from conclint.demo.registry import Scenario
from conclint.demo.results import Result, Scale, attempts, failures, tried

SCENARIO = Scenario(
    "shared-connection",
    model="prefork",
    rules=("CCL304",),
    chart="workers",
    summary="a connection made before fork is shared by every worker, which read each other's answers",
)
CATEGORIES = ["its own answer", "another request's answer", "no answer"]


def _verdict(sku: str, reply: client.Reply) -> str:
    if not reply.ok or not reply.body.get("answer"):
        return "no answer"
    return "its own answer" if reply.body["answer"] == f"{sku} {stock_of(sku)}" else "another request's answer"


def run(scale: Scale) -> List[Result]:
    n, workers = scale.pick(40, 24), scale.pick(4, 3)
    results = []
    with Inventory() as inventory:
        env = {"CONCLINT_DEMO_INVENTORY": inventory.address}
        with ServerProcess("prefork", SCENARIO.name, workers=workers, env=env) as server:
            for variant, path in (("hazard", "/stock"), ("fixed", "/stock-own")):

                def attempt(number: int, path=path, variant=variant):
                    skus = [f"{variant[0]}{number}-{index}" for index in range(n)]
                    replies = client.run_all(
                        [lambda sku=sku: client.request(server.port, "GET", f"{path}?sku={sku}") for sku in skus],
                        workers,
                    )
                    seen: Dict[str, Dict[str, int]] = {}
                    for sku, reply in zip(skus, replies):
                        name = f"worker {reply.body['worker']}" if reply.ok else "(no reply)"
                        verdict = _verdict(sku, reply)
                        seen.setdefault(name, {}).setdefault(verdict, 0)
                        seen[name][verdict] += 1
                    right = sum(values.get("its own answer", 0) for values in seen.values())
                    ok = right < n if variant == "hazard" else right == n
                    tally = ", ".join(f"{sum(v.get(c, 0) for v in seen.values())} {c}" for c in CATEGORIES)
                    detail = (
                        f"{n} GET {path}?sku=... ({workers} at a time) over {workers} workers, each asking the "
                        f"inventory service for one SKU: {tally}{failures(replies)}{tried(number)}"
                    )
                    data = workers_data(dict(sorted(seen.items())), CATEGORIES, axis="requests")
                    result = Result(
                        SCENARIO.name,
                        "CCL304",
                        "prefork",
                        variant,
                        f"{n}/{n} right",
                        f"{right}/{n} right",
                        n,
                        right,
                        "requests given their own answer",
                        ok,
                        detail,
                        data,
                    )
                    return ok, result

                results.append((attempts(attempt) if variant == "hazard" else attempt(1))[1])
    return results
