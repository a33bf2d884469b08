"""CCL306: the parent sets a global, then starts its workers with spawn: they read the initial value."""

from __future__ import annotations

from typing import List

from conclint.demo.registry import Scenario
from conclint.demo.results import Result, Scale
from conclint.demo.scenarios import parent_state_lost_at_spawn

SCENARIO = Scenario(
    "parent-state-lost-at-spawn",
    model="prefork",
    rules=("CCL306",),
    chart="counts",
    summary="a setting the parent makes before it spawns its workers never reaches them",
)


def run(scale: Scale) -> List[Result]:
    outcome = parent_state_lost_at_spawn.reproduce()
    expected = outcome["expected"]
    results = []
    for variant in ("hazard", "fixed"):
        tags = outcome[variant]
        right = sum(1 for tag, want in zip(tags, expected) if tag == want)
        ok = outcome["reproduced"] if variant == "hazard" else outcome["fix_holds"]
        how = f"the parent sets the currency to USD, then a spawn pool prices {len(expected)} amounts" + (
            "" if variant == "hazard" else "; the pool's initializer hands the currency to each worker"
        )
        results.append(
            Result(
                SCENARIO.name,
                "CCL306",
                "prefork",
                variant,
                f"{len(expected)} in USD",
                f"{right} in USD",
                len(expected),
                right,
                "prices in the parent's currency",
                ok,
                how,
            )
        )
    return results
