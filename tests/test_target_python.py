"""The Python the code runs on decides multiprocessing's default start method: read from
`target-version`, else from `requires-python` beside the configuration, and named in the message."""

from __future__ import annotations

import json

import pytest
from conftest import run_cli, write

from conclint.engine.target import PythonTarget, parse_target_version, python_target

FORK_AFTER_THREAD = """\
import threading
import time
from multiprocessing import Process

flag = False


def beat():
    while True:
        time.sleep(1)


def work():
    print(flag)


def main():
    global flag
    flag = True
    threading.Thread(target=beat, daemon=True).start()
    child = Process(target=work)
    child.start()
    child.join()
"""


@pytest.mark.parametrize(
    "specifier,forks,reimports",
    [
        (">=3.9", True, True),  # 3.9-3.13 fork, 3.14 on forkserver: both
        (">=3.14", False, True),
        (">=3.8,<3.14", True, False),
        ("~=3.10", True, True),
        ("==3.12.*", True, False),
        (">3.13", True, True),  # 3.13.1 is above 3.13
        ("<=3.13", True, False),
        ("", True, True),  # nothing says: any Python 3
    ],
)
def test_requires_python_gives_the_defaults_that_apply(specifier, forks, reimports):
    target = python_target("", specifier)
    assert (target.default_forks, target.default_reimports) == (forks, reimports)


def test_target_version_wins_over_requires_python():
    target = python_target("py314", ">=3.9")
    assert target == PythonTarget((3, 14), (3, 14), 'target-version = "py314"')
    assert not target.default_forks and target.default_reimports
    assert parse_target_version("3.13") == (3, 13) and parse_target_version("python3") is None


def _codes(tree, text_of_pyproject):
    write(tree, "pyproject.toml", text_of_pyproject)
    write(tree, "batch.py", FORK_AFTER_THREAD)
    done = run_cli("check", "--no-cache", "--output-format", "json", "--select", "CCL3", ".", cwd=tree)
    assert done.returncode in (0, 1), done.stderr
    return {(f["code"], f["message"]) for f in json.loads(done.stdout)}


def test_python_3_14_and_later_only_forks_with_forkserver(tree):
    found = _codes(tree, '[project]\nname = "batch"\nrequires-python = ">=3.14"\n\n[tool.conclint]\n')
    assert {code for code, _ in found} == {"CCL306"}  # no fork after the thread; the flag is lost
    assert all("requires-python '>=3.14' in pyproject.toml" in message for _, message in found)


def test_target_version_313_forks_and_says_why(tree):
    found = _codes(
        tree, '[project]\nname = "batch"\nrequires-python = ">=3.14"\n\n[tool.conclint]\ntarget-version = "py313"\n'
    )
    assert {code for code, _ in found} == {"CCL302"}
    (message,) = [m for _, m in found]
    assert 'fork on Linux up to Python 3.13; target-version = "py313"' in message


def test_a_bad_target_version_is_a_one_line_error(tree):
    write(tree, "pyproject.toml", '[tool.conclint]\ntarget-version = "latest"\n')
    done = run_cli("check", "--no-cache", ".", cwd=tree)
    assert done.returncode == 2
    assert "'target-version' in [tool.conclint] must be a Python version like" in done.stderr
    assert "Traceback" not in done.stderr
