"""`conclint demo reproduce`: watch each static finding happen, and each fix hold.

For every scenario it starts the servers it needs on free loopback ports (child
processes, one process group each), drives them with the bounded concurrent client,
stops them, and reports per variant: the rule, the model, what a correct program
gives, what was observed, and whether the hazard showed (hazard variant) or the
result was correct (fixed variant). Hazards that depend on timing are tried up to
three times. Interrupted (SIGINT, SIGTERM), it stops every server it started.
"""

from __future__ import annotations

import json
import os
import signal
import statistics
import subprocess
import sys
import threading
import time
import uuid
from dataclasses import asdict, dataclass
from typing import Callable, Dict, List, Optional, Sequence

from conclint.demo import client
from conclint.demo.app import SCENARIOS
from conclint.demo.launch import ServerError, ServerProcess, stop_all

ATTEMPTS = 3


@dataclass
class Result:
    scenario: str
    rule: Optional[str]
    model: str
    variant: str  # "hazard" or "fixed"
    expected: str
    observed: str
    reproduced: bool  # hazard variant: the hazard showed; fixed variant: the result was correct
    detail: str

    def to_dict(self) -> Dict[str, object]:
        return asdict(self)


@dataclass(frozen=True)
class Scale:
    """How hard each scenario is driven: the full run, or the test suite's small numbers."""

    requests: int = 100  # lost updates
    concurrency: int = 16
    stampede: int = 20
    block: float = 0.5  # seconds a blocking handler blocks
    pings: int = 8
    per_worker: int = 40
    prefork_workers: int = 4
    fork_timeout: float = 1.0
    slow: float = 1.0  # seconds of the requests running beside a crash


FULL = Scale()
SMALL = Scale(
    requests=40,
    concurrency=10,
    stampede=8,
    block=0.4,
    pings=6,
    per_worker=24,
    prefork_workers=3,
    fork_timeout=0.8,
    slow=0.8,
)


def _attempts(run: Callable[[int], tuple[bool, str, str]], attempts: int = ATTEMPTS) -> tuple[bool, str, str]:
    """Run ``run(attempt)`` until it returns True (at most ``attempts`` times): the last outcome."""
    outcome = (False, "", "")
    for attempt in range(1, attempts + 1):
        outcome = run(attempt)
        if outcome[0]:
            break
    return outcome


def _tries(attempt: int) -> str:
    return f" (attempt {attempt} of {ATTEMPTS})" if attempt > 1 else ""


def _failures(replies: Sequence[client.Reply]) -> str:
    bad = [r for r in replies if not r.ok]
    if not bad:
        return ""
    sample = bad[0].error or f"HTTP {bad[0].status}: {bad[0].body}"
    return f"; {len(bad)} of {len(replies)} requests failed ({sample})"


def _get(server: ServerProcess, path: str) -> dict:
    reply = client.request(server.port, "GET", path)
    if not reply.ok or not isinstance(reply.body, dict):
        raise ServerError(f"GET {path} on {server.describe()} failed: {reply.error or reply.status} {reply.body}")
    return reply.body


# ---- 1. CCL101: lost update, threaded ----------------------------------------------------
def lost_update_threaded(scale: Scale) -> List[Result]:
    n, width = scale.requests, scale.concurrency
    results = []
    with ServerProcess("threaded", "lost-update-threaded", workers=8) as server:
        for variant, path, key in (("hazard", "/hit", "hits"), ("fixed", "/hit-locked", "locked_hits")):

            def attempt(number: int, path=path, key=key, variant=variant):
                before = _get(server, "/hits")[key]
                replies = client.many(server.port, "POST", path, n, width)
                counted = _get(server, "/hits")[key] - before
                served = sum(r.ok for r in replies)
                detail = (
                    f"{n} concurrent POST {path} ({width} at a time) on 8 worker threads; each reads the count, "
                    f"works 0.5-2 ms, writes it back + 1{_failures(replies)}{_tries(number)}"
                )
                return (
                    (counted < served == n if variant == "hazard" else counted == served == n),
                    f"{counted} hits",
                    detail,
                )

            ok, observed, detail = _attempts(attempt) if variant == "hazard" else attempt(1)
            results.append(
                Result("lost-update-threaded", "CCL101", "threaded", variant, f"{n} hits", observed, ok, detail)
            )
    return results


# ---- 2. CCL111 / CCL113: lost update, evented ----------------------------------------------
def lost_update_evented(scale: Scale) -> List[Result]:
    n, width = scale.requests, scale.concurrency
    results = []
    with ServerProcess("evented", "lost-update-evented", workers=2) as server:
        for variant, path, key in (("hazard", "/hit", "hits"), ("fixed", "/hit-locked", "locked_hits")):

            def coroutines(number: int, path=path, key=key, variant=variant):
                before = _get(server, "/totals")[key]
                replies = client.many(server.port, "POST", path, n, width)
                counted = _get(server, "/totals")[key] - before
                served = sum(r.ok for r in replies)
                detail = (
                    f"{n} concurrent POST {path} ({width} at a time) on one event loop; each reads the count, "
                    f"awaits 0.5-5 ms, writes it back + 1{_failures(replies)}{_tries(number)}"
                )
                return (
                    (counted < served == n if variant == "hazard" else counted == served == n),
                    f"{counted} hits",
                    detail,
                )

            ok, observed, detail = _attempts(coroutines) if variant == "hazard" else coroutines(1)
            results.append(
                Result("lost-update-evented", "CCL111", "evented", variant, f"{n} hits", observed, ok, detail)
            )
        ticks = 100
        for variant, path, key in (("hazard", "/ticks", "ticks"), ("fixed", "/ticks-fresh", "fresh_ticks")):

            def callbacks(number: int, path=path, key=key, variant=variant):
                before = _get(server, "/totals")[key]
                reply = client.request(server.port, "POST", f"{path}?n={ticks}")
                if not reply.ok:
                    return False, "no ticks", f"POST {path} failed: {reply.error or reply.body}"
                time.sleep(float(reply.body["settled_after"]) + 0.3)
                counted = _get(server, "/totals")[key] - before
                how = (
                    "each reads the count and schedules the write of count + 1 10 ms later"
                    if variant == "hazard"
                    else "each schedules an increment 10 ms later that reads the count when it writes"
                )
                detail = f"{ticks} timer callbacks 0.4 ms apart; {how}{_tries(number)}"
                return (counted < ticks if variant == "hazard" else counted == ticks), f"{counted} increments", detail

            ok, observed, detail = _attempts(callbacks) if variant == "hazard" else callbacks(1)
            results.append(
                Result("lost-update-evented", "CCL113", "evented", variant, f"{ticks} increments", observed, ok, detail)
            )
    return results


# ---- 3. CCL112: cache stampede ---------------------------------------------------------------
def cache_stampede(scale: Scale) -> List[Result]:
    n = scale.stampede
    results = []
    with ServerProcess("evented", "cache-stampede", workers=2) as server:
        for variant, path in (("hazard", "/report"), ("fixed", "/report-shared")):

            def attempt(number: int, path=path, variant=variant):
                key = f"{variant}-{uuid.uuid4().hex[:8]}"
                replies = client.many(server.port, "GET", f"{path}?key={key}", n, n)
                loads = _get(server, f"/loads?key={key}")["loads"]
                detail = (
                    f"{n} concurrent GET {path} for one key, whose loader takes 0.2 "
                    f"s{_failures(replies)}{_tries(number)}"
                )
                correct = loads == 1 and all(r.ok for r in replies)
                return (
                    (loads > 1 if variant == "hazard" else correct),
                    f"{loads} loader call{'s' if loads != 1 else ''}",
                    detail,
                )

            ok, observed, detail = _attempts(attempt) if variant == "hazard" else attempt(1)
            results.append(
                Result("cache-stampede", "CCL112", "evented", variant, "1 loader call", observed, ok, detail)
            )
    return results


# ---- 4. CCL201 / CCL210: blocking the loop ----------------------------------------------------
def _pings_during(
    server: ServerProcess, path: str, block: float, pings: int
) -> tuple[client.Reply, List[client.Reply]]:
    slow: Dict[str, client.Reply] = {}
    runner = threading.Thread(
        target=lambda: slow.setdefault("reply", client.request(server.port, "GET", f"{path}?seconds={block}"))
    )
    runner.start()
    time.sleep(min(0.05, block / 5))
    spacing = block * 0.6 / pings
    calls = []
    for index in range(pings):
        calls.append(
            lambda index=index: (
                time.sleep(index * spacing),
                client.request(server.port, "GET", "/ping", timeout=block + 10),
            )[1]
        )
    replies = client.run_all(calls, pings)
    runner.join(block + 15)
    return slow.get("reply", client.Reply(None, None, 0.0, "no reply")), replies


def blocking_loop(scale: Scale) -> List[Result]:
    block, pings = scale.block, scale.pings
    limit = 0.4 * block  # a ping that waits longer than this waited for the blocked loop
    results = []
    cases = (
        ("CCL201", "hazard", "/report", "calls time.sleep() itself"),
        ("CCL201", "fixed", "/report-fixed", "awaits asyncio.sleep()"),
        ("CCL210", "hazard", "/report-via-helper", "calls reports.render(), a helper in another module that sleeps"),
        ("CCL210", "fixed", "/report-via-helper-fixed", "runs reports.render() with run_in_executor"),
    )
    with ServerProcess("evented", "blocking-loop", workers=2) as server:
        for rule, variant, path, how in cases:

            def attempt(number: int, path=path, variant=variant, how=how):
                slow, replies = _pings_during(server, path, block, pings)
                latencies = [r.elapsed for r in replies if r.ok]
                if not slow.ok or len(latencies) != len(replies):
                    return False, "requests failed", f"GET {path}: {slow.error or slow.status}{_failures(replies)}"
                median, worst = statistics.median(latencies), max(latencies)
                observed = f"pings: median {median * 1000:.0f} ms, max {worst * 1000:.0f} ms"
                detail = (
                    f"GET {path} ({how}, {block:g} s) with {pings} GET /ping sent meanwhile on the same loop"
                    f"{_tries(number)}"
                )
                return (worst >= limit if variant == "hazard" else worst < limit), observed, detail

            ok, observed, detail = _attempts(attempt)
            results.append(
                Result(
                    "blocking-loop",
                    rule,
                    "evented",
                    variant,
                    f"pings answered within {limit * 1000:.0f} ms",
                    observed,
                    ok,
                    detail,
                )
            )
    return results


# ---- 5. CCL301: the winner ------------------------------------------------------------------------
def _each_worker_says(server: ServerProcess, path: str, workers: int) -> Dict[int, str]:
    """Ask until every worker has answered (several requests at once reach several workers)."""
    answers: Dict[int, str] = {}
    for _ in range(40):
        for reply in client.many(server.port, "GET", path, workers, workers):
            if reply.ok:
                answers[int(reply.body["worker"])] = reply.body["winner"]
        if set(server.worker_pids) <= set(answers):
            break
    return answers


def winner(scale: Scale) -> List[Result]:
    workers = 3
    results = []
    for variant, post, get, key in (
        ("hazard", "/final", "/winner", "winner"),
        ("fixed", "/final-shared", "/winner-shared", "shared_winner"),
    ):

        def attempt(number: int, post=post, get=get, key=key, variant=variant):
            with ServerProcess("prefork", "winner", workers=workers) as server:
                master_before = server.ask_master()["view"][key]
                reply = client.request(server.port, "POST", post, body=b"Argentina")
                if not reply.ok:
                    return False, "POST failed", f"POST {post}: {reply.error or reply.body}"
                changed_by = int(reply.body["worker"])
                answers = _each_worker_says(server, get, workers)
                master = server.ask_master()["view"][key]
            others = {pid: team for pid, team in answers.items() if pid != changed_by}
            said = (
                f"master: {master}; the POST's worker: {answers.get(changed_by, 'not reached')}; "
                f"other workers: {', '.join(others[pid] for pid in sorted(others)) or 'not reached'}"
            )
            detail = (
                f"the master set {master_before!r} and forked {workers} workers; POST {post} 'Argentina' reached "
                "worker "
                f"{changed_by}; then GET {get} from every worker and SIGUSR1 to the master{_tries(number)}"
            )
            everyone = [master, *answers.values()]
            if variant == "hazard":
                showed = (
                    master == "The Netherlands"
                    and bool(others)
                    and all(team == "The Netherlands" for team in others.values())
                )
                return showed, said, detail
            return len(answers) == workers and all(team == "Argentina" for team in everyone), said, detail

        ok, observed, detail = _attempts(attempt)
        results.append(
            Result("winner", "CCL301", "prefork", variant, "every process says 'Argentina'", observed, ok, detail)
        )
    return results


# ---- 6. CCL303: per-worker state ---------------------------------------------------------------
def per_worker_state(scale: Scale) -> List[Result]:
    m, workers = scale.per_worker, scale.prefork_workers
    results = []
    with ServerProcess("prefork", "per-worker-state", workers=workers) as server:
        for variant, path in (("hazard", "/hit"), ("fixed", "/hit-shared")):

            def attempt(number: int, path=path, variant=variant):
                replies = client.many(server.port, "GET", path, m, workers)
                counts: Dict[int, int] = {}
                for reply in replies:
                    if reply.ok:
                        pid = int(reply.body["worker"])
                        counts[pid] = max(counts.get(pid, 0), int(reply.body["hits"]))
                highest = max(counts.values(), default=0)
                if variant == "hazard":
                    observed = (
                        f"{len(counts)} workers counted "
                        f"{', '.join(str(c) for c in sorted(counts.values(), reverse=True))}; highest {highest}"
                    )
                else:
                    observed = f"highest count {highest}, from {len(counts)} workers"
                detail = (
                    f"{m} GET {path} ({workers} at a time) over {workers} worker "
                    f"processes{_failures(replies)}{_tries(number)}"
                )
                if variant == "hazard":
                    return len(counts) > 1 and highest < m, observed, detail
                return highest == m and all(r.ok for r in replies), observed, detail

            ok, observed, detail = _attempts(attempt)
            results.append(
                Result(
                    "per-worker-state",
                    "CCL303",
                    "prefork",
                    variant,
                    f"the last request counts {m}",
                    observed,
                    ok,
                    detail,
                )
            )
    return results


# ---- 7. CCL302: fork with threads ----------------------------------------------------------------
def fork_with_threads(scale: Scale) -> List[Result]:
    results = []
    for variant in ("hazard", "fixed"):
        timeout = scale.fork_timeout if variant == "hazard" else 5.0
        command = [sys.executable, "-m", "conclint.demo.forkcheck", variant, str(timeout)]
        process = subprocess.Popen(
            command,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
            text=True,
        )
        try:
            out, _ = process.communicate(timeout=timeout + 10)
        except subprocess.TimeoutExpired:
            out = ""
        finally:
            try:
                os.killpg(process.pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
            process.wait()
        try:
            outcome = json.loads(out.strip().splitlines()[-1])
        except (ValueError, IndexError):
            outcome = {"exited": False, "error": f"the fork check printed {out[-200:]!r}"}
        if outcome.get("exited"):
            observed = f"the worker exited with code {outcome['code']} after {outcome['after'] * 1000:.0f} ms"
        elif "error" in outcome:
            observed = outcome["error"]
        else:
            observed = f"the worker was still blocked after {outcome['after']:g} s (killed)"
        how = (
            "starts a log-writer thread that holds its lock, then forks"
            if variant == "hazard"
            else "forks, then starts the log-writer thread"
        )
        detail = f"a master {how}; the worker's first log line takes the lock"
        correct = bool(outcome.get("exited")) and outcome.get("code") == 0
        reproduced = (not outcome.get("exited") and "error" not in outcome) if variant == "hazard" else correct
        results.append(
            Result(
                "fork-with-threads",
                "CCL302",
                "prefork",
                variant,
                "the worker logs and exits at once",
                observed,
                reproduced,
                detail,
            )
        )
    return results


# ---- 8. worker isolation ----------------------------------------------------------------------------
def _crash_beside(server: ServerProcess, slow: float, beside: int) -> tuple[List[client.Reply], client.Reply]:
    calls = [lambda: client.request(server.port, "GET", f"/slow?seconds={slow}", timeout=slow + 10)] * beside
    box: Dict[str, List[client.Reply]] = {}
    runner = threading.Thread(target=lambda: box.setdefault("replies", client.run_all(calls, beside)))
    runner.start()
    time.sleep(min(0.3, slow / 3))  # the slow requests are being served by then
    crash = client.request(server.port, "GET", "/crash", timeout=5)
    runner.join(slow + 15)
    return box.get("replies", []), crash


def worker_isolation(scale: Scale) -> List[Result]:
    slow, beside = scale.slow, 2
    expected = f"the {beside} other requests complete and the server answers"
    results = []
    with ServerProcess("threaded", "worker-isolation", workers=4) as server:
        replies, _ = _crash_beside(server, slow, beside)
        completed = sum(r.ok for r in replies)
        try:
            server.process.wait(5)
        except subprocess.TimeoutExpired:
            pass  # it survived the crash: reported below
        after = client.request(server.port, "GET", "/pid", timeout=2)
        observed = f"{completed} of {beside} completed; the server {'answers' if after.ok else 'is gone'}"
        detail = (
            f"{beside} GET /slow ({slow:g} s) on worker threads, then GET /crash on another thread of the same "
            f"process: it exited with {server.process.returncode if server.process else '?'}"
        )
        results.append(
            Result(
                "worker-isolation",
                None,
                "threaded",
                "hazard",
                expected,
                observed,
                completed < beside and not after.ok,
                detail,
            )
        )
    workers = beside + 1
    with ServerProcess("prefork", "worker-isolation", workers=workers) as server:
        replies, crash = _crash_beside(server, slow, beside)
        completed = sum(r.ok for r in replies)
        try:
            exited = server.wait_for("worker-exited", 5.0)
            started = server.wait_for("worker-started", 5.0)
            replaced = f"worker {exited['worker']} {exited['status']}; the master started worker {started['worker']}"
        except ServerError:
            replaced = "no worker was replaced"
        after = client.many(server.port, "GET", "/pid", workers * 2, workers, timeout=5)
        answered = all(r.ok for r in after)
        observed = f"{completed} of {beside} completed; the server {'answers' if answered else 'fails'}"
        detail = (
            f"{beside} GET /slow ({slow:g} s) on {beside} of {workers} workers, then GET /crash on the third"
            f" ({'no reply' if not crash.ok else 'answered?'}): {replaced}"
        )
        correct = completed == beside and answered and replaced.startswith("worker")
        results.append(Result("worker-isolation", None, "prefork", "fixed", expected, observed, correct, detail))
    return results


RUNNERS: Dict[str, Callable[[Scale], List[Result]]] = {
    "lost-update-threaded": lost_update_threaded,
    "lost-update-evented": lost_update_evented,
    "cache-stampede": cache_stampede,
    "blocking-loop": blocking_loop,
    "winner": winner,
    "per-worker-state": per_worker_state,
    "fork-with-threads": fork_with_threads,
    "worker-isolation": worker_isolation,
}
assert list(RUNNERS) == list(SCENARIOS)


def run_scenario(name: str, scale: Scale = FULL) -> List[Result]:
    """One scenario's results; a server that fails is a result that says so, not an exception."""
    try:
        return RUNNERS[name](scale)
    except Exception as exc:  # a failed run is reported as one, and the other scenarios still run
        model = SCENARIOS[name][1]
        detail = str(exc) if isinstance(exc, ServerError) else f"{type(exc).__name__}: {exc}"
        return [Result(name, None, model, "hazard", "-", "the run failed", False, detail)]
    finally:
        stop_all()


# ---- the command ---------------------------------------------------------------------------------
def _table(results: Sequence[Result], seconds: float) -> str:
    headers = ("scenario", "rule", "model", "variant", "expected", "observed", "result")
    rows = [
        (
            r.scenario,
            r.rule or "-",
            r.model,
            r.variant,
            r.expected,
            r.observed,
            ("reproduced" if r.reproduced else "NOT reproduced")
            if r.variant == "hazard"
            else ("fix held" if r.reproduced else "FIX FAILED"),
        )
        for r in results
    ]
    widths = [max(len(str(row[i])) for row in [headers, *rows]) for i in range(len(headers))]
    lines = ["  ".join(str(cell).ljust(width) for cell, width in zip(row, widths)).rstrip() for row in [headers, *rows]]
    lines.insert(1, "  ".join("-" * width for width in widths))
    lines.append("")
    lines += [f"{r.scenario} / {r.rule or '-'} / {r.variant}: {r.detail}" for r in results]
    good = sum(r.reproduced for r in results)
    lines.append("")
    lines.append(
        f"{good} of {len(results)} as expected in {seconds:.1f} s"
        + ("" if good == len(results) else ": some hazards did not show or some fixes did not hold")
    )
    return "\n".join(lines)


class _Terminated(Exception):
    pass


def reproduce(names: Sequence[str], as_json: bool = False, scale: Scale = FULL) -> int:
    """Exit 0 when every hazard showed and every fix held, 1 otherwise, 2 for an unknown
    scenario, 130 when interrupted (after stopping every server)."""
    unknown = [n for n in names if n not in RUNNERS]
    if unknown:
        print(
            f"conclint demo reproduce: unknown scenario {', '.join(unknown)}; known: {', '.join(RUNNERS)}",
            file=sys.stderr,
        )
        return 2
    chosen = list(dict.fromkeys(names)) or list(RUNNERS)

    def terminate(signum, _frame):
        raise _Terminated(signum)

    previous = (
        signal.signal(signal.SIGTERM, terminate) if threading.current_thread() is threading.main_thread() else None
    )
    started = time.monotonic()
    results: List[Result] = []
    try:
        for name in chosen:
            if not as_json:
                print(f"reproducing {name} ...", file=sys.stderr, flush=True)
            results.extend(run_scenario(name, scale))
    except (KeyboardInterrupt, _Terminated):
        stop_all()
        print("conclint demo reproduce: interrupted; every server it started is stopped", file=sys.stderr)
        return 130
    finally:
        stop_all()
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)
    if as_json:
        print(json.dumps([r.to_dict() for r in results], indent=2))
    else:
        print(_table(results, time.monotonic() - started))
    return 0 if results and all(r.reproduced for r in results) else 1
