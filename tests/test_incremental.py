"""A cached run after an edit the rules cannot see is answered from the last run; any edit
they can see (code, a `# noqa`) is computed again."""

from __future__ import annotations

from pathlib import Path

from conclint.engine.run import run
from conclint.engine.settings import Settings

WORKER = """\
import threading

total = 0


def work():
    global total
    total = total + 1


for _ in range(4):
    threading.Thread(target=work).start()
"""

HELPER = '''\
"""Helpers."""


def double(x):
    return 2 * x
'''


def _project(tmp_path: Path) -> Path:
    (tmp_path / "worker.py").write_text(WORKER, encoding="utf-8")
    (tmp_path / "helper.py").write_text(HELPER, encoding="utf-8")
    return tmp_path


def _check(root: Path):
    outcome = run([str(root)], Settings(root=str(root)), jobs=1, cache_dir=str(root / ".cache"))
    return outcome.reused, [(Path(f.path).name, f.code, f.span.row) for f in outcome.findings]


def test_a_comment_appended_reuses_the_last_run(tmp_path):
    root = _project(tmp_path)
    assert _check(root) == ("", [("worker.py", "CCL101", 8)])
    assert _check(root) == ("same files", [("worker.py", "CCL101", 8)])
    with open(root / "worker.py", "a", encoding="utf-8") as handle:
        handle.write("# a comment the rules cannot see\n")
    assert _check(root) == ("equivalent files", [("worker.py", "CCL101", 8)])


def test_a_docstring_edit_in_a_file_without_trigger_words_is_computed_again(tmp_path):
    # a light file counts by its bytes: whatever reaches it later is computed from them
    root = _project(tmp_path)
    _check(root)
    (root / "helper.py").write_text(HELPER.replace("Helpers.", "Small helpers."), encoding="utf-8")
    assert _check(root)[0] == ""


def test_a_code_edit_the_rules_see_is_computed_again(tmp_path):
    root = _project(tmp_path)
    _check(root)
    (root / "worker.py").write_text(
        WORKER.replace("total = total + 1", "total = total + 1\n    total += 1"), encoding="utf-8"
    )
    assert _check(root) == ("", [("worker.py", "CCL101", 8), ("worker.py", "CCL101", 9)])


def test_a_constant_the_rules_do_not_record_is_an_equivalent_edit(tmp_path):
    root = _project(tmp_path)
    _check(root)
    (root / "worker.py").write_text(WORKER.replace("total = total + 1", "total = total + 2"), encoding="utf-8")
    assert _check(root) == ("equivalent files", [("worker.py", "CCL101", 8)])


def test_a_noqa_comment_is_seen(tmp_path):
    root = _project(tmp_path)
    _check(root)
    (root / "worker.py").write_text(
        WORKER.replace("total = total + 1", "total = total + 1  # noqa: CCL101"), encoding="utf-8"
    )
    assert _check(root) == ("", [])


def test_a_line_shifted_by_a_comment_moves_the_finding(tmp_path):
    root = _project(tmp_path)
    _check(root)
    (root / "worker.py").write_text("# a new first line\n" + WORKER, encoding="utf-8")
    assert _check(root) == ("", [("worker.py", "CCL101", 9)])


def test_a_file_that_became_unreadable_is_reported(tmp_path):
    root = _project(tmp_path)
    (root / "value.py").write_text("None", encoding="utf-8")  # the same text as the word for "no bytes"
    _check(root)
    (root / "value.py").unlink()
    (root / "value.py").symlink_to(root / "missing.py")  # discovered, but cannot be read
    reused, found = _check(root)
    assert reused == "" and ("value.py", "CCL002", 1) in found


def test_an_emptied_file_and_an_unreadable_one_differ(tmp_path):
    root = _project(tmp_path)
    (root / "value.py").write_text("", encoding="utf-8")
    _check(root)
    (root / "value.py").unlink()
    (root / "value.py").symlink_to(root / "missing.py")
    assert ("value.py", "CCL002", 1) in _check(root)[1]
