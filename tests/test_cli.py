"""The `conclint` command as users run it: flags, exit codes, discovery, configuration, `# noqa`."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import List, Tuple

import pytest
from conftest import run_cli, write

from conclint import __version__
from conclint.engine.run import check_source
from conclint.engine.settings import DEFAULT_EXCLUDE

# CCL201 at 5:5, ending at 5:18 (end exclusive).
SLEEP = "import time\n\n\nasync def handler():\n    time.sleep(1)\n"
SLEEP_MESSAGE = check_source(SLEEP)[0].message
SYNTAX_ERROR = "def broken(:\n    pass\n"  # CCL001 at 1:12
TEXT_LINE = re.compile(r"^(?P<path>.+?):(?P<row>\d+):(?P<col>\d+): (?P<code>[A-Z]+\d+) (?P<message>.+)$")


def config(root: Path, body: str) -> None:
    (root / "pyproject.toml").write_text("[tool.conclint]\n" + body, encoding="utf-8")


def findings(stdout: str) -> List[Tuple[str, int, int, str]]:
    """(path, row, col, code) of each finding line of a text report, in order."""
    found = []
    for line in stdout.splitlines():
        match = TEXT_LINE.match(line)
        if match:
            found.append((match["path"], int(match["row"]), int(match["col"]), match["code"]))
    return found


def assert_one_line_error(result: subprocess.CompletedProcess, *fragments: str) -> str:
    assert result.returncode == 2, (result.stdout, result.stderr)
    assert result.stdout == ""
    assert "Traceback" not in result.stderr
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("conclint: error: ")
    for fragment in fragments:
        assert fragment in lines[0]
    return lines[0]


# --- text output and exit codes -------------------------------------------------------------


def test_text_report_is_sorted_with_summary_and_exit_1(tree):
    write(tree, "b.py", SLEEP)
    write(tree, "a/z.py", SLEEP)
    write(tree, "a.py", SLEEP.replace("    time.sleep(1)\n", "    time.sleep(1)\n    time.sleep(2)\n"))
    write(tree, "clean.py", "import asyncio\n\n\nasync def handler():\n    await asyncio.sleep(1)\n")
    result = run_cli("check", cwd=tree)
    assert result.returncode == 1
    assert result.stderr == ""
    assert result.stdout == (
        f"a.py:5:5: CCL201 {SLEEP_MESSAGE}\n"
        f"a.py:6:5: CCL201 {SLEEP_MESSAGE}\n"
        f"a/z.py:5:5: CCL201 {SLEEP_MESSAGE}\n"
        f"b.py:5:5: CCL201 {SLEEP_MESSAGE}\n"
        "Found 4 hazards in 3 files.\n"
        "[*] 4 fixable with the `--fix` option.\n"
    )


def test_one_finding_is_singular(tree):
    write(tree, "a.py", SLEEP)
    result = run_cli("check", "a.py", cwd=tree)
    assert result.returncode == 1
    assert result.stdout.splitlines()[-2:] == ["Found 1 hazard in 1 file.", "[*] 1 fixable with the `--fix` option."]


def test_clean_tree_passes_with_exit_0(tree):
    write(tree, "ok.py", "import time\n\n\ndef handler():\n    time.sleep(1)\n")
    result = run_cli("check", cwd=tree)
    assert (result.returncode, result.stdout, result.stderr) == (0, "All checks passed.\n", "")


def test_default_path_is_the_current_directory(tree):
    write(tree, "pkg/a.py", SLEEP)
    assert run_cli("check", cwd=tree).stdout == run_cli("check", ".", cwd=tree).stdout
    assert findings(run_cli("check", cwd=tree / "pkg").stdout) == [("a.py", 5, 5, "CCL201")]


def test_paths_are_relative_below_the_cwd_and_absolute_outside_it(tree, tmp_path):
    write(tree, "sub/inner.py", SLEEP)
    outside = write(tmp_path, "outside/far.py", SLEEP)
    write(tree, "..dots.py", SLEEP)  # below the cwd, though its name starts with ".."
    result = run_cli("check", "..dots.py", "sub", str(outside), "sub/../sub/inner.py", cwd=tree)
    assert sorted(findings(result.stdout)) == sorted(
        [
            ("..dots.py", 5, 5, "CCL201"),
            (os.path.join("sub", "inner.py"), 5, 5, "CCL201"),
            (str(outside), 5, 5, "CCL201"),
        ]
    )
    assert "Found 3 hazards in 3 files.\n" in result.stdout  # sub/inner.py counted once


def test_exit_zero_keeps_the_report(tree):
    write(tree, "a.py", SLEEP)
    plain = run_cli("check", cwd=tree)
    zero = run_cli("check", "--exit-zero", cwd=tree)
    assert (plain.returncode, zero.returncode) == (1, 0)
    assert zero.stdout == plain.stdout


def test_quiet_prints_findings_only(tree):
    write(tree, "a.py", SLEEP)
    result = run_cli("check", "-q", cwd=tree)
    assert (result.returncode, result.stdout) == (1, f"a.py:5:5: CCL201 {SLEEP_MESSAGE}\n")
    write(tree, "a.py", "x = 1\n")
    result = run_cli("check", "--quiet", cwd=tree)
    assert (result.returncode, result.stdout) == (0, "")


def test_statistics_counts_per_code(tree):
    write(tree, "a.py", SLEEP)
    write(tree, "b.py", SLEEP)
    write(tree, "c.py", SYNTAX_ERROR)
    result = run_cli("check", "--statistics", cwd=tree)
    assert result.returncode == 1
    assert result.stdout == "1\tCCL001\tsyntax-error\n2\tCCL201\tblocking-sleep-in-async\n"


# --- selection --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "args,codes",
    [
        ([], ["CCL001", "CCL201"]),
        (["--select", "CCL2"], ["CCL201"]),
        (["--select", "CCL201"], ["CCL201"]),
        (["--ignore", "CCL201"], ["CCL001"]),
        (["--ignore", "CCL0"], ["CCL201"]),
        (["--select", "CCL001", "--extend-select", "CCL201"], ["CCL001", "CCL201"]),
        (["--select", "CCL001,CCL201"], ["CCL001", "CCL201"]),
        (["--ignore", "CCL2", "--select", "CCL201"], ["CCL201"]),  # the more specific select wins
        (["--select", "CCL201", "--ignore", "CCL201"], []),  # ignore wins a tie
        (["--select", "ALL", "--ignore", "CCL"], []),
    ],
)
def test_select_ignore_extend_select(tree, args, codes):
    write(tree, "a.py", SLEEP)
    write(tree, "b.py", SYNTAX_ERROR)
    result = run_cli("check", *args, cwd=tree)
    assert sorted(code for *_, code in findings(result.stdout)) == codes
    assert result.returncode == (1 if codes else 0)


def test_cli_select_replaces_config_select_and_ignore_adds(tree):
    config(tree, 'select = ["CCL001"]\n')
    write(tree, "a.py", SLEEP)
    write(tree, "b.py", SYNTAX_ERROR)
    assert [f[3] for f in findings(run_cli("check", cwd=tree).stdout)] == ["CCL001"]
    assert [f[3] for f in findings(run_cli("check", "--select", "CCL2", cwd=tree).stdout)] == ["CCL201"]
    config(tree, 'ignore = ["CCL001"]\n')
    assert findings(run_cli("check", "--ignore", "CCL201", cwd=tree).stdout) == []


# --- usage errors -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "args,fragment",
    [
        (["check", "--bogus"], "--bogus"),
        (["check", "--output-format", "xml"], "--output-format"),
        (["check", "--jobs", "0"], "--jobs"),
        (["check", "--jobs", "many"], "--jobs"),
        (["check", "--select"], "--select"),
        (["check", "--select", "XYZ"], "'XYZ'"),
        (["check", "--ignore", "CCL9"], "'CCL9'"),
        (["check", "--extend-select", "CCL2,NOPE1"], "'NOPE1'"),
        (["check", "--config", "missing.toml"], "missing.toml"),
        (["check", "-o", "no/such/dir/report.txt"], "--output-file"),
        (["frobnicate"], "frobnicate"),
        (["rule", "CCL999"], "CCL999"),
    ],
)
def test_usage_errors_are_one_line_with_exit_2(tree, args, fragment):
    write(tree, "a.py", SLEEP)
    assert_one_line_error(run_cli(*args, cwd=tree), fragment)


def test_no_command_prints_usage_and_exits_2(tree):
    result = run_cli(cwd=tree)
    assert result.returncode == 2
    assert result.stdout.startswith("usage: conclint")


# --- other commands and entry points ---------------------------------------------------------


def test_version(tree):
    result = run_cli("--version", cwd=tree)
    assert (result.returncode, result.stdout) == (0, f"conclint {__version__}\n")


def test_python_dash_m_runs_the_same_cli(tree):
    write(tree, "a.py", SLEEP)
    env = dict(os.environ)
    env.pop("CONCLINT_TEST_FAIL_ON", None)
    module = subprocess.run(
        [sys.executable, "-m", "conclint", "check"], cwd=str(tree), capture_output=True, text=True, timeout=60, env=env
    )
    assert (module.returncode, module.stdout, module.stderr) == (1, run_cli("check", cwd=tree).stdout, "")
    assert findings(module.stdout) == [("a.py", 5, 5, "CCL201")]
    version = subprocess.run(
        [sys.executable, "-m", "conclint", "--version"], capture_output=True, text=True, timeout=60, env=env
    )
    assert version.stdout == f"conclint {__version__}\n"


def test_rules_lists_each_rule_once(tree):
    from conclint.rules import ALL_RULES

    result = run_cli("rules", cwd=tree)
    assert result.returncode == 0
    rows = [line.split() for line in result.stdout.splitlines()]
    assert [row[0] for row in rows] == [rule.code for rule in ALL_RULES]
    assert ["CCL201", "blocking-sleep-in-async"] in [row[:2] for row in rows]


@pytest.mark.parametrize("code", ["CCL201", "ccl201"])
def test_rule_prints_its_documentation(tree, code):
    from conclint.rules import RULES_BY_CODE

    result = run_cli("rule", code, cwd=tree)
    assert result.returncode == 0
    assert result.stdout == RULES_BY_CODE["CCL201"].documentation() + "\n"
    assert result.stdout.startswith("# CCL201 `blocking-sleep-in-async`\n")


def test_jobs_and_no_cache_do_not_change_the_report(tree):
    for i in range(6):
        write(tree, f"m{i}.py", SLEEP if i % 2 else "x = 1\n")
    write(tree, "bad.py", SYNTAX_ERROR)
    serial = run_cli("check", "--output-format", "json", cwd=tree)
    parallel = run_cli("check", "--output-format", "json", "--jobs", "3", "--no-cache", cwd=tree)
    assert serial.returncode == parallel.returncode == 1
    assert parallel.stdout == serial.stdout
    assert len(json.loads(serial.stdout)) == 4


def test_output_file_receives_the_report(tree):
    write(tree, "a.py", SLEEP)
    expected = run_cli("check", "--output-format", "json", cwd=tree).stdout
    result = run_cli("check", "--output-format", "json", "--output-file", "report.json", cwd=tree)
    assert (result.returncode, result.stdout, result.stderr) == (1, "", "")
    assert (tree / "report.json").read_text(encoding="utf-8") == expected


# --- discovery ------------------------------------------------------------------------------------


def test_default_excludes_are_skipped_when_walking(tree):
    names = [name.replace("*", "pkg") for name in DEFAULT_EXCLUDE]
    for name in names:
        write(tree, f"{name}/m.py", SLEEP)
        write(tree, f"nested/{name}/m.py", SLEEP)
    write(tree, "src/kept.py", SLEEP)
    write(tree, "src/notes.txt", SLEEP)
    write(tree, "src/script", SLEEP)
    write(tree, "src/build.py", SLEEP)  # a file named like an excluded folder is still a module
    result = run_cli("check", cwd=tree)
    assert {f[0] for f in findings(result.stdout)} == {os.path.join("src", "kept.py"), os.path.join("src", "build.py")}
    # what the walk skips, naming it is enough to check
    named = run_cli("check", "build/m.py", os.path.join("nested", "venv", "m.py"), cwd=tree)
    assert {f[0] for f in findings(named.stdout)} == {
        os.path.join("build", "m.py"),
        os.path.join("nested", "venv", "m.py"),
    }


def test_a_folder_named_explicitly_is_walked_though_an_exclude_names_it(tree):
    write(tree, "build/gen/m.py", SLEEP)
    write(tree, "build/gen/__pycache__/stale.py", SLEEP)  # still skipped below it
    write(tree, "build/venv/m.py", SLEEP)
    result = run_cli("check", "build", cwd=tree)
    assert {f[0] for f in findings(result.stdout)} == {os.path.join("build", "gen", "m.py")}
    assert {f[0] for f in findings(run_cli("check", cwd=tree).stdout)} == set()


def test_gitignore_is_respected_unless_told_otherwise(tree):
    write(tree, ".gitignore", "generated/\n*_gen.py\n")
    write(tree, "pkg/.gitignore", "local.py\n")
    write(tree, "generated/g.py", SLEEP)
    write(tree, "pkg/api_gen.py", SLEEP)
    write(tree, "pkg/local.py", SLEEP)
    write(tree, "local.py", SLEEP)  # the nested .gitignore does not reach up
    write(tree, "pkg/kept.py", SLEEP)
    ignored = {os.path.join("generated", "g.py"), os.path.join("pkg", "api_gen.py"), os.path.join("pkg", "local.py")}
    kept = {"local.py", os.path.join("pkg", "kept.py")}

    assert {f[0] for f in findings(run_cli("check", cwd=tree).stdout)} == kept
    assert {f[0] for f in findings(run_cli("check", "--no-respect-gitignore", cwd=tree).stdout)} == kept | ignored
    config(tree, "respect-gitignore = false\n")
    assert {f[0] for f in findings(run_cli("check", cwd=tree).stdout)} == kept | ignored
    config(tree, "")
    named = run_cli("check", os.path.join("pkg", "api_gen.py"), cwd=tree)
    assert findings(named.stdout) == [(os.path.join("pkg", "api_gen.py"), 5, 5, "CCL201")]


def test_config_exclude_extend_exclude_and_per_file_ignores(tree):
    write(tree, "gen/a.py", SLEEP)
    write(tree, "scripts/run.py", SLEEP)
    write(tree, "build/b.py", SLEEP)
    write(tree, "app.py", SLEEP)
    config(tree, 'extend-exclude = ["gen"]\nper-file-ignores = { "scripts/*" = ["CCL2"] }\n')
    assert {f[0] for f in findings(run_cli("check", cwd=tree).stdout)} == {"app.py"}
    config(tree, 'exclude = ["gen"]\n')  # replaces the defaults: build/ is walked again
    assert {f[0] for f in findings(run_cli("check", cwd=tree).stdout)} == {
        "app.py",
        os.path.join("build", "b.py"),
        os.path.join("scripts", "run.py"),
    }


# --- configuration ---------------------------------------------------------------------------


def test_nearest_pyproject_applies_and_patterns_are_relative_to_it(tree):
    config(tree, 'ignore = ["CCL201"]\n')
    write(tree, "a.py", SLEEP)
    write(tree, "sub/b.py", SLEEP)
    write(tree, "sub/skip/c.py", SLEEP)
    assert findings(run_cli("check", cwd=tree).stdout) == []
    assert findings(run_cli("check", cwd=tree / "sub").stdout) == []  # found above the cwd
    write(tree, "sub/pyproject.toml", '[tool.conclint]\nextend-exclude = ["/skip"]\n')
    assert findings(run_cli("check", cwd=tree / "sub").stdout) == [("b.py", 5, 5, "CCL201")]


def test_config_option_reads_the_named_file(tree, tmp_path):
    write(tree, "a.py", SLEEP)
    write(tree, "b.py", SYNTAX_ERROR)
    other = write(tmp_path, "elsewhere/pyproject.toml", '[tool.conclint]\nselect = ["CCL0"]\n')
    dedicated = write(tmp_path, "elsewhere/conclint.toml", 'select = ["CCL2"]\n')
    assert [f[3] for f in findings(run_cli("check", "--config", str(other), cwd=tree).stdout)] == ["CCL001"]
    assert [f[3] for f in findings(run_cli("check", "--config", str(dedicated), cwd=tree).stdout)] == ["CCL201"]


@pytest.mark.parametrize(
    "body,key",
    [
        ("bogus = 1\n", "bogus"),
        ('select = "CCL2"\n', "select"),
        ("ignore = [201]\n", "ignore"),
        ('extend-select = ["NOPE"]\n', "extend-select"),
        ('exclude = "build"\n', "exclude"),
        ("extend-exclude = [1]\n", "extend-exclude"),
        ('per-file-ignores = { "a.py" = "CCL201" }\n', "per-file-ignores"),
        ('per-file-ignores = { "a.py" = ["XYZ1"] }\n', "per-file-ignores"),
        ('respect-gitignore = "yes"\n', "respect-gitignore"),
        ("[tool.conclint.nested]\nx = 1\n", "nested"),
    ],
)
def test_bad_config_key_is_one_line_naming_file_and_key(tree, body, key):
    write(tree, "a.py", SLEEP)
    config(tree, body)
    assert_one_line_error(run_cli("check", cwd=tree), "pyproject.toml", f"'{key}'")


@pytest.mark.parametrize("text", ["[tool.conclint\n", "tool = 1\n", 'tool = "conclint"\n', "[tool]\nconclint = 3\n"])
def test_malformed_config_file_is_one_line_error_or_ignored(tree, text):
    write(tree, "a.py", SLEEP)
    (tree / "pyproject.toml").write_text(text, encoding="utf-8")
    result = run_cli("check", cwd=tree)
    assert "Traceback" not in result.stderr
    if result.returncode == 2:
        assert_one_line_error(result, "pyproject.toml")
    else:  # a pyproject.toml without a [tool.conclint] table is not ours to judge
        assert (result.returncode, findings(result.stdout)) == (1, [("a.py", 5, 5, "CCL201")])


@pytest.mark.parametrize("text", ["select = 3\n", "[tool.conclint]\nselect = 3\n", "tool = 1\n[x]\nselect = 3\n"])
def test_bad_config_given_with_config_option(tree, tmp_path, text):
    write(tree, "a.py", SLEEP)
    bad = write(tmp_path, "bad.toml", text)
    result = run_cli("check", "--config", str(bad), cwd=tree)
    if "tool = 1" in text:  # neither a dedicated file nor one with a [tool.conclint] table
        assert "Traceback" not in result.stderr
        assert result.returncode in (1, 2)
    else:
        assert_one_line_error(result, "bad.toml", "'select'")


# --- noqa --------------------------------------------------------------------------------------


NOQA_CASES = [
    ("# noqa", True),
    ("# noqa: CCL201", True),
    ("# noqa:CCL201", True),
    ("# NOQA:CCL201", True),
    ("# NoQA: CCL201", True),
    ("# noqa: CCL101,CCL201", True),
    ("# noqa: CCL101, CCL201", True),
    ("# noqa: CCL101 CCL201", True),
    ("# noqa: CCL2", True),  # a prefix, as in flake8
    ("# noqa: CCL201 because the loop is not running yet", True),
    ("# type: ignore  # noqa: CCL201", True),
    ("# noqa : CCL101", True),  # flake8 reads this as a bare noqa
    ("# noqa: CCL101", False),
    ("# noqa: CCL2011", False),
    ("# NOQA: ccl201", False),  # flake8 matches `noqa` in any case, the codes as written
    ("# noqa: ccl2", False),
    ("#noqa", False),
    ("#noqa: CCL201", False),
    ("# no qa", False),
]


def test_noqa_comments_match_flake8(tree):
    """Each case in its own file, one run: the line with the comment is reported only when not suppressed."""
    expected = []
    for i, (comment, suppressed) in enumerate(NOQA_CASES):
        name = f"case{i:02d}.py"
        write(
            tree,
            name,
            SLEEP.replace("time.sleep(1)", f"time.sleep(1)  {comment}") + "\n\nasync def other():\n    time.sleep(2)\n",
        )
        expected += ([] if suppressed else [(name, 5, 5, "CCL201", comment)]) + [(name, 9, 5, "CCL201", comment)]
    result = run_cli("check", cwd=tree)
    comments = {f"case{i:02d}.py": comment for i, (comment, _) in enumerate(NOQA_CASES)}
    assert [(*f, comments[f[0]]) for f in findings(result.stdout)] == expected


def test_noqa_on_another_line_does_not_suppress(tree):
    write(tree, "a.py", SLEEP.replace("    time.sleep(1)", "    # noqa: CCL201\n    time.sleep(1)"))
    assert findings(run_cli("check", cwd=tree).stdout) == [("a.py", 6, 5, "CCL201")]


LINE_CASES = [
    ("plain-lf", "x = 1", "\n"),
    ("plain-crlf", "x = 1", "\r\n"),
    ("plain-cr", "x = 1", "\r"),
    ("form-feed-line-lf", "\x0c", "\n"),
    ("form-feed-line-crlf", "\x0c", "\r\n"),
    ("form-feed-line-cr", "\x0c", "\r"),
    ("form-feed-in-string", 's = "a\x0cb"', "\n"),
    ("line-separator", 's = "a\u2028b"', "\n"),
    ("paragraph-separator", 's = "a\u2029b"', "\n"),
    ("next-line", 's = "a\x85b"', "\n"),
    ("vertical-tab", 's = "a\x0bb"', "\n"),
    ("info-separators", "# \x1c\x1d\x1e", "\n"),
]


def test_noqa_rows_count_lines_as_python_does(tree):
    """Only CR, LF and CRLF end a line of Python; the row of a `# noqa` must agree with the finding's."""
    for name, oddity, separator in LINE_CASES:
        lines = [
            "import time",
            oddity,
            "",
            "async def handler():",
            "    time.sleep(1)  # noqa: CCL201",
            "    time.sleep(2)",
            "",
        ]
        write(tree, f"{name}.py", separator.join(lines))
    result = run_cli("check", cwd=tree)
    assert findings(result.stdout) == sorted((f"{name}.py", 6, 5, "CCL201") for name, _, _ in LINE_CASES)


def test_a_file_over_the_time_limit_is_a_finding_not_a_hang(tree):
    # thousands of nodes, and a limit too small for them: the analysis stops and says why
    write(tree, "big.py", "import threading\n" + "".join(f"def f{i}(x):\n    return x + {i}\n" for i in range(3000)))
    write(tree, "small.py", SLEEP)
    config(tree, "file-timeout = 0.000001\n")
    result = run_cli("check", "--no-cache", cwd=tree)
    assert result.returncode == 1
    assert ("big.py", 1, 1, "CCL001") in findings(result.stdout)
    assert "file-timeout" in result.stdout
    assert not result.stderr


def test_file_timeout_must_be_a_number(tree):
    write(tree, "a.py", SLEEP)
    config(tree, 'file-timeout = "soon"\n')
    result = run_cli("check", cwd=tree)
    assert result.returncode == 2
    assert "'file-timeout'" in result.stderr and len(result.stderr.strip().splitlines()) == 1
