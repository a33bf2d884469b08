"""CCL111 and CCL113, lost update (evented model).

Coroutines: `hit` reads the count, awaits (a database call), and writes back the
count it read, over whatever the requests that ran during the await stored.
`hit_locked` holds an `asyncio.Lock` from the read to the write.

Callbacks: `tick` reads the count in one timer callback and hands it to `store`,
which it schedules; by the time `store` runs, other ticks have stored the same value.
100 ticks spread over 40 ms, each storing 10 ms later, end near 4. `tick_fresh`
schedules `increment`, which reads the count when it writes it.
"""

import asyncio
import random

from conclint.demo.http import not_found, query_number

TICK_SPACING = 0.0004  # seconds between two ticks
STORE_DELAY = 0.01  # seconds from a tick to the write it schedules

hits = 0
locked_hits = 0
hits_lock = asyncio.Lock()
ticks = 0
fresh_ticks = 0


async def save_visit():
    """The request's own work, awaited: a database insert."""
    await asyncio.sleep(random.uniform(0.0005, 0.005))


async def hit(request):
    """POST /hit: count one visit."""
    global hits
    count = hits
    await save_visit()
    hits = count + 1  # expect: CCL111
    return {"hits": hits}


async def hit_locked(request):
    """POST /hit-locked: count one visit, holding the lock across the await."""
    global locked_hits
    async with hits_lock:
        count = locked_hits
        await save_visit()
        locked_hits = count + 1
    return {"hits": locked_hits}


def store(value):
    global ticks
    ticks = value + 1  # expect: CCL113


def tick(loop):
    loop.call_later(STORE_DELAY, store, ticks)


def increment():
    global fresh_ticks
    fresh_ticks = fresh_ticks + 1


def tick_fresh(loop):
    loop.call_later(STORE_DELAY, increment)


async def start_ticks(request, callback):
    """POST /ticks?n=100 (or /ticks-fresh): schedule n ticks, TICK_SPACING apart."""
    n = query_number(request, "n", 100, 1, 10000, int)
    loop = asyncio.get_running_loop()
    for i in range(n):
        loop.call_later(i * TICK_SPACING, callback, loop)
    return {"scheduled": n, "settled_after": n * TICK_SPACING + STORE_DELAY}


async def totals(request):
    """GET /totals: every counter."""
    return {"hits": hits, "locked_hits": locked_hits, "ticks": ticks, "fresh_ticks": fresh_ticks}


async def route(request):
    if (request.method, request.path) == ("POST", "/hit"):
        return await hit(request)
    if (request.method, request.path) == ("POST", "/hit-locked"):
        return await hit_locked(request)
    if (request.method, request.path) == ("POST", "/ticks"):
        return await start_ticks(request, tick)
    if (request.method, request.path) == ("POST", "/ticks-fresh"):
        return await start_ticks(request, tick_fresh)
    if (request.method, request.path) == ("GET", "/totals"):
        return await totals(request)
    raise not_found(request)
