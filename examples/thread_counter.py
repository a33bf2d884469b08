"""A hit counter bumped by a pool of threads: fewer hits than requests."""

import threading
from concurrent.futures import ThreadPoolExecutor

hits = 0
hits_lock = threading.Lock()
safe_hits = 0


def count_request(_):
    global hits
    hits += 1  # read, add, store: two threads can store the same value


def count_request_safely(_):
    global safe_hits
    with hits_lock:
        safe_hits += 1


with ThreadPoolExecutor(max_workers=8) as pool:
    pool.map(count_request, range(10_000))
    pool.map(count_request_safely, range(10_000))
