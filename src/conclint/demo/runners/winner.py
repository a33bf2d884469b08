"""CCL301: a worker records the winner; the master and the other workers never see it."""

from __future__ import annotations

from typing import Dict, List

from conclint.demo import client
from conclint.demo.drive import workers_data
from conclint.demo.launch import ServerProcess
from conclint.demo.registry import Scenario
from conclint.demo.results import Result, Scale, attempts, tried

SCENARIO = Scenario(
    "winner",
    model="prefork",
    rules=("CCL301",),
    chart="workers",
    summary="a global changed in one worker process stays changed in that worker only",
)
WORKERS = 3
TEAM, BEFORE = "Argentina", "The Netherlands"


def each_worker_says(server: ServerProcess, path: str, workers: int) -> Dict[int, str]:
    """Ask until every worker has answered (several requests at once reach several workers)."""
    answers: Dict[int, str] = {}
    for _ in range(40):
        for reply in client.many(server.port, "GET", path, workers, workers):
            if reply.ok:
                answers[int(reply.body["worker"])] = reply.body["winner"]
        if set(server.worker_pids) <= set(answers):
            break
    return answers


def run(scale: Scale) -> List[Result]:
    results = []
    total = WORKERS + 1
    for variant, post, get, key in (
        ("hazard", "/final", "/winner", "winner"),
        ("fixed", "/final-shared", "/winner-shared", "shared_winner"),
    ):

        def attempt(number: int, post=post, get=get, key=key, variant=variant):
            with ServerProcess("prefork", SCENARIO.name, workers=WORKERS) as server:
                master_before = server.ask_master()["view"][key]
                reply = client.request(server.port, "POST", post, body=TEAM.encode())
                if not reply.ok:
                    failed = Result(
                        SCENARIO.name,
                        "CCL301",
                        "prefork",
                        variant,
                        f"{total}/{total} {TEAM}",
                        "POST failed",
                        total,
                        None,
                        "processes",
                        False,
                        f"POST {post}: {reply.error or reply.body}",
                    )
                    return False, failed
                changed_by = int(reply.body["worker"])
                answers = each_worker_says(server, get, WORKERS)
                master = server.ask_master()["view"][key]
            seen = {"master": master}
            for pid in sorted(answers, key=lambda p: (p != changed_by, p)):
                seen[f"worker {pid}" + (" (the POST's)" if pid == changed_by else "")] = answers[pid]
            agreeing = sum(team == TEAM for team in seen.values())
            others = [team for pid, team in answers.items() if pid != changed_by]
            detail = (
                f"the master set {master_before!r} and forked {WORKERS} workers; POST {post} {TEAM!r} reached worker "
                f"{changed_by}; then GET {get} from every worker and SIGUSR1 to the master: "
                + "; ".join(f"{name}: {team}" for name, team in seen.items())
                + tried(number)
            )
            if variant == "hazard":
                ok = master == BEFORE and bool(others) and all(team == BEFORE for team in others)
            else:
                ok = len(answers) == WORKERS and agreeing == total
            data = workers_data({name: {team: 1} for name, team in seen.items()}, [TEAM, BEFORE])
            result = Result(
                SCENARIO.name,
                "CCL301",
                "prefork",
                variant,
                f"{total}/{total} {TEAM}",
                f"{agreeing}/{len(seen)} {TEAM}",
                total,
                agreeing,
                f"processes saying {TEAM}",
                ok,
                detail,
                data,
            )
            return ok, result

        results.append(attempts(attempt)[1])
    return results
