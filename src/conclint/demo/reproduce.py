"""`conclint demo reproduce`: watch each static finding happen, and each fix hold.

For every scenario (`conclint.demo.registry`) its runner starts the servers it needs on
free loopback ports (child processes, one process group each), drives them with the
bounded concurrent client, stops them, and reports per rule and variant what a correct
program gives and what was observed: the hazard variant should show the hazard, the fixed
variant should give the correct result. Hazards that depend on timing are tried up to
three times. Interrupted (SIGINT, SIGTERM), it stops every server it started.
"""

from __future__ import annotations

import json
import signal
import sys
import textwrap
import threading
import time
from typing import List, Optional, Sequence

from conclint.demo import registry
from conclint.demo.launch import ServerError, stop_all
from conclint.demo.results import FULL, Result, Scale, pairs, verdict

WIDTH = 100  # the terminal table fits this many columns


def run_scenario(name: str, scale: Scale = FULL) -> List[Result]:
    """One scenario's results; a run that fails is a result that says so, not an exception."""
    entry = registry.scenario(name)
    try:
        return entry.run(scale)
    except Exception as exc:  # a failed run is reported as one, and the other scenarios still run
        detail = str(exc) if isinstance(exc, ServerError) else f"{type(exc).__name__}: {exc}"
        rule = next((code for code in entry.rules if code), None)
        return [Result(name, rule, entry.model, "hazard", "-", "run failed", None, None, "", False, detail)]
    finally:
        stop_all()


# ---- the terminal table ------------------------------------------------------------------------
def _model(hazard: Optional[Result], fixed: Optional[Result]) -> str:
    models = list(dict.fromkeys(r.model for r in (hazard, fixed) if r is not None))
    return models[0] if len(models) == 1 else "/".join(m[:3] for m in models)


def table(results: Sequence[Result], seconds: float) -> str:
    """Hazard and fix side by side, one row per scenario and rule, then how each variant ran."""
    headers = ("scenario", "rule", "model", "expected", "hazard", "fix", "result")
    rows = []
    for hazard, fixed in pairs(results):
        first = hazard or fixed
        assert first is not None
        rows.append(
            (
                first.scenario,
                first.rule or "-",
                _model(hazard, fixed),
                first.expected,
                hazard.observed if hazard else "-",
                fixed.observed if fixed else "-",
                verdict(hazard, fixed),
            )
        )
    widths = [max(len(row[i]) for row in [headers, *rows]) for i in range(len(headers))]
    lines = ["  ".join(cell.ljust(width) for cell, width in zip(row, widths)).rstrip() for row in [headers, *rows]]
    lines.insert(1, "  ".join("-" * width for width in widths))
    lines.append("")
    for result in results:
        head = f"{result.scenario} {result.rule or '-'} {result.variant} ({result.model}): "
        lines.append(textwrap.fill(head + result.detail, WIDTH, subsequent_indent="    ", break_on_hyphens=False))
    good = sum(r.ok for r in results)
    lines.append("")
    lines.append(
        f"{good} of {len(results)} as expected in {seconds:.1f} s"
        + ("" if good == len(results) else ": some hazards did not show or some fixes did not hold")
    )
    return "\n".join(lines)


class _Terminated(Exception):
    pass


def reproduce(names: Sequence[str], as_json: bool = False, scale: Scale = FULL, html: Optional[str] = None) -> int:
    """Exit 0 when every hazard showed and every fix held, 1 otherwise, 2 for an unknown scenario
    (or matplotlib missing for --html), 130 when interrupted (after stopping every server)."""
    known = registry.names()
    unknown = [n for n in names if n not in known]
    if unknown:
        print(
            f"conclint demo reproduce: unknown scenario {', '.join(unknown)}; known: {', '.join(known)}",
            file=sys.stderr,
        )
        return 2
    if html is not None:
        from conclint.demo.report import missing_plotting

        problem = missing_plotting()
        if problem:
            print(f"conclint demo reproduce: {problem}", file=sys.stderr)
            return 2
    chosen = list(dict.fromkeys(names)) or known

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
    seconds = time.monotonic() - started
    if html is not None:
        from conclint.demo.report import write_reproduce_page

        try:
            write_reproduce_page(html, results, seconds)
        except OSError as exc:
            print(f"conclint demo reproduce: cannot write {html}: {exc.strerror or exc}", file=sys.stderr)
            return 2
    if as_json:
        print(json.dumps([r.to_dict() for r in results], indent=2))
    else:
        print(table(results, seconds))
        if html is not None:
            print(f"the report with a chart per scenario: {html}")
    return 0 if results and all(r.ok for r in results) else 1
