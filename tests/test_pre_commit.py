"""The hooks in .pre-commit-hooks.yaml, run by pre-commit itself against throwaway git repositories.

pre-commit installs a hook's environment from a committed repository, so the hooks are
taken from a snapshot of this working tree committed in a temporary repository: what is
tested is the tree as it is now, committed or not. Each `try-repo` installs the
environment afresh (about 5 s with pip's cache, a minute without); the `pre-commit run`
tests share one installation.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Dict

import pytest

ROOT = Path(__file__).resolve().parent.parent
SLEEP = "import time\n\n\nasync def poll():\n    time.sleep(1)\n"
CLEAN = "import asyncio\n\n\nasync def poll():\n    await asyncio.sleep(1)\n"
GIT_IDENTITY = [
    "-c",
    "user.name=conclint tests",
    "-c",
    "user.email=tests@example.invalid",
    "-c",
    "commit.gpgsign=false",
]


def git(*args: str, cwd: Path) -> str:
    return subprocess.run(
        ["git", *GIT_IDENTITY, *args], cwd=str(cwd), check=True, capture_output=True, text=True
    ).stdout


def pre_commit(*args: str, cwd: Path, home: Path) -> subprocess.CompletedProcess:
    env = dict(os.environ, PRE_COMMIT_HOME=str(home), PRE_COMMIT_COLOR="never")
    env.pop("CONCLINT_TEST_FAIL_ON", None)
    return subprocess.run(
        [sys.executable, "-m", "pre_commit", *args], cwd=str(cwd), capture_output=True, text=True, timeout=900, env=env
    )


@pytest.fixture(scope="module")
def hook_repo(tmp_path_factory) -> Path:
    """This working tree (tracked and untracked files, not ignored ones) committed in a new repository."""
    if shutil.which("git") is None or not (ROOT / ".git").exists():
        pytest.skip("needs git and a git checkout of conclint")
    listed = git("ls-files", "-z", "--cached", "--others", "--exclude-standard", cwd=ROOT).split("\0")
    snapshot = tmp_path_factory.mktemp("hook-repo")
    for name in filter(None, listed):
        source = ROOT / name
        if source.is_file():  # a tracked file deleted in the working tree is left out
            (snapshot / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, snapshot / name)
    git("init", "-q", cwd=snapshot)
    git("add", "-A", cwd=snapshot)
    git("commit", "-q", "--no-verify", "-m", "snapshot of the working tree", cwd=snapshot)
    return snapshot


def project(root: Path, files: Dict[str, str]) -> Path:
    root.mkdir()
    git("init", "-q", cwd=root)
    for name, text in files.items():
        (root / name).write_text(text, encoding="utf-8")
        if text.startswith("#!"):
            (root / name).chmod(0o755)  # pre-commit reads a shebang only on an executable file
    git("add", "-A", cwd=root)
    return root


def test_the_hooks_file_is_a_valid_pre_commit_manifest(tmp_path):
    result = pre_commit("validate-manifest", str(ROOT / ".pre-commit-hooks.yaml"), cwd=ROOT, home=tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr


# ---- pre-commit try-repo --------------------------------------------------------------------


@pytest.mark.slow
def test_try_repo_hook_fails_on_a_hazard(hook_repo, tmp_path):
    root = project(tmp_path / "proj", {"hazard.py": SLEEP, "clean.py": CLEAN})
    result = pre_commit(
        "try-repo", str(hook_repo), "conclint", "--files", "hazard.py", cwd=root, home=tmp_path / "home"
    )
    assert result.returncode == 1, result.stdout + result.stderr
    assert "hazard.py:5:5: CCL201 `time.sleep()` blocks the event loop" in result.stdout
    assert "conclint....." in result.stdout and "Failed" in result.stdout


@pytest.mark.slow
def test_try_repo_hook_passes_on_a_clean_file(hook_repo, tmp_path):
    root = project(tmp_path / "proj", {"hazard.py": SLEEP, "clean.py": CLEAN})
    result = pre_commit("try-repo", str(hook_repo), "conclint", "--files", "clean.py", cwd=root, home=tmp_path / "home")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Passed" in result.stdout and "CCL" not in result.stdout


# ---- pre-commit run, with a config naming the hooks (one shared installation) -----------------


@pytest.fixture(scope="module")
def run_hooks(hook_repo, tmp_path_factory):
    home = tmp_path_factory.mktemp("pre-commit-home")
    rev = git("rev-parse", "HEAD", cwd=hook_repo).strip()
    config = (
        f"repos:\n-   repo: {hook_repo.as_posix()}\n    rev: {rev}\n    hooks:\n    -   id: conclint\n    -   id: "
        "conclint-fix\n"
    )

    def run(root: Path, *args: str) -> subprocess.CompletedProcess:
        (root / ".pre-commit-config.yaml").write_text(config, encoding="utf-8")
        return pre_commit("run", *args, cwd=root, home=home)

    return run


@pytest.mark.slow
def test_fix_hook_rewrites_the_file_and_fails_then_the_check_passes(run_hooks, tmp_path):
    root = project(tmp_path / "proj", {"poll.py": SLEEP})
    fixed = run_hooks(root, "conclint-fix", "--files", "poll.py")
    assert fixed.returncode == 1, fixed.stdout + fixed.stderr
    assert "files were modified by this hook" in fixed.stdout
    after = (root / "poll.py").read_text(encoding="utf-8")
    assert "await asyncio.sleep(1)" in after and "time.sleep" not in after
    checked = run_hooks(root, "conclint", "--files", "poll.py")
    assert checked.returncode == 0, checked.stdout + checked.stderr


def test_a_staged_file_is_checked_with_the_unchanged_modules_it_calls(run_hooks, tmp_path):
    """pre-commit passes only the staged file; the blocking helper sits in a committed, unchanged module."""
    helper = "import requests\n\n\ndef load(url):\n    return requests.get(url).json()\n"
    root = project(tmp_path / "proj", {"pyproject.toml": "[tool.conclint]\n", "storage.py": helper})
    git("commit", "-q", "--no-verify", "-m", "the helper", cwd=root)
    (root / "handlers.py").write_text("from storage import load\n\n\nasync def handle(url):\n    return load(url)\n")
    git("add", "handlers.py", cwd=root)
    result = run_hooks(root, "conclint")  # the staged files only, as on `git commit`
    assert result.returncode == 1, result.stdout + result.stderr
    assert "handlers.py:5:12: CCL210 `load()` blocks the event loop" in result.stdout
    assert "storage.py:" not in result.stdout.replace("at storage.py:5", "")  # the unchanged module is not reported


@pytest.mark.slow
def test_only_python_files_reach_the_hook(run_hooks, tmp_path):
    # notes.txt would be a CCL001 if it were passed; `tool` is Python by its shebang
    files = {"clean.py": CLEAN, "notes.txt": "this is not python (\n", "tool": "#!/usr/bin/env python3\n" + SLEEP}
    root = project(tmp_path / "proj", files)
    result = run_hooks(root, "conclint", "--all-files")
    assert result.returncode == 1, result.stdout + result.stderr
    assert "tool:6:5: CCL201" in result.stdout
    assert "notes.txt" not in result.stdout and "clean.py" not in result.stdout
