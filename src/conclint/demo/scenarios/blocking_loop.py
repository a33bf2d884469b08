"""CCL201 and CCL210, blocking the event loop (evented model).

`report` calls `time.sleep` itself; `report_via_helper` calls `reports.render`, a
synchronous helper in another module that sleeps. While either runs, the one event
loop does nothing else: a /ping sent meanwhile waits for it. `report_fixed` awaits
`asyncio.sleep`; `report_via_helper_fixed` hands the helper to the thread pool with
`run_in_executor`, and the loop goes on answering.
"""

import asyncio
import time

from conclint.demo.http import not_found, query_number
from conclint.demo.scenarios import reports


def seconds_of(request):
    return query_number(request, "seconds", 0.5, 0.0, 5.0)


async def report(request):
    """GET /report?seconds=S"""
    seconds = seconds_of(request)
    time.sleep(seconds)  # expect: CCL201
    return {"slept": seconds}


async def report_via_helper(request):
    """GET /report-via-helper?seconds=S"""
    return {"report": reports.render(seconds_of(request))}  # expect: CCL210


async def report_fixed(request):
    seconds = seconds_of(request)
    await asyncio.sleep(seconds)
    return {"slept": seconds}


async def report_via_helper_fixed(request):
    loop = asyncio.get_running_loop()
    return {"report": await loop.run_in_executor(None, reports.render, seconds_of(request))}


async def route(request):
    if request.path == "/report":
        return await report(request)
    if request.path == "/report-via-helper":
        return await report_via_helper(request)
    if request.path == "/report-fixed":
        return await report_fixed(request)
    if request.path == "/report-via-helper-fixed":
        return await report_via_helper_fixed(request)
    raise not_found(request)
