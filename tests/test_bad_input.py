"""Bad input becomes a finding (CCL001, CCL002) or a clean internal-error report, never a traceback."""

from __future__ import annotations

import ast
import json
import os
import re
import sys
from pathlib import Path
from typing import List, Tuple

import pytest
from conftest import run_cli, write

# CCL201 at 5:5 (end exclusive at 5:18).
SLEEP = "import time\n\n\nasync def handler():\n    time.sleep(1)\n"
NUL_MESSAGE = "file contains a NUL byte; Python refuses such source"
HINT = "conclint: this is a bug in conclint; please report it with the file that triggers it"


Found = Tuple[str, int, int, str, str]


def check_json(root: Path, *args: str, env_extra=None) -> Tuple[int, List[Found], str]:
    """Exit code, (path relative to root, row, col, code, message) of every finding, stderr."""
    result = run_cli("check", "--output-format", "json", *args, cwd=root, env_extra=env_extra)
    assert "Traceback" not in result.stderr, result.stderr
    found = [
        (
            Path(item["filename"]).relative_to(root).as_posix(),
            item["location"]["row"],
            item["location"]["column"],
            item["code"],
            item["message"],
        )
        for item in json.loads(result.stdout)
    ]
    return result.returncode, found, result.stderr


def cpython_syntax_error(source: str) -> Tuple[int, int, str]:
    """(row, col, message) as CPython reports the error: its wording changes between versions."""
    with pytest.raises(SyntaxError) as info:
        ast.parse(source)
    return info.value.lineno, info.value.offset, f"syntax error: {info.value.msg}"


def sleep_finding(name: str, row: int = 5, col: int = 5) -> Tuple[str, int, int, str]:
    return (name, row, col, "CCL201")


def without_messages(found: List[Found]) -> List[Tuple[str, int, int, str]]:
    return [f[:4] for f in found]


# --- CCL001: does not parse ------------------------------------------------------------------------

SYNTAX_ERRORS = {
    "call.py": "def broken(:\n    pass\n",
    "paren.py": "x = (1,\ny = 2\n",
    "indent.py": "x = 1\n    y = 2\n",
    "dedent.py": "if x:\n        y = 1\n    z = 2\n",
    "tabs.py": "if x:\n\ty = 1\n        z = 2\n",
    "py2.py": 'print "hello"\n',
    "string.py": 'x = "never closed\n',
    "late.py": SLEEP + "\n\ndef late(:\n    pass\n",
}


def test_syntax_errors_are_ccl001_with_cpythons_message_and_position(tree):
    for name, source in SYNTAX_ERRORS.items():
        write(tree, name, source)
    write(tree, "fine.py", SLEEP)
    code, found, stderr = check_json(tree)
    expected = [(name, *cpython_syntax_error(source)) for name, source in SYNTAX_ERRORS.items()]
    expected = [(name, row, col, "CCL001", message) for name, row, col, message in expected]
    assert code == 1 and stderr == ""
    assert sorted(f for f in found if f[3] == "CCL001") == sorted(expected)
    assert without_messages([f for f in found if f[3] != "CCL001"]) == [sleep_finding("fine.py")]


def test_syntax_error_in_text_output(tree):
    write(tree, "b.py", "def broken(:\n    pass\n")
    result = run_cli("check", cwd=tree)
    row, col, message = cpython_syntax_error("def broken(:\n    pass\n")
    assert (result.returncode, result.stdout) == (1, f"b.py:{row}:{col}: CCL001 {message}\nFound 1 error in 1 file.\n")


# --- CCL002: cannot be read or decoded ----------------------------------------------------------


def test_invalid_utf8_without_cookie_is_ccl002_at_the_byte(tree):
    write(tree, "late.py", b"x = 1\ny = 2\ns = '\xff'\n")
    write(tree, "first.py", b"s = '\xe9t\xe9'\n")
    write(tree, "fine.py", SLEEP)
    code, found, _ = check_json(tree)
    assert code == 1
    assert without_messages(found) == [
        sleep_finding("fine.py"),
        ("first.py", 1, 1, "CCL002"),
        ("late.py", 3, 6, "CCL002"),
    ]
    assert found[1][4].startswith("file cannot be decoded")  # found while looking for a coding cookie
    assert found[2][4] == "file cannot be decoded as utf-8: invalid byte 0xff"


LATIN1_SLEEP = "import time\n\n\nasync def handler():\n    s = 'caf\xe9'; time.sleep(1)\n"
COL = LATIN1_SLEEP.splitlines()[4].index("time.sleep") + 1  # in characters: 17, though 'é' is two bytes in UTF-8


ENCODING_CASES = [
    ("cookie.py", b"# -*- coding: latin-1 -*-\n" + LATIN1_SLEEP.encode("latin-1"), ("CCL201", 6, COL)),
    (
        "shebang.py",
        b"#!/usr/bin/env python\n# coding=iso-8859-1\n" + LATIN1_SLEEP.encode("latin-1"),
        ("CCL201", 7, COL),
    ),
    ("vim.py", b"# vim: set fileencoding=latin-1 :\n" + LATIN1_SLEEP.encode("latin-1"), ("CCL201", 6, COL)),
    (
        "utf8.py",
        ("# coding: utf-8\n" + LATIN1_SLEEP.replace("caf\xe9", "\u00e9\u00e9\u00e9\u00e9")).encode(),
        ("CCL201", 6, COL),
    ),
    ("bom.py", b"\xef\xbb\xbf" + LATIN1_SLEEP.encode("utf-8"), ("CCL201", 5, COL)),
    ("bom-cookie.py", b"\xef\xbb\xbf# coding: utf-8\n" + LATIN1_SLEEP.encode("utf-8"), ("CCL201", 6, COL)),
    ("bom-syntax.py", b"\xef\xbb\xbfdef broken(:\n    pass\n", ("CCL001", 1, 12)),
    ("cookie-too-late.py", b"\n\n# coding: latin-1\n" + LATIN1_SLEEP.encode("latin-1"), ("CCL002", 8, 13)),
    ("bom-latin1.py", b"\xef\xbb\xbf# coding: latin-1\n" + LATIN1_SLEEP.encode("latin-1"), ("CCL002", 1, 1)),
    ("unknown.py", b"# coding: klingon\nx = 1\n", ("CCL002", 1, 1)),
    ("undefined.py", b"# coding: undefined\nx = 1\n", ("CCL002", 1, 1)),
    ("rot13.py", b"# coding: rot13\nx = 1\n", ("CCL002", 1, 1)),
    ("utf16.py", b"\xff\xfe" + "x = 1\n".encode("utf-16-le"), ("CCL002", 1, 4)),  # its first NUL
]


def test_encodings_follow_pep_263(tree):
    """Columns count characters, not bytes; a cookie only counts on line 1 or 2; the BOM is not a column."""
    for name, data, _ in ENCODING_CASES:
        write(tree, name, data)
    code, found, stderr = check_json(tree)
    assert (code, stderr) == (1, "")
    assert without_messages(found) == sorted((name, row, col, rule) for name, _, (rule, row, col) in ENCODING_CASES)
    messages = {f[0]: f[4] for f in found}
    assert "klingon" in messages["unknown.py"]
    assert all(messages[name].startswith("file ") for name, _, (rule, _, _) in ENCODING_CASES if rule == "CCL002")


def test_nul_byte_is_ccl002_at_its_position(tree):
    write(tree, "start.py", b"x = 1\0\n")
    write(tree, "middle.py", b"import time\n\ns = 'a\0b'\n" + SLEEP.encode())
    code, found, _ = check_json(tree)
    assert code == 1
    assert found == [("middle.py", 3, 7, "CCL002", NUL_MESSAGE), ("start.py", 1, 6, "CCL002", NUL_MESSAGE)]


TRIVIAL = [b"", b"\n\n\n", b"   \t  ", b"# only a comment", b"\xef\xbb\xbf", b"\r\n", b"\x0c\n", b'"""docstring"""']


def test_empty_and_trivial_files_pass(tree):
    for i, data in enumerate(TRIVIAL):
        write(tree, f"trivial{i}.py", data)
    result = run_cli("check", cwd=tree)
    assert (result.returncode, result.stdout, result.stderr) == (0, "All checks passed.\n", "")


@pytest.mark.slow
def test_five_megabyte_generated_file(tree):
    line = "VALUE_{:07d} = '" + "x" * 400 + "'\n"  # long lines: 5 MB in few statements
    count = 5 * 1024 * 1024 // len(line.format(0)) + 1
    body = "".join(line.format(i) for i in range(count))
    assert len(body) > 5 * 1024 * 1024
    write(tree, "generated.py", body + SLEEP)
    code, found, stderr = check_json(tree)
    assert (code, stderr) == (1, "")
    assert without_messages(found) == [sleep_finding("generated.py", count + 5)]


DEPTH = 500
DEEP = {
    "parens.py": "x = " + "(" * DEPTH + "1" + ")" * DEPTH,
    "lists.py": "x = " + "[" * DEPTH + "]" * DEPTH,
    "calls.py": "x = " + "f(" * DEPTH + ")" * DEPTH,
    "ifs.py": "".join(" " * i + "if x:\n" for i in range(DEPTH)) + " " * DEPTH + "pass",
    "defs.py": "".join(" " * i + "def f():\n" for i in range(DEPTH)) + " " * DEPTH + "pass",
    "nots.py": "x = " + "not " * DEPTH + "y",
    "minus.py": "x = " + "-" * DEPTH + "y",
    "lambdas.py": "x = " + "lambda: " * DEPTH + "1",
    "attributes.py": "x = y" + ".a" * DEPTH,
    "subscripts.py": "x = y" + "[0]" * DEPTH,
    "chained.py": "x = " + " + ".join(["1"] * DEPTH),
    "power.py": "x = " + " ** ".join(["2"] * DEPTH),
    "ternary.py": "x = " + " if c else ".join(["1"] * DEPTH),
}


def test_nesting_500_deep_is_analysed_or_ccl001(tree):
    """Each file holds a CCL201 above the deep line: analysed, it is reported; refused, the file is one CCL001."""
    for name, deep in DEEP.items():
        write(tree, name, SLEEP + deep + "\n")
    code, found, stderr = check_json(tree, "--jobs", "2")
    assert (code, stderr) == (1, "")
    assert sorted(f[0] for f in found) == sorted(DEEP)
    for _, row, col, rule, _ in found:
        assert (rule, row, col) == ("CCL201", 5, 5) or (rule == "CCL001" and row >= 6), found
    assert check_json(tree) == (code, found, stderr)  # the deep stack is the same in one process


# --- paths that are not ordinary files -------------------------------------------------------------


@pytest.mark.skipif(sys.platform == "win32", reason="symlinks need privileges on Windows")
def test_symlink_loops_do_not_trap_the_walk(tree):
    write(tree, "pkg/a.py", SLEEP)
    os.symlink(".", tree / "pkg" / "self")
    os.symlink("..", tree / "pkg" / "parent")
    os.makedirs(tree / "deep" / "er")
    os.symlink(str(tree / "deep"), tree / "deep" / "er" / "up")
    os.symlink("two.py", tree / "one.py")
    os.symlink("one.py", tree / "two.py")
    code, found, stderr = check_json(tree)
    assert (code, stderr) == (1, "")
    assert without_messages(found) == [
        ("one.py", 1, 1, "CCL002"),
        sleep_finding("pkg/a.py"),
        ("two.py", 1, 1, "CCL002"),
    ]
    assert found[0][4].startswith("file cannot be read: ")
    # a symlinked folder named on the command line is walked, its own loops still are not
    code, found, _ = check_json(tree, "pkg/self")
    assert without_messages(found) == [sleep_finding("pkg/self/a.py")]


def test_a_directory_named_like_a_module(tree):
    write(tree, "x.py/inner.py", SLEEP)
    os.makedirs(tree / "empty.py")
    walked = run_cli("check", cwd=tree)
    assert (walked.returncode, walked.stdout.splitlines()[1:2]) == (1, ["Found 1 hazard in 1 file."])
    assert walked.stdout.startswith(os.path.join("x.py", "inner.py") + ":5:5: CCL201 ")
    assert run_cli("check", "x.py", "empty.py", cwd=tree).stdout == walked.stdout  # named, a folder is walked
    result = run_cli("check", "empty.py", cwd=tree)
    assert (result.returncode, result.stdout, result.stderr) == (0, "All checks passed.\n", "")


@pytest.mark.skipif(sys.platform == "win32", reason="symlinks need privileges on Windows")
def test_dangling_symlink_named_explicitly_is_ccl002(tree):
    os.symlink("nowhere.py", tree / "gone.py")
    write(tree, "a.py", SLEEP)
    code, found, stderr = check_json(tree, "gone.py", "a.py")
    assert (code, stderr) == (1, "")
    assert without_messages(found) == [sleep_finding("a.py"), ("gone.py", 1, 1, "CCL002")]
    assert found[1][4] == "file cannot be read: No such file or directory"


@pytest.mark.skipif(not hasattr(os, "geteuid"), reason="POSIX permissions")
def test_unreadable_file_is_ccl002(tree):
    if os.geteuid() == 0:
        pytest.skip("root reads files whatever their mode")
    path = write(tree, "secret.py", SLEEP)
    write(tree, "a.py", SLEEP)
    path.chmod(0)
    try:
        code, found, stderr = check_json(tree)
    finally:
        path.chmod(0o644)
    assert (code, stderr) == (1, "")
    assert without_messages(found) == [sleep_finding("a.py"), ("secret.py", 1, 1, "CCL002")]
    assert found[1][4] == "file cannot be read: Permission denied"


@pytest.mark.skipif(sys.platform in ("win32", "darwin"), reason="needs a file system that takes any bytes as a name")
def test_file_name_that_is_not_utf8_is_reported_escaped(tree):
    name = os.fsdecode(b"caf\xe9.py")  # 'caf\udce9.py'
    try:
        write(tree, name, SLEEP)
    except (OSError, UnicodeError):
        pytest.skip("this file system refuses names that are not UTF-8")
    strict = {"PYTHONIOENCODING": "utf-8:strict"}  # as on a UTF-8 desktop or CI, whatever this machine's locale
    outputs = {}
    for output_format in ("text", "github", "sarif", "json"):
        result = run_cli("check", "--output-format", output_format, cwd=tree, env_extra=strict)
        assert (result.returncode, result.stderr) == (1, ""), output_format
        outputs[output_format] = result.stdout
    assert outputs["text"].startswith("caf\\udce9.py:5:5: CCL201 ")
    assert ",file=caf\\udce9.py," in outputs["github"]
    location = json.loads(outputs["sarif"])["runs"][0]["results"][0]["locations"][0]["physicalLocation"]
    assert location["artifactLocation"]["uri"] == "caf%E9.py"
    assert json.loads(outputs["json"])[0]["filename"] == str(tree / name)
    result = run_cli("check", "-o", "report.txt", cwd=tree, env_extra=strict)
    assert (result.returncode, result.stderr) == (1, "")
    assert (tree / "report.txt").read_text(encoding="utf-8").startswith("caf\\udce9.py:5:5: CCL201 ")


# --- internal errors ----------------------------------------------------------------------------------

INTERNAL = re.compile(
    r"^conclint: internal error in (?P<path>\S+): RuntimeError: CONCLINT_TEST_FAIL_ON asked this file to fail \(at "
    r"\S+:\d+\)$"
)


@pytest.mark.parametrize("extra", [[], ["--exit-zero"], ["--jobs", "2"]], ids=["plain", "exit-zero", "jobs"])
def test_internal_error_is_reported_and_the_run_goes_on(tree, extra):
    write(tree, "pkg/boom.py", SLEEP)
    write(tree, "pkg/kaboom_too.py", SLEEP)
    write(tree, "a.py", SLEEP)
    write(tree, "z.py", SLEEP)
    result = run_cli("check", *extra, cwd=tree, env_extra={"CONCLINT_TEST_FAIL_ON": "boom"})
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    lines = result.stderr.splitlines()
    assert [INTERNAL.match(line)["path"] for line in lines[:-1]] == [
        os.path.join("pkg", "boom.py"),
        os.path.join("pkg", "kaboom_too.py"),
    ]
    assert lines[-1] == HINT
    assert [line.split(": CCL")[0] for line in result.stdout.splitlines()[:-2]] == ["a.py:5:5", "z.py:5:5"]
    assert result.stdout.splitlines()[-2] == "Found 2 hazards in 2 files."


def test_internal_error_keeps_a_machine_readable_report(tree):
    write(tree, "boom.py", SLEEP)
    write(tree, "a.py", SLEEP)
    code, found, stderr = check_json(tree, env_extra={"CONCLINT_TEST_FAIL_ON": "boom"})
    assert code == 2
    assert without_messages(found) == [sleep_finding("a.py")]
    assert stderr.splitlines()[-1] == HINT


# --- the "done when" --------------------------------------------------------------------------


def test_done_when_scenario(tree):
    write(tree, "app/handlers.py", SLEEP)
    write(tree, "app/broken.py", "def broken(:\n    pass\n")
    latin1 = (
        "# -*- coding: latin-1 -*-\n"
        "import time\n"
        "\n"
        "GREETING = 'Gr\xfc\xdfe aus K\xf6ln'\n"
        "\n"
        "\n"
        "async def poll():\n"
        "    time.sleep(1)  # noqa: CCL201\n"
    )
    write(tree, "app/legacy.py", latin1.encode("latin-1"))
    write(tree, "app/nul.py", b"x = 1\n\0\n")

    code, found, stderr = check_json(tree, ".")
    assert (code, stderr) == (1, "")
    row, col, message = cpython_syntax_error("def broken(:\n    pass\n")
    assert [f[:4] for f in found[:2]] == [("app/broken.py", row, col, "CCL001"), sleep_finding("app/handlers.py")]
    assert found[0][4] == message
    assert [f[0] for f in found[2:]] == ["app/nul.py"] and found[2][3] in ("CCL001", "CCL002")

    result = run_cli("check", "--output-format", "json", "--exit-zero", ".", cwd=tree)
    assert result.returncode == 0
    assert len(json.loads(result.stdout)) == 3

    (tree / "pyproject.toml").write_text('[tool.conclint]\nselct = ["CCL2"]\n', encoding="utf-8")
    result = run_cli("check", "--output-format", "json", ".", cwd=tree)
    assert (result.returncode, result.stdout) == (2, "")
    assert result.stderr.count("\n") == 1 and "'selct'" in result.stderr and "pyproject.toml" in result.stderr


# --- --fix and --diff read and write a file in its own encoding -----------------------------------


def test_fix_keeps_each_files_encoding(tree):
    latin1 = "# -*- coding: latin-1 -*-\nimport time\n\nNAME = 'K\xf6ln'\n\n\nasync def poll():\n    time.sleep(1)\n"
    bom = "import time\n\n\nasync def poll():\n    time.sleep(1)\n"
    write(tree, "legacy.py", latin1.encode("latin-1"))
    write(tree, "bom.py", b"\xef\xbb\xbf" + bom.encode("utf-8"))

    diff = run_cli("check", "--diff", cwd=tree)
    assert (diff.returncode, diff.stderr) == (1, "")
    assert (
        "-    time.sleep(1)\n" in diff.stdout and "+++ b/legacy.py\n" in diff.stdout and "+++ b/bom.py\n" in diff.stdout
    )
    assert "\ufeff" not in diff.stdout
    assert (tree / "legacy.py").read_bytes() == latin1.encode("latin-1")  # --diff writes nothing

    fixed = run_cli("check", "--fix", cwd=tree)
    assert "Traceback" not in fixed.stderr
    assert (fixed.returncode, fixed.stdout) == (0, "All checks passed.\n")
    legacy = (tree / "legacy.py").read_bytes().decode("latin-1")
    assert (
        legacy.startswith("# -*- coding: latin-1 -*-\n")
        and "NAME = 'K\xf6ln'\n" in legacy
        and "time.sleep(1)" not in legacy
    )
    data = (tree / "bom.py").read_bytes()
    assert data.startswith(b"\xef\xbb\xbf") and data.count(b"\xef\xbb\xbf") == 1 and b"time.sleep(1)" not in data
    again = run_cli("check", cwd=tree)
    assert (again.returncode, again.stdout) == (0, "All checks passed.\n")


def test_fix_lands_on_the_reported_row_after_a_form_feed(tree):
    write(tree, "a.py", "import time\n\x0c\n\nasync def handler():\n    time.sleep(1)\n")
    result = run_cli("check", "--diff", cwd=tree)
    assert "+async def handler():" not in result.stdout and "-async def handler():" not in result.stdout
    assert "-    time.sleep(1)\n" in result.stdout
