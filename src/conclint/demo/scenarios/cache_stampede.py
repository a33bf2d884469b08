"""CCL112, cache stampede (evented model).

`report` checks the cache, awaits the loader, then fills the cache: every request
that arrives while the first one awaits finds the key missing and runs the loader
again. `report_shared` stores the in-flight future before awaiting it, so the
requests that come later await the same load.
"""

import asyncio
from collections import Counter

from conclint.demo.http import not_found, query_text

LOAD_SECONDS = 0.2

cache = {}
inflight = {}
loads = Counter()  # how many times the loader ran, per key


async def load(key):
    """The expensive part: a slow query."""
    loads[key] += 1
    await asyncio.sleep(LOAD_SECONDS)
    return f"the report on {key}"


async def report(request):
    """GET /report?key=K"""
    key = query_text(request, "key", "home")
    if key not in cache:
        cache[key] = await load(key)  # expect: CCL112
    return {"key": key, "report": cache[key]}


async def report_shared(request):
    """GET /report-shared?key=K: one load per key, shared by every request that asks."""
    key = query_text(request, "key", "home")
    if key not in inflight:
        inflight[key] = asyncio.ensure_future(load(key))
    return {"key": key, "report": await inflight[key]}


async def load_count(request):
    """GET /loads?key=K: how many times the loader ran for K."""
    key = query_text(request, "key", "home")
    return {"key": key, "loads": loads[key]}


async def route(request):
    if request.path == "/report":
        return await report(request)
    if request.path == "/report-shared":
        return await report_shared(request)
    if request.path == "/loads":
        return await load_count(request)
    raise not_found(request)
