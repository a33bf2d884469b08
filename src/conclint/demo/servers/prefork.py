"""The prefork model: a master that serves no requests, and N worker processes that do.

The master opens the listening socket, imports the app (so module-level state is set
before the fork, as with gunicorn's preload), and forks the workers, which accept on
the shared socket and serve one request at a time (each worker's poller reads the requests,
so a slow client holds a socket, not a worker). It starts a replacement for a worker that
dies, and on SIGTERM or SIGINT it asks every worker to finish its request and exit,
kills those that have not after a grace period, and exits. Workers share nothing but
the socket; a worker whose master has gone exits by itself.

SIGUSR1 asks the master what it holds itself (the app's `master_view()`): the answer
is a ``master`` event. An app may bring its own `spawn_worker(server)` (a scenario
does, so that conclint sees which functions run in the child); it forks, serves
`connections()` in the child, and returns the child's pid in the parent.
"""

from __future__ import annotations

import os
import signal
import socket
import sys
import time
import traceback
from typing import Dict, Iterator, List, Optional

from conclint.demo.app import BaseApp, log
from conclint.demo.http import Timeouts
from conclint.demo.limits import MAX_CONNECTIONS
from conclint.demo.servers.base import AccessLog, Connection, Events, Poller

GRACE = 5.0  # seconds a worker has to finish its request after SIGTERM
MASTER_TICK = 0.05
RESTART_WINDOW = 2.0  # more than 2 x workers restarts within this many seconds: slow down
STATUS_NAMES = {getattr(signal, n): n for n in dir(signal) if n.startswith("SIG") and not n.startswith("SIG_")}


class PreforkServer:
    model = "prefork"

    def __init__(
        self,
        app: BaseApp,
        listener: socket.socket,
        workers: int = 4,
        events: Events = Events(False),
        timeouts: Timeouts = Timeouts(),
        access_log: Optional[AccessLog] = None,
        max_connections: int = MAX_CONNECTIONS,
    ) -> None:
        self.app = app
        self.listener = listener
        self.workers = workers
        self.events = events
        self.timeouts = timeouts
        self.access_log = access_log or AccessLog()
        self.max_connections = max_connections
        self.master_pid = os.getpid()
        self.children: Dict[int, float] = {}  # pid -> started at
        self.is_worker = False
        self._stopping = False
        self._report = False
        self._restarts: List[float] = []

    @property
    def address(self):
        return self.listener.getsockname()[:2]

    def stopping(self) -> bool:
        return self._stopping

    # ---- the worker side ----------------------------------------------------------
    def _become_worker(self) -> None:
        if self.is_worker:
            return
        self.is_worker = True
        self.children = {}
        signal.signal(signal.SIGTERM, self._stop_worker)
        signal.signal(signal.SIGINT, self._stop_worker)
        signal.signal(signal.SIGUSR1, signal.SIG_IGN)
        signal.signal(signal.SIGCHLD, signal.SIG_DFL)
        self.listener.setblocking(False)

    def _stop_worker(self, *_args) -> None:
        self._stopping = True

    def connections(self) -> Iterator[Connection]:
        """In a worker: connections whose request has fully arrived, one at a time, until the
        master asks the worker to stop (or is gone). The worker's poller reads every connection
        it has accepted, so a slow client holds a socket, not the worker."""
        if os.getpid() == self.master_pid:
            raise RuntimeError("connections() is for worker processes: the master serves no requests")
        self._become_worker()
        poller = Poller(
            self.listener,
            self.timeouts,
            self._worker_stopping,
            keep_alive=False,
            access_log=self.access_log,
            shared_listener=True,
            max_connections=self.max_connections,
        )
        return poller.connections()

    def _worker_stopping(self) -> bool:
        if not self._stopping and os.getppid() != self.master_pid:
            log("the master is gone; worker exiting")
            self._stopping = True
        return self._stopping

    def work(self) -> None:
        """The default worker body: serve the app until told to stop."""
        for connection in self.connections():
            with connection:
                for exchange in connection.exchanges():
                    exchange.respond(self.app.handle(exchange.request))

    def _fork_worker(self) -> int:
        pid = os.fork()
        if pid == 0:
            code = 0
            try:
                self.work()
            except BaseException:
                traceback.print_exc()
                code = 1
            finally:
                os._exit(code)
        return pid

    # ---- the master side ------------------------------------------------------------
    def spawn(self) -> int:
        sys.stdout.flush()
        sys.stderr.flush()
        pid = self.app.spawn_worker(self) if self.app.spawn_worker is not None else self._fork_worker()
        if os.getpid() != self.master_pid:  # a spawn hook that returned in the child
            os._exit(0)
        self.children[pid] = time.monotonic()
        return pid

    def _on_signal(self, signum, _frame) -> None:
        if signum == signal.SIGUSR1:
            self._report = True
        elif signum in (signal.SIGTERM, signal.SIGINT):
            self._stopping = True

    def _reap(self) -> None:
        while True:
            try:
                pid, status = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                return
            if pid == 0:
                return
            if self.children.pop(pid, None) is None:
                continue
            how = _describe_status(status)
            self.events.emit("worker-exited", worker=pid, status=how)
            if self._stopping:
                continue
            log(f"worker {pid} {how}; starting a replacement")
            self._throttle_restarts()
            new = self.spawn()
            self.events.emit("worker-started", worker=new, replaces=pid)

    def _throttle_restarts(self) -> None:
        now = time.monotonic()
        self._restarts = [t for t in self._restarts if now - t < RESTART_WINDOW] + [now]
        if len(self._restarts) > 2 * self.workers:
            time.sleep(0.5)

    def _report_master(self) -> None:
        self._report = False
        view = {}
        if self.app.master_view is not None:
            try:
                view = self.app.master_view()
            except Exception as exc:
                view = {"error": f"{type(exc).__name__}: {exc}"}
        self.events.emit("master", view=view, workers=sorted(self.children))

    def _shutdown(self) -> None:
        for pid in list(self.children):
            _signal(pid, signal.SIGTERM)
        deadline = time.monotonic() + GRACE
        while self.children and time.monotonic() < deadline:
            self._reap()
            time.sleep(MASTER_TICK)
        for pid in list(self.children):
            log(f"worker {pid} did not stop within {GRACE:g} s; killing it")
            _signal(pid, signal.SIGKILL)
        while self.children:
            try:
                pid, status = os.waitpid(-1, 0)
            except ChildProcessError:
                break
            if self.children.pop(pid, None) is not None:
                self.events.emit("worker-exited", worker=pid, status=_describe_status(status))

    def serve_forever(self) -> int:
        handled = (signal.SIGTERM, signal.SIGINT, signal.SIGUSR1, signal.SIGCHLD)
        previous = {sig: signal.signal(sig, self._on_signal) for sig in handled}
        host, port = self.address
        try:
            for _ in range(self.workers):
                self.spawn()
            log(f"prefork master on http://{host}:{port}: {self.workers} worker processes {sorted(self.children)}")
            self.events.emit("ready", model=self.model, host=host, port=port, workers=sorted(self.children))
            while not self._stopping:
                self._reap()
                if self._report:
                    self._report_master()
                time.sleep(MASTER_TICK)
        finally:
            if os.getpid() == self.master_pid:
                self._stopping = True
                self._shutdown()
                self.listener.close()
                for sig, handler in previous.items():
                    signal.signal(sig, handler)
                self.events.emit("stopped", model=self.model)
        return 0


def _signal(pid: int, signum: int) -> None:
    try:
        os.kill(pid, signum)
    except ProcessLookupError:
        pass


def _describe_status(status: int) -> str:
    if os.WIFSIGNALED(status):
        number = os.WTERMSIG(status)
        return f"was killed by {STATUS_NAMES.get(number, number)}"
    return f"exited with code {os.WEXITSTATUS(status)}"
