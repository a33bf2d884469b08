"""conclint's findings on the demo's scenario code are exactly its `# expect:` comments:
one finding on each hazard handler, none on any fixed one."""

from __future__ import annotations

import json
from pathlib import Path

from conftest import expected_findings, run_cli

from conclint.demo import registry
from conclint.engine.run import run
from conclint.engine.settings import Settings

REPO = Path(__file__).resolve().parent.parent
SCENARIOS = REPO / "src" / "conclint" / "demo" / "scenarios"


def _rules_by_module():
    """scenario module -> the rule codes its hazard handlers must get (the registry's, which the
    rule pages name)."""
    return {
        scenario.module.rsplit(".", 1)[1] + ".py": {code for code in scenario.rules if code}
        for scenario in registry.scenarios().values()
    }


def _actual():
    result = run([str(SCENARIOS)], Settings(root=str(SCENARIOS)))
    assert not result.internal_errors, result.internal_errors
    return {(Path(f.path).relative_to(SCENARIOS).as_posix(), f.span.row, f.code) for f in result.findings}, result


def test_findings_on_the_scenarios_are_exactly_the_expected_ones():
    expected = expected_findings(SCENARIOS)
    actual, result = _actual()
    messages = "\n".join(f"  {Path(f.path).name}:{f.span.row} {f.code} {f.message}" for f in result.findings)
    assert actual == expected, f"missing: {sorted(expected - actual)}\nextra: {sorted(actual - expected)}\n{messages}"


def test_each_scenario_module_expects_the_rules_its_scenario_is_about():
    expected = expected_findings(SCENARIOS)
    for module, codes in _rules_by_module().items():
        assert (SCENARIOS / module).is_file(), module
        assert {code for path, _, code in expected if path == module} == codes, module


def test_the_cli_from_the_repository_root_reports_the_same_set():
    completed = run_cli("check", "--output-format", "json", "src/conclint/demo/scenarios", cwd=REPO)
    assert completed.returncode == 1, completed.stderr
    found = {(Path(f["filename"]).name, f["location"]["row"], f["code"]) for f in json.loads(completed.stdout)}
    assert found == {(Path(path).name, row, code) for path, row, code in expected_findings(SCENARIOS)}


def test_the_projects_own_check_leaves_the_scenarios_out_and_the_demo_clean():
    """The servers, the client and the orchestrator carry no hazards of their own."""
    completed = run_cli("check", "src/conclint/demo", cwd=REPO)
    assert completed.returncode == 0, completed.stdout + completed.stderr
