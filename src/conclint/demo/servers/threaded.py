"""The threaded model: one process, a pool of worker threads taking connections from a queue.

The main thread accepts; each accepted connection goes into the queue of a
`ThreadPoolExecutor` and the next free worker thread serves it to the end (keep-alive
included). At most ``4 x workers`` connections are accepted and not yet finished: past
that the main thread stops accepting and the kernel's backlog holds the rest.
SIGTERM or SIGINT stops accepting, lets the requests in flight finish, and exits.

An app may bring its own `serve(server)` (a scenario does, so that conclint sees which
functions the pool runs); it gets this server and uses `connections()` and `workers`.
"""

from __future__ import annotations

import signal
import socket
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Iterator

from conclint.demo.app import BaseApp, log
from conclint.demo.servers.base import Connection, Events

ACCEPT_POLL = 0.25


class ThreadedServer:
    model = "threaded"

    def __init__(self, app: BaseApp, listener: socket.socket, workers: int = 4, events: Events = Events(False)) -> None:
        self.app = app
        self.listener = listener
        self.workers = workers
        self.events = events
        self._stop = threading.Event()
        self._slots = threading.BoundedSemaphore(4 * workers)

    @property
    def address(self):
        return self.listener.getsockname()[:2]

    def stopping(self) -> bool:
        return self._stop.is_set()

    def stop(self, *_args) -> None:
        self._stop.set()

    def connections(self) -> Iterator[Connection]:
        """Accepted connections, until the server is told to stop."""
        self.listener.settimeout(ACCEPT_POLL)
        while not self._stop.is_set():
            if not self._slots.acquire(timeout=ACCEPT_POLL):
                continue
            try:
                sock, _ = self.listener.accept()
            except socket.timeout:
                self._slots.release()
                continue
            except OSError as exc:
                self._slots.release()
                if self._stop.is_set():
                    break
                log(f"accept failed: {exc}")
                time.sleep(0.1)
                continue
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            yield Connection(sock, self.stopping, keep_alive=True, on_close=self._slots.release)

    def handle(self, connection: Connection) -> None:
        with connection:
            for exchange in connection.exchanges():
                exchange.respond(self.app.handle(exchange.request))

    def _serve_pool(self) -> None:
        with ThreadPoolExecutor(max_workers=self.workers, thread_name_prefix="worker") as pool:
            for connection in self.connections():
                pool.submit(self.handle, connection)

    def serve_forever(self) -> int:
        previous = {sig: signal.signal(sig, self.stop) for sig in (signal.SIGTERM, signal.SIGINT)}
        host, port = self.address
        log(f"threaded server on http://{host}:{port}: one process, {self.workers} worker threads")
        self.events.emit("ready", model=self.model, host=host, port=port, workers=[])
        try:
            if self.app.serve is not None:
                self.app.serve(self)
            else:
                self._serve_pool()
        finally:
            self.listener.close()
            for sig, handler in previous.items():
                signal.signal(sig, handler)
            self.events.emit("stopped", model=self.model)
        return 0
