"""CCL304, a connection made before fork and used by every worker (prefork model).

The master connects to the inventory service once, as it starts its workers
(`spawn_worker`, below), and every forked worker inherits that one socket. Each worker
sends its question and reads "the" answer, but the answers of all the workers come back
on the same socket: a worker reads another worker's answer, two answers at once, or
nothing at all. `stock_own` asks over a connection the worker made after the fork.
"""

import os
import socket

from conclint.demo.http import HTTPError, not_found, query_text

host, _, port = os.environ.get("CONCLINT_DEMO_INVENTORY", "127.0.0.1:7070").rpartition(":")
INVENTORY = (host, int(port))
inventory = None


def ask(connection, sku):
    """One question, one answer (a line each); None when no answer comes within a second."""
    connection.sendall(f"STOCK {sku}\n".encode())
    try:
        return connection.recv(1024).decode().strip()
    except socket.timeout:
        return None


def stock(request):
    """GET /stock?sku=S: how many are left, asked over the master's connection."""
    if inventory is None:
        raise HTTPError(503, "no inventory connection: run `conclint demo reproduce shared-connection`")
    sku = query_text(request, "sku", "A1")
    return {"sku": sku, "answer": ask(inventory, sku), "worker": os.getpid()}


def stock_own(request, own):
    """GET /stock-own?sku=S: the same question, over this worker's own connection."""
    sku = query_text(request, "sku", "A1")
    return {"sku": sku, "answer": ask(own, sku), "worker": os.getpid()}


def route(request, own=None):
    if request.path == "/stock":
        return stock(request)
    if request.path == "/stock-own" and own is not None:
        return stock_own(request, own)
    raise not_found(request)


def work(server):
    """A worker: its own connection, made after the fork; then serve requests one at a time."""
    own = socket.create_connection(INVENTORY, timeout=1)
    for connection in server.connections():
        with connection:
            for exchange in connection.exchanges():
                exchange.respond(route(exchange.request, own))


def spawn_worker(server):
    """How the prefork master starts one worker: connect (once), fork, and serve in the child."""
    global inventory
    if inventory is None:
        inventory = socket.create_connection(INVENTORY, timeout=1)  # expect: CCL304
    pid = os.fork()
    if pid == 0:
        try:
            work(server)
        finally:
            os._exit(0)
    return pid
