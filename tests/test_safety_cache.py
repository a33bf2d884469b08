"""The cache cannot run code, and what it holds cannot break a run (issue 15, items 1, 6 and 10).

The entries planted here are real: a pickle that writes a file when it is unpickled (checked
first in a process of its own), entries of the wrong type, entries of another file.
"""

from __future__ import annotations

import json
import os
import pickle
import subprocess
import sys
from pathlib import Path
from typing import Dict, List

import pytest
from conftest import FIXTURES, run_cli, write

from conclint.engine.analysis import FILE_RESULT_CODEC, FileResult, analyse_file
from conclint.engine.cache import default_cache_dir
from conclint.engine.codec import Codec, CodecError
from conclint.engine.findings import Span
from conclint.engine.parsing import run_with_deep_stack
from conclint.model.facts import Access, FunctionState, Write

SLEEP = "import time\n\n\nasync def handler():\n    time.sleep(1)\n"  # CCL201 at 5:5
HELPER = "import threading\n\nlock = threading.Lock()\n\n\ndef work():\n    with lock:\n        return 1\n"


class _WritesAFile:
    """Unpickling this runs ``open(marker, "w").write(...)``: what a crafted cache would do."""

    def __init__(self, marker: str) -> None:
        self.marker = marker

    def __reduce__(self):
        return (exec, (f"open({self.marker!r}, 'w').write('the cache ran code')",))


def crafted_pickle(marker: Path) -> bytes:
    """A live payload: proven to write ``marker`` when unpickled (in another process), then cleaned up."""
    payload = pickle.dumps(("key", _WritesAFile(str(marker))), protocol=pickle.HIGHEST_PROTOCOL)
    probe = marker.parent / "payload.pickle"
    probe.write_bytes(payload)
    subprocess.run([sys.executable, "-c", f"import pickle; pickle.load(open({str(probe)!r}, 'rb'))"], timeout=60)
    assert marker.read_text() == "the cache ran code", "the payload must really run code when unpickled"
    marker.unlink()
    probe.unlink()
    return payload


def entries(*folders: Path, kinds=("files", "runs", "index")) -> List[Path]:
    """Every cache entry file of these kinds in the caches at ``folders`` (whatever the format:
    `.json` now, `.pickle` before)."""
    found = []
    for folder in folders:
        for kind in kinds:
            found.extend(p for p in (folder / kind).rglob("*") if p.is_file() and not p.name.endswith(".tmp"))
    return sorted(found)


def project(tree: Path) -> Path:
    write(tree, "app.py", SLEEP)
    write(tree, "helper.py", HELPER)
    return tree


def check(tree: Path, *args: str, user_cache: Path) -> subprocess.CompletedProcess:
    return run_cli("check", "--jobs", "1", *args, cwd=tree, env_extra={"XDG_CACHE_HOME": str(user_cache)})


@pytest.mark.parametrize("where", ["default", "in the tree"])
def test_a_crafted_pickle_in_the_cache_runs_nothing(tree, tmp_path, where):
    """Every entry of a filled cache (where conclint keeps it by default, and where it kept it
    before: `.conclint_cache/` in the tree) is replaced by a pickle that writes a file when
    loaded; the next runs write nothing, and find the same."""
    project(tree)
    user_cache = tmp_path / "user-cache"
    options = () if where == "default" else ("--cache-dir", str(tree / ".conclint_cache"))
    first = check(tree, *options, user_cache=user_cache)
    assert first.returncode == 1 and "app.py:5:5: CCL201" in first.stdout, first.stderr
    marker = tmp_path / "written-by-the-cache"
    payload = crafted_pickle(marker)
    planted = entries(tree / ".conclint_cache", *(user_cache / "conclint").glob("*"))
    assert planted, "the first run filled a cache"
    for entry in planted:
        entry.write_bytes(payload)  # under the names the cache reads ...
        entry.with_suffix(".pickle").write_bytes(payload)  # ... and as the pickles the old cache read
    for _ in range(2):  # the first run finds the crafted entries; the second what the first rewrote
        again = check(tree, *options, user_cache=user_cache)
        assert not marker.exists(), "reading the cache ran code"
        assert (again.returncode, again.stdout, again.stderr) == (first.returncode, first.stdout, first.stderr)


def test_the_default_cache_is_outside_the_tree(tree, tmp_path, monkeypatch):
    project(tree)
    user_cache = tmp_path / "user-cache"
    assert check(tree, user_cache=user_cache).returncode == 1
    assert not (tree / ".conclint_cache").exists()
    monkeypatch.setenv("XDG_CACHE_HOME", str(user_cache))
    assert entries(Path(default_cache_dir(str(tree))))


def _wrong_type(entry: Path) -> bytes:
    """A well-formed entry under the right key whose value is of the wrong type."""
    if entry.suffix == ".pickle":  # the format before: a (key, value) pickle
        return pickle.dumps((entry.stem, 42))
    return json.dumps({"key": entry.stem, "value": 42}, separators=(",", ":")).encode()


def _field_of_wrong_type(entry: Path) -> bytes:
    """The entry as written, one field of its value of another JSON type (the first: a path, a list of findings)."""
    data = json.loads(entry.read_bytes())
    value = data["value"]
    if isinstance(value, list):
        value[0] = 7 if isinstance(value[0], str) else "seven"
    else:
        data["value"] = dict.fromkeys(value, 7)
    return json.dumps(data).encode()


def _other_key(entry: Path) -> bytes:
    """The entry of another file, under this one's name."""
    others = [p for p in entry.parent.parent.rglob("*.json") if p != entry]
    return others[0].read_bytes() if others else b'{"key":"0","value":null}'


def _truncated(entry: Path) -> bytes:
    return entry.read_bytes()[:-7]


def _deep(entry: Path) -> bytes:
    return f'{{"key":"{entry.stem}","value":'.encode() + b"[" * 100_000 + b"]" * 100_000 + b"}"


@pytest.mark.parametrize("spoil", [_wrong_type, _field_of_wrong_type, _other_key, _truncated, _deep])
def test_an_entry_that_does_not_validate_is_ignored_and_rewritten(tree, tmp_path, spoil):
    project(tree)
    cache = tmp_path / "cache"
    first = check(tree, "--cache-dir", str(cache), user_cache=tmp_path)
    assert first.returncode == 1, first.stderr
    written = {entry: entry.read_bytes() for entry in entries(cache)}
    spoilt = {entry: spoil(entry) for entry in written}  # all from the first run's entries, before any is spoilt
    for entry, data in spoilt.items():
        entry.write_bytes(data)
    again = check(tree, "--cache-dir", str(cache), user_cache=tmp_path)
    assert (again.returncode, again.stdout, again.stderr) == (first.returncode, first.stdout, first.stderr)
    not_rewritten = [entry.name for entry in written if entry.read_bytes() != written[entry]]
    assert not not_rewritten, "every spoilt entry is written again, as the first run wrote it"


def test_a_file_whose_analysis_was_stopped_is_not_cached(tree, tmp_path):
    """A file that runs out of time is reported CCL001, and analysed again next time: its
    CCL001 is not its result (the run's findings are not kept either)."""
    (tree / "pyproject.toml").write_text("[tool.conclint]\nfile-timeout = 0.000001\n", encoding="utf-8")
    write(tree, "big.py", "import time\n\n" + "".join(f"async def f{i}():\n    time.sleep({i})\n" for i in range(3000)))
    write(tree, "small.py", "x = 1\n")
    cache = tmp_path / "cache"
    for _ in range(2):
        result = check(tree, "--cache-dir", str(cache), user_cache=tmp_path)
        assert result.returncode == 1 and "big.py:1:1: CCL001" in result.stdout, result.stdout + result.stderr
        assert entries(cache, kinds=["files"]), "the cache is in use"
        assert not entries(cache, kinds=["runs"]), "a run with a stopped file was cached"
        held = _cached_paths(cache)
        assert held == ["small.py"], held


def _cached_paths(cache: Path) -> List[str]:
    """The files whose result the cache holds, by the entry's own record of its path."""
    files = entries(cache, kinds=["files"])
    held = [FILE_RESULT_CODEC.loads(json.dumps(json.loads(p.read_bytes())["value"]).encode()) for p in files]
    return sorted(os.path.basename(result.path) for result in held if result.path)


# The codec itself


def _fixture_results() -> Dict[str, FileResult]:
    paths = sorted(str(p) for p in FIXTURES.rglob("*.py"))
    return dict(zip(paths, run_with_deep_stack(lambda: [analyse_file(path) for path in paths])))


def test_every_fixture_result_comes_back_equal_from_the_codec():
    results = _fixture_results()
    assert sum(r.facts is not None for r in results.values()) > 100
    for path, result in results.items():
        assert FILE_RESULT_CODEC.loads(FILE_RESULT_CODEC.dumps(result)) == result, path


def _sharing(result: FileResult) -> List[int]:
    """Per function: how many places hold a read or write, and how many distinct objects they are."""
    counts = []
    for state in result.facts.state.values() if result.facts else ():
        held = [*state.reads, *state.writes, *state.thread_lock_withs]
        held += [w.checked_by for w in state.writes] + [w.derived_from for w in state.writes]
        held = [item for item in held if item is not None]
        counts += [len(held), len({id(item) for item in held})]
    return counts


def test_an_object_held_in_two_places_comes_back_as_one():
    """``other.checked_by is check`` (CCL112) needs the read a write was checked by to be the one in ``reads``."""
    results = _fixture_results()
    shared = [r for r in results.values() if any(p > d for p, d in zip(_sharing(r)[::2], _sharing(r)[1::2]))]
    assert shared, "the fixtures hold reads that a write also holds"
    for path, result in results.items():
        back = FILE_RESULT_CODEC.loads(FILE_RESULT_CODEC.dumps(result))
        assert _sharing(back) == _sharing(result), path
    awaited = next(r for path, r in results.items() if path.endswith("ccl111_awaited_state.py"))
    back = FILE_RESULT_CODEC.loads(FILE_RESULT_CODEC.dumps(awaited))
    checks = [(w, s) for s in back.facts.state.values() for w in s.writes if w.checked_by is not None]
    assert checks and all(any(w.checked_by is r for r in s.reads) for w, s in checks)


@pytest.mark.parametrize("data", [b'{"@": 0}', b'[{"@": 5}]', b'[[], {"@": -1}]'])
def test_a_reference_names_only_an_object_built_before(data):
    with pytest.raises(CodecError):
        Codec(List[Access]).loads(data)


def test_a_subclass_where_its_base_is_declared_keeps_its_class():
    read = Access("global:m.x", "x", Span(1, 1, 1, 2), (), (), 0)
    write_ = Write("global:m.x", "x", Span(2, 1, 2, 2), (), (), 0, derived_from=read)
    state = FunctionState(reads=[read, write_])
    back = Codec(FunctionState).loads(Codec(FunctionState).dumps(state))
    assert back == state and type(back.reads[1]) is Write


@pytest.mark.parametrize(
    "data",
    [
        b'{"Write": [1]}',  # a variant with the wrong shape
        b'{"Popen": ["sh"]}',  # a name that is not one of the declared class's own subclasses
        b'["global:m.x", "x", [1, 1, 1, 2], [], [], true]',  # bool where an int is declared
        b'["global:m.x", "x", [1, 1, 1], [], [], 0]',  # a span of 3
        b'["global:m.x", "x", [1, 1, 1, 2], [], []]',  # a field missing
        b'["global:m.x", "x", [1, 1, 1, 2], [3], [], 0]',  # an int in a tuple of str
        b'{"__reduce__": 1}',
        b"[" * 50_000 + b"]" * 50_000,
    ],
)
def test_the_codec_refuses_data_of_another_shape(data):
    with pytest.raises(CodecError):
        Codec(Access).loads(data)


def test_the_encoding_is_canonical_for_sets():
    codec = Codec(FileResult)
    first = FileResult("a.py")
    second = FileResult("a.py")
    from conclint.model.facts import ModuleFacts

    first.facts = ModuleFacts("a.py", "a", imported_modules=frozenset(["b", "a", "c"]))
    second.facts = ModuleFacts("a.py", "a", imported_modules=frozenset(["c", "b", "a"]))
    assert codec.dumps(first) == codec.dumps(second)


def test_condition_trees_come_back_as_tuples_and_nothing_else_is_read_as_one():
    trees = Codec(tuple)
    condition = ("and", ("truthy", "path"), ("or", ("eq", "n", 2**80), ("eq", "items", ())))
    assert trees.loads(trees.dumps(condition)) == condition
    for data in (b'{"a": 1}', b'["set", 1]', b'["tuple", {"a": 1}]', b"[" * 100_000 + b"]" * 100_000):
        with pytest.raises(CodecError):
            trees.loads(data)


@pytest.mark.parametrize("value", ["\ud834\udd20", "\U0001d120", "caf\udce9", 16**40, -(2**70), 0.5, True, None, ""])
def test_a_literal_comes_back_as_it_was(value):
    """JSON alone would read the two surrogates back as one character, and some readers lose big ints."""
    codec = Codec(object)
    back = codec.loads(codec.dumps(value))
    assert back == value and type(back) is type(value)
