"""CCL303, per-worker state (prefork model; gunicorn.conf.py beside this file runs it
with four workers).

`hit` counts requests in a module global. Each worker process has its own copy, so
M requests spread over N workers give N separate counts, and no worker ever reports
M. `hit_shared` keeps the count in SQLite, which every worker opens.
"""

import json
import os
import sqlite3
import time

from conclint.demo.storage import state_path

hits = 0


def hit():
    """GET /hit: count this request; answer the count and the worker that gave it."""
    global hits
    hits += 1  # expect: CCL303
    time.sleep(0.01)  # the request's own work
    return {"hits": hits, "worker": os.getpid()}


def hit_shared():
    """GET /hit-shared: the same count, kept where every worker sees it."""
    db = sqlite3.connect(state_path("hits.sqlite3"), timeout=10, isolation_level=None)
    try:
        db.execute("CREATE TABLE IF NOT EXISTS hits (id INTEGER PRIMARY KEY CHECK (id = 1), n INTEGER NOT NULL)")
        db.execute("BEGIN IMMEDIATE")
        db.execute("INSERT OR IGNORE INTO hits VALUES (1, 0)")
        db.execute("UPDATE hits SET n = n + 1 WHERE id = 1")
        (count,) = db.execute("SELECT n FROM hits WHERE id = 1").fetchone()
        db.execute("COMMIT")
    finally:
        db.close()
    time.sleep(0.01)
    return {"hits": count, "worker": os.getpid()}


def application(environ, start_response):
    """The WSGI application gunicorn (or the demo's prefork server) runs."""
    path = environ.get("PATH_INFO", "/")
    if path == "/hit":
        status, result = "200 OK", hit()
    elif path == "/hit-shared":
        status, result = "200 OK", hit_shared()
    else:
        status, result = "404 Not Found", {"error": f"no route for {path}", "status": 404}
    body = json.dumps(result).encode("utf-8")
    start_response(status, [("Content-Type", "application/json"), ("Content-Length", str(len(body)))])
    return [body]
