"""CCL206, a sqlite3 query in a coroutine while the database is busy (evented model).

`order` inserts an order with the standard `sqlite3` driver. Another process (a batch
job) holds the database's write lock for a moment, so sqlite3 waits for it, up to its
timeout, and the event loop waits with it. `order_fixed` runs the same insert in a thread.
"""

import asyncio
import sqlite3

from conclint.demo.http import not_found, query_text
from conclint.demo.storage import state_path

DATABASE = state_path("orders.sqlite3")
orders = sqlite3.connect(DATABASE, timeout=10, isolation_level=None, check_same_thread=False)
orders.execute("CREATE TABLE IF NOT EXISTS orders (id INTEGER PRIMARY KEY, item TEXT NOT NULL)")


def save_order(item):
    orders.execute("INSERT INTO orders (item) VALUES (?)", (item,))
    return item


async def order(request):
    """POST or GET /order?item=X: record an order."""
    item = query_text(request, "item", "book")
    orders.execute("INSERT INTO orders (item) VALUES (?)", (item,))  # expect: CCL206
    return {"ordered": item}


async def order_fixed(request):
    """/order-fixed?item=X: the same insert, in a thread."""
    return {"ordered": await asyncio.to_thread(save_order, query_text(request, "item", "book"))}


async def route(request):
    if request.path == "/order":
        return await order(request)
    if request.path == "/order-fixed":
        return await order_fixed(request)
    raise not_found(request)
