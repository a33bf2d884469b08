"""The demo's HTTP/1.1: limits and a clear 4xx for malformed requests, on the parser and
on real sockets of all three server models."""

from __future__ import annotations

import socket

import pytest

from conclint.demo.http import MAX_BODY_BYTES, MAX_HEADERS, HTTPError, parse_head
from conclint.demo.launch import ServerProcess


def test_a_well_formed_request_is_parsed():
    request, length = parse_head(
        b"POST /winner/final?x=1&y=two%20words HTTP/1.1\r\nHost: a\r\nContent-Length: 9\r\nX-A: 1"
    )
    assert (request.method, request.path, request.query, length) == (
        "POST",
        "/winner/final",
        {"x": "1", "y": "two words"},
        9,
    )
    assert request.header("x-a") == "1" and request.keep_alive


@pytest.mark.parametrize(
    "head, status",
    [
        (b"HELLO", 400),
        (b"GET / HTTP/1.1", 400),  # no Host
        (b"GET / HTTP/2.0\r\nHost: a", 505),
        (b"GET / FTP/1.0\r\nHost: a", 400),
        (b"GET relative HTTP/1.1\r\nHost: a", 400),
        (b"G(T / HTTP/1.1\r\nHost: a", 400),
        (b"GET /" + b"a" * 9000 + b" HTTP/1.1\r\nHost: a", 414),
        (b"GET / HTTP/1.1\r\nHost: a\r\n" + b"\r\n".join(b"X-%d: v" % i for i in range(MAX_HEADERS)), 431),
        (b"GET / HTTP/1.1\r\nHost: a\r\nBad Name: v", 400),
        (b"GET / HTTP/1.1\r\nHost: a\r\nX: a\r\n folded", 400),
        (b"GET / HTTP/1.1\r\nHost: a\r\nX: a\x01b", 400),
        (b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 12x", 400),
        (b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 1\r\nContent-Length: 2", 400),
        (b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: %d" % (MAX_BODY_BYTES + 1), 413),
        (b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked", 501),
    ],
)
def test_malformed_requests_get_a_clear_status(head, status):
    with pytest.raises(HTTPError) as caught:
        parse_head(head)
    assert caught.value.status == status and caught.value.message


def _exchange(port: int, data: bytes) -> bytes:
    with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
        sock.sendall(data)
        received = b""
        while True:
            chunk = sock.recv(65536)
            if not chunk:
                return received
            received += chunk


@pytest.fixture(scope="module", params=["threaded", "evented", "prefork"])
def server(request):
    with ServerProcess(request.param, workers=2) as running:
        yield running


SOCKET_CASES = {
    "ping": (b"GET /ping HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n", 200),
    "garbage": (b"NONSENSE\r\n\r\n", 400),
    "no-host": (b"GET /ping HTTP/1.1\r\n\r\n", 400),
    "http-3": (b"GET /ping HTTP/3.0\r\nHost: a\r\n\r\n", 505),
    "long-line": (b"GET /" + b"x" * 10000 + b" HTTP/1.1\r\nHost: a\r\n\r\n", 414),
    "many-headers": (
        b"GET /ping HTTP/1.1\r\nHost: a\r\n" + b"".join(b"X-%d: v\r\n" % i for i in range(200)) + b"\r\n",
        431,
    ),
    "huge-header": (b"GET /ping HTTP/1.1\r\nHost: a\r\nX: " + b"v" * 20000 + b"\r\n\r\n", 431),
    "huge-body": (b"POST /ping HTTP/1.1\r\nHost: a\r\nContent-Length: 10000000\r\n\r\n", 413),
    "no-route": (b"GET /no/such/route HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n", 404),
    "bad-query": (b"GET /worker-isolation/slow?seconds=lots HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n", 400),
}


@pytest.mark.parametrize("data, status", list(SOCKET_CASES.values()), ids=list(SOCKET_CASES))
def test_servers_answer_bad_requests_with_a_4xx_and_close(server, data, status):
    reply = _exchange(server.port, data)
    assert reply.startswith(b"HTTP/1.1 %d " % status), reply[:200]
    if status != 200:
        assert b'"error"' in reply and b"Connection: close" in reply


def test_keep_alive_answers_requests_in_turn(server):
    two = b"GET /ping HTTP/1.1\r\nHost: a\r\n\r\nGET /ping HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n"
    reply = _exchange(server.port, two)
    # prefork workers serve one request a connection (like gunicorn's sync workers)
    assert reply.count(b"HTTP/1.1 200 OK") == (1 if server.model == "prefork" else 2)
