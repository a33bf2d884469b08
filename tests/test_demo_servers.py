"""The server models' lifecycles on real processes and sockets: the prefork master
restarts a worker that dies and stops every worker cleanly (no orphans, even when the
master itself is killed); the threaded and evented servers stop cleanly too; a
request in flight at SIGTERM is finished first."""

from __future__ import annotations

import os
import signal
import threading
import time

import pytest

from conclint.demo import client
from conclint.demo.launch import ServerProcess, group_alive


def _gone(pid: int) -> bool:
    """Not running (a zombie waiting for its reaper counts as gone)."""
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] == "Z"
    except FileNotFoundError:
        return True
    except OSError:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return True
        return False


def _wait_until(condition, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return condition()


def _served_by(server: ServerProcess, count: int = 12) -> set:
    return {r.body["pid"] for r in client.many(server.port, "GET", "/pid", count, 3) if r.ok}


def test_prefork_master_replaces_a_worker_that_dies():
    with ServerProcess("prefork", "worker-isolation", workers=2) as server:
        victim, survivor = server.worker_pids
        os.kill(victim, signal.SIGKILL)
        exited = server.wait_for("worker-exited", 5.0)
        started = server.wait_for("worker-started", 5.0)
        assert exited["worker"] == victim and "SIGKILL" in exited["status"]
        assert started["replaces"] == victim and started["worker"] not in (victim, survivor)
        assert _wait_until(lambda: _gone(victim), 5.0)
        assert _wait_until(lambda: started["worker"] in _served_by(server), 10.0)
        assert server.ask_master()["workers"] == sorted([survivor, started["worker"]])


def test_prefork_crash_request_is_replaced_and_others_finish():
    with ServerProcess("prefork", "worker-isolation", workers=2) as server:
        box: list = []
        slow = threading.Thread(target=lambda: box.append(client.request(server.port, "GET", "/slow?seconds=0.6")))
        slow.start()
        time.sleep(0.2)
        crash = client.request(server.port, "GET", "/crash", timeout=5)
        slow.join(10)
        assert crash.status is None  # the worker died mid-request
        assert box and box[0].ok
        assert server.wait_for("worker-started", 5.0)["replaces"] not in (None, box[0].body["pid"])
        assert client.request(server.port, "GET", "/pid").ok


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_prefork_stops_every_worker_on_a_signal(signum):
    server = ServerProcess("prefork", "worker-isolation", workers=3).start()
    try:
        workers = list(server.worker_pids)
        assert len(workers) == 3 and all(not _gone(pid) for pid in workers)
        os.kill(server.pid, signum)  # the master only: it stops its workers itself
        assert server.process.wait(10) == 0
        assert all(_gone(pid) for pid in workers)
        assert not group_alive(server.pid)
        server.wait_for("stopped", 2.0)
        assert sorted(e["worker"] for e in server.seen if e["event"] == "worker-exited") == sorted(workers)
    finally:
        server.stop()


def test_prefork_finishes_the_request_in_flight_before_stopping():
    server = ServerProcess("prefork", "worker-isolation", workers=1).start()
    try:
        box: list = []
        slow = threading.Thread(target=lambda: box.append(client.request(server.port, "GET", "/slow?seconds=0.8")))
        slow.start()
        time.sleep(0.3)
        os.kill(server.pid, signal.SIGTERM)
        slow.join(10)
        assert box and box[0].ok and box[0].body["slept"] == 0.8
        assert server.process.wait(10) == 0
        assert not group_alive(server.pid)
    finally:
        server.stop()


def test_prefork_workers_exit_when_the_master_is_killed():
    server = ServerProcess("prefork", "worker-isolation", workers=2).start()
    try:
        workers = list(server.worker_pids)
        os.kill(server.pid, signal.SIGKILL)  # no chance to stop its workers
        server.process.wait(5)
        assert _wait_until(lambda: all(_gone(pid) for pid in workers), 5.0), "orphaned workers kept running"
    finally:
        server.stop()


@pytest.mark.parametrize("model", ["threaded", "evented"])
def test_threaded_and_evented_servers_stop_cleanly(model):
    server = ServerProcess(model, workers=2).start()
    try:
        assert client.request(server.port, "GET", "/ping").body["pid"] == server.pid
        box: list = []
        path = (
            "/worker-isolation/slow?seconds=0.5" if model == "threaded" else "/blocking-loop/report-fixed?seconds=0.5"
        )
        slow = threading.Thread(target=lambda: box.append(client.request(server.port, "GET", path)))
        slow.start()
        time.sleep(0.2)
        os.kill(server.pid, signal.SIGTERM)
        slow.join(10)
        assert box and box[0].ok
        assert server.process.wait(10) == 0
        assert not group_alive(server.pid)
    finally:
        server.stop()


@pytest.mark.parametrize("model", ["threaded", "evented"])
def test_an_idle_keep_alive_connection_does_not_hold_up_the_stop(model):
    import socket

    server = ServerProcess(model, workers=2).start()
    try:
        with socket.create_connection(("127.0.0.1", server.port), timeout=5) as idle:
            idle.sendall(b"GET /ping HTTP/1.1\r\nHost: a\r\n\r\n")
            assert idle.recv(65536).startswith(b"HTTP/1.1 200 OK")  # and the connection stays open
            started = time.monotonic()
            os.kill(server.pid, signal.SIGTERM)
            assert server.process.wait(10) == 0
            assert time.monotonic() - started < 3.0
    finally:
        server.stop()
