"""Every fixture's findings are exactly the `# expect:` comments it carries: none missing, none extra."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import FIXTURES, expected_findings, fixture_cases

from conclint.engine.run import run
from conclint.engine.settings import Settings, load_settings
from conclint.rules import RULES_BY_CODE

CASES = list(fixture_cases())


def _settings(case: Path) -> Settings:
    """Defaults, or the case's own `[tool.conclint]` when a multi-module case carries a pyproject.toml."""
    config = case / "pyproject.toml"
    if case.is_dir() and config.is_file():
        return load_settings(str(config), RULES_BY_CODE)
    return Settings(root=str(case if case.is_dir() else case.parent))


def _actual(case: Path):
    settings = _settings(case)
    result = run([str(case)], settings)
    assert not result.internal_errors, result.internal_errors
    found = set()
    for finding in result.findings:
        path = Path(finding.path)
        relative = path.name if case.is_file() else path.relative_to(case).as_posix()
        found.add((relative, finding.span.row, finding.code))
    return found, result


@pytest.mark.parametrize("case", CASES, ids=[c.relative_to(FIXTURES).as_posix() for c in CASES])
def test_fixture_findings_match_expectations(case: Path):
    expected = expected_findings(case)
    actual, result = _actual(case)
    missing = expected - actual
    extra = actual - expected
    messages = {(Path(f.path).name, f.span.row, f.code): f.message for f in result.findings}
    assert not missing and not extra, f"missing: {sorted(missing)}\nextra: {sorted(extra)}\n" + "\n".join(
        f"  {k}: {v}" for k, v in sorted(messages.items())
    )


def test_there_are_fixtures_for_every_hazard_rule():
    from conclint.rules import ALL_RULES

    expected_codes = set()
    for case in CASES:
        expected_codes |= {code for _, _, code in expected_findings(case)}
    missing = {rule.code for rule in ALL_RULES} - expected_codes - {"CCL002"}
    assert not missing, f"rules without a fixture expecting them: {sorted(missing)}"
