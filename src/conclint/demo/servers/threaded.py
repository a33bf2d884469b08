"""The threaded model: one process, a pool of worker threads.

The main thread runs the poller (`servers.base.Poller`): it accepts connections and reads
their requests; a connection whose request has fully arrived goes into the queue of a
`ThreadPoolExecutor`, and the next free worker thread answers it, then hands a keep-alive
connection back to the poller. A slow or idle client holds a socket, never a thread.
SIGTERM or SIGINT stops accepting, lets the requests in flight finish, and exits.

An app may bring its own `serve(server)` (a scenario does, so that conclint sees which
functions the pool runs); it gets this server and uses `connections()` and `workers`.
"""

from __future__ import annotations

import signal
import socket
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Iterator, Optional

from conclint.demo.app import BaseApp, log
from conclint.demo.http import Timeouts
from conclint.demo.limits import MAX_CONNECTIONS
from conclint.demo.servers.base import AccessLog, Connection, Events, Poller


class ThreadedServer:
    model = "threaded"

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
        self._stop = threading.Event()
        self.poller = Poller(
            listener,
            timeouts,
            self.stopping,
            keep_alive=True,
            access_log=access_log or AccessLog(),
            max_connections=max_connections,
        )

    @property
    def address(self):
        return self.listener.getsockname()[:2]

    def stopping(self) -> bool:
        return self._stop.is_set()

    def stop(self, *_args) -> None:
        self._stop.set()

    def connections(self) -> Iterator[Connection]:
        """Connections whose next request has arrived, until the server is told to stop."""
        return self.poller.connections()

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
