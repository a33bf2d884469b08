"""HTTP/1.1 for the demo: requests parsed with limits, responses, and a clear 4xx for bad input.

Sans-IO (`RequestParser`): every server model feeds it the bytes it reads, so the three
answer alike, and none waits on a client to finish a request it has already refused. Only
what the demo needs: origin-form targets, Content-Length bodies (no chunked request bodies),
keep-alive.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from http import HTTPStatus
from typing import Any, Dict, List, Optional, Tuple
from urllib.parse import parse_qsl, unquote

from conclint.demo.limits import (
    IDLE_TIMEOUT,
    MAX_BODY_BYTES,
    MAX_HEAD_BYTES,
    MAX_HEADERS,
    MAX_REQUEST_LINE,
    READ_TIMEOUT,
    WRITE_TIMEOUT,
)

TOKEN = re.compile(rb"^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$")
VERSION = re.compile(rb"^HTTP/(\d)\.(\d)$")
FORBIDDEN_IN_VALUE = re.compile(rb"[\x00-\x08\x0a-\x1f\x7f]")
HEAD_END = b"\r\n\r\n"
BARE_LF = re.compile(rb"(?<!\r)\n")


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


def parse_request_line(request_line: bytes) -> Tuple[bytes, bytes, Tuple[int, int]]:
    """``METHOD /target HTTP/1.x`` -> (method, target, version), or the HTTPError it deserves."""
    if len(request_line) > MAX_REQUEST_LINE:
        raise HTTPError(414, f"the request line is longer than {MAX_REQUEST_LINE} bytes")
    parts = request_line.split(b" ")
    if len(parts) == 2 and parts[1].startswith(b"/"):
        raise HTTPError(400, "HTTP/0.9 requests (no version in the request line) are not supported: use HTTP/1.1")
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
    return method, target, version


def parse_head(head: bytes) -> Tuple[Request, int]:
    """The request line and headers (without the blank line) -> (request, body length)."""
    lines = head.split(b"\r\n")
    method, target, version = parse_request_line(lines[0])
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


@dataclass(frozen=True)
class Timeouts:
    """How long a server waits on a client. A client that sends nothing is closed after ``idle``
    seconds; one that has begun a request must finish it within ``read`` seconds (then 408), so a
    client sending a byte a second cannot hold a worker; a response must be taken within ``write``."""

    read: float = READ_TIMEOUT
    idle: float = IDLE_TIMEOUT
    write: float = WRITE_TIMEOUT


class RequestParser:
    """Bytes in, complete requests out (sans-IO: every server model feeds it the same way, so all
    three answer a malformed request alike). A request is refused as soon as its bytes show it is
    bad: a request line without a version (HTTP/0.9), a bare LF, a method that is not a token (a
    TLS handshake, garbage), a line or head over the limits; the parser is then spent."""

    def __init__(self) -> None:
        self.buffer = b""
        self._head: Optional[Tuple[Request, int]] = None
        self._line_checked = False

    @property
    def started(self) -> bool:
        """Bytes of a request have arrived (blank lines between requests do not count)."""
        return self._head is not None or bool(self.buffer.lstrip(b"\r\n"))

    def feed(self, data: bytes) -> None:
        self.buffer += data

    def next_request(self) -> Optional[Request]:
        """The next complete request, or None until its last byte has arrived; HTTPError for a bad one."""
        if self._head is None:
            self.buffer = _skip_blank_lines(self.buffer)
            end = self.buffer.find(HEAD_END)
            self._check_head_so_far(self.buffer if end < 0 else self.buffer[: end + len(HEAD_END)])
            if end < 0:
                return None
            self._head = parse_head(self.buffer[:end])
            self.buffer = self.buffer[end + len(HEAD_END) :]
        request, length = self._head
        if len(self.buffer) < length:
            return None
        request.body, self.buffer = self.buffer[:length], self.buffer[length:]
        self._head = None
        self._line_checked = False
        return request

    def _check_head_so_far(self, head: bytes) -> None:
        line_end = head.find(b"\n")
        line = head if line_end < 0 else head[:line_end]
        if len(line.rstrip(b"\r")) > MAX_REQUEST_LINE:
            raise HTTPError(414, f"the request line is longer than {MAX_REQUEST_LINE} bytes")
        method = line.split(b" ", 1)[0].rstrip(b"\r")
        if method and not TOKEN.match(method):
            raise HTTPError(400, "this is not an HTTP request: the method is not a token")
        if BARE_LF.search(head):
            raise HTTPError(400, "a line ends with a bare LF: HTTP/1.1 lines end with CRLF")
        if line_end >= 0 and not self._line_checked:
            parse_request_line(line[:-1])
            self._line_checked = True
        if len(head) > MAX_HEAD_BYTES + len(HEAD_END):
            raise HTTPError(431, f"the request head is larger than {MAX_HEAD_BYTES} bytes")


def _skip_blank_lines(buffer: bytes) -> bytes:
    """Blank lines (CRLF) before a request are allowed (RFC 9112, 2.2)."""
    while buffer.startswith(b"\r\n"):
        buffer = buffer[2:]
    return buffer


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
