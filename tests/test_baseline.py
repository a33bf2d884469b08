"""`conclint check --write-baseline FILE` and `--baseline FILE`, through the installed CLI."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from conftest import run_cli

RACE = """import threading

cache = {}


def lookup(key):
    if key not in cache:
        cache[key] = Connection(key)  # two threads each open one: the first is lost, never closed
    return cache[key]


class Connection:
    def __init__(self, key):
        self.key = key


for _ in range(4):
    threading.Thread(target=lookup, args=("k",)).start()
"""
SLEEP = "import time\n\n\nasync def poll():\n    time.sleep(1)\n"
LINE = re.compile(r"^(?P<path>.+?):(?P<row>\d+):(?P<col>\d+): (?P<code>[A-Z]+\d+) ")


@pytest.fixture
def root(tmp_path: Path) -> Path:
    (tmp_path / ".git").mkdir()
    (tmp_path / "pyproject.toml").write_text("[tool.conclint]\n", encoding="utf-8")
    (tmp_path / "app").mkdir()
    (tmp_path / "app" / "cache.py").write_text(RACE, encoding="utf-8")
    (tmp_path / "app" / "poll.py").write_text(SLEEP, encoding="utf-8")
    return tmp_path


def reported(root: Path, baseline: str = "baseline.json"):
    result = run_cli("check", "--baseline", baseline, "app", cwd=root)
    lines = [m for m in map(LINE.match, result.stdout.splitlines()) if m]
    return result.returncode, [(m["path"], int(m["row"]), m["code"]) for m in lines]


def record(root: Path, baseline: str = "baseline.json") -> None:
    result = run_cli("check", "--write-baseline", baseline, "app", cwd=root)
    assert result.returncode == 0, result.stderr
    assert "Recorded 2 findings" in result.stderr


def test_recorded_findings_are_not_reported(root):
    assert run_cli("check", "app", cwd=root).returncode == 1
    record(root)
    assert reported(root) == (0, [])


def test_lines_added_above_a_recorded_finding_do_not_bring_it_back(root):
    record(root)
    cache = root / "app" / "cache.py"
    cache.write_text('"""A docstring."""\nimport os\n\n' + cache.read_text(), encoding="utf-8")
    (root / "app" / "poll.py").write_text("# a comment\n" + SLEEP, encoding="utf-8")
    assert run_cli("check", "app", cwd=root).returncode == 1
    assert reported(root) == (0, [])


def test_a_new_hazard_is_reported_and_only_it(root):
    record(root)
    (root / "app" / "poll.py").write_text(SLEEP + "\n\nasync def wait():\n    time.sleep(2)\n", encoding="utf-8")
    assert reported(root) == (1, [("app/poll.py", 9, "CCL201")])


def test_a_second_copy_of_a_recorded_line_is_reported_once(root):
    record(root)
    (root / "app" / "poll.py").write_text(SLEEP + "    time.sleep(1)\n", encoding="utf-8")
    code, found = reported(root)
    assert code == 1 and len(found) == 1 and found[0][2] == "CCL201"


def test_changing_the_code_a_finding_is_about_brings_it_back(root):
    record(root)
    cache = root / "app" / "cache.py"
    # the check the CCL102 finding points to (a related place in the same file) changes
    cache.write_text(cache.read_text().replace("if key not in cache:", "if cache.get(key) is None:"), encoding="utf-8")
    assert reported(root) == (1, [("app/cache.py", 8, "CCL102")])


def test_a_moved_file_is_reported_again(root):
    record(root)
    (root / "app" / "poll.py").rename(root / "app" / "polling.py")
    assert reported(root) == (1, [("app/polling.py", 5, "CCL201")])


def test_the_file_is_sorted_stable_json_with_paths_relative_to_its_folder(root):
    (root / "ci").mkdir()
    record(root, "ci/baseline.json")
    first = (root / "ci" / "baseline.json").read_bytes()
    # an unrelated edit moves the findings down: the baseline written again is the same bytes
    (root / "app" / "cache.py").write_text("# moved\n" + RACE, encoding="utf-8")
    record(root, "ci/baseline.json")
    assert (root / "ci" / "baseline.json").read_bytes() == first
    data = json.loads(first)
    assert data["version"] == 1
    entries = data["findings"]
    assert [(e["code"], e["path"]) for e in entries] == [("CCL102", "../app/cache.py"), ("CCL201", "../app/poll.py")]
    assert entries[1]["source"] == "time.sleep(1)" and entries[1]["occurrence"] == 0
    lines = first.decode().splitlines()
    assert len(lines) == 3 + len(entries) + 2  # one entry per line, between the header and the closing brackets
    for entry, line in zip(entries, lines[3:]):
        assert line.strip().rstrip(",") == json.dumps(entry, sort_keys=True)
    # the same baseline is found from another working directory
    result = run_cli("check", "--baseline", "baseline.json", "../app", cwd=root / "ci")
    assert result.returncode == 0, result.stdout


@pytest.mark.parametrize(
    "content, message",
    [
        (None, "baseline.json: cannot read baseline: No such file or directory"),
        ("{", "baseline.json: not a conclint baseline: invalid JSON"),
        ('{"version": 2, "findings": []}', "baseline.json: not a conclint baseline (expected a version 1 file"),
        ('[{"code": "CCL201"}]', "baseline.json: not a conclint baseline (expected a version 1 file"),
        (
            '{"version": 1, "findings": [{"code": "CCL201", "path": "a.py"}]}',
            "baseline.json: not a conclint baseline: malformed entry",
        ),
        (b"\xff\xfe{}", "baseline.json: not a conclint baseline: invalid JSON"),
    ],
)
def test_a_missing_or_corrupt_baseline_is_a_one_line_error(root, content, message):
    if isinstance(content, bytes):
        (root / "baseline.json").write_bytes(content)
    elif content is not None:
        (root / "baseline.json").write_text(content, encoding="utf-8")
    result = run_cli("check", "--baseline", "baseline.json", "app", cwd=root)
    assert result.returncode == 2
    assert result.stdout == ""
    assert len(result.stderr.splitlines()) == 1 and message in result.stderr, result.stderr


def test_an_unwritable_baseline_is_a_one_line_error(root):
    result = run_cli("check", "--write-baseline", "missing/folder/baseline.json", "app", cwd=root)
    assert result.returncode == 2
    assert len(result.stderr.splitlines()) == 1 and "cannot write baseline" in result.stderr, result.stderr
