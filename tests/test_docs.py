"""The documentation site: generated pages in step with the code, and a site that builds.

`conclint rule CODE` and the site show the same text, and the `url` of JSON output and
the `helpUri` of SARIF point at the page the site builds for the rule.
"""

from __future__ import annotations

import importlib.util
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from conclint.adapters.output import format_sarif
from conclint.rules import ALL_RULES

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
MKDOCS_YML = ROOT / "mkdocs.yml"


def _site_url() -> str:
    match = re.search(r"^site_url:\s*(\S+)\s*$", MKDOCS_YML.read_text(encoding="utf-8"), re.MULTILINE)
    assert match, "mkdocs.yml sets site_url"
    return match.group(1)


def test_generated_pages_are_in_sync():
    result = subprocess.run(
        [sys.executable, str(DOCS / "generate.py"), "--check"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, f"{result.stderr}\n(run `python docs/generate.py` and commit the pages)"


@pytest.mark.parametrize("rule", ALL_RULES, ids=[r.code for r in ALL_RULES])
def test_rule_page_is_the_rule_documentation(rule):
    page = DOCS / "rules" / f"{rule.code}.md"
    assert page.is_file(), f"no page for {rule.code}: run `python docs/generate.py`"
    assert page.read_bytes().decode("utf-8") == rule.documentation(), "run `python docs/generate.py`"
    assert f"rules/{rule.code}.md" in MKDOCS_YML.read_text(encoding="utf-8"), "the rule page is in the nav"


def test_rule_urls_are_the_site_pages():
    """Rule.url() is the address mkdocs gives rules/CODE.md: site_url + rules/CODE/."""
    config = MKDOCS_YML.read_text(encoding="utf-8")
    assert re.search(r"^use_directory_urls:\s*true\s*$", config, re.MULTILINE)
    site_url = _site_url()
    sarif_rules = json.loads(format_sarif([], str(ROOT)))["runs"][0]["tool"]["driver"]["rules"]
    help_uris = {entry["id"]: entry["helpUri"] for entry in sarif_rules}
    for rule in ALL_RULES:
        assert rule.url() == f"{site_url}rules/{rule.code}/"
        assert help_uris[rule.code] == rule.url()


def test_site_builds_strictly(tmp_path):
    if importlib.util.find_spec("mkdocs") is None or importlib.util.find_spec("material") is None:
        pytest.skip('mkdocs and mkdocs-material are not installed (pip install -e ".[test]" installs them)')
    site = tmp_path / "site"
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "mkdocs",
            "build",
            "--strict",
            "--config-file",
            str(MKDOCS_YML),
            "--site-dir",
            str(site),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "NO_MKDOCS_2_WARNING": "1"},
    )
    assert result.returncode == 0, result.stdout + result.stderr
    for rule in ALL_RULES:
        built = site / "rules" / rule.code / "index.html"
        assert built.is_file(), f"{rule.url()} is not built"
        assert f'<link rel="canonical" href="{rule.url()}">' in built.read_text(encoding="utf-8", errors="replace")
