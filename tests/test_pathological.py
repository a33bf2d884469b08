"""Pathological input: each file gives findings or a clean result, in bounded time.

tests/test_bad_input.py already covers 500-deep nesting of expressions, `if` and `def`, a
5 MB file, NUL bytes and symlink loops. Here: the nesting it does not try, a file of 20,000
functions, 100,000-character lines, mixed line endings, and files that vanish between
discovery and analysis. Time is bounded by the subprocess timeout (a hang fails the test),
never by asserting on a measured time.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import List, Tuple

import pytest
from conftest import run_cli

from conclint.engine.cache import Cache
from conclint.engine.run import analyse_project, bytes_tag, run_rules
from conclint.engine.settings import Settings

SLEEP = "import time\n\n\nasync def handler():\n    time.sleep(1)\n"  # CCL201 at 5:5
TIMEOUT = 240  # seconds for one CLI run; far above what any of these takes on a loaded 2-core machine


Found = Tuple[str, int, int, str]


def check(root: Path, *args: str) -> List[Found]:
    """(file name, row, column, code) of every finding; fails on an internal error or a traceback."""
    result = run_cli("check", "--output-format", "json", "--exit-zero", *args, cwd=root, timeout=TIMEOUT)
    assert (result.returncode, result.stderr) == (0, ""), result.stderr[-3000:]
    return [
        (
            Path(item["filename"]).relative_to(root).as_posix(),
            item["location"]["row"],
            item["location"]["column"],
            item["code"],
        )
        for item in json.loads(result.stdout)
    ]


# --- nesting test_bad_input.py does not try ----------------------------------------------------

DEPTH = 500
DEEP = {
    "classes.py": "".join(" " * i + f"class C{i}:\n" for i in range(DEPTH)) + " " * DEPTH + "pass",
    "async_defs.py": "".join(
        " " * i + f"async def f{i}(self):\n" + " " * (i + 1) + "await self.x\n" for i in range(DEPTH)
    ),
    "withs.py": "".join(" " * i + "with a:\n" for i in range(DEPTH)) + " " * DEPTH + "pass",
    "fors.py": "".join(" " * i + "for x in y:\n" for i in range(DEPTH)) + " " * DEPTH + "pass",
    "trys.py": "".join(" " * i + "try:\n" for i in range(DEPTH))
    + " " * DEPTH
    + "pass\n"
    + "".join(" " * i + "finally:\n" + " " * (i + 1) + "pass\n" for i in reversed(range(DEPTH))),
    "comprehension.py": "x = [y " + "for y in z " * DEPTH + "]",
    "elifs.py": "if x == 0:\n    pass\n" + "".join(f"elif x == {i}:\n    pass\n" for i in range(1, 10 * DEPTH)),
    "decorators.py": "@d\n" * DEPTH + "def f():\n    pass",
    "method_chain.py": "x = y" + ".m()" * DEPTH,
}


@pytest.mark.slow
def test_more_kinds_of_deep_nesting_are_analysed_or_ccl001(tree):
    """A CCL201 above the deep code: analysed, it is reported; refused, the file is one CCL001."""
    for name, deep in DEEP.items():
        (tree / name).write_text(SLEEP + deep + "\n", encoding="utf-8")
    found = check(tree, "--jobs", "2")
    assert sorted({f[0] for f in found}) == sorted(DEEP)
    for name, row, col, code in found:
        assert (code, row, col) == ("CCL201", 5, 5) or code == "CCL001", (name, row, col, code)
    assert len(found) == len(DEEP)  # one finding a file: no spurious hazards out of the deep code


# --- size ----------------------------------------------------------------------------------------


@pytest.mark.slow
def test_twenty_thousand_small_functions(tree):
    """Most are plain helpers; every 100th is a coroutine calling the one before; one of them blocks."""
    count = 20_000
    parts = ["import asyncio\nimport time\n\n"]
    for i in range(count):
        if i % 100 == 99:
            parts.append(f"\nasync def f{i}(x):\n    await asyncio.sleep(0)\n    return f{i - 1}(x) + {i}\n")
        else:
            parts.append(f"\ndef f{i}(x):\n    return x + {i}\n")
    body = "".join(parts)
    row = body.count("\n") + 4
    (tree / "many.py").write_text(body + "\n\nasync def last():\n    time.sleep(1)\n", encoding="utf-8")
    assert check(tree) == [("many.py", row, 5, "CCL201")]


@pytest.mark.slow
def test_a_call_chain_of_5000_functions_from_a_thread(tree):
    """A thread runs f0, which calls f1, ... f4999 writes a global: a long walk through the call graph.
    A short chain beside it shows the same race, so the test also sees one file spoil another's analysis."""
    count = 5000
    lines = ["import threading\n\ncounter = 0\n"]
    lines += [f"\n\ndef f{i}():\n    f{i + 1}()\n" for i in range(count - 1)]
    lines.append(f"\n\ndef f{count - 1}():\n    global counter\n    counter = counter + 1\n")
    lines.append("\n\nthreads = [threading.Thread(target=f0) for _ in range(4)]\n")
    (tree / "chain.py").write_text("".join(lines), encoding="utf-8")
    short = tree / "short"
    short.mkdir()
    (short / "short_chain.py").write_text(
        "".join([*lines[:4], lines[-2].replace(f"f{count - 1}", "f3"), lines[-1]]), encoding="utf-8"
    )
    found = check(tree)
    short_codes = sorted({code for name, _, _, code in found if name.startswith("short/")})
    long_codes = sorted({code for name, _, _, code in found if name == "chain.py"})
    assert short_codes, "the short chain shows the race this test is about"
    assert long_codes == short_codes, found


# --- long lines -------------------------------------------------------------------------------------

LONG = 100_000


@pytest.mark.slow
def test_hundred_thousand_character_lines(tree):
    string = "x" * LONG
    (tree / "string.py").write_text(
        f"import time\n\n\nasync def handler():\n    s = '{string}'; time.sleep(1)\n", encoding="utf-8"
    )
    names = ", ".join(["name"] * (LONG // 6))
    (tree / "flat_list.py").write_text(SLEEP + f"x = [{names}]\n", encoding="utf-8")
    (tree / "call_arguments.py").write_text(SLEEP + f"x = f({names})\n", encoding="utf-8")
    (tree / "comment.py").write_text(SLEEP + "# " + "c" * LONG + "\n", encoding="utf-8")
    (tree / "bools.py").write_text(SLEEP + "x = " + " and ".join(["a"] * (LONG // 6)) + "\n", encoding="utf-8")
    found = check(tree, "--jobs", "2")
    by_file = {name: (row, col, code) for name, row, col, code in found}
    assert len(by_file) == len(found) == 5, found
    assert by_file["string.py"] == (5, len(f"    s = '{string}'; ") + 1, "CCL201")  # the column counts the long string
    for name in ("flat_list.py", "call_arguments.py", "comment.py"):
        assert by_file[name] == (5, 5, "CCL201"), name
    row, _, code = by_file["bools.py"]  # 16,000 `and`: flat in CPython's tree, nested in libcst's
    assert (row, code) == (5, "CCL201") or code == "CCL001", by_file["bools.py"]


def test_a_hundred_thousand_character_sum(tree):
    """``x = 1 + 1 + ...`` on one 100,000-character line (25,000 terms): refused (CCL001) or analysed, quickly.
    The timeout is short because either answer takes well under a second; the bug takes minutes."""
    (tree / "sum.py").write_text(SLEEP + "x = " + " + ".join(["1"] * (LONG // 4)) + "\n", encoding="utf-8")
    result = run_cli("check", "--output-format", "json", "--exit-zero", cwd=tree, timeout=15)
    assert (result.returncode, result.stderr) == (0, ""), result.stderr[-3000:]
    found = [(item["location"]["row"], item["code"]) for item in json.loads(result.stdout)]
    assert found == [(5, "CCL201")] or [code for _, code in found] == ["CCL001"], found


# --- line endings -------------------------------------------------------------------------------------


def test_mixed_line_endings_count_rows_as_python_does(tree):
    """\\r\\n, \\r and \\n in one file (in a string, after a backslash): rows as CPython and editors count them."""
    lines = [
        ("import time", "\r\n"),
        ("x = 1", "\r"),
        ('s = """one', "\r\n"),
        ("two", "\r"),
        ('three"""', "\n"),
        ("y = 1 + \\", "\r\n"),
        ("    2", "\r"),
        ("", "\r\n"),
        ("async def handler():", "\r"),
        ("    time.sleep(1)", "\r\n"),
        ("async def other():", "\n"),
        ("    time.sleep(2)", "\r"),  # the last line ends with a lone \r
    ]
    (tree / "mixed.py").write_bytes("".join(text + end for text, end in lines).encode())
    assert check(tree) == [("mixed.py", 10, 5, "CCL201"), ("mixed.py", 12, 5, "CCL201")]


# --- files that vanish during the run ----------------------------------------------------------------


@pytest.mark.parametrize("jobs", [1, 2])
def test_a_file_deleted_between_discovery_and_analysis_is_ccl002(tmp_path, jobs):
    present, gone = tmp_path / "present.py", tmp_path / "gone.py"
    present.write_text(SLEEP, encoding="utf-8")
    settings = Settings(root=str(tmp_path))
    files = [str(gone), str(present)]  # as discovery listed them; gone.py was deleted since
    results = analyse_project(files, settings, jobs=jobs)
    assert [r.path for r in results] == files
    assert not any(r.internal_error for r in results)
    outcome = run_rules(results, settings, [str(tmp_path)], len(files))
    assert not outcome.internal_errors
    assert [(Path(f.path).name, f.span.row, f.code) for f in outcome.findings] == [
        ("gone.py", 1, "CCL002"),
        ("present.py", 5, "CCL201"),
    ]
    assert outcome.findings[0].message == "file cannot be read: No such file or directory"


def test_a_file_that_vanished_for_one_run_is_analysed_when_it_comes_back(tmp_path):
    present, flaky = tmp_path / "present.py", tmp_path / "flaky.py"
    present.write_text(SLEEP, encoding="utf-8")
    flaky.write_text(SLEEP, encoding="utf-8")
    settings = Settings(root=str(tmp_path))
    cache = Cache(str(tmp_path / "cache"))
    files = [str(flaky), str(present)]
    original = {path: Path(path).read_bytes() for path in files}
    contents = {path: bytes_tag(data) for path, data in original.items()}  # run() reads every file's bytes first
    flaky.unlink()  # ... then the file goes away before it is analysed
    first = run_rules(analyse_project(files, settings, cache=cache, contents=contents), settings, [str(tmp_path)], 2)
    assert [f.code for f in first.findings] == ["CCL002", "CCL201"]
    flaky.write_bytes(original[str(flaky)])  # back, byte for byte
    again = run_rules(analyse_project(files, settings, cache=cache, contents=contents), settings, [str(tmp_path)], 2)
    assert [(Path(f.path).name, f.code) for f in again.findings] == [("flaky.py", "CCL201"), ("present.py", "CCL201")]


def test_the_time_limit_striking_while_positions_are_computed_is_a_timeout_not_a_crash():
    # a nested node's position is recorded when its parent's ends: a timeout in between once
    # surfaced as a KeyError (an internal error, exit 2) on a large generated module under load
    import libcst

    from conclint.engine.deadline import AnalysisTimeout, deadline
    from conclint.model.positions import node_positions

    module = libcst.parse_module("def f(server):\n" + "    node = make(1, 2)\n    server.add([node])\n" * 3000)
    deadline.start(1e-9)  # already over: the first look at the clock stops the walk
    try:
        with pytest.raises(AnalysisTimeout):
            node_positions(module)
    finally:
        deadline.stop()
