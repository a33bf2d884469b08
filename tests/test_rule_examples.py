"""Each rule's documented examples: `bad` ones produce its code, `good` ones do not."""

from __future__ import annotations

import textwrap

import pytest

from conclint.engine.run import check_source
from conclint.rules import ALL_RULES

BAD = [(rule, i, code) for rule in ALL_RULES for i, code in enumerate(rule.bad)]
GOOD = [(rule, i, code) for rule in ALL_RULES for i, code in enumerate(rule.good)]


@pytest.mark.parametrize("rule,index,example", BAD, ids=[f"{r.code}-bad{i}" for r, i, _ in BAD])
def test_bad_example_is_reported(rule, index, example):
    codes = [f.code for f in check_source(textwrap.dedent(example), overrides=rule.example_settings)]
    assert rule.code in codes


@pytest.mark.parametrize("rule,index,example", GOOD, ids=[f"{r.code}-good{i}" for r, i, _ in GOOD])
def test_good_example_is_clean(rule, index, example):
    codes = [f.code for f in check_source(textwrap.dedent(example), overrides=rule.example_settings)]
    assert rule.code not in codes


@pytest.mark.parametrize("rule", ALL_RULES, ids=[r.code for r in ALL_RULES])
def test_rule_is_documented(rule):
    assert rule.bad and rule.good, "every rule shows a hazard and its fix"
    assert rule.name == rule.name.lower() and " " not in rule.name
    page = rule.documentation()
    assert rule.code in page and rule.summary in page
