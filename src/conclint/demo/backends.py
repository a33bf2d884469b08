"""Services some scenarios talk to, run by the orchestrator on loopback ports for the length
of a run: a slow HTTP upstream (CCL202) and an inventory service with a line protocol (CCL304).

Each is a small threaded server bound to 127.0.0.1 with timeouts on every read, so a
scenario that goes wrong cannot hang it; used as a context manager, it stops and closes.
"""

from __future__ import annotations

import json
import socketserver
import threading
import time
import zlib
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Optional, Type
from urllib.parse import parse_qs, urlsplit

MAX_DELAY = 5.0
CLIENT_TIMEOUT = 10.0


class _Service:
    server_class: Type[socketserver.BaseServer]
    handler_class: Type[socketserver.BaseRequestHandler]

    def __init__(self) -> None:
        self.server: Optional[socketserver.BaseServer] = None
        self._thread: Optional[threading.Thread] = None

    @property
    def port(self) -> int:
        assert self.server is not None
        return self.server.server_address[1]

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    def __enter__(self):
        self.server = self.server_class(("127.0.0.1", 0), self.handler_class)
        self.server.daemon_threads = True
        self._thread = threading.Thread(target=self.server.serve_forever, args=(0.1,), name=type(self).__name__)
        self._thread.daemon = True
        self._thread.start()
        return self

    def __exit__(self, *_exc) -> None:
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()
        if self._thread is not None:
            self._thread.join(2.0)


class _SlowHandler(BaseHTTPRequestHandler):
    timeout = CLIENT_TIMEOUT

    def do_GET(self) -> None:
        target = urlsplit(self.path)
        try:
            seconds = min(MAX_DELAY, max(0.0, float(parse_qs(target.query).get("seconds", ["0.5"])[0])))
        except ValueError:
            seconds = 0.5
        time.sleep(seconds)
        body = json.dumps({"price": 42, "took": seconds}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *_args) -> None:  # quiet: the orchestrator prints the results
        pass


class SlowUpstream(_Service):
    """HTTP: ``GET /slow?seconds=S`` answers after S seconds (at most 5)."""

    server_class = ThreadingHTTPServer
    handler_class = _SlowHandler

    @property
    def url(self) -> str:
        return f"http://{self.address}"


def stock_of(sku: str) -> int:
    """The inventory's answer for a SKU (a fixed number, so a wrong answer shows)."""
    return zlib.crc32(sku.encode()) % 1000


class _InventoryHandler(socketserver.StreamRequestHandler):
    timeout = CLIENT_TIMEOUT

    def handle(self) -> None:
        for _ in range(100_000):
            try:
                line = self.rfile.readline(1024)
            except OSError:
                return
            if not line:
                return
            words = line.decode("ascii", errors="replace").split()
            time.sleep(0.002)  # a lookup
            if len(words) == 2 and words[0] == "STOCK":
                answer = f"{words[1]} {stock_of(words[1])}\n"
            else:
                answer = "ERROR expected: STOCK <sku>\n"
            try:
                self.wfile.write(answer.encode())
            except OSError:
                return


class _InventoryServer(socketserver.ThreadingTCPServer):
    allow_reuse_address = True


class Inventory(_Service):
    """A line protocol: ``STOCK <sku>`` is answered ``<sku> <count>``, a few ms later."""

    server_class = _InventoryServer
    handler_class = _InventoryHandler
