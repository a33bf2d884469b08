"""The flake8 plugin, run as users run it: `flake8` in a subprocess, compared with `conclint check`."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Dict, Set, Tuple

import pytest
from conftest import FIXTURES, fixture_cases, run_cli

from conclint.adapters.flake8_plugin import RULE_SETTINGS
from conclint.engine.cache import default_cache_dir
from conclint.engine.settings import SETTINGS

LINE = re.compile(r"^(?P<path>.+?):(?P<row>\d+):(?P<col>\d+): (?P<code>[A-Z]+\d+) ")
Found = Set[Tuple[str, int, int, str]]
CASES = list(fixture_cases())


def flake8(*args: str, cwd, stdin: str = "", fail_on: str = "") -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k != "CONCLINT_TEST_FAIL_ON"}
    if fail_on:  # the engine's own switch to make the analysis of a file fail
        env["CONCLINT_TEST_FAIL_ON"] = fail_on
    return subprocess.run(
        [sys.executable, "-m", "flake8", *args],
        cwd=str(cwd),
        input=stdin,
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
    )


def found(stdout: str) -> Found:
    """(path, row, col, code) of every report line, paths normalised (`./a.py` is `a.py`)."""
    return {
        (os.path.normpath(m["path"]), int(m["row"]), int(m["col"]), m["code"])
        for m in map(LINE.match, stdout.splitlines())
        if m
    }


def write(root: Path, files: Dict[str, str]) -> Path:
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text, encoding="utf-8")
    return root


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A root whose own `[tool.conclint]` table ends conclint's search for settings."""
    (tmp_path / "pyproject.toml").write_text("[tool.conclint]\n", encoding="utf-8")
    return tmp_path


# ---- the same findings as `conclint check` on every fixture ---------------------------------


def _case_id(case: Path) -> str:
    return case.relative_to(FIXTURES).as_posix().replace("/", "__").replace(".py", "")


@pytest.fixture(scope="module")
def both_tools(tmp_path_factory) -> Dict[str, Tuple[Found, Found]]:
    """case -> (flake8's findings, conclint check's), each case copied as a project of its own (a
    `.git` marks it; a case's own pyproject.toml stays its configuration), all checked by one
    flake8 run and one `conclint check` run: both analyse each project apart."""
    root = tmp_path_factory.mktemp("cases")
    for case in CASES:
        target = root / _case_id(case)
        if case.is_dir():
            shutil.copytree(case, target, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            target.mkdir()
            shutil.copy2(case, target / case.name)
        (target / ".git").mkdir()
    by_flake8 = flake8("--select", "CCL,E999", ".", cwd=root)
    assert by_flake8.stderr == "", by_flake8.stderr
    by_check = run_cli("check", "-q", "--no-cache", *sorted(p.name for p in root.iterdir()), cwd=root)
    assert by_check.returncode in (0, 1), by_check.stderr

    def per_case(found_: Found) -> Dict[str, Found]:
        grouped: Dict[str, Found] = {_case_id(case): set() for case in CASES}
        for path, row, col, code in found_:
            grouped[Path(path).parts[0]].add((path, row, col, code))
        return grouped

    flake8_found, check_found = per_case(found(by_flake8.stdout)), per_case(found(by_check.stdout))
    return {name: (flake8_found[name], check_found[name]) for name in flake8_found}


@pytest.mark.slow
@pytest.mark.parametrize("case", CASES, ids=[c.relative_to(FIXTURES).as_posix() for c in CASES])
def test_flake8_reports_what_conclint_check_reports(case: Path, both_tools):
    by_flake8, by_check = both_tools[_case_id(case)]
    # flake8 does not run plugins on a file that does not parse: it says E999, we say CCL001
    by_flake8 = {f for f in by_flake8 if f[3] != "E999"}
    by_check = {f for f in by_check if f[3] != "CCL001"}
    assert by_flake8 == by_check, (
        f"flake8 only: {sorted(by_flake8 - by_check)}\ncheck only: {sorted(by_check - by_flake8)}"
    )


@pytest.mark.slow
def test_a_syntax_error_is_flake8s_E999_on_the_row_of_our_CCL001(both_tools):
    by_flake8, by_check = both_tools[_case_id(FIXTURES / "input" / "syntax_error.py")]
    assert {(row, code) for _, row, _, code in by_flake8} == {(1, "E999")}
    assert {(row, code) for _, row, _, code in by_check} == {(1, "CCL001")}


# ---- one file at a time: the whole project is analysed -------------------------------------------


@pytest.mark.parametrize(
    "case, module",
    [
        (
            "threads/jobq",
            "jobq/stats.py",
        ),  # the threads start in runner.py, which imports jobs.py, which imports stats.py
        ("blocking/blobstore", "blobstore/handlers.py"),  # the blocking calls sit in helpers it imports
    ],
)
def test_one_module_gets_the_findings_of_a_check_of_the_whole_project(tmp_path, case, module):
    shutil.copytree(FIXTURES / case, tmp_path / case.split("/")[1])
    (tmp_path / ".git").mkdir()
    alone = found(flake8("--select", "CCL", module, cwd=tmp_path).stdout)
    whole = {f for f in found(run_cli("check", "-q", case.split("/")[1], cwd=tmp_path).stdout) if f[0] == module}
    assert whole and alone == whole
    # and `conclint check` of the one file alone indexes the project too
    assert found(run_cli("check", "-q", module, cwd=tmp_path).stdout) == whole


def test_every_module_of_a_project_shares_one_analysis_per_flake8_process(tmp_path, monkeypatch):
    from conclint.adapters import flake8_index

    shutil.copytree(FIXTURES / "threads" / "jobq", tmp_path / "jobq")
    (tmp_path / ".git").mkdir()
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(flake8_index, "_INDEXES", {})
    modules = sorted(str(p) for p in (tmp_path / "jobq").glob("*.py"))
    found_ = [f for module in modules for f in flake8_index.findings_in(module, None, {})]
    assert found_ and len(flake8_index._INDEXES) == 1  # one project, analysed once for all its files
    assert os.path.isdir(default_cache_dir(str(tmp_path)))  # through the cache `conclint check` uses


def test_nothing_is_analysed_when_no_ccl_code_is_selected(project):
    write(project, {"m.py": SLEEPS})
    # the engine's switch makes the analysis of m.py fail: flake8 would report the plugin's failure
    quiet = flake8("--select", "E9", "m.py", cwd=project, fail_on="m.py")
    assert (quiet.returncode, quiet.stdout, quiet.stderr) == (0, "", "")
    ignored = flake8("--extend-ignore", "CCL", "m.py", cwd=project, fail_on="m.py")
    assert "failed during execution" not in ignored.stdout + ignored.stderr
    selected = flake8("--select", "CCL201", "m.py", cwd=project, fail_on="m.py")
    assert "failed during execution" in selected.stdout + selected.stderr


def test_stdin_is_analysed_as_the_buffer_at_its_display_name(project):
    write(
        project,
        {
            "svc/__init__.py": "",
            "svc/runner.py": (
                "import threading\n\nfrom svc.jobs import work\n\n"
                "threading.Thread(target=work).start()\nthreading.Thread(target=work).start()\n"
            ),
            "svc/jobs.py": "done = 0\n\n\ndef work():\n    global done\n    done += 1\n",
        },
    )
    on_disk = found(flake8("--select", "CCL", "svc/jobs.py", cwd=project).stdout)
    assert on_disk == {("svc/jobs.py", 6, 5, "CCL101")}
    buffer = '"""Unsaved: two lines more than on disk."""\n\n' + (project / "svc/jobs.py").read_text()
    from_stdin = flake8("--select", "CCL", "--stdin-display-name", "svc/jobs.py", "-", cwd=project, stdin=buffer)
    assert found(from_stdin.stdout) == {("svc/jobs.py", 8, 5, "CCL101")}, from_stdin.stderr


# ---- flake8's selection and noqa apply -------------------------------------------------------

SLEEPS = (
    "import time\n\n\nasync def a():\n    time.sleep(1)\n\n\nasync def b():\n    time.sleep(1)  # noqa: CCL201\n\n"
    "\nasync def c():\n    time.sleep(1)  # noqa\n"
)


@pytest.mark.parametrize(
    "args, expected",
    [
        (["--select", "CCL"], {("m.py", 5, 5, "CCL201")}),
        (
            ["--select", "CCL", "--disable-noqa"],
            {("m.py", 5, 5, "CCL201"), ("m.py", 9, 5, "CCL201"), ("m.py", 13, 5, "CCL201")},
        ),
        (["--select", "CCL2"], {("m.py", 5, 5, "CCL201")}),
        (["--select", "CCL1"], set()),
        (["--select", "CCL", "--extend-ignore", "CCL201"], set()),
        (["--select", "CCL", "--per-file-ignores", "m.py:CCL201"], set()),
    ],
)
def test_flake8_selects_and_honours_noqa(project, args, expected):
    write(project, {"m.py": SLEEPS})
    assert found(flake8(*args, "m.py", cwd=project).stdout) == expected


def test_noqa_comments_suppress_the_same_findings_in_flake8_and_conclint_check(project):
    """flake8's matching rule in both: `noqa` in any case, the codes compared as written."""
    from test_cli import NOQA_CASES

    names = []
    for i, (comment, _) in enumerate(NOQA_CASES):
        names.append(f"case{i:02d}.py")
        write(project, {names[-1]: SLEEPS.replace("time.sleep(1)  # noqa: CCL201", f"time.sleep(1)  {comment}")})
    by_flake8 = found(flake8("--select", "CCL", *names, cwd=project).stdout)
    by_check = found(run_cli("check", "-q", *names, cwd=project).stdout)
    assert by_flake8 == by_check
    assert {(path, row) for path, row, _, _ in by_check if row == 9} == {
        (f"case{i:02d}.py", 9) for i, (_, suppressed) in enumerate(NOQA_CASES) if not suppressed
    }


# ---- rule settings: flake8 options, [flake8] config, [tool.conclint] -------------------------

ROUTE = (
    'from flask import Flask\n\napp = Flask(__name__)\nhits = {}\n\n\n@app.route("/<page>")\ndef hit(page):\n    '
    "hits[page] = hits.get(page, 0) + 1\n"
)
PRELOADED = (
    "import redis\nfrom flask import Flask\n\napp = Flask(__name__)\ncache = redis.Redis()\n\n\n"
    '@app.route("/<key>")\ndef get(key):\n    return cache.get(key)\n'
)
# setting -> (source, command-line options, [flake8] config lines, the code they bring (+) or silence (-))
OPTION_CASES = {
    "thread-entry-decorators": (
        "from myapp.tasks import background\n\ncount = 0\n\n\n@background\ndef bump():\n    global count\n    count "
        "+= 1\n",
        ["--conclint-thread-entry-decorators", "other.deco,myapp.tasks.background"],
        ["conclint-thread-entry-decorators =", "    other.deco", "    myapp.tasks.background"],
        "+CCL101",
    ),
    "thread-entry-calls": (
        "from myapp import spawn\n\ncount = 0\n\n\ndef bump():\n    global count\n    count += 1\n\n\nspawn(bump)\n",
        ["--conclint-thread-entry-calls=myapp.spawn"],
        ["conclint-thread-entry-calls = myapp.spawn"],
        "+CCL101",
    ),
    "target-version": (
        "import multiprocessing\n\nrate = 1.0\n\n\ndef work(x):\n    return x * rate\n\n\n"
        "def main():\n    global rate\n    rate = 2.0\n    with multiprocessing.Pool() as pool:\n"
        "        pool.map(work, [1])\n\n\nif __name__ == '__main__':\n    main()\n",
        ["--conclint-target-version=py313"],
        ["conclint-target-version = py313"],
        "-CCL306",
    ),
    "thread-safe": (
        "class Tally:\n    def __init__(self):\n        self.total = 0\n\n"
        "    def add(self, n):\n        self.total += n\n",
        ["--conclint-thread-safe=m.Tally"],
        ["conclint-thread-safe = m.Tally"],
        "+CCL101",
    ),
    "blocking-calls": (
        "import mylib\n\n\nasync def handler():\n    return mylib.fetch()\n",
        ["--conclint-blocking-calls", "mylib.fetch = use mylib.aio.fetch, awaited; mylib.other = no"],
        ["conclint-blocking-calls =", "    mylib.fetch = use mylib.aio.fetch, awaited", "    mylib.other = no"],
        "+CCL209",
    ),
    "allowed-blocking-calls": (
        "import os.path\n\n\nasync def handler():\n    return os.path.exists('x')\n",
        ["--conclint-allowed-blocking-calls", "os.path.exists"],
        ["conclint-allowed-blocking-calls = os.path.exists, os.path.isdir"],
        "-CCL204",
    ),
    "offload-decorators": (
        "import time\n\nfrom myapp import offload\n\n\n@offload\ndef slow():\n    time.sleep(1)\n\n\n"
        "async def handler():\n    slow()\n",
        ["--conclint-offload-decorators", "other.deco,myapp.offload"],
        ["conclint-offload-decorators =", "    other.deco", "    myapp.offload"],
        "-CCL210",
    ),
    "blocking-severity": (
        "import os.path\n\n\nasync def handler():\n    return os.path.exists('x')\n",
        ["--conclint-blocking-severity", "unbounded"],
        ["conclint-blocking-severity = unbounded"],
        "-CCL204",
    ),
    # a Flask app is assumed to run in several worker processes unless the server says otherwise
    "server": (ROUTE, ["--conclint-server", "threaded"], ["conclint-server = threaded"], "-CCL303"),
    "workers": (ROUTE, ["--conclint-workers", "1"], ["conclint-workers = 1"], "-CCL303"),
    "preload-app": (
        PRELOADED,
        ["--conclint-server=prefork", "--conclint-workers=2", "--conclint-preload-app"],
        ["conclint-server = prefork", "conclint-workers = 2", "conclint-preload-app = true"],
        "+CCL304",
    ),
    "await-parameter-attributes": (
        "import asyncio\n\n\nasync def withdraw(account, amount):\n    balance = account.balance\n    await "
        "asyncio.sleep(0)\n    account.balance = balance - amount\n",
        ["--conclint-await-parameter-attributes"],
        ["conclint-await-parameter-attributes = True"],
        "+CCL111",
    ),
    "await-shared": (
        "import asyncio\n\n\nclass Tally:\n    def __init__(self):\n        self.total = 0\n\n"
        "    async def add(self, n):\n        total = self.total\n        await asyncio.sleep(0)\n"
        "        self.total = total + n\n",
        ["--conclint-await-shared=m.Tally"],
        ["conclint-await-shared = m.Tally"],
        "+CCL111",
    ),
    "await-not-shared": (
        "import aiohttp\n\n\nclass Client:\n    def __init__(self):\n        self.session = aiohttp.ClientSession()\n"
        "        self.sent = 0\n\n    async def send(self, body):\n        sent = self.sent\n"
        "        await self.session.post('/', data=body)\n        self.sent = sent + 1\n",
        ["--conclint-await-not-shared=m.Client"],
        ["conclint-await-not-shared = m.Client"],
        "-CCL111",
    ),
    "await-unshared-self": (
        "import asyncio\n\n\nclass Session:\n    def __init__(self):\n        self.token = None\n\n"
        "    async def login(self):\n        if self.token is None:\n            self.token = await asyncio.sleep(0, "
        "'token')\n",
        ["--conclint-await-unshared-self"],
        ["conclint-await-unshared-self = true"],
        "+CCL112",
    ),
    "file-timeout": (
        # enough nodes for the deadline to look at the clock; `threading` asks for a full analysis
        "import threading\n" + "".join(f"value_{i} = {i} + {i}\n" for i in range(3000)),
        ["--conclint-file-timeout", "0.000001"],
        ["conclint-file-timeout = 0.000001"],
        "+CCL001",
    ),
    "max-file-size": (SLEEPS, ["--conclint-max-file-size", "0.0001"], ["conclint-max-file-size = 0.0001"], "+CCL001"),
}
BASE_OPTIONS = {"workers": ["--conclint-server=prefork"]}  # given in every run of that case
CONFIG_FILES = ("setup.cfg", "tox.ini", ".flake8")


def test_every_rule_setting_is_a_flake8_option_with_a_test():
    skipped = {
        "select",
        "extend-select",
        "ignore",
        "exclude",
        "extend-exclude",
        "per-file-ignores",
        "respect-gitignore",
        "cache-dir",
        "max-memory",
    }
    assert {s.key for s in RULE_SETTINGS} == {s.key for s in SETTINGS} - skipped == set(OPTION_CASES)
    help_text = flake8("--help", cwd=".").stdout
    for setting in RULE_SETTINGS:
        assert f"--conclint-{setting.key}" in help_text


SMOKE_OPTIONS = ("blocking-calls", "server")  # the others run in the slow set


@pytest.mark.parametrize(
    "key", [key if key in SMOKE_OPTIONS else pytest.param(key, marks=pytest.mark.slow) for key in sorted(OPTION_CASES)]
)
def test_a_rule_setting_works_from_the_command_line_and_from_flake8_config(project, key):
    source, options, config_lines, effect = OPTION_CASES[key]
    base = BASE_OPTIONS.get(key, [])
    write(project, {"m.py": source})

    def codes(*args: str) -> Set[str]:
        return {code for *_, code in found(flake8("--select", "CCL", *base, *args, "m.py", cwd=project).stdout)}

    without = codes()
    on_command_line = codes(*options)
    config = CONFIG_FILES[sorted(OPTION_CASES).index(key) % len(CONFIG_FILES)]
    write(project, {config: "[flake8]\n" + "\n".join(config_lines) + "\n"})
    from_config = codes()
    code = effect[1:]
    assert (code in without, code in on_command_line) == ((False, True) if effect[0] == "+" else (True, False))
    assert from_config == on_command_line, config


def test_tool_conclint_applies_and_flake8_options_override_it(project):
    write(project, {"pyproject.toml": '[tool.conclint]\nserver = "prefork"\nworkers = 4\n', "m.py": ROUTE})

    def codes(*args: str) -> Set[str]:
        return {code for *_, code in found(flake8("--select", "CCL", *args, "m.py", cwd=project).stdout)}

    assert codes() == {"CCL101", "CCL303"}
    assert codes("--conclint-workers", "1") == {"CCL101"}
    write(project, {"tox.ini": "[flake8]\nconclint-server = threaded\n"})
    assert codes() == {"CCL101"}


@pytest.mark.slow
def test_a_configured_fixture_gives_the_same_findings_from_flake8_config(tmp_path):
    """blocking/configured keeps its settings in [tool.conclint]; the same in [flake8] gives the same."""
    case = FIXTURES / "blocking" / "configured"
    expected = found(run_cli("check", "-q", ".", cwd=case).stdout)
    copy = write(tmp_path, {p.name: p.read_text(encoding="utf-8") for p in case.glob("*.py")})
    bare = found(flake8("--select", "CCL", ".", cwd=copy).stdout)
    write(
        copy,
        {
            ".flake8": (
                "[flake8]\n"
                "conclint-blocking-calls =\n    mylib.fetch = use mylib.aio.fetch\n    mylib.Client.download = use "
                "mylib.aio.Client.download\n"
                "conclint-allowed-blocking-calls = os.path.exists, pathlib.Path.exists, requests.Session.get\n"
            )
        },
    )
    assert bare != expected
    assert found(flake8("--select", "CCL", ".", cwd=copy).stdout) == expected


@pytest.mark.parametrize(
    "args, config, message",
    [
        (["--conclint-server", "forking"], "", "--conclint-server must be prefork, threaded or evented, not 'forking'"),
        (
            [],
            "[flake8]\nconclint-file-timeout = soon\n",
            "--conclint-file-timeout must be a number of seconds (0 or more), not 'soon'",
        ),
        (
            [],
            "[flake8]\nconclint-file-timeout = inf\n",
            "--conclint-file-timeout must be a number of seconds (0 or more), not 'inf'",
        ),
        (
            [],
            "[flake8]\nconclint-blocking-calls = mylib.fetch\n",
            "--conclint-blocking-calls: expected 'name = advice', not 'mylib.fetch'",
        ),
        ([], '[tool.conclint]\nworkers = "four"\n', "'workers' in [tool.conclint] must be a whole number"),
    ],
)
def test_a_bad_setting_is_a_one_line_error(project, args, config, message):
    write(
        project,
        {
            "m.py": "x = 1\n",
            "setup.cfg" if config.startswith("[flake8]") else "pyproject.toml": config or "[tool.conclint]\n",
        },
    )
    result = flake8("--select", "CCL", *args, "m.py", cwd=project)
    assert result.returncode == 2
    assert len(result.stderr.splitlines()) == 1 and message in result.stderr, result.stderr


def test_an_internal_error_is_flake8s_plugin_failure_report_not_a_traceback(project):
    write(project, {"m.py": SLEEPS})
    result = flake8("--select", "CCL", "m.py", cwd=project, fail_on="m.py")
    report = result.stdout + result.stderr  # flake8 prints it on stdout
    assert result.returncode == 1
    assert "failed during execution" in report and "conclint internal error in" in report, report
    assert "Traceback" not in report, report
