"""Generated valid Python programs: conclint gives findings or a parse error, never an internal error.

hypothesmith writes programs from Python's grammar (``from_grammar``, which CPython
compiles) and from libcst's node types (``from_node``). The budget here is small and fixed
(derandomized: every run sees the same programs); ``benchmarks/sweep.py`` spends a larger one.

A whole run gives most such programs only a syntax check (nothing in them asks for more, see
engine/demand.py), so each is also analysed in full and the rules run on that.
"""

from __future__ import annotations

import os
import tempfile

import hypothesmith
import pytest
from hypothesis import HealthCheck, given, settings

from conclint.engine.analysis import analyse_file
from conclint.engine.parsing import run_with_deep_stack
from conclint.engine.run import run, run_rules
from conclint.engine.settings import Settings

# hypothesmith compiles what it generates, and CPython warns about odd but valid code ("'int' object is not callable")
pytestmark = pytest.mark.filterwarnings("ignore::SyntaxWarning")

SETTINGS = settings(
    max_examples=30,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much, HealthCheck.data_too_large],
)
CODES = {"CCL001", "CCL002"}


def check_program(source: str) -> None:
    with tempfile.TemporaryDirectory() as folder:
        path = os.path.join(folder, "generated.py")
        with open(path, "w", encoding="utf-8", errors="surrogatepass") as handle:
            handle.write(source)
        settings = Settings(root=folder)
        result = run([path], settings)  # as `conclint check` runs it
        full = run_with_deep_stack(lambda: analyse_file(path))  # every fact collected, whatever the text holds
        ruled = run_rules([full], settings, [folder], 1)
    assert not result.internal_errors, result.internal_errors
    assert full.internal_error is None, full.internal_error
    assert not ruled.internal_errors, ruled.internal_errors
    assert result.files_checked == 1
    for finding in [*result.findings, *ruled.findings]:
        assert finding.code.startswith("CCL") and finding.span.row >= 1 and finding.span.col >= 1, finding
    parse_errors = [f for f in result.findings if f.code in CODES]
    assert len(parse_errors) <= 1, parse_errors  # a file that does not parse is one finding, not many


@SETTINGS
@given(hypothesmith.from_grammar())
def test_programs_from_the_grammar(source):
    check_program(source)


@SETTINGS
@pytest.mark.slow
@given(hypothesmith.from_node())
def test_programs_from_libcst_nodes(source):
    check_program(source)
