"""The scenarios the demo knows: every runner module in `conclint.demo.runners`.

A scenario is two modules with one name: ``scenarios/<name>.py``, the code conclint reads
(the hazard written the way people write it, and its fix), and ``runners/<name>.py``, which
declares ``SCENARIO = Scenario(...)`` and ``run(scale)``, the run that drives it on real
servers. Adding a scenario is adding those two files; nothing here changes.
"""

from __future__ import annotations

import importlib
import pkgutil
import threading
from dataclasses import dataclass, replace
from typing import Any, Callable, Dict, List, Optional, Tuple

CHARTS = ("counts", "latency", "workers")


@dataclass(frozen=True)
class Scenario:
    name: str  # the command-line name: the module's, with dashes
    model: str  # the concurrency model the hazard is about
    rules: Tuple[Optional[str], ...]  # the codes it reproduces (None: a hazard no rule reports)
    chart: str  # "counts" (expected vs counted), "latency" (pings while it blocks), "workers" (what each saw)
    summary: str  # one line: what happens
    run: Optional[Callable[[Any], List[Any]]] = None  # the runner's run(scale) -> [Result]

    @property
    def module(self) -> str:
        return "conclint.demo.scenarios." + self.name.replace("-", "_")


def _sort_key(scenario: Scenario) -> Tuple[str, str]:
    codes = sorted(code for code in scenario.rules if code)
    return (codes[0] if codes else "~", scenario.name)  # by rule; one without a rule comes last


_found: Dict[str, Scenario] = {}
_finding = threading.Lock()  # request handlers of the threaded server ask too


def scenarios() -> Dict[str, Scenario]:
    """Every scenario by name, in the order of their rules."""
    with _finding:
        if not _found:
            _found.update((s.name, s) for s in sorted(_discover(), key=_sort_key))
        return _found


def _discover() -> List[Scenario]:
    from conclint.demo import runners

    found = []
    for info in pkgutil.iter_modules(runners.__path__):
        module = importlib.import_module(f"{runners.__name__}.{info.name}")
        declared = getattr(module, "SCENARIO", None)
        if not isinstance(declared, Scenario):
            continue
        if declared.name.replace("-", "_") != info.name or declared.chart not in CHARTS:
            raise RuntimeError(f"{module.__name__}: SCENARIO must be named {info.name!r} with a chart in {CHARTS}")
        found.append(replace(declared, run=module.run))
    return found


def names() -> List[str]:
    return list(scenarios())


def scenario(name: str) -> Scenario:
    known = scenarios()
    if name not in known:
        raise KeyError(f"unknown scenario {name!r}; known: {', '.join(known)}")
    return known[name]
