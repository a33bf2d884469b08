"""`conclint check --fix` / `--diff` for CCL201, run through the installed CLI on copies in tmp_path.

Every test compares the whole file (or the whole diff) with the exact expected text.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import run_cli, write


def read(path: Path) -> str:
    return path.read_bytes().decode("utf-8")


def fix(root: Path, name: str, text: str, *extra: str):
    path = write(root, name, text)
    result = run_cli("check", "--fix", *extra, name, cwd=root)
    return read(path), result


# ---- what --fix writes ---------------------------------------------------------


def test_sleep_becomes_awaited_asyncio_sleep_the_import_is_added_and_the_unused_one_removed(tree):
    after, result = fix(
        tree,
        "poll.py",
        "import time\n\n\nasync def poll(x):\n    time.sleep(x)\n",
    )
    assert after == ("import asyncio\n\n\nasync def poll(x):\n    await asyncio.sleep(x)\n")
    assert "CCL201" not in result.stdout
    assert result.returncode == 0, result.stdout + result.stderr


def test_import_goes_after_docstring_and_future_imports(tree):
    after, _ = fix(
        tree,
        "poll.py",
        '"""Polls the device."""\n'
        "from __future__ import annotations\n"
        "\n"
        "import time\n"
        "from typing import Optional\n"
        "\n"
        "\n"
        "async def poll(x: Optional[float]):\n"
        "    time.sleep(x or 1)\n",
    )
    assert after == (
        '"""Polls the device."""\n'
        "from __future__ import annotations\n"
        "\n"
        "import asyncio\n"
        "from typing import Optional\n"
        "\n"
        "\n"
        "async def poll(x: Optional[float]):\n"
        "    await asyncio.sleep(x or 1)\n"
    )


def test_import_goes_after_a_comment_header_docstring_and_several_future_imports(tree):
    after, _ = fix(
        tree,
        "poll.py",
        "#!/usr/bin/env python\n"
        "# Copyright header.\n"
        '"""Polls the device."""\n'
        "\n"
        "from __future__ import annotations\n"
        "from __future__ import division\n"
        "\n"
        "# third-party imports follow\n"
        "import time\n"
        "\n"
        "\n"
        "async def poll(x):\n"
        "    time.sleep(x)\n",
    )
    assert after == (
        "#!/usr/bin/env python\n"
        "# Copyright header.\n"
        '"""Polls the device."""\n'
        "\n"
        "from __future__ import annotations\n"
        "from __future__ import division\n"
        "\n"
        "# third-party imports follow\n"
        "import asyncio\n"
        "\n"
        "\n"
        "async def poll(x):\n"
        "    await asyncio.sleep(x)\n"
    )


def test_existing_asyncio_import_is_reused_and_every_sleep_is_fixed(tree):
    source = (
        "import asyncio\n"
        "import time\n"
        "\n"
        "\n"
        "async def poll(x):\n"
        "    time.sleep(x)\n"
        "    await asyncio.sleep(0)\n"
        "    time.sleep(2 * x)\n"
        "\n"
        "\n"
        "class Poller:\n"
        "    async def poll(self):\n"
        "        time.sleep(0.5)\n"
    )
    after, result = fix(tree, "poll.py", source)
    assert after == (
        "import asyncio\n"
        "\n"
        "\n"
        "async def poll(x):\n"
        "    await asyncio.sleep(x)\n"
        "    await asyncio.sleep(0)\n"
        "    await asyncio.sleep(2 * x)\n"
        "\n"
        "\n"
        "class Poller:\n"
        "    async def poll(self):\n"
        "        await asyncio.sleep(0.5)\n"
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_one_import_for_many_sleeps(tree):
    after, _ = fix(
        tree,
        "poll.py",
        "import time\n\n\nasync def first():\n    time.sleep(1)\n\n\nasync def second():\n    time.sleep(2)\n",
    )
    assert after == (
        "import asyncio\n"
        "\n"
        "\n"
        "async def first():\n"
        "    await asyncio.sleep(1)\n"
        "\n"
        "\n"
        "async def second():\n"
        "    await asyncio.sleep(2)\n"
    )


def test_trio_module_gets_trio_sleep(tree):
    after, _ = fix(
        tree,
        "poll.py",
        "import time\n\nimport trio\n\n\nasync def poll(x):\n    time.sleep(x)\n",
    )
    assert after == ("import trio\n\n\nasync def poll(x):\n    await trio.sleep(x)\n")


def test_anyio_module_gets_anyio_sleep(tree):
    after, _ = fix(
        tree,
        "poll.py",
        "import time\n\nimport anyio\n\n\nasync def poll(x):\n    time.sleep(x)\n",
    )
    assert after == ("import anyio\n\n\nasync def poll(x):\n    await anyio.sleep(x)\n")


def test_trio_used_through_from_import_gets_import_trio(tree):
    after, _ = fix(
        tree,
        "poll.py",
        "import time\n"
        "\n"
        "from trio import open_nursery\n"
        "\n"
        "\n"
        "async def poll(x):\n"
        "    async with open_nursery():\n"
        "        time.sleep(x)\n",
    )
    assert after == (
        "import trio\n"
        "\n"
        "from trio import open_nursery\n"
        "\n"
        "\n"
        "async def poll(x):\n"
        "    async with open_nursery():\n"
        "        await trio.sleep(x)\n"
    )


@pytest.mark.parametrize(
    "imports, call",
    [
        ("from time import sleep as nap\n", "nap(x)"),
        ("from time import sleep\n", "sleep(x)"),
        ("import time as t\n", "t.sleep(x)"),
    ],
    ids=["from-import-alias", "from-import", "module-alias"],
)
def test_aliases_are_rewritten_to_the_loop_library_sleep(tree, imports, call):
    after, _ = fix(tree, "poll.py", f"{imports}\n\nasync def poll(x):\n    {call}\n")
    assert after == "import asyncio\n\n\nasync def poll(x):\n    await asyncio.sleep(x)\n"


def test_sleep_in_an_expression_keeps_the_rest_of_the_line(tree):
    after, _ = fix(
        tree,
        "poll.py",
        "import asyncio\n"
        "import time\n"
        "\n"
        "\n"
        "async def poll(delays):\n"
        "    result = time.sleep(\n"
        "        delays[0],\n"
        "    )\n"
        "    return result or time.sleep(delays[1])\n",
    )
    assert after == (
        "import asyncio\n"
        "\n"
        "\n"
        "async def poll(delays):\n"
        "    result = await asyncio.sleep(\n"
        "        delays[0],\n"
        "    )\n"
        "    return result or await asyncio.sleep(delays[1])\n"
    )


def test_import_before_a_decorated_first_statement_keeps_the_decorator_on_its_def(tree):
    # no import at all: `import asyncio` goes before the first statement, decorator included
    after, _ = fix(
        tree,
        "poll.py",
        '"""Registered pollers."""\n@register\nasync def poll(x):\n    time.sleep(x)\n',
    )
    assert after == (
        '"""Registered pollers."""\nimport asyncio\n@register\nasync def poll(x):\n    await asyncio.sleep(x)\n'
    )
    compile(after, "poll.py", "exec")


def test_only_the_import_the_fix_made_unused_goes_and_the_rest_of_its_line_stays(tree):
    after, _ = fix(
        tree,
        "poll.py",
        "import os  # unused before the fix: not ours to remove\n"
        "from time import monotonic, sleep\n"
        "\n"
        "\n"
        "async def poll(x):\n"
        "    sleep(x)\n"
        "    return monotonic()\n",
    )
    assert after == (
        "import asyncio\n"
        "import os  # unused before the fix: not ours to remove\n"
        "from time import monotonic\n"
        "\n"
        "\n"
        "async def poll(x):\n"
        "    await asyncio.sleep(x)\n"
        "    return monotonic()\n"
    )


def test_time_still_used_elsewhere_keeps_its_import(tree):
    source = "import time\n\n\nasync def poll(x):\n    time.sleep(x)\n    return time.monotonic()\n"
    after, _ = fix(tree, "poll.py", source)
    assert after == (
        "import asyncio\nimport time\n\n\nasync def poll(x):\n    await asyncio.sleep(x)\n    return time.monotonic()\n"
    )


def test_the_added_import_keeps_a_sorted_block_sorted_and_comments_above_a_removed_one_stay(tree):
    after, _ = fix(
        tree,
        "poll.py",
        "import abc\n"
        "import sys\n"
        "# the clock\n"
        "import time\n"
        "\n"
        "import requests\n"
        "\n"
        "\n"
        "class Base(abc.ABC):\n"
        "    async def poll(self, x):\n"
        "        time.sleep(x)\n"
        "        return sys.argv, requests\n",
    )
    assert after == (
        "import abc\n"
        "import asyncio\n"
        "import sys\n"
        "# the clock\n"
        "\n"
        "import requests\n"
        "\n"
        "\n"
        "class Base(abc.ABC):\n"
        "    async def poll(self, x):\n"
        "        await asyncio.sleep(x)\n"
        "        return sys.argv, requests\n"
    )


# ---- what --fix leaves alone -----------------------------------------------------

UNFIXABLE = {
    "lambda": (
        "import asyncio\nimport time\n\n\nasync def poll():\n    await asyncio.to_thread(lambda: time.sleep(1))\n"
    ),
    "nested-sync-def": ("import time\n\n\nasync def poll():\n    def wait():\n        time.sleep(1)\n\n    wait()\n"),
    "comprehension": ("import time\n\n\nasync def poll(delays):\n    return [time.sleep(d) for d in delays]\n"),
    "sync-function": ("import time\n\n\ndef poll(x):\n    time.sleep(x)\n"),
    "loop-callback": (
        "import asyncio\n"
        "import time\n"
        "\n"
        "\n"
        "def tick():\n"
        "    time.sleep(0.1)\n"
        "\n"
        "\n"
        "def start(loop: asyncio.AbstractEventLoop):\n"
        "    loop.call_soon(tick)\n"
    ),
    "noqa": ("import time\n\n\nasync def poll(x):\n    time.sleep(x)  # noqa: CCL201\n"),
}


@pytest.mark.parametrize("name", sorted(UNFIXABLE))
def test_no_change_where_await_cannot_go(tree, name):
    source = UNFIXABLE[name]
    after, result = fix(tree, "poll.py", source)
    assert after == source
    assert result.returncode in (0, 1), result.stderr


def test_unfixable_findings_are_still_reported_after_fix(tree):
    _, result = fix(tree, "poll.py", UNFIXABLE["comprehension"])
    assert result.returncode == 1
    assert "poll.py:5:13: CCL201" in result.stdout
    _, result = fix(tree, "nested.py", UNFIXABLE["nested-sync-def"])
    assert result.returncode == 1
    assert "nested.py:8:5: CCL210" in result.stdout


def test_fix_then_reports_the_remaining_findings(tree):
    source = (
        "import time\n\nimport requests\n\n\nasync def poll(url):\n    time.sleep(1)\n    return requests.get(url)\n"
    )
    after, result = fix(tree, "poll.py", source)
    assert after == (
        "import asyncio\n"
        "\n"
        "import requests\n"
        "\n"
        "\n"
        "async def poll(url):\n"
        "    await asyncio.sleep(1)\n"
        "    return requests.get(url)\n"
    )
    assert result.returncode == 1
    assert "CCL201" not in result.stdout
    # the remaining finding, on its row in the fixed file
    assert "poll.py:8:12: CCL202" in result.stdout


def test_fix_is_idempotent(tree):
    first, _ = fix(tree, "poll.py", "import time\n\n\nasync def poll(x):\n    time.sleep(x)\n")
    result = run_cli("check", "--fix", "poll.py", cwd=tree)
    assert read(tree / "poll.py") == first
    assert result.returncode == 0, result.stdout + result.stderr


# ---- --diff --------------------------------------------------------------------------


def test_diff_prints_a_unified_diff_and_writes_nothing(tree):
    source = "import time\n\n\nasync def poll(x):\n    time.sleep(x)\n"
    path = write(tree, "poll.py", source)
    result = run_cli("check", "--diff", "poll.py", cwd=tree)
    assert result.returncode == 1, result.stderr
    assert result.stdout == (
        "--- a/poll.py\n"
        "+++ b/poll.py\n"
        "@@ -1,5 +1,5 @@\n"
        "-import time\n"
        "+import asyncio\n"
        " \n"
        " \n"
        " async def poll(x):\n"
        "-    time.sleep(x)\n"
        "+    await asyncio.sleep(x)\n"
    )
    assert read(path) == source


def test_diff_in_a_subfolder_names_the_file_from_the_working_directory(tree):
    (tree / "pkg").mkdir()
    source = "import asyncio\nimport time\n\n\nasync def poll(x):\n    time.sleep(x)\n"
    path = write(tree, "pkg/poll.py", source)
    result = run_cli("check", "--diff", ".", cwd=tree)
    assert result.returncode == 1, result.stderr
    assert result.stdout == (
        "--- a/pkg/poll.py\n"
        "+++ b/pkg/poll.py\n"
        "@@ -1,6 +1,5 @@\n"
        " import asyncio\n"
        "-import time\n"
        " \n"
        " \n"
        " async def poll(x):\n"
        "-    time.sleep(x)\n"
        "+    await asyncio.sleep(x)\n"
    )
    assert read(path) == source


@pytest.mark.parametrize("name", ["clean", "comprehension", "sync-function"])
def test_diff_exits_zero_when_there_is_nothing_to_fix(tree, name):
    source = UNFIXABLE.get(name, "import asyncio\n\n\nasync def poll(x):\n    await asyncio.sleep(x)\n")
    path = write(tree, "poll.py", source)
    result = run_cli("check", "--diff", "poll.py", cwd=tree)
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout == ""
    assert read(path) == source


# ---- the fix in JSON -----------------------------------------------------------------


def test_json_output_carries_the_fix(tree):
    write(
        tree,
        "poll.py",
        "import time\n\n\nasync def poll(x):\n    time.sleep(x)\n    return [time.sleep(d) for d in x]\n",
    )
    result = run_cli("check", "--output-format", "json", "poll.py", cwd=tree)
    assert result.returncode == 1, result.stderr
    items = sorted(json.loads(result.stdout), key=lambda item: item["location"]["row"])
    assert [(i["code"], i["location"]["row"]) for i in items] == [("CCL201", 5), ("CCL201", 6)]
    fixable, unfixable = items
    assert fixable["fix"] == {
        "applicability": "safe",
        "message": "Replace with `await asyncio.sleep(...)`",
        "edits": [
            {
                "content": "import asyncio\n",
                "location": {"row": 1, "column": 1},
                "end_location": {"row": 1, "column": 1},
            },
            {
                "content": "await asyncio.sleep",
                "location": {"row": 5, "column": 5},
                "end_location": {"row": 5, "column": 15},
            },
        ],
    }
    assert unfixable["fix"] is None


def test_json_fix_for_trio_has_no_import_edit(tree):
    write(tree, "poll.py", "import time\nimport trio\n\n\nasync def poll(x):\n    time.sleep(x)\n")
    result = run_cli("check", "--output-format", "json", "poll.py", cwd=tree)
    (item,) = json.loads(result.stdout)
    assert item["fix"] == {
        "applicability": "safe",
        "message": "Replace with `await trio.sleep(...)`",
        "edits": [
            {
                "content": "await trio.sleep",
                "location": {"row": 6, "column": 5},
                "end_location": {"row": 6, "column": 15},
            }
        ],
    }
