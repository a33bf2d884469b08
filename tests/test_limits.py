"""What one file may cost (file-timeout, max-file-size, max-memory) and Ctrl-C, on real files and processes.

Each test drives the real thing: a generated file large enough that libcst's native parse
overruns the limit (nothing inside the process can interrupt it: the worker process is
killed), a real 50 MB file, a worker that really exhausts its address-space ceiling, a real
SIGINT to a real run. Time bounds are only there to turn a hang into a failure.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import List

import pytest
from conftest import conclint_command, run_cli, write

from conclint.engine.run import run
from conclint.engine.settings import Settings

SLEEP = "import time\n\n\nasync def handler():\n    time.sleep(1)\n"
HANG_BOUND = 300  # seconds: only a hang takes this long


def big_module(megabytes: float) -> str:
    """A module in the shape of generated code (a class of constants, like asyncua's object_ids.py):
    its size, not its nesting, is what costs; `threading` asks for a full analysis."""
    lines = int(megabytes * 1024 * 1024 / 22)
    return "import threading\n\n\nclass Ids:\n" + "".join(f"    Name{i:07d} = {i}\n" for i in range(lines))


def codes_by_file(stdout: str) -> dict:
    found: dict = {}
    for line in stdout.splitlines():
        parts = line.split(":", 3)
        if len(parts) == 4 and parts[3].strip()[:3] == "CCL":
            found.setdefault(parts[0], []).append(parts[3].split()[0])
    return found


def config(root: Path, body: str) -> None:
    write(root, "pyproject.toml", "[tool.conclint]\n" + body)


def _children_cpu() -> float:
    """CPU time of this process's children that have ended (the workers, once they are reaped)."""
    times = os.times()
    return times.children_user + times.children_system


@pytest.mark.slow
def test_a_file_whose_parse_overruns_file_timeout_is_stopped_the_others_reported_and_it_is_never_cached(tree):
    # libcst parses 3 MB for seconds of CPU; the limit is a tenth of a second
    big = write(tree, "big.py", big_module(3))
    small = write(tree, "small.py", SLEEP)
    settings = Settings(root=str(tree), file_timeout=0.1)
    cache_dir = str(tree / ".cache")

    outcomes, worker_cpu = [], []
    for _ in range(3):
        before = _children_cpu()
        outcomes.append(run([str(tree)], settings, jobs=1, cache_dir=cache_dir))
        worker_cpu.append(_children_cpu() - before)
    big.write_text(SLEEP, encoding="utf-8")  # now it finishes: its result is cached, and no worker is needed
    for _ in range(2):
        before = _children_cpu()
        outcomes.append(run([str(tree)], settings, jobs=1, cache_dir=cache_dir))
        worker_cpu.append(_children_cpu() - before)

    for outcome in outcomes[:3]:
        by_path = {(f.path, f.code): f.message for f in outcome.findings}
        assert "stopped after 0.1 s" in by_path[(str(big), "CCL001")]
        assert (str(small), "CCL201") in by_path
        assert not outcome.internal_errors and outcome.reused == ""
    # each warm run analysed the stopped file again, in a worker process: no result of it was cached
    assert all(cpu > 0 for cpu in worker_cpu[:3]), worker_cpu
    assert {(f.path, f.code) for f in outcomes[3].findings} == {(str(big), "CCL201"), (str(small), "CCL201")}
    assert outcomes[4].reused == "same files" and outcomes[4].findings == outcomes[3].findings
    assert worker_cpu[3:] == [0, 0]  # small files: analysed in this process, then taken from the cache


@pytest.mark.slow
def test_a_killed_worker_is_replaced_and_every_other_file_of_the_run_is_analysed(tree):
    # --jobs 2 and enough files for the pool: the big file goes first and takes a worker with it
    write(tree, "big.py", big_module(3))
    for index in range(24):
        write(tree, f"handler_{index:02d}.py", SLEEP)
    config(tree, "file-timeout = 0.1\n")
    result = run_cli("check", "--no-cache", "--jobs", "2", cwd=tree, timeout=HANG_BOUND)
    found = codes_by_file(result.stdout)
    assert found.pop("big.py") == ["CCL001"]
    assert found == {f"handler_{index:02d}.py": ["CCL201"] for index in range(24)}
    assert "stopped after 0.1 s of CPU time (file-timeout)" in result.stdout
    assert result.returncode == 1 and not result.stderr


def test_a_file_over_max_file_size_is_reported_without_being_analysed(tree):
    write(tree, "huge.py", "x = 1\n" * (50 * 1024 * 1024 // 6 + 1))  # a real 50 MB file
    write(tree, "small.py", SLEEP)
    result = run_cli("check", "--no-cache", cwd=tree, timeout=HANG_BOUND)
    assert codes_by_file(result.stdout) == {"huge.py": ["CCL001"], "small.py": ["CCL201"]}
    assert "too large to analyse (50.0 MB > max-file-size 10 MB)" in result.stdout
    assert result.returncode == 1 and not result.stderr


def test_a_run_with_a_file_over_max_file_size_is_cached_like_any_other(tree):
    # the refusal is final for these settings (the run's key holds them): no reason to redo the run
    big = write(tree, "big.py", SLEEP * 40)
    settings = Settings(root=str(tree), max_file_size=0.001)
    first, second = (run([str(tree)], settings, cache_dir=str(tree / ".cache")) for _ in range(2))
    assert [(f.path, f.code) for f in first.findings] == [(str(big), "CCL001")]
    assert first.reused == "" and second.reused == "same files" and second.findings == first.findings
    settings.max_file_size = 10  # raised: the file is analysed
    assert {f.code for f in run([str(tree)], settings, cache_dir=str(tree / ".cache")).findings} == {"CCL201"}


def test_max_file_size_is_a_setting(tree):
    write(tree, "m.py", SLEEP * 40)  # about 2 KB
    config(tree, "max-file-size = 0.001\n")
    assert "too large to analyse" in run_cli("check", "--no-cache", cwd=tree).stdout
    config(tree, "max-file-size = 0\n")  # no limit
    assert codes_by_file(run_cli("check", "--no-cache", cwd=tree).stdout) == {"m.py": ["CCL201"] * 40}
    config(tree, 'max-file-size = "big"\n')
    result = run_cli("check", "--no-cache", cwd=tree)
    assert result.returncode == 2 and "'max-file-size'" in result.stderr


@pytest.mark.slow
@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="RLIMIT_AS is enforced on Linux")
def test_a_file_that_exhausts_max_memory_is_reported_and_its_worker_replaced(tree):
    # parsing 3 MB takes some hundreds of MB: far more than the 64 MB allowed
    write(tree, "big.py", big_module(3))
    for index in range(20):
        write(tree, f"handler_{index:02d}.py", SLEEP)
    config(tree, "max-memory = 64\nfile-timeout = 0\n")
    result = run_cli("check", "--no-cache", "--jobs", "2", cwd=tree, timeout=HANG_BOUND)
    found = codes_by_file(result.stdout)
    assert found.pop("big.py") == ["CCL001"]
    assert found == {f"handler_{index:02d}.py": ["CCL201"] for index in range(20)}
    assert "ran out of memory (max-memory = 64 MB)" in result.stdout
    assert result.returncode == 1 and not result.stderr


@pytest.mark.slow
@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="RLIMIT_AS is enforced on Linux")
def test_a_real_50_mb_file_under_a_memory_limit_costs_its_worker_not_the_machine(tree):
    write(tree, "huge.py", "import threading\n" + "x = 1\n" * (50 * 1024 * 1024 // 6))
    write(tree, "small.py", SLEEP)
    config(tree, "max-file-size = 0\nmax-memory = 256\nfile-timeout = 0\n")
    result = run_cli("check", "--no-cache", cwd=tree, timeout=HANG_BOUND)
    assert codes_by_file(result.stdout) == {"huge.py": ["CCL001"], "small.py": ["CCL201"]}
    assert "ran out of memory (max-memory = 256 MB)" in result.stdout
    assert result.returncode == 1 and not result.stderr


def _children(pid: int) -> List[int]:
    """The processes whose parent is ``pid``, from /proc."""
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat", "rb") as handle:
                    fields = handle.read().rsplit(b")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == pid:
                found.append(int(entry))
    return found


def _running(pid: int) -> bool:
    """Still a live process (a zombie waiting for init to reap it is not)."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as handle:
            return handle.read().rsplit(b")", 1)[1].split()[0] not in (b"Z", b"X")
    except OSError:
        return False


@pytest.mark.slow
@pytest.mark.skipif(not os.path.isdir("/proc/self"), reason="reads the process tree from /proc")
@pytest.mark.parametrize("to_group", [True, False], ids=["ctrl-c-to-the-group", "sigint-to-conclint"])
def test_sigint_stops_the_run_and_its_workers_at_once(tree, to_group):
    for index in range(300):  # far more work than the test waits for
        write(
            tree,
            f"m{index:03d}.py",
            "import threading\n" + "".join(f"def f{i}(x):\n    return x\n" for i in range(400)),
        )
    process = subprocess.Popen(
        [*conclint_command(), "check", "--no-cache", "--jobs", "2", "."],
        cwd=str(tree),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        start_new_session=True,  # its own process group, as a shell's foreground job
    )
    try:
        workers: List[int] = []
        give_up = time.monotonic() + HANG_BOUND
        while len(workers) < 2 and process.poll() is None and time.monotonic() < give_up:
            time.sleep(0.05)
            workers = _children(process.pid)
        assert len(workers) == 2, "the run never started its two workers"
        time.sleep(0.5)  # the workers are busy with their files
        if to_group:
            os.killpg(process.pid, signal.SIGINT)  # what Ctrl-C in a terminal does
        else:
            process.send_signal(signal.SIGINT)
        _, errors = process.communicate(timeout=30)
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
    assert process.returncode == 130
    assert errors.decode() == "conclint: interrupted\n"  # no traceback, from conclint or its workers
    give_up = time.monotonic() + 30
    while any(_running(pid) for pid in workers) and time.monotonic() < give_up:
        time.sleep(0.05)
    assert not [pid for pid in workers if _running(pid)], "orphaned workers"
