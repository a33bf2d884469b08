"""The evented model: one asyncio event loop serves every connection.

Every connection is a task; it reads with the same parser and timeouts as the blocking
models, so all three answer a malformed or slow request alike. Async handlers run on the
loop itself; synchronous ones (and anything a handler hands
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
from typing import Optional, Set

from conclint.demo.app import BaseApp, log
from conclint.demo.http import ConnectionDone, HTTPError, Request, RequestParser, Response, Timeouts
from conclint.demo.limits import MAX_CONNECTIONS
from conclint.demo.servers.base import (
    BACKLOG,
    LINGER,
    LINGER_BYTES,
    AccessLog,
    Events,
    first_line,
)

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
        self,
        app: BaseApp,
        listener: socket.socket,
        workers: int = 4,
        events: Events = Events(False),
        loop=None,
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
        peer = str((writer.get_extra_info("peername") or ("-",))[0])
        parser = RequestParser()
        try:
            if len(self._clients) > self.max_connections:
                raise HTTPError(503, f"the server holds {self.max_connections} connections already")
            while not self._stopping:
                try:
                    request = await self._next_request(parser, reader)
                except ConnectionDone:
                    break
                self._busy.add(task)
                try:
                    response = await self.app.handle_async(request)
                    keep_alive = request.keep_alive and not self._stopping
                    self.access_log.write(peer, request, response.status, len(response.body))
                    writer.write(response.encode(keep_alive, head_only=request.method == "HEAD"))
                    await asyncio.wait_for(writer.drain(), self.timeouts.write)
                finally:
                    self._busy.discard(task)
                if not keep_alive:
                    break
        except HTTPError as exc:
            self._clients.discard(task)  # draining, it no longer counts toward the limit
            await self._refuse(exc, parser, peer, reader, writer)
        except (ConnectionError, OSError, asyncio.TimeoutError):
            pass
        finally:
            self._clients.discard(task)
            writer.close()

    async def _next_request(self, parser: RequestParser, reader: asyncio.StreamReader) -> Request:
        """The next complete request: ConnectionDone when the client leaves or stays silent past the
        idle timeout, HTTPError for a bad request or one not finished within the read timeout."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.timeouts.idle
        began = False
        while True:
            request = parser.next_request()
            if request is not None:
                return request
            if parser.started and not began:
                began, deadline = True, loop.time() + self.timeouts.read
            try:
                chunk = await asyncio.wait_for(reader.read(65536), max(0.0, deadline - loop.time()))
            except asyncio.TimeoutError:
                if began:
                    raise HTTPError(408, f"the request did not arrive within {self.timeouts.read:g} seconds") from None
                raise ConnectionDone() from None
            if not chunk:
                if began:
                    raise HTTPError(400, "the connection closed in the middle of the request")
                raise ConnectionDone()
            parser.feed(chunk)

    async def _refuse(self, exc: HTTPError, parser: RequestParser, peer: str, reader, writer) -> None:
        """Answer a request that will not be served, then drain what the client still sends
        (for a while), so that it reads the answer rather than a reset."""
        response = Response.error(exc.status, exc.message)
        self.access_log.write(peer, None, exc.status, len(response.body), first_line(parser))
        try:
            writer.write(response.encode(False))
            await asyncio.wait_for(writer.drain(), self.timeouts.write)
            if writer.can_write_eof():
                writer.write_eof()
            loop = asyncio.get_running_loop()
            deadline, drained = loop.time() + LINGER, 0
            while drained < LINGER_BYTES:
                chunk = await asyncio.wait_for(reader.read(65536), max(0.0, deadline - loop.time()))
                if not chunk:
                    break
                drained += len(chunk)
        except (ConnectionError, OSError, asyncio.TimeoutError):
            pass

    async def _main(self) -> None:
        stop = asyncio.Event()
        for sig in (signal.SIGTERM, signal.SIGINT):
            self.loop.add_signal_handler(sig, stop.set)
        self.listener.setblocking(False)
        server = await asyncio.start_server(self._client, sock=self.listener, backlog=BACKLOG)
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
