"""HTTP/1.1 for the demo: requests parsed with limits, responses, and a clear 4xx for bad input.

Sans-IO at the core (`parse_head`), with a blocking reader for the threaded and prefork
servers and an asyncio reader for the evented one. Only what the demo needs: origin-form
targets, Content-Length bodies (no chunked request bodies), keep-alive.
"""

from __future__ import annotations

import json
import re
import socket
import time
from dataclasses import dataclass, field
from http import HTTPStatus
from typing import Any, Dict, List, Optional, Tuple
from urllib.parse import parse_qsl, unquote

MAX_REQUEST_LINE = 8 * 1024
MAX_HEAD_BYTES = 16 * 1024  # request line and every header line
MAX_HEADERS = 64
MAX_BODY_BYTES = 64 * 1024
READ_TIMEOUT = 10.0  # seconds to receive one whole request once it has begun
IDLE_TIMEOUT = 5.0  # seconds a keep-alive connection may wait for its next request

TOKEN = re.compile(rb"^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$")
VERSION = re.compile(rb"^HTTP/(\d)\.(\d)$")
FORBIDDEN_IN_VALUE = re.compile(rb"[\x00-\x08\x0a-\x1f\x7f]")
HEAD_END = b"\r\n\r\n"


class HTTPError(Exception):
    """A request the server refuses, with the status to answer and why."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


class ConnectionDone(Exception):
    """The peer closed (or went idle) between requests: nothing to answer."""


@dataclass
class Request:
    method: str
    target: str
    path: str
    query: Dict[str, str]
    version: Tuple[int, int]
    headers: List[Tuple[str, str]]  # (lower-case name, value), in order
    body: bytes = b""

    def header(self, name: str, default: Optional[str] = None) -> Optional[str]:
        name = name.lower()
        for key, value in self.headers:
            if key == name:
                return value
        return default

    @property
    def keep_alive(self) -> bool:
        tokens = {t.strip().lower() for t in (self.header("connection") or "").split(",")}
        if self.version >= (1, 1):
            return "close" not in tokens
        return "keep-alive" in tokens

    def text(self) -> str:
        return self.body.decode("utf-8", errors="replace")

    def json(self) -> Any:
        if not self.body:
            return None
        try:
            return json.loads(self.body)
        except ValueError as exc:
            raise HTTPError(400, f"the body is not JSON: {exc}") from None


@dataclass
class Response:
    status: int = 200
    body: bytes = b""
    content_type: str = "application/json"
    headers: List[Tuple[str, str]] = field(default_factory=list)

    @classmethod
    def json(cls, value: Any, status: int = 200) -> Response:
        return cls(status, (json.dumps(value, sort_keys=True) + "\n").encode("utf-8"))

    @classmethod
    def text(cls, value: str, status: int = 200) -> Response:
        return cls(status, value.encode("utf-8"), "text/plain; charset=utf-8")

    @classmethod
    def error(cls, status: int, message: str) -> Response:
        return cls.json({"error": message, "status": status}, status)

    def encode(self, keep_alive: bool, head_only: bool = False) -> bytes:
        reason = reason_phrase(self.status)
        lines = [
            f"HTTP/1.1 {self.status} {reason}",
            f"Content-Type: {self.content_type}",
            f"Content-Length: {len(self.body)}",
        ]
        lines += [f"{name}: {value}" for name, value in self.headers]
        lines.append("Connection: keep-alive" if keep_alive else "Connection: close")
        head = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")
        return head if head_only else head + self.body


def reason_phrase(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Unknown"


def parse_head(head: bytes) -> Tuple[Request, int]:
    """The request line and headers (without the blank line) -> (request, body length)."""
    lines = head.split(b"\r\n")
    request_line = lines[0]
    if len(request_line) > MAX_REQUEST_LINE:
        raise HTTPError(414, f"the request line is longer than {MAX_REQUEST_LINE} bytes")
    parts = request_line.split(b" ")
    if len(parts) != 3 or not all(parts):
        raise HTTPError(400, "malformed request line: expected 'METHOD /path HTTP/1.1'")
    method, target, version_text = parts
    if not TOKEN.match(method):
        raise HTTPError(400, "malformed request line: the method is not a token")
    version_match = VERSION.match(version_text)
    if version_match is None:
        raise HTTPError(400, "malformed request line: the version is not HTTP/x.y")
    version = (int(version_match.group(1)), int(version_match.group(2)))
    if version[0] != 1:
        raise HTTPError(505, f"HTTP/{version[0]}.{version[1]} is not supported: use HTTP/1.1")
    if not target.startswith(b"/") or FORBIDDEN_IN_VALUE.search(target) or b"\t" in target:
        raise HTTPError(400, "malformed request target: expected a path starting with '/'")
    if len(lines) - 1 > MAX_HEADERS:
        raise HTTPError(431, f"more than {MAX_HEADERS} header fields")
    headers: List[Tuple[str, str]] = []
    for line in lines[1:]:
        if line[:1] in (b" ", b"\t"):
            raise HTTPError(400, "obsolete header line folding is not accepted")
        name, colon, value = line.partition(b":")
        if not colon or not TOKEN.match(name):
            raise HTTPError(400, f"malformed header line: {line[:40]!r}")
        value = value.strip(b" \t")
        if FORBIDDEN_IN_VALUE.search(value):
            raise HTTPError(400, f"control characters in the value of header {name.decode('ascii')!r}")
        headers.append((name.decode("ascii").lower(), value.decode("latin-1")))
    target_text = target.decode("latin-1")
    raw_path, _, raw_query = target_text.partition("?")
    request = Request(
        method=method.decode("ascii"),
        target=target_text,
        path=unquote(raw_path),
        query=dict(parse_qsl(raw_query, keep_blank_values=True)),
        version=version,
        headers=headers,
    )
    if version >= (1, 1) and request.header("host") is None:
        raise HTTPError(400, "HTTP/1.1 requests must carry a Host header")
    if request.header("transfer-encoding") is not None:
        raise HTTPError(501, "Transfer-Encoding request bodies are not supported: send Content-Length")
    return request, _content_length(request)


def _content_length(request: Request) -> int:
    values = {value.strip() for key, value in request.headers if key == "content-length"}
    if not values:
        return 0
    if len(values) > 1:
        raise HTTPError(400, "conflicting Content-Length headers")
    value = values.pop()
    if not value.isdigit() or len(value) > 18:
        raise HTTPError(400, f"invalid Content-Length {value[:20]!r}")
    length = int(value)
    if length > MAX_BODY_BYTES:
        raise HTTPError(413, f"the body is larger than {MAX_BODY_BYTES} bytes")
    return length


def _check_partial_head(buffer: bytes) -> None:
    """Refuse a head that has grown past the limits before its end has arrived."""
    line_end = buffer.find(b"\r\n")
    if (line_end < 0 and len(buffer) > MAX_REQUEST_LINE) or line_end > MAX_REQUEST_LINE:
        raise HTTPError(414, f"the request line is longer than {MAX_REQUEST_LINE} bytes")
    if len(buffer) > MAX_HEAD_BYTES + len(HEAD_END):
        raise HTTPError(431, f"the request head is larger than {MAX_HEAD_BYTES} bytes")


class SocketReader:
    """Reads requests off a blocking socket, one after the other (keep-alive)."""

    def __init__(self, sock: socket.socket, stopping=lambda: False) -> None:
        self.sock = sock
        self.buffer = b""
        self.stopping = stopping

    def _recv(self, deadline: float, idle: bool) -> bytes:
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                if idle:
                    raise ConnectionDone()
                raise HTTPError(408, f"the request did not arrive within {READ_TIMEOUT:g} seconds")
            if idle and self.stopping():
                raise ConnectionDone()
            self.sock.settimeout(min(remaining, 0.25))
            try:
                return self.sock.recv(65536)
            except socket.timeout:
                continue

    def read_request(self) -> Request:
        idle_deadline = time.monotonic() + IDLE_TIMEOUT
        deadline = None
        while HEAD_END not in self.buffer:
            _check_partial_head(self.buffer)
            if self.buffer.strip(b"\r\n") == b"" and deadline is None:
                chunk = self._recv(idle_deadline, idle=True)
            else:
                deadline = deadline or time.monotonic() + READ_TIMEOUT
                chunk = self._recv(deadline, idle=False)
            if not chunk:
                if self.buffer.strip(b"\r\n"):
                    raise HTTPError(400, "the connection closed in the middle of the request head")
                raise ConnectionDone()
            self.buffer += chunk
            if self.buffer.startswith(b"\r\n"):  # blank lines before a request are allowed
                self.buffer = self.buffer.lstrip(b"\r\n")
        head, _, rest = self.buffer.partition(HEAD_END)
        _check_partial_head(head + HEAD_END)
        request, length = parse_head(head)
        deadline = time.monotonic() + READ_TIMEOUT
        while len(rest) < length:
            chunk = self._recv(deadline, idle=False)
            if not chunk:
                raise HTTPError(400, "the connection closed in the middle of the request body")
            rest += chunk
        request.body, self.buffer = rest[:length], rest[length:]
        return request


async def read_request_async(reader) -> Request:
    """One request from an asyncio StreamReader (made with ``limit=MAX_HEAD_BYTES + 4``)."""
    import asyncio

    try:
        head = await asyncio.wait_for(_read_head_async(reader), IDLE_TIMEOUT + READ_TIMEOUT)
    except asyncio.TimeoutError:
        raise ConnectionDone() from None
    request, length = parse_head(head)
    if length:
        try:
            request.body = await asyncio.wait_for(reader.readexactly(length), READ_TIMEOUT)
        except asyncio.IncompleteReadError:
            raise HTTPError(400, "the connection closed in the middle of the request body") from None
        except asyncio.TimeoutError:
            raise HTTPError(408, f"the request body did not arrive within {READ_TIMEOUT:g} seconds") from None
    return request


async def _read_head_async(reader) -> bytes:
    import asyncio

    while True:
        try:
            data = await reader.readuntil(HEAD_END)
        except asyncio.IncompleteReadError as exc:
            if exc.partial.strip(b"\r\n"):
                raise HTTPError(400, "the connection closed in the middle of the request head") from None
            raise ConnectionDone() from None
        except asyncio.LimitOverrunError:
            raise HTTPError(431, f"the request head is larger than {MAX_HEAD_BYTES} bytes") from None
        data = data.lstrip(b"\r\n")
        if data:
            head = data[: -len(HEAD_END)]
            _check_partial_head(head + HEAD_END)
            return head


def query_number(request: Request, name: str, default: float, low: float, high: float, kind=float):
    """A number from the query string, within bounds, or a 400 that says what was wrong."""
    raw = request.query.get(name)
    if raw is None or raw == "":
        return kind(default)
    try:
        value = kind(raw)
    except ValueError:
        raise HTTPError(400, f"query parameter {name!r} must be a number, not {raw[:20]!r}") from None
    if not low <= value <= high:
        raise HTTPError(400, f"query parameter {name!r} must be between {low} and {high}")
    return value


def query_text(request: Request, name: str, default: str, max_length: int = 100) -> str:
    value = request.query.get(name, default)
    if not value or len(value) > max_length:
        raise HTTPError(400, f"query parameter {name!r} must be 1 to {max_length} characters")
    return value


def not_found(request: Request) -> HTTPError:
    return HTTPError(404, f"no route for {request.method} {request.path}")
