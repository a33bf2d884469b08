"""Which files the first round analyses in full: trigger words in code count, not in strings or comments."""

from __future__ import annotations

import os

import pytest

from conclint.engine.analysis import analyse_file
from conclint.engine.demand import Demand, demand_of, trigger_pattern
from conclint.engine.run import run
from conclint.engine.settings import Settings

TRIGGERS = trigger_pattern(Settings())


@pytest.mark.parametrize(
    "source",
    [
        '"""Help: ``async def f(): await g()`` runs on the loop."""\nx = 1\n',
        "TOPICS = {'with': '''async with threading.Lock():\n    ...'''}\n",  # a table of help texts
        "x = 1  # asyncio would do this better\n",
        "s = r'\\'threading'\n",  # a raw string's escaped quote does not end it
        's = "a\\"threading"\n',
        "data = b'fork'\n",
        "s = '''it''' + 'asyncio'  # multiprocessing\n",
    ],
)
def test_trigger_words_only_in_strings_or_comments_do_not_ask_for_a_full_analysis(source):
    assert demand_of("m.py", source, TRIGGERS) is Demand.TEXT


@pytest.mark.parametrize(
    "source",
    [
        "import threading\n",
        '"""A module."""\nimport asyncio\n',
        "s = '''it's''' \nimport asyncio\n",
        'label = f"{threading.get_ident()}"\n',  # the code in an f-string's braces
        'x = f"{a["k"]}" + "asyncio"\n',  # a quote inside the braces (Python 3.12): the rest is read as code
        'class Registry:\n    """A thread-safe registry."""\n',  # what a docstring says of thread safety counts
        "class Cache:  # conclint: thread-safe\n    pass\n",
    ],
)
def test_trigger_words_in_code_ask_for_a_full_analysis(source):
    assert demand_of("m.py", source, TRIGGERS) is Demand.CODE


def test_a_file_without_trigger_words_is_only_syntax_checked(tmp_path):
    path = tmp_path / "plain.py"
    path.write_text("x = 1\n")
    assert demand_of(str(path), path.read_text(), TRIGGERS) is Demand.NONE
    assert analyse_file(str(path), TRIGGERS).light


def test_a_table_of_help_texts_is_only_syntax_checked(tmp_path):
    path = tmp_path / "topics.py"
    path.write_text("topics = {'async': 'The async def statement...\\n', 'await': 'await x suspends'}\n")
    result = analyse_file(str(path), TRIGGERS)
    assert result.light and result.facts is None and not result.findings


def test_a_file_of_strings_that_is_not_valid_python_is_still_reported(tmp_path):
    path = tmp_path / "broken.py"
    path.write_text("topics = {'async': 'async def'\n")
    result = analyse_file(str(path), TRIGGERS)
    assert [f.code for f in result.findings] == ["CCL001"] and not result.light


def test_a_helper_whose_trigger_words_are_only_in_its_docstring_is_still_analysed_when_reached(tmp_path):
    (tmp_path / "helper.py").write_text(
        '"""Counting, for code that runs in threading.Thread targets."""\n\ncount = 0\n\n\n'
        "def bump():\n    global count\n    count += 1\n"
    )
    (tmp_path / "main.py").write_text(
        "import threading\n\nfrom helper import bump\n\nfor _ in range(4):\n    threading.Thread(target=bump).start()\n"
    )
    helper = str(tmp_path / "helper.py")
    assert analyse_file(helper, TRIGGERS).light  # not in the first round
    found = run([str(tmp_path)], Settings(root=str(tmp_path))).findings
    assert [(os.path.basename(f.path), f.code) for f in found] == [("helper.py", "CCL101")]
