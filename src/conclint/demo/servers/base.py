"""What the blocking servers share: the listening socket, connections, and events.

A `Connection` is one accepted socket; `exchanges()` yields its requests one after the
other (keep-alive) and answers a malformed one with a clear 4xx itself. Used as a
context manager, it closes the socket, and answers 500 when the code serving a request
raised before responding.
"""

from __future__ import annotations

import json
import os
import socket
import sys
from typing import Any, Callable, Iterator, Optional

from conclint.demo.app import as_response, error_response, log
from conclint.demo.http import ConnectionDone, HTTPError, Request, Response, SocketReader

WRITE_TIMEOUT = 10.0


def open_listener(host: str, port: int, backlog: int = 128) -> socket.socket:
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
        self.connection.send(response, self.keep_alive, head_only=self.request.method == "HEAD")


class Connection:
    def __init__(
        self,
        sock: socket.socket,
        stopping: Callable[[], bool],
        keep_alive: bool = True,
        on_close: Optional[Callable[[], None]] = None,
    ) -> None:
        self.sock = sock
        self.stopping = stopping
        self.keep_alive = keep_alive
        self._on_close = on_close
        self.current: Optional[Exchange] = None
        self.closed = False

    def send(self, response: Response, keep_alive: bool, head_only: bool = False) -> None:
        try:
            self.sock.settimeout(WRITE_TIMEOUT)
            self.sock.sendall(response.encode(keep_alive, head_only))
        except OSError:
            self.keep_alive = False

    def exchanges(self) -> Iterator[Exchange]:
        reader = SocketReader(self.sock, self.stopping)
        while not self.closed:
            try:
                request = reader.read_request()
            except ConnectionDone:
                return
            except HTTPError as exc:
                self.send(Response.error(exc.status, exc.message), keep_alive=False)
                return
            except OSError:
                return
            self.current = Exchange(self, request)
            yield self.current
            if not self.current.responded:
                self.current.respond(Response.error(500, "the handler gave no response"))
            if not self.current.keep_alive:
                return

    def close(self) -> None:
        if self.closed:
            return
        self.closed = True
        try:
            self.sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self.sock.close()
        if self._on_close is not None:
            self._on_close()

    def __enter__(self) -> Connection:
        return self

    def __exit__(self, kind, exc, tb) -> bool:
        try:
            if exc is not None and isinstance(exc, Exception):
                if self.current is not None and not self.current.responded:
                    self.current.responded = True
                    self.send(error_response(exc), keep_alive=False)
                elif not isinstance(exc, HTTPError):
                    log(f"error while serving a connection: {type(exc).__name__}: {exc}")
        finally:
            self.close()
        return exc is not None and isinstance(exc, Exception)
