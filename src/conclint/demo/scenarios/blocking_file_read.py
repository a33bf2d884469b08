"""CCL204, a large file read in a coroutine (evented model).

`errors` counts the ERROR lines of the access log by reading it line by line. The log
is large (3 million lines, about 100 MB), and the loop does nothing else until the last line is read.
`errors_fixed` reads it in a thread. POST /log writes a log of N lines to read.
"""

import asyncio

from conclint.demo.http import not_found, query_number
from conclint.demo.storage import state_path

LINE = "12:00:00 INFO GET /items 200 12ms\n"
ERROR = "12:00:00 ERROR GET /items 500 3ms\n"


def log_path():
    return state_path("access.log")


def write_log(lines):
    """A log of `lines` lines, one in a hundred an ERROR: (lines, bytes)."""
    block = LINE * 99 + ERROR
    with open(log_path(), "w", encoding="utf-8") as log:
        for _ in range(lines // 100):
            log.write(block)
        return lines // 100 * 100, log.tell()


def count_errors():
    with open(log_path(), encoding="utf-8") as log:
        return sum(" ERROR " in line for line in log)


async def errors(request):
    """GET /errors: how many requests failed, from the access log."""
    with open(log_path(), encoding="utf-8") as log:  # expect: CCL204
        return {"errors": sum(" ERROR " in line for line in log)}


async def errors_fixed(request):
    """GET /errors-fixed: the same count, read in a thread."""
    return {"errors": await asyncio.to_thread(count_errors)}


async def make_log(request):
    """POST /log?lines=N: write an access log of N lines (in a thread)."""
    lines, size = await asyncio.to_thread(write_log, query_number(request, "lines", 1_000_000, 100, 5_000_000, int))
    return {"lines": lines, "bytes": size}


async def route(request):
    if request.path == "/errors":
        return await errors(request)
    if request.path == "/errors-fixed":
        return await errors_fixed(request)
    if (request.method, request.path) == ("POST", "/log"):
        return await make_log(request)
    raise not_found(request)
