"""Demo servers as child processes: started on a free loopback port, each in a process
group of its own, so that stopping one (or being interrupted) leaves nothing behind."""

from __future__ import annotations

import json
import os
import queue
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from typing import Any, Callable, Dict, List, Optional, Sequence

from conclint.demo.storage import STATE_ENV

START_TIMEOUT = 20.0
STOP_GRACE = 6.0


class ServerError(RuntimeError):
    pass


class ServerProcess:
    """``python -m conclint.demo.serve --events ...`` and the events it prints."""

    def __init__(
        self,
        model: str,
        scenario: Optional[str] = None,
        workers: int = 2,
        host: str = "127.0.0.1",
        env: Optional[Dict[str, str]] = None,
        stdin: bool = False,
        options: Sequence[str] = (),
    ) -> None:
        self.model = model
        self.scenario = scenario
        self.workers = workers
        self.host = host
        self.env = dict(env or {})
        self.stdin = stdin  # a pipe the caller writes to (`write_stdin`), instead of /dev/null
        self.options = list(options)  # more `demo serve` options: timeouts, --no-access-log, --workload
        self.port: Optional[int] = None
        self.worker_pids: List[int] = []
        self.process: Optional[subprocess.Popen] = None
        self.events: queue.Queue[Dict[str, Any]] = queue.Queue()
        self.seen: List[Dict[str, Any]] = []
        self.state_dir = tempfile.mkdtemp(prefix="conclint-demo-state-")  # CONCLINT_DEMO_STATE
        self._stderr = tempfile.TemporaryFile()  # noqa: SIM115 - kept open for the server's life
        self._reader: Optional[threading.Thread] = None

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    def command(self) -> List[str]:
        command = [
            sys.executable,
            "-m",
            "conclint.demo.cli",
            "serve",
            "--model",
            self.model,
            "--host",
            self.host,
            "--port",
            "0",
            "--workers",
            str(self.workers),
            "--events",
        ]
        return command + (["--scenario", self.scenario] if self.scenario else []) + self.options

    def start(self, timeout: float = START_TIMEOUT) -> ServerProcess:
        env = dict(os.environ, PYTHONUNBUFFERED="1", **{STATE_ENV: self.state_dir}, **self.env)
        env.pop("PYTHONWARNINGS", None)
        self.process = subprocess.Popen(
            self.command(),
            stdin=subprocess.PIPE if self.stdin else subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=self._stderr,
            env=env,
            start_new_session=True,
        )
        _LIVE.add(self)
        self._reader = threading.Thread(target=self._read_events, name="server-events", daemon=True)
        self._reader.start()
        ready = self.wait_for("ready", timeout)
        self.port = int(ready["port"])
        self.worker_pids = list(ready.get("workers", []))
        return self

    def _read_events(self) -> None:
        assert self.process is not None and self.process.stdout is not None
        for line in self.process.stdout:
            try:
                event = json.loads(line)
            except ValueError:
                continue
            if isinstance(event, dict):
                self.events.put(event)

    def wait_for(
        self, name: str, timeout: float, where: Optional[Callable[[Dict[str, Any]], bool]] = None
    ) -> Dict[str, Any]:
        """The next event called ``name`` (that ``where`` accepts); ServerError after ``timeout``."""
        deadline = time.monotonic() + timeout
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise ServerError(f"{self.describe()}: no {name!r} event within {timeout:g} s{self._stderr_tail()}")
            try:
                event = self.events.get(timeout=min(remaining, 0.1))
            except queue.Empty:
                if self.process is not None and self.process.poll() is not None and self.events.empty():
                    if self._reader is not None:
                        self._reader.join(0.5)
                    if self.events.empty():
                        raise ServerError(
                            f"{self.describe()} exited ({self.process.returncode}) before {name!r}{self._stderr_tail()}"
                        ) from None
                continue
            self.seen.append(event)
            if event.get("event") == name and (where is None or where(event)):
                return event

    def write_stdin(self, text: str) -> None:
        """A line (or more) for the server's standard input (a server started with ``stdin=True``)."""
        assert self.process is not None and self.process.stdin is not None
        self.process.stdin.write(text.encode("utf-8"))
        self.process.stdin.flush()

    def ask_master(self, timeout: float = 5.0) -> Dict[str, Any]:
        """What the prefork master holds itself (SIGUSR1 -> a ``master`` event)."""
        os.kill(self.pid, signal.SIGUSR1)
        return self.wait_for("master", timeout)

    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def describe(self) -> str:
        return f"the {self.model} server" + (f" for {self.scenario}" if self.scenario else "")

    def stderr(self) -> str:
        """What the server has written on stderr so far (its log, the access log)."""
        try:
            self._stderr.seek(0)
            return self._stderr.read().decode("utf-8", errors="replace")
        except (OSError, ValueError):
            return ""

    def _stderr_tail(self) -> str:
        text = self.stderr().strip()
        return f"; its stderr ends: {text[-800:]}" if text else ""

    def stop(self, grace: float = STOP_GRACE) -> Optional[int]:
        """SIGTERM to the whole process group, SIGKILL after ``grace``; the exit code."""
        if self.process is None:
            return None
        code = self.process.poll()
        if code is None:
            _signal_group(self.pid, signal.SIGTERM)
            try:
                code = self.process.wait(grace)
            except subprocess.TimeoutExpired:
                _signal_group(self.pid, signal.SIGKILL)
                code = self.process.wait()
        _signal_group(self.pid, signal.SIGKILL)  # workers left behind by a master that died
        if self._reader is not None:
            self._reader.join(1.0)
        for stream in (self.process.stdout, self.process.stdin):
            if stream is not None:
                try:
                    stream.close()
                except OSError:  # a pipe the server no longer reads
                    pass
        self._stderr.close()
        shutil.rmtree(self.state_dir, ignore_errors=True)
        _LIVE.discard(self)
        return code

    def __enter__(self) -> ServerProcess:
        return self.start() if self.process is None else self

    def __exit__(self, *_exc) -> None:
        self.stop()


def _signal_group(pgid: int, signum: int) -> None:
    try:
        os.killpg(pgid, signum)
    except (ProcessLookupError, PermissionError):
        pass


_LIVE: set[ServerProcess] = set()


def stop_all() -> None:
    """Stop every server this process started and has not stopped yet."""
    for server in list(_LIVE):
        server.stop(grace=2.0)


def group_alive(pgid: int) -> bool:
    """Is any process of this process group still running (zombies aside)?"""
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    for entry in os.listdir("/proc") if os.path.isdir("/proc") else ():
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", encoding="ascii", errors="replace") as stat:
                fields = stat.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[2]) == pgid and fields[0] != "Z":
            return True
    return not os.path.isdir("/proc")
