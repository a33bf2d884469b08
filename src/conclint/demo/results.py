"""What a scenario run gives back: one `Result` per variant, and the `Scale` it was driven at."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Dict, List, Optional, Sequence, Tuple

ATTEMPTS = 3


@dataclass
class Result:
    """One variant of one rule's scenario: what a correct program gives, what was seen.

    ``expected`` and ``observed`` are short (they fit the table's columns); the numbers behind
    them are ``expected_value`` and ``observed_value`` in ``unit``; ``detail`` says how the run
    went; ``data`` holds what the chart draws (latencies, what each worker saw). ``ok`` means
    the hazard showed (hazard variant) or the result was correct (fixed variant)."""

    scenario: str
    rule: Optional[str]
    model: str
    variant: str  # "hazard" or "fixed"
    expected: str
    observed: str
    expected_value: Optional[float]
    observed_value: Optional[float]
    unit: str
    ok: bool
    detail: str
    data: Dict[str, Any] = field(default_factory=dict)

    @property
    def reproduced(self) -> Optional[bool]:
        return self.ok if self.variant == "hazard" else None

    @property
    def as_expected(self) -> Optional[bool]:
        return self.ok if self.variant == "fixed" else None

    def to_dict(self) -> Dict[str, Any]:
        return {
            "scenario": self.scenario,
            "rule": self.rule,
            "model": self.model,
            "variant": self.variant,
            "expected": self.expected,
            "observed": self.observed,
            "expected_value": self.expected_value,
            "observed_value": self.observed_value,
            "unit": self.unit,
            "reproduced": self.reproduced,
            "as_expected": self.as_expected,
            "detail": self.detail,
            "data": self.data,
        }


def pairs(results: Sequence[Result]) -> List[Tuple[Optional[Result], Optional[Result]]]:
    """(hazard, fixed) for each scenario and rule, in the order of the results."""
    grouped: Dict[Tuple[str, Optional[str]], Dict[str, Result]] = {}
    for result in results:
        grouped.setdefault((result.scenario, result.rule), {})[result.variant] = result
    return [(variants.get("hazard"), variants.get("fixed")) for variants in grouped.values()]


def verdict(hazard: Optional[Result], fixed: Optional[Result]) -> str:
    hazard_ok = hazard is not None and hazard.ok
    fixed_ok = fixed is not None and fixed.ok
    if hazard_ok and fixed_ok:
        return "ok"
    if not hazard_ok and not fixed_ok:
        return "BOTH FAILED"
    return "NO HAZARD" if not hazard_ok else "FIX FAILED"


@dataclass(frozen=True)
class Scale:
    """How hard the scenarios are driven: the full run, or the test suite's small numbers."""

    name: str

    def pick(self, full, small):
        return full if self.name == "full" else small


FULL = Scale("full")
SMALL = Scale("small")

Outcome = Tuple[bool, Any]


def attempts(run: Callable[[int], Outcome], tries: int = ATTEMPTS) -> Outcome:
    """``run(attempt)`` until its first element is True, at most ``tries`` times: the last outcome.
    For hazards that depend on timing (the fixed variants run once)."""
    outcome: Outcome = (False, None)
    for attempt in range(1, tries + 1):
        outcome = run(attempt)
        if outcome[0]:
            break
    return outcome


def tried(attempt: int) -> str:
    return f" (attempt {attempt} of {ATTEMPTS})" if attempt > 1 else ""


def failures(replies: Sequence[Any]) -> str:
    """A note on the requests that failed, for a detail line ('' when none did)."""
    bad = [r for r in replies if not r.ok]
    if not bad:
        return ""
    sample = bad[0].error or f"HTTP {bad[0].status}: {bad[0].body}"
    return f"; {len(bad)} of {len(replies)} requests failed ({str(sample)[:120]})"


def amount(count: float, unit: str) -> str:
    """``3 hits``, ``1 hit``: a count and its unit (given in the plural)."""
    return f"{count:g} {unit[:-1] if count == 1 and unit.endswith('s') else unit}"
