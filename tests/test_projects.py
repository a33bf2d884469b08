"""Where a file's settings and its project come from (ruff's closest configuration), and input from stdin."""

from __future__ import annotations

import os
import subprocess

from conftest import conclint_command, run_cli, write

SLEEP = "import time\n\n\nasync def poll():\n    time.sleep(1)\n"
WAIT = "import queue\n\n\nasync def take(q: queue.Queue):\n    return q.get()\n"  # CCL205
HELPER = "import requests\n\n\ndef load(url):\n    return requests.get(url).json()\n"
HANDLER = "from app.storage import load\n\n\nasync def handle(url):\n    return load(url)\n"


def codes(stdout: str):
    return sorted((line.split(":")[0], line.split(" ")[1]) for line in stdout.splitlines() if ": CCL" in line)


def test_a_named_file_is_analysed_with_its_whole_project(tree):
    write(tree, "app/__init__.py", "")
    write(tree, "app/storage.py", HELPER)
    write(tree, "app/handlers.py", HANDLER)
    result = run_cli("check", "app/handlers.py", cwd=tree)
    assert codes(result.stdout) == [("app/handlers.py", "CCL210")]
    # from elsewhere too: the project is the one the file is in, not the working directory's
    elsewhere = run_cli("check", str(tree / "app" / "handlers.py"), cwd=tree.parent)
    assert [code for _, code in codes(elsewhere.stdout)] == ["CCL210"]
    assert elsewhere.stdout.endswith("Found 1 hazard in 1 file.\n")


def test_each_file_follows_its_closest_configuration(tree):
    write(tree, "pyproject.toml", '[tool.conclint]\nignore = ["CCL205"]\n')
    write(tree, "top.py", SLEEP + WAIT.replace("import queue\n", "import queue\n\n"))
    write(tree, "sub/conclint.toml", 'ignore = ["CCL201"]\n')  # a standalone file: keys at top level
    write(tree, "sub/inner.py", SLEEP + WAIT.replace("import queue\n", "import queue\n\n"))
    write(tree, "sub/deeper/.conclint.toml", 'select = ["CCL2"]\nextend-exclude = ["generated"]\n')
    write(tree, "sub/deeper/generated/out.py", SLEEP)
    write(tree, "sub/deeper/kept.py", SLEEP)
    found = codes(run_cli("check", cwd=tree).stdout)
    assert found == [
        ("sub/deeper/kept.py", "CCL201"),  # the deepest file's own excludes apply to its folder
        ("sub/inner.py", "CCL205"),
        ("top.py", "CCL201"),
    ]
    # the same settings whichever folder the check starts from
    assert codes(run_cli("check", ".", cwd=tree / "sub").stdout) == [
        ("deeper/kept.py", "CCL201"),
        ("inner.py", "CCL205"),
    ]
    isolated = codes(run_cli("check", "--isolated", cwd=tree).stdout)
    assert ("sub/deeper/generated/out.py", "CCL201") in isolated and ("top.py", "CCL205") in isolated


def test_show_settings_names_the_file_that_applies(tree):
    write(tree, "sub/conclint.toml", 'ignore = ["CCL201"]\n')
    write(tree, "sub/m.py", SLEEP)
    shown = run_cli("check", "--show-settings", "sub/m.py", cwd=tree)
    assert shown.returncode == 0
    lines = shown.stdout.splitlines()
    assert lines[0] == "Resolved settings for: sub/m.py"
    assert lines[1] == f"Settings path: {tree / 'sub' / 'conclint.toml'} (project)"
    assert lines[2] == f"Project root: {tree / 'sub'}"
    assert 'ignore = ["CCL201"]' in lines


def test_the_user_level_configuration_applies_where_no_project_has_one(tmp_path):
    home = tmp_path / "xdg"
    write(home, "conclint/conclint.toml", 'ignore = ["CCL201"]\n')
    loose = tmp_path / "loose"
    write(loose, "m.py", SLEEP)
    env = {"XDG_CONFIG_HOME": str(home)}
    assert run_cli("check", "m.py", cwd=loose, env_extra=env).returncode == 0
    assert "(user)" in run_cli("check", "--show-settings", "m.py", cwd=loose, env_extra=env).stdout
    assert run_cli("check", "--isolated", "m.py", cwd=loose, env_extra=env).returncode == 1
    write(loose, "pyproject.toml", "[tool.conclint]\n")  # a project configuration wins
    assert run_cli("check", "m.py", cwd=loose, env_extra=env).returncode == 1


def stdin_check(cwd, text: str, *args: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k != "CONCLINT_TEST_FAIL_ON"}
    return subprocess.run(
        [*conclint_command(), "check", *args], cwd=str(cwd), input=text, capture_output=True, text=True, env=env
    )


def test_stdin_is_checked_as_the_file_it_names_in_its_project(tree):
    write(tree, "app/__init__.py", "")
    write(tree, "app/storage.py", HELPER)
    handler = write(tree, "app/handlers.py", "x = 1\n")  # on disk: clean
    result = stdin_check(tree, HANDLER, "-", "--stdin-filename", "app/handlers.py")
    assert codes(result.stdout) == [("app/handlers.py", "CCL210")]
    assert handler.read_text(encoding="utf-8") == "x = 1\n"
    # the buffer's result is not remembered as the file's: the saved file is checked as it is
    assert run_cli("check", "app/handlers.py", cwd=tree).returncode == 0
    assert stdin_check(tree, "x = (\n", "--stdin-filename", "app/handlers.py").stdout.startswith("app/handlers.py:1:")


def test_dev_stdin_is_read_once_and_never_a_stale_cache_hit(tree):
    first = stdin_check(tree, SLEEP, "/dev/stdin")
    assert first.returncode == 1 and ": CCL201 " in first.stdout
    again = stdin_check(tree, SLEEP, "/dev/stdin")
    assert again.stdout == first.stdout
    clean = stdin_check(tree, "x = 1\n", "/dev/stdin")
    assert (clean.returncode, clean.stdout) == (0, "All checks passed.\n")


def test_a_configuration_given_with_config_does_not_make_its_folder_the_project(tmp_path):
    """`--config` says which settings apply (as ruff's does): a configuration kept beside many
    unpacked projects must not pull every one of them into the analysis of one."""
    write(tmp_path, "configs/conclint.toml", "select = ['CCL']\n")
    write(tmp_path, "corpus/one/app.py", "x = 1\n")
    shown = run_cli(
        "check",
        "--show-settings",
        "--config",
        str(tmp_path / "configs/conclint.toml"),
        "app.py",
        cwd=tmp_path / "corpus/one",
    )
    assert str(tmp_path / "configs") not in next(line for line in shown.stdout.splitlines() if "Project root" in line)
