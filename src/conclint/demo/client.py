"""A bounded concurrent HTTP client: at most ``concurrency`` requests in flight, each with
a timeout, one connection per request. Failures are results, never exceptions."""

from __future__ import annotations

import http.client
import json
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, Callable, List, Optional, Sequence

MAX_CONCURRENCY = 64
DEFAULT_TIMEOUT = 10.0


@dataclass
class Reply:
    status: Optional[int]
    body: Any  # the decoded JSON, or the text when it is not JSON
    elapsed: float
    error: Optional[str] = None

    @property
    def ok(self) -> bool:
        return self.status == 200


def request(
    port: int,
    method: str,
    path: str,
    body: Optional[bytes] = None,
    host: str = "127.0.0.1",
    timeout: float = DEFAULT_TIMEOUT,
) -> Reply:
    started = time.monotonic()
    connection = http.client.HTTPConnection(host, port, timeout=timeout)
    try:
        connection.request(method, path, body=body, headers={"Connection": "close"})
        response = connection.getresponse()
        data = response.read()
    except (OSError, http.client.HTTPException) as exc:
        return Reply(None, None, time.monotonic() - started, f"{type(exc).__name__}: {exc}".rstrip(": "))
    finally:
        connection.close()
    try:
        decoded: Any = json.loads(data)
    except ValueError:
        decoded = data.decode("utf-8", errors="replace")
    return Reply(response.status, decoded, time.monotonic() - started)


def run_all(calls: Sequence[Callable[[], Reply]], concurrency: int) -> List[Reply]:
    """Every call, ``concurrency`` at a time (bounded by MAX_CONCURRENCY), in order of the calls.
    The first ``concurrency`` calls are released together, so they really overlap."""
    if not calls:
        return []
    width = max(1, min(concurrency, MAX_CONCURRENCY, len(calls)))
    gate = threading.Barrier(width, timeout=DEFAULT_TIMEOUT)

    def start(index: int) -> Reply:
        if index < width:
            try:
                gate.wait()
            except threading.BrokenBarrierError:
                pass
        return calls[index]()

    with ThreadPoolExecutor(max_workers=width, thread_name_prefix="client") as pool:
        return list(pool.map(start, range(len(calls))))


def many(
    port: int,
    method: str,
    path: str,
    count: int,
    concurrency: int,
    body: Optional[bytes] = None,
    timeout: float = DEFAULT_TIMEOUT,
) -> List[Reply]:
    """The same request ``count`` times, ``concurrency`` at a time."""
    return run_all([lambda: request(port, method, path, body, timeout=timeout)] * count, concurrency)
