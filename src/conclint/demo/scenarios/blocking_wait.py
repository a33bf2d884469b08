"""CCL205, waiting on a thread's future in a coroutine (evented model).

`report` hands the rendering to a thread pool, as it should, and then waits for it
with `future.result()`, which blocks: the loop stops until the thread is done.
`report_fixed` awaits the same future (`asyncio.wrap_future`).
"""

import asyncio
import time
from concurrent.futures import ThreadPoolExecutor

from conclint.demo.http import not_found, query_number

renderers = ThreadPoolExecutor(max_workers=2, thread_name_prefix="renderer")


def render(seconds):
    """Render a report (a PDF, a chart): it takes a while."""
    time.sleep(seconds)
    return f"rendered in {seconds:g} s"


async def report(request):
    """GET /report?seconds=S"""
    future = renderers.submit(render, query_number(request, "seconds", 0.5, 0.0, 5.0))
    return {"report": future.result()}  # expect: CCL205


async def report_fixed(request):
    """GET /report-fixed?seconds=S: the same future, awaited."""
    future = renderers.submit(render, query_number(request, "seconds", 0.5, 0.0, 5.0))
    return {"report": await asyncio.wrap_future(future)}


async def route(request):
    if request.path == "/report":
        return await report(request)
    if request.path == "/report-fixed":
        return await report_fixed(request)
    raise not_found(request)
