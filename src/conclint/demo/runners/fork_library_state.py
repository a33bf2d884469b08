"""CCL305: a worker forked from a process whose library keeps a flusher thread and a lock: its spans
are never written, or it hangs on the lock copied locked."""

from __future__ import annotations

from typing import List

from conclint.demo.drive import workers_data
from conclint.demo.registry import Scenario
from conclint.demo.results import Result, Scale, attempts
from conclint.demo.scenarios import fork_library_state

SCENARIO = Scenario(
    "fork-library-state",
    model="prefork",
    rules=("CCL305",),
    chart="workers",
    summary="a forked worker inherits a library's flusher thread dead and its lock copied: spans are lost or it hangs",
)
SPANS = fork_library_state.SPANS


def run(scale: Scale) -> List[Result]:
    timeout = scale.pick(1.0, 0.8)
    outcome = attempts(lambda _number: _tried(timeout))[1]
    results = []
    for variant in ("hazard", "fixed"):
        runs = outcome[variant]
        written = sum(max(run["written"], 0) for run in runs.values())
        hung = [moment for moment, run in runs.items() if run["hung"]]
        observed = f"{written} spans" + (f" {len(hung)} hung" if hung else "")
        ok = outcome["reproduced"] if variant == "hazard" else outcome["fix_holds"]
        seen = {
            f"forked {moment}": {"spans written": max(run["written"], 0), "hung (killed)": SPANS if run["hung"] else 0}
            for moment, run in runs.items()
        }
        how = (
            "a library client (a flusher thread and a lock) is set up, then the process forks a worker twice: "
            "once while the flusher holds its lock, once while it sleeps; each worker records spans and exits"
        )
        fix = (
            "" if variant == "hazard" else "; the library re-creates them with os.register_at_fork(after_in_child=...)"
        )
        results.append(
            Result(
                SCENARIO.name,
                "CCL305",
                "prefork",
                variant,
                f"{2 * SPANS} spans",
                observed,
                2 * SPANS,
                written,
                "spans",
                ok,
                how + fix,
                workers_data(seen, ["spans written", "hung (killed)"], axis="spans"),
            )
        )
    return results


def _tried(timeout: float):
    outcome = fork_library_state.reproduce(timeout)
    return outcome["reproduced"] and outcome["fix_holds"], outcome
