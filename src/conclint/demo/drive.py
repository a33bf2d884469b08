"""How the runners drive a scenario's server, shared by the runners of one kind: count what
concurrent requests did (lost updates, a stampede), or time /ping while a handler blocks."""

from __future__ import annotations

import statistics
import threading
import time
from typing import Any, Callable, Dict, List, Optional, Sequence

from conclint.demo import client
from conclint.demo.launch import ServerError, ServerProcess
from conclint.demo.results import Result, amount, attempts, failures, tried


def get_json(server: ServerProcess, path: str) -> Dict[str, Any]:
    reply = client.request(server.port, "GET", path)
    if not reply.ok or not isinstance(reply.body, dict):
        raise ServerError(f"GET {path} on {server.describe()} failed: {reply.error or reply.status} {reply.body}")
    return reply.body


# ---- counted: expected vs counted ---------------------------------------------------------------
def count_run(
    scenario: str,
    rule: str,
    model: str,
    variant: str,
    expected: int,
    unit: str,
    how: str,
    send: Callable[[str], Sequence[client.Reply]],
    read: Callable[[str], int],
) -> Result:
    """``send(key)`` the concurrent requests, ``read(key)`` the count before and after: a correct
    program counts ``expected``. The hazard variant is tried up to three times, each on a fresh key."""

    def attempt(number: int):
        key = f"{variant}-{number}-{time.monotonic_ns() % 1_000_000}"
        before = read(key)
        replies = send(key)
        counted = read(key) - before
        served = all(r.ok for r in replies)
        ok = served and (counted != expected if variant == "hazard" else counted == expected)
        detail = f"{how}{failures(replies)}{tried(number)}"
        result = Result(
            scenario,
            rule,
            model,
            variant,
            amount(expected, unit),
            amount(counted, unit),
            expected,
            counted,
            unit,
            ok,
            detail,
        )
        return ok, result

    return (attempts(attempt) if variant == "hazard" else attempt(1))[1]


# ---- latency: /ping while a handler blocks --------------------------------------------------
def percentiles(latencies_ms: Sequence[float]) -> Dict[str, float]:
    ordered = sorted(latencies_ms)

    def at(fraction: float) -> float:
        return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]

    return {"p50": statistics.median(ordered), "p90": at(0.9), "p99": at(0.99), "max": ordered[-1]}


Trigger = Callable[[], Optional[threading.Thread]]


def later(seconds: float, action: Callable[[], None]) -> threading.Thread:
    """``action`` in ``seconds``, on a thread of its own (started here)."""
    timer = threading.Timer(seconds, action)
    timer.start()
    return timer


def pings_during(server: ServerProcess, path: str, block: float, pings: int, trigger: Optional[Trigger] = None):
    """GET ``path`` (a handler that takes about ``block`` seconds) and, while it runs, ``pings``
    GET /ping spread over the first 60% of it. ``trigger`` runs first and sets up what makes the
    handler wait (a database lock taken now and released ``block`` seconds later, a line written
    to its stdin later); it returns the thread that ends the wait, if any."""
    slow: Dict[str, client.Reply] = {}
    runner = threading.Thread(
        target=lambda: slow.setdefault("reply", client.request(server.port, "GET", path, timeout=block + 15))
    )
    helper = trigger() if trigger else None
    runner.start()
    time.sleep(min(0.05, block / 10))
    spacing = block * 0.6 / pings
    calls = [
        lambda index=index: (
            time.sleep(index * spacing),
            client.request(server.port, "GET", "/ping", timeout=block + 10),
        )[1]
        for index in range(pings)
    ]
    replies = client.run_all(calls, pings)
    runner.join(block + 20)
    if helper is not None:
        helper.join(block + 20)
    return slow.get("reply", client.Reply(None, None, 0.0, "no reply")), replies


def blocking_run(
    server: ServerProcess,
    scenario: str,
    rule: str,
    variant: str,
    path: str,
    how: str,
    block: float,
    pings: int,
    trigger: Optional[Trigger] = None,
    measured: bool = False,
) -> Result:
    """One variant of a blocking scenario: a ping that waits longer than 40% of the call waited
    for the blocked loop. ``measured``: the call's duration is what it took (a file read), not
    ``block``."""

    def attempt(number: int):
        slow, replies = pings_during(server, path, block, pings, trigger)
        latencies = [r.elapsed * 1000 for r in replies if r.ok]
        call_ms = slow.elapsed * 1000
        limit = round(0.4 * (call_ms if measured else block * 1000))
        detail = f"GET {path} ({how}) with {pings} GET /ping sent meanwhile on the same loop{tried(number)}"
        if not slow.ok or len(latencies) != len(replies):
            detail += f"; GET {path}: {slow.error or slow.status} {str(slow.body)[:120]}{failures(replies)}"
            failed = Result(
                scenario, rule, "evented", variant, f"ping < {limit} ms", "failed", limit, None, "ms", False, detail
            )
            return False, failed
        spread = percentiles(latencies)
        worst = round(spread["max"])
        ok = worst >= limit if variant == "hazard" else worst < limit
        data = {"latencies_ms": [round(x, 2) for x in latencies], "call_ms": round(call_ms, 1), **spread}
        detail += f"; the call took {call_ms:.0f} ms; pings p50 {spread['p50']:.0f} ms, max {spread['max']:.0f} ms"
        result = Result(
            scenario,
            rule,
            "evented",
            variant,
            f"ping < {limit} ms",
            f"ping {worst} ms",
            limit,
            worst,
            "ms",
            ok,
            detail,
            data,
        )
        return ok, result

    return attempts(attempt)[1]


def blocking_scenario(
    scenario: str,
    cases: Sequence[tuple],
    block: float,
    pings: int,
    server: Optional[ServerProcess] = None,
    trigger: Optional[Callable[[ServerProcess], Trigger]] = None,
    measured: bool = False,
) -> List[Result]:
    """Every (rule, variant, path, how) case of a blocking scenario on one evented server;
    ``trigger(server)`` gives the trigger of each case (see `pings_during`)."""
    results = []
    with server or ServerProcess("evented", scenario, workers=2) as running:
        prepare = trigger(running) if trigger else None
        for rule, variant, path, how in cases:
            results.append(
                blocking_run(running, scenario, rule, variant, path, how, block, pings, prepare, measured=measured)
            )
    return results


# ---- workers: what each process saw ---------------------------------------------------------
def workers_data(
    seen: Dict[str, Dict[str, float]], categories: Sequence[str], axis: Optional[str] = None
) -> Dict[str, Any]:
    """Chart data: one bar per process, stacked by category, along ``axis`` (None: each process
    has one outcome, and the bar's length means nothing)."""
    return {
        "axis": axis,
        "categories": list(categories),
        "workers": [
            {"name": name, "values": {c: values.get(c, 0) for c in categories}} for name, values in seen.items()
        ],
    }
