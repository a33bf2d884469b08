"""Shared helpers for the test suite."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Iterator, List, Set, Tuple

import pytest

FIXTURES = Path(__file__).parent / "fixtures"
EXPECT = re.compile(r"#\s*expect:\s*(?P<codes>[A-Z]+[0-9]+(?:\s*,\s*[A-Z]+[0-9]+)*)")


def expected_findings(root: Path) -> Set[Tuple[str, int, str]]:
    """(relative path, row, code) for every `# expect: CODE[, CODE]` comment under ``root``."""
    files = [root] if root.is_file() else sorted(root.rglob("*.py"))
    found = set()
    for file in files:
        relative = file.name if root.is_file() else file.relative_to(root).as_posix()
        for row, line in enumerate(file.read_text(encoding="utf-8", errors="replace").splitlines(), start=1):
            match = EXPECT.search(line)
            if match:
                for code in match.group("codes").split(","):
                    found.add((relative, row, code.strip()))
    return found


def fixture_cases() -> Iterator[Path]:
    """A `.py` file in a group folder is one case; a sub-folder is one multi-module case."""
    for group in sorted(p for p in FIXTURES.iterdir() if p.is_dir()):
        for entry in sorted(group.iterdir()):
            if entry.name == "__pycache__":
                continue
            if entry.is_dir() or entry.suffix == ".py":
                yield entry


def conclint_command() -> List[str]:
    """The installed console script; the suite tests what users run."""
    script = shutil.which("conclint", path=os.path.dirname(sys.executable)) or shutil.which("conclint")
    if script is None:
        pytest.fail("the conclint console script is not installed (pip install -e .)")
    return [script]


@pytest.fixture(autouse=True, scope="session")
def _user_cache_folder(tmp_path_factory) -> Iterator[None]:
    """The default cache lives in the user's cache folder: the suite's runs keep theirs in a
    folder of their own, not in the cache of whoever runs the tests."""
    saved = os.environ.get("XDG_CACHE_HOME")
    os.environ["XDG_CACHE_HOME"] = str(tmp_path_factory.mktemp("user-cache"))
    yield
    if saved is None:
        os.environ.pop("XDG_CACHE_HOME", None)
    else:
        os.environ["XDG_CACHE_HOME"] = saved


def run_cli(*args: str, cwd, env_extra=None, timeout: float = 120) -> subprocess.CompletedProcess:
    env = dict(os.environ)
    env.pop("CONCLINT_TEST_FAIL_ON", None)
    if env_extra:
        env.update(env_extra)
    return subprocess.run(
        [*conclint_command(), *args],
        cwd=str(cwd),
        capture_output=True,
        text=True,
        timeout=timeout,
        env=env,
        stdin=subprocess.DEVNULL,
    )


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    """A project root cut off from whatever lies above ``tmp_path``: its own `[tool.conclint]`
    table ends the search for a pyproject.toml, and its `.git` ends the search for `.gitignore`."""
    root = tmp_path / "proj"
    (root / ".git").mkdir(parents=True)
    (root / "pyproject.toml").write_text("[tool.conclint]\n", encoding="utf-8")
    return root


def write(root: Path, relative: str, content="") -> Path:
    """Write ``content`` (text as UTF-8, line ends untouched; or bytes) at ``root/relative``."""
    path = root / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content, encoding="utf-8", newline="")
    return path
