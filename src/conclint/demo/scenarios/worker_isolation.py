"""Worker isolation (no rule): a crash takes down what shares its process.

GET /crash kills the process that serves it, the way a segfault in a C extension or
the out-of-memory killer would. Under the prefork model that is one worker: the
master starts a replacement, and requests running on the other workers complete.
Under the threaded model it is the whole server, with every request in flight.
"""

import os
import signal
import time

from conclint.demo.http import not_found, query_number


def slow(request):
    """GET /slow?seconds=S: a long request."""
    seconds = query_number(request, "seconds", 1.0, 0.0, 10.0)
    time.sleep(seconds)
    return {"slept": seconds, "pid": os.getpid()}


def crash(request):
    """GET /crash"""
    os.kill(os.getpid(), signal.SIGKILL)


def whoami(request):
    """GET /pid"""
    return {"pid": os.getpid()}


def route(request):
    if request.path == "/slow":
        return slow(request)
    if request.path == "/crash":
        return crash(request)
    if request.path == "/pid":
        return whoami(request)
    raise not_found(request)
