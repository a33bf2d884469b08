"""The formats modelled on ruff's, colour, the summary, and the rule commands, through the installed CLI."""

from __future__ import annotations

import json
import subprocess
import xml.etree.ElementTree as ET

import pytest
from conftest import conclint_command, run_cli, write

from conclint.adapters.output import FORMATTERS
from conclint.adapters.report import ReportContext, color_wanted
from conclint.engine.run import run
from conclint.engine.settings import Settings
from conclint.rules import ALL_RULES

HELPER = "import requests\n\n\ndef load(url):\n    return requests.get(url).json()\n"
HANDLER = (
    "import time\n\nfrom app.storage import load\n\n\nasync def handle(url):\n    time.sleep(1)\n    return load(url)\n"
)
BROKEN = "def broken(:\n    pass\n"


@pytest.fixture
def app(tree):
    write(tree, "app/__init__.py", "")
    write(tree, "app/storage.py", HELPER)
    write(tree, "app/handlers.py", HANDLER)
    write(tree, "broken.py", BROKEN)
    return tree


def check(root, *args, **kwargs):
    result = run_cli("check", *args, cwd=root, **kwargs)
    assert result.returncode in (0, 1), result.stderr
    return result.stdout


def formatted(root, output_format: str) -> str:
    """The report in one format, made in-process from one run (the CLI's path is tested above and in
    test_cli_formats.py; a process per format would only cost interpreter starts)."""
    files = [str(root / "app" / "handlers.py"), str(root / "broken.py")]
    findings = run(files, Settings(root=str(root)), project_root=str(root)).findings
    return FORMATTERS[output_format](findings, str(root), ReportContext())


def test_concise_is_the_text_lines_and_the_summary_counts_errors_apart_from_hazards(app):
    text = check(app, "--output-format", "concise")
    assert text == check(app)
    assert text.splitlines()[-2:] == [
        "Found 2 hazards and 1 error in 2 files.",
        "[*] 1 fixable with the `--fix` option.",
    ]


def test_full_shows_the_source_with_the_span_and_the_related_places_underlined(app):
    lines = formatted(app, "full").splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("app/handlers.py:8:12: CCL210"))
    block = "\n".join(lines[start : start + 14])
    assert "8 |     return load(url)\n  |            ^^^^^^^^^ CCL210" in block
    assert "::: app/storage.py:5:12\n" in block  # the blocking call, in the module the file imports
    assert "5 |     return requests.get(url).json()\n  |            ----------------- blocking call" in block
    sleep = lines.index(
        "app/handlers.py:7:5: " + next(line for line in lines if ":7:5: CCL201" in line).split(":7:5: ")[1]
    )
    assert "  = help: Replace with `await asyncio.sleep(...)`" in lines[sleep : sleep + 8]


def test_grouped_puts_findings_under_their_file(app):
    lines = formatted(app, "grouped").splitlines()
    assert lines[0] == "app/handlers.py:"
    assert lines[1].startswith("  7:5  CCL201 ") and lines[2].startswith("  8:12 CCL210 ")
    assert lines[4] == "broken.py:"


def test_json_lines_pylint_junit_and_gitlab(app):
    items = [json.loads(line) for line in check(app, "--output-format", "json-lines").splitlines()]  # the CLI path
    assert [item["code"] for item in items] == ["CCL201", "CCL210", "CCL001"]
    assert [item["severity"] for item in items] == ["warning", "warning", "error"]

    pylint = formatted(app, "pylint").splitlines()
    assert pylint[0].startswith("app/handlers.py:7: [CCL201] `time.sleep()` blocks")

    suites = ET.fromstring(formatted(app, "junit"))
    assert (suites.tag, suites.get("tests"), suites.get("failures")) == ("testsuites", "3", "3")
    cases = suites.findall("testsuite/testcase")
    first = cases[0]
    assert (first.get("classname"), first.get("name"), first.get("line")) == (
        "app/handlers.py",
        "org.conclint.CCL201",
        "7",
    )
    assert cases[-1].find("failure").get("type") == "error"

    gitlab = json.loads(formatted(app, "gitlab"))
    assert [(g["check_name"], g["severity"], g["location"]["path"]) for g in gitlab] == [
        ("CCL201", "major", "app/handlers.py"),
        ("CCL210", "major", "app/handlers.py"),
        ("CCL001", "critical", "broken.py"),
    ]
    assert len({g["fingerprint"] for g in gitlab}) == 3


class Terminal:
    def isatty(self) -> bool:
        return True


def test_colour_follows_the_choice_and_no_color(app, monkeypatch):
    assert "\x1b[" not in check(app)  # a pipe, not a terminal
    assert "\x1b[1mapp/handlers.py\x1b[0m:7:5:" in check(app, "--color", "always")
    for name in ("NO_COLOR", "FORCE_COLOR", "TERM"):
        monkeypatch.delenv(name, raising=False)
    assert color_wanted("auto", Terminal()) and not color_wanted("never", Terminal())
    monkeypatch.setenv("NO_COLOR", "1")
    assert not color_wanted("auto", Terminal()) and color_wanted("always", Terminal())


def test_show_fixes_marks_the_fixable_findings_and_lists_what_fix_fixed(app):
    marked = check(app, "--show-fixes", "--select", "CCL2")
    assert ":7:5: CCL201 [*] `time.sleep()`" in marked and ":8:12: CCL210 `load(url)()`" not in marked
    fixed = run_cli("check", "--fix", "--show-fixes", cwd=app)
    assert "Fixed 1 hazard:\n- app/handlers.py:\n    1 × CCL201 (blocking-sleep-in-async)" in fixed.stderr
    assert "fixable" not in fixed.stdout


def test_add_noqa_silences_every_finding_and_keeps_existing_comments(tree):
    path = write(
        tree,
        "poll.py",
        "import time\n\n\nasync def poll():\n    time.sleep(1)  # noqa: CCL101\n    time.sleep(2)  # keep me\n"
        '    text = """\n    x"""\n',
    )
    result = run_cli("check", "--add-noqa", cwd=tree)
    assert (result.returncode, result.stderr) == (0, "Added 2 noqa directives.\n")
    assert path.read_text(encoding="utf-8") == (
        "import time\n\n\nasync def poll():\n    time.sleep(1)  # noqa: CCL101, CCL201\n"
        "    time.sleep(2)  # keep me  # noqa: CCL201\n"
        '    text = """\n    x"""\n'
    )
    assert run_cli("check", cwd=tree).returncode == 0


def test_a_missing_path_is_a_usage_error(tree):
    result = run_cli("check", "nowhere.py", cwd=tree)
    assert (result.returncode, result.stdout) == (2, "")
    assert result.stderr == "conclint: error: nowhere.py: no such file or directory\n"


def test_rules_as_json_and_a_rule_by_name_or_all_of_them(tree):
    listed = json.loads(run_cli("rules", "--output-format", "json", cwd=tree).stdout)
    assert [entry["code"] for entry in listed] == [rule.code for rule in ALL_RULES]
    assert listed[8] == {
        "code": "CCL201",
        "name": "blocking-sleep-in-async",
        "summary": ALL_RULES[8].summary,
        "linter": "conclint",
        "fix": "safe",
        "severity": "warning",
        "url": ALL_RULES[8].url(),
    }
    by_code = run_cli("rule", "CCL201", cwd=tree).stdout
    assert run_cli("rule", "blocking-sleep-in-async", cwd=tree).stdout == by_code
    assert run_cli("rule", "BLOCKING_SLEEP_IN_ASYNC", cwd=tree).stdout == by_code
    every = run_cli("rule", "--all", cwd=tree).stdout
    assert [line.split()[1] for line in every.splitlines() if line.startswith("# CCL")] == [r.code for r in ALL_RULES]
    unknown = run_cli("rule", "no-such-rule", cwd=tree)
    assert unknown.returncode == 2 and "unknown rule 'no-such-rule'" in unknown.stderr


def test_a_reader_that_leaves_early_is_no_traceback(tree):
    """`conclint rule --all | head -1`: the pipe closes while conclint still writes."""
    process = subprocess.Popen(
        [*conclint_command(), "rule", "--all"], cwd=str(tree), stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    assert process.stdout.readline().startswith(b"# CCL001")
    process.stdout.close()
    _, errors = process.communicate(timeout=120)
    assert b"Traceback" not in errors and b"BrokenPipe" not in errors
