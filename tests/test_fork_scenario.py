"""The fork scenarios reproduced for real: a forked worker inherits a library's flusher thread and
lock (CCL305), spawned workers never see the parent's setting (CCL306); the fixes hold. The fork
happens in a process of its own (conclint.demo.forkhost); a worker forked while the flusher held
its lock is killed after a second. Forking at the moment the flusher holds its lock depends on
timing, so the run is tried up to three times."""

from __future__ import annotations

from pathlib import Path

from conftest import expected_findings

from conclint.demo.scenarios import fork_library_state, parent_state_lost_at_spawn
from conclint.engine.run import run
from conclint.engine.settings import Settings

SCENARIOS = Path(fork_library_state.__file__).parent


def test_a_forked_worker_inherits_the_library_flusher_and_lock_and_the_at_fork_fix_holds():
    for _ in range(3):
        outcome = fork_library_state.reproduce()
        if outcome["reproduced"] and outcome["fix_holds"]:
            break
    hazard, fixed = outcome["hazard"], outcome["fixed"]
    assert hazard["mid-flush"]["hung"], outcome  # the lock was copied locked: the first record() hangs
    assert not hazard["idle"]["hung"] and hazard["idle"]["written"] == 0, outcome  # no flusher in the child
    for moment in ("mid-flush", "idle"):
        assert not fixed[moment]["hung"] and fixed[moment]["written"] == fork_library_state.SPANS, outcome


def test_spawned_workers_read_the_default_and_the_initializer_fix_holds():
    outcome = parent_state_lost_at_spawn.reproduce()
    assert outcome["reproduced"], outcome
    assert outcome["fix_holds"], outcome
    assert parent_state_lost_at_spawn.currency == "EUR"  # reproduce() leaves the module as it found it


def test_conclint_reports_each_scenario_on_its_hazard_line_only():
    result = run([str(SCENARIOS)], Settings(root=str(SCENARIOS)))
    found = {
        (Path(f.path).name, f.span.row, f.code)
        for f in result.findings
        if Path(f.path).name in ("fork_library_state.py", "parent_state_lost_at_spawn.py")
    }
    expected = {
        (name, row, code)
        for name, row, code in expected_findings(SCENARIOS)
        if name in ("fork_library_state.py", "parent_state_lost_at_spawn.py")
    }
    assert (
        found == expected == {("fork_library_state.py", 42, "CCL305"), ("parent_state_lost_at_spawn.py", 32, "CCL306")}
    )
