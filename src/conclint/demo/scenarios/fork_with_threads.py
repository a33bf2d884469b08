"""CCL302, fork with threads (prefork model).

A master starts a background thread that writes log records under a lock (as
logging's handlers do), then forks a worker. The worker is a copy of the master with
only the thread that called fork(): if the log writer held the lock at that moment,
the worker's copy of the lock stays locked forever, and the worker hangs at its first
log line. `fork_before_threads` forks first and starts the thread after.
"""

import os
import sys
import threading
import time

log_lock = threading.Lock()
writing = threading.Event()


def write_logs():
    """The background log writer: it holds the lock while it writes a record."""
    while True:
        with log_lock:
            writing.set()
            time.sleep(0.05)  # a slow disk, a full pipe


def log(message):
    with log_lock:
        sys.stderr.write(f"[{os.getpid()}] {message}\n")
        sys.stderr.flush()


def start_log_writer():
    threading.Thread(target=write_logs, name="log-writer", daemon=True).start()
    writing.wait()


def fork_after_threads():
    """The master starts its log writer, then forks a worker: the worker hangs."""
    start_log_writer()
    pid = os.fork()  # expect: CCL302
    if pid == 0:
        log("worker started")
        os._exit(0)
    return pid


def fork_before_threads():
    """The master forks its worker first, then starts its log writer."""
    pid = os.fork()
    if pid == 0:
        log("worker started")
        os._exit(0)
    start_log_writer()
    return pid
