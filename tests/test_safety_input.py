"""No input may hang or crash a run (issue 15, items 2, 3 and 8): FIFOs, bad patterns, bad
configuration values, a deep baseline, a folder that cannot be listed. Each runs the real
command in a subprocess with a timeout, so that a hang fails the test instead of stalling it."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import conclint_command, run_cli, write

SLEEP = "import time\n\n\nasync def handler():\n    time.sleep(1)\n"  # CCL201 at 5:5
TIMEOUT = 60  # seconds: far more than any of these runs takes; a run waiting on a FIFO never ends

needs_fifo = pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs on this system")


def one_line_error(result: subprocess.CompletedProcess) -> str:
    assert result.returncode == 2, (result.returncode, result.stdout, result.stderr)
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("conclint: error: "), result.stderr
    return lines[0]


def check(tree: Path, *args: str) -> subprocess.CompletedProcess:
    return run_cli("check", *args, cwd=tree, timeout=TIMEOUT)


# item 2: only regular files are read


@needs_fifo
@pytest.mark.parametrize("cache", [(), ("--no-cache",)])
def test_a_fifo_named_like_a_python_file_is_reported_not_read(tree, cache):
    write(tree, "app.py", SLEEP)
    os.mkfifo(tree / "y.py")
    os.mkfifo(tree / "sub.py")
    for name in (".gitignore", "Procfile", "Dockerfile", "gunicorn.conf.py"):  # read beside the code
        os.mkfifo(tree / name)
    result = check(tree, ".", *cache)
    assert result.returncode == 1, result.stderr
    assert "app.py:5:5: CCL201" in result.stdout
    for name in ("y.py", "sub.py", "gunicorn.conf.py"):
        assert f"{name}:1:1: CCL002 file is not a regular file" in result.stdout, result.stdout
    assert result.stderr == ""


@needs_fifo
def test_a_fifo_named_on_the_command_line_is_reported_not_read(tree):
    os.mkfifo(tree / "y.py")
    result = check(tree, "y.py")
    assert result.returncode == 1 and "y.py:1:1: CCL002 file is not a regular file" in result.stdout, result


@needs_fifo
def test_a_config_or_baseline_that_is_a_fifo_is_a_one_line_error(tree):
    write(tree, "app.py", SLEEP)
    os.mkfifo(tree / "conclint.toml")
    os.mkfifo(tree / "baseline.json")
    assert "not a regular file" in one_line_error(check(tree, "--config", "conclint.toml", "app.py"))
    assert "not a regular file" in one_line_error(check(tree, "--baseline", "baseline.json", "app.py"))


def test_a_config_that_is_a_folder_is_a_one_line_error(tree):
    write(tree, "app.py", SLEEP)
    (tree / "conf.toml").mkdir()
    one_line_error(check(tree, "--config", "conf.toml", "app.py"))


# item 3: patterns git accepts, or a one-line error where the user wrote them


def test_lines_of_a_gitignore_that_git_cannot_use_are_skipped(tree):
    write(tree, "app.py", SLEEP)
    write(tree, "ignored.py", SLEEP)
    write(tree, "sub/also.py", SLEEP)
    write(tree, ".gitignore", "!\n\\\n[z-a]\nignored.py\n")
    write(tree, "sub/.gitignore", "[z-a]\n")
    result = check(tree, ".", "--no-cache")
    assert result.returncode == 1, result.stderr
    assert "app.py:5:5: CCL201" in result.stdout and "also.py:5:5: CCL201" in result.stdout
    assert "ignored.py" not in result.stdout
    assert result.stderr == ""


@pytest.mark.parametrize("pattern", ["!", "\\\\", "[z-a]"])
@pytest.mark.parametrize("key", ["extend-exclude", "exclude", "per-file-ignores"])
def test_an_invalid_pattern_in_the_settings_is_a_one_line_error(tree, key, pattern):
    write(tree, "app.py", SLEEP)
    value = f'{{ "{pattern}" = ["CCL201"] }}' if key == "per-file-ignores" else f'["{pattern}"]'
    write(tree, "pyproject.toml", f"[tool.conclint]\n{key} = {value}\n")
    line = one_line_error(check(tree, "app.py"))
    assert f"'{key}'" in line and "invalid pattern" in line


# item 8: bad configuration and baseline files, bad values


def test_a_pyproject_that_is_not_utf8_is_a_one_line_error(tree):
    write(tree, "app.py", SLEEP)
    write(tree, "pyproject.toml", b'[tool.conclint]\nselect = ["CCL\xff"]\n')
    assert "not UTF-8" in one_line_error(check(tree, "app.py"))


def test_a_baseline_nested_100000_deep_is_a_one_line_error(tree):
    write(tree, "app.py", SLEEP)
    write(tree, "baseline.json", "[" * 100_000 + "]" * 100_000)
    assert "not a conclint baseline" in one_line_error(check(tree, "--baseline", "baseline.json", "app.py"))


@pytest.mark.parametrize("value", ["nan", "inf", "-inf", "-1", "+nan"])
def test_a_file_timeout_that_is_no_number_of_seconds_is_refused(tree, value):
    write(tree, "app.py", SLEEP)
    write(tree, "pyproject.toml", f"[tool.conclint]\nfile-timeout = {value}\n")
    assert "'file-timeout'" in one_line_error(check(tree, "app.py"))


@pytest.mark.parametrize(
    "setting", ['select = [""]', 'ignore = [" "]', 'extend-select = [""]', 'per-file-ignores = { "*.py" = [""] }']
)
def test_an_empty_rule_selector_is_refused(tree, setting):
    write(tree, "app.py", SLEEP)
    write(tree, "pyproject.toml", f"[tool.conclint]\n{setting}\n")
    assert "empty rule selector" in one_line_error(check(tree, "app.py"))


def _unlistable_runner(folder: Path) -> list:
    """The command prefix under which ``folder`` (mode 000) really cannot be listed: none for a
    normal user; for root (whom permissions do not stop) a user namespace without privileges."""
    try:
        os.listdir(folder)
    except PermissionError:
        return []
    unshare = shutil.which("unshare")
    if unshare is None:
        pytest.skip("running as root without `unshare`: a mode-000 folder can still be listed")
    probe = subprocess.run(
        [unshare, "--user", sys.executable, "-c", f"import os; os.listdir({str(folder)!r})"],
        capture_output=True,
        timeout=TIMEOUT,
    )
    if probe.returncode == 0 or b"PermissionError" not in probe.stderr:
        pytest.skip("running as root, and not even a user namespace stops the listing of a mode-000 folder")
    return [unshare, "--user"]


def test_a_folder_that_cannot_be_listed_is_reported(tree):
    write(tree, "app.py", SLEEP)
    write(tree, "locked/inside.py", SLEEP)
    locked = tree / "locked"
    locked.chmod(0)
    try:
        prefix = _unlistable_runner(locked)
        result = subprocess.run(
            [*prefix, *conclint_command(), "check", ".", "--no-cache"],
            cwd=tree,
            capture_output=True,
            text=True,
            timeout=TIMEOUT,
        )
    finally:
        locked.chmod(0o755)
    assert result.returncode == 1, result.stderr
    assert "app.py:5:5: CCL201" in result.stdout
    assert "locked:1:1: CCL002 folder cannot be listed: Permission denied" in result.stdout, result.stdout
