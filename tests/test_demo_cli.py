"""`conclint demo serve` and `conclint demo reproduce` as users run them: the JSON report,
exit codes, bad arguments, the real gunicorn and uvicorn (when installed), and an
interrupted run that leaves no process behind."""

from __future__ import annotations

import importlib.util
import json
import os
import signal
import socket
import subprocess
import time
import uuid
from pathlib import Path

import pytest
from conftest import conclint_command, run_cli

from conclint.demo import client

REPO = Path(__file__).resolve().parent.parent
KEYS = {"scenario", "rule", "model", "variant", "expected", "observed", "reproduced", "detail"}


def _processes_marked(mark: str):
    """Pids of live processes whose environment carries ``mark`` (Linux /proc)."""
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit() or int(entry) == os.getpid():
            continue
        try:
            with open(f"/proc/{entry}/environ", "rb") as environ:
                if mark.encode() not in environ.read():
                    continue
            with open(f"/proc/{entry}/stat", encoding="ascii") as stat:
                if stat.read().rsplit(")", 1)[1].split()[0] == "Z":
                    continue
        except OSError:
            continue
        found.append(int(entry))
    return found


def test_reproduce_json_reports_each_variant(tmp_path):
    completed = run_cli("demo", "reproduce", "winner", "fork-with-threads", "--json", cwd=tmp_path, timeout=60)
    assert completed.returncode == 0, completed.stdout + completed.stderr
    results = json.loads(completed.stdout)
    assert [(r["scenario"], r["variant"]) for r in results] == [
        ("winner", "hazard"),
        ("winner", "fixed"),
        ("fork-with-threads", "hazard"),
        ("fork-with-threads", "fixed"),
    ]
    for result in results:
        assert set(result) == KEYS
        assert result["reproduced"] is True
        assert result["model"] == "prefork" and result["rule"] in ("CCL301", "CCL302")


def test_reproduce_table_names_rule_model_expected_and_observed(tmp_path):
    completed = run_cli("demo", "reproduce", "fork-with-threads", cwd=tmp_path, timeout=60)
    assert completed.returncode == 0, completed.stdout + completed.stderr
    lines = completed.stdout.splitlines()
    assert lines[0].split() == ["scenario", "rule", "model", "variant", "expected", "observed", "result"]
    assert "CCL302" in lines[2] and "hazard" in lines[2] and lines[2].endswith("reproduced")
    assert "fixed" in lines[3] and lines[3].endswith("fix held")


def test_reproduce_rejects_an_unknown_scenario(tmp_path):
    completed = run_cli("demo", "reproduce", "no-such-scenario", cwd=tmp_path)
    assert completed.returncode == 2
    assert "unknown scenario no-such-scenario" in completed.stderr and "lost-update-threaded" in completed.stderr


def test_an_interrupted_reproduce_stops_every_server(tmp_path):
    if not os.path.isdir("/proc"):
        pytest.skip("needs /proc to find the processes")
    mark = f"CONCLINT_DEMO_TEST_RUN={uuid.uuid4().hex}"
    env = dict(os.environ, **dict([mark.split("=", 1)]))
    process = subprocess.Popen(
        [*conclint_command(), "demo", "reproduce", "worker-isolation", "winner"],
        cwd=tmp_path,
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 15
        while len(_processes_marked(mark)) < 3 and time.monotonic() < deadline:  # reproduce, a server, its workers
            time.sleep(0.05)
        assert len(_processes_marked(mark)) >= 3
        process.send_signal(signal.SIGINT)
        _, err = process.communicate(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    assert process.returncode == 130, err
    assert "interrupted" in err
    deadline = time.monotonic() + 5
    while _processes_marked(mark) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert _processes_marked(mark) == []


@pytest.mark.parametrize(
    "args, message",
    [
        (["--model", "prefork", "--workers", "0"], "--workers must be between 1 and 64"),
        (["--model", "prefork", "--server", "uvicorn"], "uvicorn serves the evented model"),
        (["--model", "threaded", "--scenario", "nope"], "unknown scenario 'nope'"),
    ],
)
def test_serve_refuses_bad_arguments(tmp_path, args, message):
    completed = run_cli("demo", "serve", *args, cwd=tmp_path, timeout=30)
    assert completed.returncode == 2 and message in completed.stderr


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.mark.parametrize(
    "model, server, package", [("prefork", "gunicorn", "gunicorn"), ("evented", "uvicorn", "uvicorn")]
)
def test_serve_under_a_real_server(tmp_path, model, server, package):
    if importlib.util.find_spec(package) is None:
        pytest.skip(f"{package} is not installed (pip install 'conclint[demo]')")
    port = _free_port()
    process = subprocess.Popen(
        [
            *conclint_command(),
            "demo",
            "serve",
            "--model",
            model,
            "--server",
            server,
            "--port",
            str(port),
            "--workers",
            "2",
        ],
        cwd=tmp_path,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 20
        reply = client.request(port, "GET", "/ping", timeout=2)
        while not reply.ok and time.monotonic() < deadline and process.poll() is None:
            time.sleep(0.2)
            reply = client.request(port, "GET", "/ping", timeout=2)
        assert reply.ok and reply.body["pong"] is True
        stampede = client.request(port, "GET", "/cache-stampede/report-shared?key=k")
        assert stampede.ok and stampede.body["report"] == "the report on k"
        assert client.request(port, "GET", "/nowhere").status == 404
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(15)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
        process.stderr.close()
