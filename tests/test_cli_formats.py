"""The four report formats: text, ruff-compatible JSON, SARIF 2.1.0, GitHub workflow commands."""

from __future__ import annotations

import json
import os
import re
from urllib.parse import quote

import pytest
from conftest import run_cli, write

from conclint import __version__
from conclint.adapters.output import format_github, format_json, format_sarif
from conclint.engine.findings import Edit, Finding, Fix, Related, Span
from conclint.engine.run import check_source
from conclint.rules import ALL_RULES, RULES_BY_CODE

SLEEP = "import time\n\n\nasync def handler():\n    time.sleep(1)\n"  # CCL201 at 5:5, ends at 5:18
SLEEP_MESSAGE = check_source(SLEEP)[0].message
SYNTAX_ERROR = "def broken(:\n    pass\n"  # CCL001 at 1:12
JSON_KEYS = {
    *("cell", "code", "end_location", "filename", "fix", "location", "message", "noqa_row", "related", "url"),
    "severity",  # conclint's: the severity SARIF and GitHub annotations give it too
    "properties",  # conclint's: what a finding says besides its message (a blocking call's cost class)
}

# GitHub's workflow command grammar: `::error key=value,...::message`, where a property value
# escapes `%`, CR, LF, `:` and `,`, and the message escapes `%`, CR and LF.
PROPERTY_VALUE = r"(?:[^,:%\r\n]|%(?:25|0D|0A|3A|2C))*"
GITHUB_LINE = re.compile(
    rf"^::(?P<level>error|warning) title=(?P<title>{PROPERTY_VALUE}),file=(?P<file>{PROPERTY_VALUE}),"
    r"line=(?P<line>[1-9]\d*),col=(?P<col>[1-9]\d*),endLine=(?P<endLine>[1-9]\d*),endColumn=(?P<endColumn>[1-9]\d*)"
    r"::(?P<message>(?:[^%\r\n]|%(?:25|0D|0A))*)$"
)


def unescape(value: str) -> str:
    for escaped, raw in (("%0D", "\r"), ("%0A", "\n"), ("%3A", ":"), ("%2C", ","), ("%25", "%")):
        value = value.replace(escaped, raw)
    return value


def assert_ruff_fix_shape(fix) -> None:
    assert set(fix) == {"applicability", "message", "edits"}
    for edit in fix["edits"]:
        assert set(edit) == {"content", "location", "end_location"}
        assert set(edit["location"]) == set(edit["end_location"]) == {"row", "column"}


# --- JSON -------------------------------------------------------------------------------------------


def test_json_is_ruff_compatible(tree):
    write(tree, "pkg/a.py", SLEEP)
    write(tree, "b.py", SYNTAX_ERROR)
    result = run_cli("check", "--output-format", "json", cwd=tree)
    assert (result.returncode, result.stderr) == (1, "")
    items = json.loads(result.stdout)
    assert [set(item) for item in items] == [JSON_KEYS, JSON_KEYS]
    syntax, sleep = items
    assert syntax == {
        "cell": None,
        "code": "CCL001",
        "end_location": {"row": 1, "column": 12},
        "filename": str(tree / "b.py"),
        "fix": None,
        "location": {"row": 1, "column": 12},
        "message": "syntax error: invalid syntax",
        "noqa_row": 1,
        "related": [],
        "severity": "error",
        "properties": {},
        "url": RULES_BY_CODE["CCL001"].url(),
    }
    fix = sleep.pop("fix")
    assert sleep == {
        "cell": None,
        "code": "CCL201",
        "end_location": {"row": 5, "column": 18},
        "filename": str(tree / "pkg" / "a.py"),
        "location": {"row": 5, "column": 5},
        "message": SLEEP_MESSAGE,
        "noqa_row": 5,
        "related": [],
        "severity": "warning",
        "properties": {"cost": "unbounded"},
        "url": "https://conclint.readthedocs.io/en/latest/rules/CCL201/",
    }
    if fix is not None:
        assert_ruff_fix_shape(fix)


def test_json_without_findings_is_an_empty_array(tree):
    write(tree, "ok.py", "x = 1\n")
    result = run_cli("check", "--output-format", "json", cwd=tree)
    assert (result.returncode, result.stdout) == (0, "[]\n")


def test_json_related_locations_and_fix():
    """No CCL201 finding has related places, so this checks the formatter itself."""
    cwd = os.path.abspath("proj")
    path = os.path.join(cwd, "m.py")
    finding = Finding(
        "CCL201",
        "blocks",
        path,
        Span(3, 5, 3, 18),
        (Related("the coroutine starts here", os.path.join(cwd, "n.py"), Span(1, 1, 1, 10)),),
        Fix("Use asyncio.sleep", (Edit("await asyncio.sleep", Span(3, 5, 3, 15)),)),
    )
    (item,) = json.loads(format_json([finding], cwd))
    assert item["related"] == [
        {
            "message": "the coroutine starts here",
            "filename": os.path.join(cwd, "n.py"),
            "location": {"row": 1, "column": 1},
        }
    ]
    assert item["fix"] == {
        "applicability": "safe",
        "message": "Use asyncio.sleep",
        "edits": [
            {
                "content": "await asyncio.sleep",
                "location": {"row": 3, "column": 5},
                "end_location": {"row": 3, "column": 15},
            }
        ],
    }

    sarif = json.loads(format_sarif([finding], cwd))
    (result,) = sarif["runs"][0]["results"]
    assert result["message"]["text"] == "blocks (see [the coroutine starts here](1))"
    assert result["relatedLocations"] == [
        {
            "id": 1,
            "message": {"text": "the coroutine starts here"},
            "physicalLocation": {
                "artifactLocation": {"uri": "n.py", "uriBaseId": "%SRCROOT%"},
                "region": {"startLine": 1, "startColumn": 1, "endLine": 1, "endColumn": 10},
            },
        }
    ]


# --- SARIF ------------------------------------------------------------------------------------------


def test_sarif_2_1_0_document(tree):
    write(tree, "pkg/a.py", SLEEP)
    write(tree, "b.py", SYNTAX_ERROR)
    result = run_cli("check", "--output-format", "sarif", cwd=tree)
    assert (result.returncode, result.stderr) == (1, "")
    document = json.loads(result.stdout)
    assert set(document) == {"$schema", "version", "runs"}
    assert document["$schema"] == "https://json.schemastore.org/sarif-2.1.0.json"
    assert document["version"] == "2.1.0"
    (run,) = document["runs"]
    driver = run["tool"]["driver"]
    assert (driver["name"], driver["version"]) == ("conclint", __version__)
    assert [rule["id"] for rule in driver["rules"]] == [rule.code for rule in ALL_RULES]
    for entry, rule in zip(driver["rules"], ALL_RULES):
        assert (entry["name"], entry["shortDescription"], entry["helpUri"]) == (
            rule.name,
            {"text": rule.summary},
            rule.url(),
        )

    syntax, sleep = run["results"]
    for result_ in (syntax, sleep):
        assert driver["rules"][result_["ruleIndex"]]["id"] == result_["ruleId"]
        assert result_["relatedLocations"] == []
    assert (syntax["ruleId"], syntax["level"], syntax["message"]) == (
        "CCL001",
        "error",
        {"text": "syntax error: invalid syntax"},
    )
    assert syntax["locations"] == [
        {
            "physicalLocation": {
                "artifactLocation": {"uri": "b.py", "uriBaseId": "%SRCROOT%"},
                "region": {"startLine": 1, "startColumn": 12, "endLine": 1, "endColumn": 13},
            }
        }
    ]
    assert (sleep["ruleId"], sleep["level"], sleep["message"]) == ("CCL201", "warning", {"text": SLEEP_MESSAGE})
    assert sleep["locations"] == [
        {
            "physicalLocation": {
                "artifactLocation": {"uri": "pkg/a.py", "uriBaseId": "%SRCROOT%"},
                "region": {"startLine": 5, "startColumn": 5, "endLine": 5, "endColumn": 18},
            }
        }
    ]


def test_sarif_uris_are_valid_uri_references(tree, tmp_path):
    write(tree, "my dir/a#1 b%.py", SLEEP)
    outside = write(tmp_path, "far away/c.py", SLEEP)
    result = run_cli("check", "--output-format", "sarif", ".", str(outside), cwd=tree)
    locations = [
        r["locations"][0]["physicalLocation"]["artifactLocation"]
        for r in json.loads(result.stdout)["runs"][0]["results"]
    ]
    assert sorted(locations, key=lambda location: location["uri"]) == [
        {"uri": outside.as_uri()},
        {"uri": quote("my dir/a#1 b%.py"), "uriBaseId": "%SRCROOT%"},
    ]


def test_sarif_without_findings_has_an_empty_result_list(tree):
    write(tree, "ok.py", "x = 1\n")
    result = run_cli("check", "--output-format", "sarif", cwd=tree)
    assert result.returncode == 0
    assert json.loads(result.stdout)["runs"][0]["results"] == []


# --- GitHub -------------------------------------------------------------------------------------------


def test_github_annotations_follow_the_workflow_command_grammar(tree):
    write(tree, "pkg/a.py", SLEEP)
    write(tree, "b.py", SYNTAX_ERROR)
    write(tree, "odd/we,ird:name%.py", SLEEP)
    result = run_cli("check", "--output-format", "github", cwd=tree)
    assert (result.returncode, result.stderr) == (1, "")
    assert result.stdout.endswith("\n")
    parsed = []
    for line in result.stdout.splitlines():
        match = GITHUB_LINE.match(line)
        assert match, line
        fields = {key: unescape(value) for key, value in match.groupdict().items()}
        parsed.append(fields)
    assert parsed == [
        {
            "level": "error",  # a file conclint could not analyse
            "title": "conclint (CCL001)",
            "file": "b.py",
            "line": "1",
            "col": "12",
            "endLine": "1",
            "endColumn": "12",
            "message": "CCL001 syntax error: invalid syntax",
        },
        {
            "level": "warning",  # a hazard
            "title": "conclint (CCL201)",
            "file": "odd/we,ird:name%.py",
            "line": "5",
            "col": "5",
            "endLine": "5",
            "endColumn": "18",
            "message": f"CCL201 {SLEEP_MESSAGE}",
        },
        {
            "level": "warning",  # a hazard
            "title": "conclint (CCL201)",
            "file": "pkg/a.py",
            "line": "5",
            "col": "5",
            "endLine": "5",
            "endColumn": "18",
            "message": f"CCL201 {SLEEP_MESSAGE}",
        },
    ]
    assert "file=odd/we%2Cird%3Aname%25.py," in result.stdout


def test_github_escapes_messages():
    finding = Finding("CCL201", "100% blocked\r\nsee: here, there", os.path.abspath("m.py"), Span(1, 1, 1, 2))
    (line,) = format_github([finding], os.getcwd()).splitlines()
    match = GITHUB_LINE.match(line)
    assert match and unescape(match["message"]) == "CCL201 100% blocked\r\nsee: here, there"


def test_github_without_findings_prints_nothing(tree):
    write(tree, "ok.py", "x = 1\n")
    result = run_cli("check", "--output-format", "github", cwd=tree)
    assert (result.returncode, result.stdout) == (0, "")


@pytest.mark.parametrize("output_format", ["sarif", "github"])
def test_statistics_and_quiet_do_not_corrupt_machine_formats(tree, output_format):
    write(tree, "a.py", SLEEP)
    plain = run_cli("check", "--output-format", output_format, cwd=tree)
    assert (
        run_cli("check", "--output-format", output_format, "--quiet", "--statistics", cwd=tree).stdout == plain.stdout
    )


def test_statistics_in_json_are_counts_per_code_like_ruff(tree):
    write(tree, "a.py", SLEEP)
    write(tree, "b.py", SLEEP)
    result = run_cli("check", "--output-format", "json", "--statistics", cwd=tree)
    assert result.returncode == 1
    assert json.loads(result.stdout) == [{"code": "CCL201", "name": "blocking-sleep-in-async", "count": 2}]
