"""CCL101, lost update (threaded model): a hit counter kept in a module global.

`hit` is how hit counters get written: read the count, do the request's work, store
the count plus one. The threaded model runs requests on several worker threads at
once (`serve`, below), so two requests read the same count and one of the two
increments is lost. `hit_locked` holds a `threading.Lock` from the read to the write.
"""

import random
import threading
import time
from concurrent.futures import ThreadPoolExecutor

from conclint.demo.http import not_found

hits = 0
locked_hits = 0
hits_lock = threading.Lock()


def save_visit():
    """The request's own work (a database insert, a log line): a millisecond or two."""
    time.sleep(random.uniform(0.0005, 0.002))


def hit(request):
    """POST /hit: count one visit."""
    global hits
    count = hits
    save_visit()
    hits = count + 1  # expect: CCL101
    return {"hits": hits}


def hit_locked(request):
    """POST /hit-locked: count one visit, holding the lock from the read to the write."""
    global locked_hits
    with hits_lock:
        count = locked_hits
        save_visit()
        locked_hits = count + 1
    return {"hits": locked_hits}


def totals(request):
    """GET /hits: both counters."""
    return {"hits": hits, "locked_hits": locked_hits}


def route(request):
    if (request.method, request.path) == ("POST", "/hit"):
        return hit(request)
    if (request.method, request.path) == ("POST", "/hit-locked"):
        return hit_locked(request)
    if (request.method, request.path) == ("GET", "/hits"):
        return totals(request)
    raise not_found(request)


def handle(connection):
    """One connection, on a worker thread: answer its requests in turn."""
    with connection:
        for exchange in connection.exchanges():
            exchange.respond(route(exchange.request))


def serve(server):
    """The threaded model serving this app: a pool of worker threads takes connections from a queue."""
    with ThreadPoolExecutor(max_workers=server.workers, thread_name_prefix="worker") as pool:
        for connection in server.connections():
            pool.submit(handle, connection)
