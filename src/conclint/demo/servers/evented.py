"""The evented model: one asyncio event loop serves every connection.

Async handlers run on the loop itself; synchronous ones (and anything a handler hands
to `run_in_executor`, EventMachine's ``defer``) run in the loop's thread pool of
``workers`` threads. SIGTERM or SIGINT stops accepting, gives the requests in flight
a few seconds, and exits.
"""

from __future__ import annotations

import asyncio
import signal
import socket
import sys
from concurrent.futures import ThreadPoolExecutor
from typing import Set

from conclint.demo.app import BaseApp, log
from conclint.demo.http import MAX_HEAD_BYTES, ConnectionDone, HTTPError, Response, read_request_async
from conclint.demo.servers.base import Events

GRACE = 5.0


def event_loop() -> asyncio.AbstractEventLoop:
    """The loop to serve on, made current before the app is imported: on Python 3.9 an
    ``asyncio.Lock()`` made at import time binds to the current loop."""
    if sys.version_info < (3, 10):
        return asyncio.get_event_loop()
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    return loop


class EventedServer:
    model = "evented"

    def __init__(
        self, app: BaseApp, listener: socket.socket, workers: int = 4, events: Events = Events(False), loop=None
    ) -> None:
        self.app = app
        self.listener = listener
        self.workers = workers
        self.events = events
        self.loop = loop or event_loop()
        self._clients: Set[asyncio.Task] = set()
        self._busy: Set[asyncio.Task] = set()  # between reading a request and sending its response
        self._stopping = False

    @property
    def address(self):
        return self.listener.getsockname()[:2]

    async def _client(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        self._clients.add(task)
        try:
            while not self._stopping:
                try:
                    request = await _read(reader)
                except ConnectionDone:
                    break
                except HTTPError as exc:
                    writer.write(Response.error(exc.status, exc.message).encode(False))
                    await writer.drain()
                    break
                self._busy.add(task)
                try:
                    response = await self.app.handle_async(request)
                    keep_alive = request.keep_alive and not self._stopping
                    writer.write(response.encode(keep_alive, head_only=request.method == "HEAD"))
                    await writer.drain()
                finally:
                    self._busy.discard(task)
                if not keep_alive:
                    break
        except (ConnectionError, OSError):
            pass
        finally:
            self._clients.discard(task)
            writer.close()

    async def _main(self) -> None:
        stop = asyncio.Event()
        for sig in (signal.SIGTERM, signal.SIGINT):
            self.loop.add_signal_handler(sig, stop.set)
        self.listener.setblocking(False)
        server = await asyncio.start_server(self._client, sock=self.listener, limit=MAX_HEAD_BYTES + 4)
        host, port = self.address
        log(f"evented server on http://{host}:{port}: one event loop, {self.workers} threads for deferred work")
        self.events.emit("ready", model=self.model, host=host, port=port, workers=[])
        try:
            await stop.wait()
        finally:
            self._stopping = True
            server.close()
            for task in self._clients - self._busy:  # idle keep-alive connections: nothing to finish
                task.cancel()
            if self._clients:
                _, pending = await asyncio.wait(set(self._clients), timeout=GRACE)
                for task in pending:
                    task.cancel()
                if pending:
                    await asyncio.wait(pending, timeout=1.0)

    def serve_forever(self) -> int:
        executor = ThreadPoolExecutor(max_workers=self.workers, thread_name_prefix="deferred")
        self.loop.set_default_executor(executor)
        try:
            self.loop.run_until_complete(self._main())
        finally:
            executor.shutdown(wait=False)
            self.loop.close()
            self.events.emit("stopped", model=self.model)
        return 0


async def _read(reader: asyncio.StreamReader):
    return await read_request_async(reader)
