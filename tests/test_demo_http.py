"""The demo's HTTP/1.1 on real sockets of all three server models: limits, the same clear 4xx
for a malformed request from every model, slow and idle clients that hold no worker, a bound
on open connections, and the access log."""

from __future__ import annotations

import re
import socket
import threading
import time

import pytest

from conclint.demo.http import MAX_BODY_BYTES, MAX_HEADERS, HTTPError, RequestParser, parse_head
from conclint.demo.launch import ServerProcess

MODELS = ("threaded", "evented", "prefork")
READ_TIMEOUT = 2  # the servers here answer 408 to a request not finished within 2 s
SLOW_CLIENTS = 8  # more than the workers: without the poller they would hold every one
IDLE_CONNECTIONS = 300  # well past the ~140 the old servers took before refusing


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


@pytest.mark.parametrize(
    "data, status",
    [
        (b"GET /ping\r\n", 400),  # HTTP/0.9: no blank line will ever come
        (b"GET /ping HTTP/1.1\nHost: a\n", 400),  # bare LF
        (b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03", 400),  # a TLS handshake
        (b"GET /" + b"x" * 9000, 414),  # no end of line yet
        (b"GET / HTTP/1.1\r\nHost: a\r\nX: " + b"v" * 20000, 431),  # no end of head yet
    ],
)
def test_the_parser_refuses_as_soon_as_the_bytes_show_it(data, status):
    parser = RequestParser()
    parser.feed(data)
    with pytest.raises(HTTPError) as caught:
        parser.next_request()
    assert caught.value.status == status


def test_the_parser_takes_requests_byte_by_byte_and_pipelined():
    stream = b"\r\nGET /a HTTP/1.1\r\nHost: x\r\n\r\nPOST /b HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nabc"
    parser, seen = RequestParser(), []
    for byte in stream:
        parser.feed(bytes([byte]))
        request = parser.next_request()
        if request is not None:
            seen.append((request.method, request.path, request.body))
    assert seen == [("GET", "/a", b""), ("POST", "/b", b"abc")] and not parser.started


# ---- on real sockets ---------------------------------------------------------------------------
def _exchange(port: int, data: bytes, timeout: float = 10) -> bytes:
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
        sock.sendall(data)
        received = b""
        while True:
            chunk = sock.recv(65536)
            if not chunk:
                return received
            received += chunk


def _serve(model: str, *options: str, workers: int = 2) -> ServerProcess:
    return ServerProcess(model, workers=workers, options=["--read-timeout", str(READ_TIMEOUT), *options])


@pytest.fixture(scope="module")
def servers():
    """One server of each model; connections that send nothing stay open for 30 s."""
    started = [_serve(model, "--idle-timeout", "30") for model in MODELS]
    try:
        yield {server.start().model: server for server in started}
    finally:
        for server in started:
            server.stop()


@pytest.fixture(params=MODELS)
def server(request, servers):
    return servers[request.param]


SOCKET_CASES = {
    "ping": (b"GET /ping HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n", 200),
    "garbage": (b"NONSENSE\r\n\r\n", 400),
    "tls-handshake": (b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03" + bytes(range(32)), 400),
    "http-0.9": (b"GET /ping\r\n", 400),
    "bare-lf": (b"GET /ping HTTP/1.1\nHost: a\n\n", 400),
    "no-host": (b"GET /ping HTTP/1.1\r\n\r\n", 400),
    "http-3": (b"GET /ping HTTP/3.0\r\nHost: a\r\n\r\n", 505),
    "long-line": (b"GET /" + b"x" * 10000 + b" HTTP/1.1\r\nHost: a\r\n\r\n", 414),
    "many-headers": (
        b"GET /ping HTTP/1.1\r\nHost: a\r\n" + b"".join(b"X-%d: v\r\n" % i for i in range(200)) + b"\r\n",
        431,
    ),
    "huge-header": (b"GET /ping HTTP/1.1\r\nHost: a\r\nX: " + b"v" * 20000 + b"\r\n\r\n", 431),
    "megabyte-header": (b"GET /ping HTTP/1.1\r\nHost: a\r\nX: " + b"v" * 1_000_000 + b"\r\n\r\n", 431),
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


def test_every_model_answers_a_malformed_request_alike(servers):
    for case, (data, status) in SOCKET_CASES.items():
        if status == 200:
            continue
        replies = {model: _exchange(server.port, data) for model, server in servers.items()}
        assert len(set(replies.values())) == 1, (case, replies)


def test_a_request_that_stops_halfway_is_answered_408(servers):
    """All three at once: each waits READ_TIMEOUT seconds for the rest, then answers 408."""
    replies = {}

    def ask(model: str, port: int) -> None:
        replies[model] = _exchange(port, b"GET /ping HTTP/1.1\r\nHo")

    threads = [threading.Thread(target=ask, args=(m, s.port)) for m, s in servers.items()]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(READ_TIMEOUT + 10)
    assert len(replies) == 3 and all(r.startswith(b"HTTP/1.1 408 ") for r in replies.values()), replies
    assert len(set(replies.values())) == 1


def _still_waiting(sock: socket.socket) -> bool:
    """Open, and nothing received yet (a closed socket reads b'', an answered one its bytes)."""
    sock.setblocking(False)
    try:
        sock.recv(1, socket.MSG_PEEK)
    except BlockingIOError:
        return True
    finally:
        sock.setblocking(True)
    return False


def test_slow_clients_hold_no_worker(server):
    """8 clients send a request at a byte a second to 2 workers: a ping sent meanwhile is answered
    while every slow one is still sending; each slow one gets 408 when the read timeout ends."""
    request = b"GET /ping HTTP/1.1\r\nHost: a\r\n\r\n"
    slow = [
        socket.create_connection(("127.0.0.1", server.port), timeout=READ_TIMEOUT + 10) for _ in range(SLOW_CLIENTS)
    ]
    stop = threading.Event()

    def trickle() -> None:
        for index in range(len(request) - 1):  # never the last byte
            for sock in slow:
                try:
                    sock.sendall(request[index : index + 1])
                except OSError:
                    return
            if stop.wait(1.0):
                return

    sender = threading.Thread(target=trickle)
    sender.start()
    try:
        time.sleep(0.3)  # every slow client has begun its request
        ping = _exchange(server.port, b"GET /ping HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n")
        assert ping.startswith(b"HTTP/1.1 200 ")
        assert all(_still_waiting(sock) for sock in slow)
        answers = [sock.recv(65536) for sock in slow]
    finally:
        stop.set()
        sender.join(5)
        for sock in slow:
            sock.close()
    assert all(answer.startswith(b"HTTP/1.1 408 ") for answer in answers), answers[:2]


def test_hundreds_of_idle_connections_do_not_shut_out_a_new_client(server):
    idle = [socket.create_connection(("127.0.0.1", server.port), timeout=10) for _ in range(IDLE_CONNECTIONS)]
    try:
        ping = _exchange(server.port, b"GET /ping HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n")
        assert ping.startswith(b"HTTP/1.1 200 ")
        assert all(_still_waiting(sock) for sock in idle)
    finally:
        for sock in idle:
            sock.close()


@pytest.mark.parametrize("model", MODELS)
def test_a_connection_past_the_limit_is_answered_503(model):
    with _serve(model, "--idle-timeout", "30", "--max-connections", "10", workers=1) as limited:
        idle = [socket.create_connection(("127.0.0.1", limited.port), timeout=10) for _ in range(10)]
        try:
            time.sleep(0.2)  # accepted
            reply = _exchange(limited.port, b"GET /ping HTTP/1.1\r\nHost: a\r\n\r\n")
        finally:
            for sock in idle:
                sock.close()
        assert reply.startswith(b"HTTP/1.1 503 "), reply[:200]
        for _ in range(50):  # once the server has seen the idle ones close, it serves again
            reply = _exchange(limited.port, b"GET /ping HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n")
            if reply.startswith(b"HTTP/1.1 200 "):
                break
            time.sleep(0.1)
        assert reply.startswith(b"HTTP/1.1 200 "), reply[:200]


def test_keep_alive_answers_requests_in_turn(server):
    two = b"GET /ping HTTP/1.1\r\nHost: a\r\n\r\nGET /ping HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n"
    reply = _exchange(server.port, two)
    # prefork workers serve one request a connection (like gunicorn's sync workers)
    assert reply.count(b"HTTP/1.1 200 OK") == (1 if server.model == "prefork" else 2)


ACCESS_LINE = re.compile(
    r'^127\.0\.0\.1 - - \[\d\d/\w{3}/\d{4}:\d\d:\d\d:\d\d [+-]\d{4}\] "(?P<line>[^"]*)" (?P<status>\d{3}) \d+ '
    r'"(?P<referer>[^"]*)" "(?P<agent>[^"]*)"$'
)


def test_each_request_is_logged_in_one_line_like_gunicorn(server):
    mark = f"/ping?log-check={time.monotonic_ns()}"
    _exchange(
        server.port, f"GET {mark} HTTP/1.1\r\nHost: a\r\nUser-Agent: probe/1\r\nConnection: close\r\n\r\n".encode()
    )
    _exchange(server.port, f"FROB{mark}\r\n\r\n".encode())
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        lines = [m for m in map(ACCESS_LINE.match, server.stderr().splitlines()) if m and mark in m["line"]]
        if len(lines) == 2:
            break
        time.sleep(0.05)
    assert [(m["line"], m["status"], m["agent"]) for m in lines] == [
        (f"GET {mark} HTTP/1.1", "200", "probe/1"),
        (f"FROB{mark}", "400", "-"),
    ]
