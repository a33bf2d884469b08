"""The app `conclint demo compare` drives: one request, one wait of 100 ms on I/O.

Under the prefork and threaded models the wait is a blocking call (a synchronous driver
waiting for its database); on the evented loop it is awaited, as an async driver's would
be. ``/block`` is the same wait made with `time.sleep` on every model: a handler that
blocks, which the evented model cannot hide.
"""

from __future__ import annotations

import asyncio
import os
import time

from conclint.demo.app import BaseApp, error_response
from conclint.demo.http import Request, Response, not_found, query_number

ROUTES = ("/io", "/block")


def _wait(request: Request) -> float:
    return query_number(request, "ms", 100, 0, 5000) / 1000


def _answer(seconds: float) -> Response:
    return Response.json({"waited_ms": round(seconds * 1000), "pid": os.getpid()})


class WorkloadApp(BaseApp):
    def handle(self, request: Request) -> Response:
        common = self._common(request)
        if common is not None:
            return common
        try:
            if request.path not in ROUTES:
                raise not_found(request)
            seconds = _wait(request)
            time.sleep(seconds)  # a blocking I/O call: the worker (thread or process) waits
            return _answer(seconds)
        except Exception as exc:
            return error_response(exc)

    async def handle_async(self, request: Request) -> Response:
        common = self._common(request)
        if common is not None:
            return common
        try:
            seconds = _wait(request)
            if request.path == "/io":
                await asyncio.sleep(seconds)  # awaited I/O: the loop serves others meanwhile
            elif request.path == "/block":
                time.sleep(seconds)  # noqa: CCL201 - the point of `compare`'s blocking run
            else:
                raise not_found(request)
            return _answer(seconds)
        except Exception as exc:
            return error_response(exc)
