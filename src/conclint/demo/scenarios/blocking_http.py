"""CCL202, a synchronous HTTP call in a coroutine (evented model).

`quote` asks a pricing service over HTTP with `urllib.request.urlopen`, the way a
script would. The service is slow today, and while the coroutine waits for its answer
the event loop waits with it: a /ping sent meanwhile is not answered either.
`quote_fixed` makes the same call in a thread (`asyncio.to_thread`); the loop goes on.
"""

import asyncio
import json
import os
import urllib.request

from conclint.demo.http import not_found, query_number

PRICING = os.environ.get("CONCLINT_DEMO_UPSTREAM", "http://127.0.0.1:8001")


def quote_url(request):
    seconds = query_number(request, "seconds", 0.5, 0.0, 5.0)
    return f"{PRICING}/slow?seconds={seconds}"


def fetch(url):
    with urllib.request.urlopen(url, timeout=10) as reply:
        return json.loads(reply.read())


async def quote(request):
    """GET /quote?seconds=S: a price from the pricing service, which takes S seconds."""
    with urllib.request.urlopen(quote_url(request), timeout=10) as reply:  # expect: CCL202
        return {"quote": json.loads(reply.read())}


async def quote_fixed(request):
    """GET /quote-fixed?seconds=S: the same call, in a thread."""
    return {"quote": await asyncio.to_thread(fetch, quote_url(request))}


async def route(request):
    if request.path == "/quote":
        return await quote(request)
    if request.path == "/quote-fixed":
        return await quote_fixed(request)
    raise not_found(request)
