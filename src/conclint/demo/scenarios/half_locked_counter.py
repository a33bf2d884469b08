"""CCL103, inconsistent locking (threaded model): a sales total locked in one handler only.

`sale` adds one sale to the total under `total_lock`. `import_batch` adds a batch of
sales: it reads the total through `current_total()`, which takes the lock, records the
batch, then stores the total plus the batch without the lock. Every sale counted while
the batch was being recorded is overwritten: the locked total still loses sales.
`import_batch_locked` holds the lock from the read to the write.
"""

import random
import threading
import time
from concurrent.futures import ThreadPoolExecutor

from conclint.demo.http import not_found, query_number

total = 0
total_lock = threading.Lock()


def current_total():
    with total_lock:
        return total


def record_batch(count):
    """Write the batch to the ledger: a millisecond or two."""
    time.sleep(random.uniform(0.0005, 0.002))


def sale(request):
    """POST /sale: one sale."""
    global total
    with total_lock:
        total += 1
    return {"total": total}


def import_batch(request):
    """POST /import?count=N: a batch of N sales."""
    global total
    count = query_number(request, "count", 5, 1, 1000, int)
    before = current_total()
    record_batch(count)
    total = before + count  # expect: CCL103
    return {"total": total}


def import_batch_locked(request):
    """POST /import-locked?count=N: the same, holding the lock from the read to the write."""
    global total
    count = query_number(request, "count", 5, 1, 1000, int)
    with total_lock:
        before = total
        record_batch(count)
        total = before + count
    return {"total": total}


def totals(request):
    """GET /total"""
    return {"total": current_total()}


def route(request):
    if (request.method, request.path) == ("POST", "/sale"):
        return sale(request)
    if (request.method, request.path) == ("POST", "/import"):
        return import_batch(request)
    if (request.method, request.path) == ("POST", "/import-locked"):
        return import_batch_locked(request)
    if (request.method, request.path) == ("GET", "/total"):
        return totals(request)
    raise not_found(request)


def handle(connection):
    """One connection, on a worker thread: answer its requests in turn."""
    with connection:
        for exchange in connection.exchanges():
            exchange.respond(route(exchange.request))


def serve(server):
    """The threaded model serving this app: a pool of worker threads answers the requests."""
    with ThreadPoolExecutor(max_workers=server.workers, thread_name_prefix="worker") as pool:
        for connection in server.connections():
            pool.submit(handle, connection)
