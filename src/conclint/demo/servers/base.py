"""What the blocking servers share: the listening socket, the poller, connections, the access log.

The threaded and prefork models hand requests to workers that block: a worker thread, or a
worker process that serves one request at a time. A client that sends its request slowly (a
byte a second) or not at all must not hold such a worker, so no worker ever reads from a
client: the `Poller` accepts connections and reads their bytes without blocking (one
selector), and hands a connection to a worker only once its next request has fully arrived.
A request not finished within the read timeout is answered 408; a connection that sends
nothing is closed after the idle timeout; a malformed request is answered at once (400, 414,
431...). Idle connections cost a file descriptor, not a worker, up to ``max_connections``;
past that, a new connection is answered 503.

A `Connection` yields its complete requests with `exchanges()`; used as a context manager, it
answers 500 when the code serving a request raised before responding, then goes back to the
poller (keep-alive) or is closed.
"""

from __future__ import annotations

import json
import os
import selectors
import socket
import sys
import threading
import time
from collections import deque
from typing import Any, Callable, Deque, Dict, Iterator, List, Optional, Set

from conclint.demo.app import as_response, error_response, log
from conclint.demo.http import ConnectionDone, HTTPError, Request, RequestParser, Response, Timeouts
from conclint.demo.limits import MAX_CONNECTIONS

BACKLOG = 1024  # connections the kernel queues before the server accepts them
POLL_INTERVAL = 0.25  # seconds between two looks at the stop flag
LINGER = 2.0  # seconds to drain what a refused client is still sending, so it reads the answer
LINGER_BYTES = 4 * 1024 * 1024
FIRST_BYTES = 0.005  # seconds a prefork worker waits for a new connection's request before accepting another


def open_listener(host: str, port: int, backlog: int = BACKLOG) -> socket.socket:
    """A listening TCP socket (IPv6 when the host is an IPv6 address)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    listener = socket.socket(family, socket.SOCK_STREAM)
    try:
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind((host, port))
        listener.listen(backlog)
    except BaseException:
        listener.close()
        raise
    return listener


_ABSENT = object()  # what dict.pop returns for a connection not polled


class Events:
    """Machine-readable lifecycle events (one JSON object a line on stdout) for the
    orchestrator, and a human line on stderr."""

    def __init__(self, enabled: bool) -> None:
        self.enabled = enabled

    def emit(self, event: str, **fields: Any) -> None:
        if self.enabled:
            line = json.dumps({"event": event, "pid": os.getpid(), **fields}, sort_keys=True)
            try:
                sys.stdout.write(line + "\n")
                sys.stdout.flush()
            except (OSError, ValueError):  # the reader went away; serving goes on
                pass


class AccessLog:
    """One line per answered request on stderr, in gunicorn's default access-log format:
    ``127.0.0.1 - - [17/May/2025:10:00:00 +0000] "GET /ping HTTP/1.1" 200 28 "-" "curl/8.5"``."""

    def __init__(self, enabled: bool = True) -> None:
        self.enabled = enabled

    def write(self, peer: str, request: Optional[Request], status: int, size: int, first_line: str = "-") -> None:
        if not self.enabled:
            return
        if request is not None:
            first_line = f"{request.method} {request.target} HTTP/{request.version[0]}.{request.version[1]}"
            referer, agent = request.header("referer", "-"), request.header("user-agent", "-")
        else:
            referer = agent = "-"
        when = time.strftime("%d/%b/%Y:%H:%M:%S %z", time.localtime())
        line = f'{peer} - - [{when}] "{_quoted(first_line)}" {status} {size} "{_quoted(referer)}" "{_quoted(agent)}"'
        try:
            sys.stderr.write(line + "\n")
            sys.stderr.flush()
        except (OSError, ValueError):
            pass


def _quoted(text: Optional[str]) -> str:
    return (text or "-").encode("unicode_escape").decode("ascii").replace('"', '\\"')


def first_line(parser: RequestParser) -> str:
    """What a refused request began with, for the access log."""
    line = parser.buffer.split(b"\n", 1)[0].rstrip(b"\r")[:200]
    return line.decode("latin-1") if line else "-"


class Exchange:
    """One request and the means to answer it."""

    def __init__(self, connection: Connection, request: Request) -> None:
        self.connection = connection
        self.request = request
        self.responded = False
        self.keep_alive = False

    def respond(self, result: Any) -> None:
        response = as_response(result)
        self.keep_alive = self.request.keep_alive and self.connection.keep_alive and not self.connection.stopping()
        self.responded = True
        self.connection.send(response, self.keep_alive, head_only=self.request.method == "HEAD", request=self.request)


class Connection:
    """An accepted socket, the bytes read from it so far, and its deadline."""

    def __init__(self, sock: socket.socket, peer: str, poller: Poller) -> None:
        self.sock = sock
        self.peer = peer
        self.poller = poller
        self.parser = RequestParser()
        self.keep_alive = poller.keep_alive
        self.current: Optional[Exchange] = None
        self.closed = False
        self.lingering = False
        self.drained = 0
        self.accepted_at = time.monotonic()
        self.deadline = self.accepted_at + poller.timeouts.idle
        self.received = False  # any byte yet
        self.request_began = False
        self.waiting: Optional[Request] = None  # the complete request a worker will serve

    def stopping(self) -> bool:
        return self.poller.stopping()

    def fileno(self) -> int:
        return self.sock.fileno()

    # ---- reading, in the poller -------------------------------------------------
    def take_request(self) -> bool:
        """Parse what has arrived; True when a complete request waits for a worker."""
        if self.waiting is None:
            self.waiting = self.parser.next_request()
            if self.waiting is None and self.parser.started and not self.request_began:
                self.request_began = True
                self.deadline = time.monotonic() + self.poller.timeouts.read
        return self.waiting is not None

    def receive(self) -> bool:
        """Read what the socket has (it never blocks); False when the peer has closed."""
        try:
            chunk = self.sock.recv(65536)
        except (BlockingIOError, InterruptedError):
            return True
        except OSError:
            return False
        if self.lingering:
            self.drained += len(chunk)
            return bool(chunk) and self.drained < LINGER_BYTES
        if not chunk:
            return False
        self.received = True
        self.parser.feed(chunk)
        return True

    def expire(self) -> None:
        """The deadline passed: a request under way gets 408, a silent connection is closed."""
        if self.request_began and not self.lingering:
            self.refuse(HTTPError(408, f"the request did not arrive within {self.poller.timeouts.read:g} seconds"))
        else:
            self.close()

    def refuse(self, exc: HTTPError) -> None:
        """Answer a request that will not be served, then drain what the client still sends."""
        response = Response.error(exc.status, exc.message)
        self.poller.access_log.write(self.peer, None, exc.status, len(response.body), first_line(self.parser))
        self.send(response, keep_alive=False)
        self.linger()

    def linger(self) -> None:
        try:
            self.sock.shutdown(socket.SHUT_WR)
            self.sock.setblocking(False)
        except OSError:
            self.close()
            return
        self.lingering = True
        self.deadline = time.monotonic() + LINGER
        self.poller.stop_counting(self)

    # ---- serving, in a worker ---------------------------------------------------
    def send(
        self, response: Response, keep_alive: bool, head_only: bool = False, request: Optional[Request] = None
    ) -> None:
        if request is not None:
            self.poller.access_log.write(self.peer, request, response.status, len(response.body))
        try:
            self.sock.settimeout(self.poller.timeouts.write)
            self.sock.sendall(response.encode(keep_alive, head_only))
        except OSError:
            self.keep_alive = False

    def exchanges(self) -> Iterator[Exchange]:
        """The requests that have fully arrived, in turn (pipelined ones too)."""
        while not self.closed:
            try:
                if not self.take_request():
                    return
            except HTTPError as exc:
                self.refuse(exc)
                return
            request, self.waiting = self.waiting, None
            self.current = Exchange(self, request)
            yield self.current
            if not self.current.responded:
                self.current.respond(Response.error(500, "the handler gave no response"))
            if not self.current.keep_alive:
                self.keep_alive = False
                return

    def done(self) -> None:
        """The worker is finished with it: back to the poller for the next request, or closed."""
        if self.closed or self.lingering:
            return
        if self.keep_alive and not self.stopping():
            self.request_began = False
            self.deadline = time.monotonic() + self.poller.timeouts.idle
            self.poller.give_back(self)
        else:
            self.close()

    def close(self) -> None:
        if self.closed:
            return
        self.closed = True
        try:
            self.sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self.sock.close()
        self.poller.forget(self)

    def __enter__(self) -> Connection:
        return self

    def __exit__(self, kind, exc, tb) -> bool:
        try:
            if exc is not None and isinstance(exc, Exception):
                self.keep_alive = False
                if self.current is not None and not self.current.responded:
                    self.current.responded = True
                    self.send(error_response(exc), keep_alive=False, request=self.current.request)
                elif not isinstance(exc, (HTTPError, ConnectionDone)):
                    log(f"error while serving a connection: {type(exc).__name__}: {exc}")
        finally:
            if self.lingering:
                self.poller.give_back(self)
            else:
                self.done()
        return exc is not None and isinstance(exc, Exception)


class Poller:
    """Accepts connections and reads their requests in one thread, without blocking; yields a
    connection once its next request has fully arrived.

    The threaded server's poller accepts whatever is queued: its requests all go to one pool.
    A prefork worker's poller (``shared_listener``) shares the socket with the other workers,
    and serves what it takes itself: it accepts one connection at a time, and none while the last
    one it took has sent nothing for less than ``FIRST_BYTES`` seconds (5 ms). Otherwise the worker that
    wakes first takes a whole burst before any request in it has arrived, and serves it alone
    while the others wait; a client that sends nothing still holds it up for no longer than that."""

    def __init__(
        self,
        listener: socket.socket,
        timeouts: Timeouts,
        stopping: Callable[[], bool],
        keep_alive: bool,
        access_log: AccessLog,
        shared_listener: bool = False,
        max_connections: int = MAX_CONNECTIONS,
    ) -> None:
        self.listener = listener
        self.timeouts = timeouts
        self.stopping = stopping
        self.keep_alive = keep_alive
        self.access_log = access_log
        self.shared_listener = shared_listener
        self._listening = False
        self.max_connections = max_connections
        self._open: Set[Connection] = set()  # every connection not yet closed, in a worker or not
        self._polled: Dict[Connection, None] = {}  # those the poller reads from, oldest first
        self._returned: Deque[Connection] = deque()
        self._returned_lock = threading.Lock()
        self._wake_reader, self._wake_writer = socket.socketpair()
        self._wake_reader.setblocking(False)
        self._wake_writer.setblocking(False)
        self._selector = selectors.DefaultSelector()
        self._running = False

    @property
    def open_connections(self) -> int:
        return len(self._open)

    def give_back(self, connection: Connection) -> None:
        """From a worker thread: poll this connection again (its worker has answered)."""
        with self._returned_lock:
            running = self._running
            if running:
                self._returned.append(connection)
        if not running:
            connection.close()
            return
        try:
            self._wake_writer.send(b"x")
        except OSError:  # the wake-up pipe is full: the poller is awake anyway
            pass

    def stop_counting(self, connection: Connection) -> None:
        """A refused connection, draining before it closes, no longer counts toward the limit."""
        self._open.discard(connection)

    def forget(self, connection: Connection) -> None:
        self._open.discard(connection)
        if self._polled.pop(connection, _ABSENT) is not _ABSENT:  # one atomic take: the poller thread forgets too
            try:
                self._selector.unregister(connection)
            except (KeyError, ValueError):
                pass

    def connections(self) -> Iterator[Connection]:
        """Connections whose next request has arrived, until ``stopping()``."""
        self.listener.setblocking(False)
        self._selector.register(self._wake_reader, selectors.EVENT_READ)
        with self._returned_lock:
            self._running = True
        try:
            while not self.stopping():
                yield from self._ready()
                self._wait()
                self._expire()
        finally:
            with self._returned_lock:
                self._running = False
                returned = list(self._returned)
                self._returned.clear()
            for connection in [*returned, *self._polled]:
                connection.close()
            self._selector.close()
            self._wake_reader.close()
            self._wake_writer.close()

    def _ready(self) -> Iterator[Connection]:
        for connection in list(self._polled):
            if connection.closed or connection.lingering:
                continue
            try:
                ready = connection.take_request()
            except HTTPError as exc:
                connection.refuse(exc)
                continue
            if ready:
                del self._polled[connection]
                self._selector.unregister(connection)
                yield connection

    def _wait(self) -> None:
        now = time.monotonic()
        waits = [c.deadline for c in self._polled]
        if self.shared_listener:
            fresh = [c.accepted_at + FIRST_BYTES for c in self._polled if not c.received]
            fresh = [moment for moment in fresh if moment > now]
            waits += fresh
            self._listen(not fresh)
        else:
            self._listen(True)
        timeout = min([POLL_INTERVAL, *(moment - now for moment in waits)])
        for key, _ in self._selector.select(max(0.0, timeout)):
            if key.fileobj is self.listener:
                self._accept()
            elif key.fileobj is self._wake_reader:
                self._take_back()
            else:
                connection = key.fileobj
                if not connection.receive():
                    connection.close()

    def _listen(self, accepting: bool) -> None:
        if accepting != self._listening:
            if accepting:
                self._selector.register(self.listener, selectors.EVENT_READ)
            else:
                self._selector.unregister(self.listener)
            self._listening = accepting

    def _accept(self) -> None:
        for _ in range(1 if self.shared_listener else 64):
            try:
                sock, address = self.listener.accept()
            except (BlockingIOError, InterruptedError):
                return  # nothing left, or another worker took it
            except OSError as exc:  # out of file descriptors, for one
                log(f"accept failed: {exc}")
                time.sleep(0.1)
                return
            sock.setblocking(False)
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            connection = Connection(sock, str(address[0]), self)
            self._open.add(connection)
            if len(self._open) > self.max_connections:
                connection.refuse(HTTPError(503, f"the server holds {self.max_connections} connections already"))
            self._poll(connection)

    def _take_back(self) -> None:
        try:
            while self._wake_reader.recv(4096):
                pass
        except (BlockingIOError, InterruptedError):
            pass
        with self._returned_lock:
            returned: List[Connection] = list(self._returned)
            self._returned.clear()
        for connection in returned:
            if not connection.closed:
                connection.sock.setblocking(False)
                self._poll(connection)

    def _poll(self, connection: Connection) -> None:
        if not connection.closed and connection not in self._polled:
            self._polled[connection] = None
            self._selector.register(connection, selectors.EVENT_READ)

    def _expire(self) -> None:
        now = time.monotonic()
        for connection in [c for c in self._polled if c.deadline <= now and c.waiting is None]:
            if connection.lingering or not connection.receive():
                connection.close()
                continue
            try:  # what arrived while this worker was serving others
                if connection.take_request() or connection.deadline > now:
                    continue
            except HTTPError as exc:
                connection.refuse(exc)
                continue
            connection.expire()
