"""`conclint demo compare`: the trade-off between the three models, measured on this machine.

The same app (`conclint.demo.workload`: each request waits 100 ms on I/O) runs under
prefork (N workers), threaded (a pool of N) and evented (one loop), and is driven by 1, 10,
100 and 500 concurrent clients. For each model and level: throughput, p50 and p99 latency,
and memory (the RSS of every process of the server, summed). Then one run where the handler
blocks (`time.sleep`) instead: the evented model serves one request at a time.

The load comes from an asyncio client in this process: at most 500 connections, each
request with a timeout, each level with a deadline, and only to 127.0.0.1.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import statistics
import sys
import threading
import time
from typing import Any, Dict, List, Optional, Sequence, Tuple

from conclint.demo.launch import ServerError, ServerProcess, stop_all

MODELS = ("prefork", "threaded", "evented")
MAX_CLIENTS = 500
WAIT_MS = 100
REQUESTS_PER_LEVEL = 20  # at least this many requests per level (each client sends >= 1)
LEVEL_DEADLINE = 30.0  # seconds; clients start no request after it
REQUEST_TIMEOUT = 30.0
BLOCKING_CLIENTS = 30
SAMPLE_EVERY = 0.05


# ---- the load ----------------------------------------------------------------------------
async def _one(port: int, path: str) -> Tuple[Optional[float], Optional[str]]:
    started = time.monotonic()
    request = f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n".encode()
    try:
        reader, writer = await asyncio.wait_for(asyncio.open_connection("127.0.0.1", port), REQUEST_TIMEOUT)
        try:
            writer.write(request)
            reply = await asyncio.wait_for(reader.read(), REQUEST_TIMEOUT)
        finally:
            writer.close()
    except (OSError, asyncio.TimeoutError) as exc:
        return None, type(exc).__name__
    if not reply.startswith(b"HTTP/1.1 200 "):
        return None, reply[:40].decode("latin-1", errors="replace")
    return time.monotonic() - started, None


async def _drive(port: int, path: str, clients: int, per_client: int) -> Dict[str, Any]:
    deadline = time.monotonic() + LEVEL_DEADLINE
    latencies: List[float] = []
    errors: List[str] = []

    async def client() -> None:
        for _ in range(per_client):
            if time.monotonic() > deadline:
                return
            elapsed, error = await _one(port, path)
            if error is None:
                latencies.append(elapsed)
            else:
                errors.append(error)

    started = time.monotonic()
    await asyncio.gather(*(client() for _ in range(clients)))
    return {"seconds": time.monotonic() - started, "latencies": latencies, "errors": errors}


# ---- memory -----------------------------------------------------------------------------------
def group_memory(pgid: int) -> Dict[int, Tuple[int, int]]:
    """(RSS, PSS) in kB of every live process in the process group (Linux /proc; empty elsewhere).
    RSS counts the pages a worker shares with its master in both; PSS splits them between them."""
    found: Dict[int, Tuple[int, int]] = {}
    for entry in os.listdir("/proc") if os.path.isdir("/proc") else ():
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", encoding="ascii", errors="replace") as stat:
                fields = stat.read().rsplit(")", 1)[1].split()
            if int(fields[2]) != pgid or fields[0] == "Z":
                continue
            found[int(entry)] = (
                _field(f"/proc/{entry}/status", "VmRSS:"),
                _field(f"/proc/{entry}/smaps_rollup", "Pss:"),
            )
        except (OSError, IndexError, ValueError):
            continue
    return found


def _field(path: str, name: str) -> int:
    """A ``Name:  1234 kB`` line of a /proc file, in kB (0 when the kernel does not give it)."""
    try:
        with open(path, encoding="ascii", errors="replace") as lines:
            for line in lines:
                if line.startswith(name):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


class MemorySampler:
    """The memory of a server's processes when their summed RSS peaked, sampled while a level runs."""

    def __init__(self, pgid: int) -> None:
        self.pgid = pgid
        self.peak: Dict[int, Tuple[int, int]] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, name="rss-sampler", daemon=True)

    def _sample(self) -> None:
        while not self._stop.is_set():
            now = group_memory(self.pgid)
            if sum(rss for rss, _ in now.values()) > sum(rss for rss, _ in self.peak.values()):
                self.peak = now
            self._stop.wait(SAMPLE_EVERY)

    def __enter__(self) -> MemorySampler:
        self._thread.start()
        return self

    def __exit__(self, *_exc) -> None:
        self._stop.set()
        self._thread.join(2.0)


# ---- one model, every level ---------------------------------------------------------------------
def _row(
    model: str, workers: int, clients: int, blocking: bool, run: Dict[str, Any], memory: Dict[int, Tuple[int, int]]
):
    latencies = sorted(run["latencies"])

    def at(fraction: float) -> Optional[float]:
        if not latencies:
            return None
        return round(latencies[min(len(latencies) - 1, int(fraction * len(latencies)))] * 1000, 1)

    return {
        "model": model,
        "workers": workers if model != "evented" else 1,
        "clients": clients,
        "blocking": blocking,
        "requests": len(latencies) + len(run["errors"]),
        "errors": len(run["errors"]),
        "error_sample": run["errors"][0] if run["errors"] else None,
        "seconds": round(run["seconds"], 3),
        "throughput": round(len(latencies) / run["seconds"], 1) if run["seconds"] > 0 else 0.0,
        "p50_ms": round(statistics.median(latencies) * 1000, 1) if latencies else None,
        "p99_ms": at(0.99),
        "rss_mb": round(sum(rss for rss, _ in memory.values()) / 1024, 1) if memory else None,
        "pss_mb": round(sum(pss for _, pss in memory.values()) / 1024, 1) if memory else None,
        "processes": len(memory),
        "rss_kb_by_process": {str(pid): rss for pid, (rss, _) in sorted(memory.items())},
    }


def measure_model(model: str, workers: int, levels: Sequence[int], progress) -> List[Dict[str, Any]]:
    options = ["--workload", "--no-access-log", "--idle-timeout", "60", "--read-timeout", "60"]
    rows = []
    with ServerProcess(model, workers=workers, options=options) as server:
        loop = asyncio.new_event_loop()
        try:
            loop.run_until_complete(_drive(server.port, f"/io?ms={WAIT_MS}", 4, 2))  # warm up
            for clients in [*levels, BLOCKING_CLIENTS]:
                blocking = len(rows) == len(levels)
                path = f"/{'block' if blocking else 'io'}?ms={WAIT_MS}"
                per_client = 1 if blocking else max(1, REQUESTS_PER_LEVEL // clients)
                progress(f"{model}: {clients} clients{' (a handler that blocks)' if blocking else ''} ...")
                with MemorySampler(server.pid) as memory:
                    run = loop.run_until_complete(_drive(server.port, path, clients, per_client))
                rows.append(_row(model, workers, clients, blocking, run, memory.peak))
        finally:
            loop.close()
    return rows


# ---- the command -------------------------------------------------------------------------------
def table(rows: Sequence[Dict[str, Any]]) -> str:
    headers = ("model", "clients", "requests", "errors", "req/s", "p50 ms", "p99 ms", "RSS MB", "PSS MB", "processes")
    lines = []

    def show(value: Any) -> str:
        return "-" if value is None else f"{value:g}" if isinstance(value, float) else str(value)

    for title, chosen in (
        (f"each request waits {WAIT_MS} ms on I/O", [r for r in rows if not r["blocking"]]),
        (f"the handler blocks (time.sleep({WAIT_MS / 1000:g}))", [r for r in rows if r["blocking"]]),
    ):
        if not chosen:
            continue
        cells = [
            (
                r["model"],
                r["clients"],
                r["requests"],
                r["errors"],
                r["throughput"],
                r["p50_ms"],
                r["p99_ms"],
                r["rss_mb"],
                r["pss_mb"],
                r["processes"],
            )
            for r in chosen
        ]
        text = [[show(c) for c in row] for row in cells]
        widths = [max(len(row[i]) for row in [headers, *text]) for i in range(len(headers))]
        lines.append(title + ":")
        lines.append("  ".join(h.rjust(w) if i else h.ljust(w) for i, (h, w) in enumerate(zip(headers, widths))))
        for row in text:
            lines.append("  ".join(c.rjust(w) if i else c.ljust(w) for i, (c, w) in enumerate(zip(row, widths))))
        lines.append("")
    return "\n".join(lines).rstrip()


def parse_levels(text: str) -> List[int]:
    try:
        levels = [int(part) for part in text.split(",") if part.strip()]
    except ValueError:
        raise ValueError(f"--clients takes numbers separated by commas, not {text!r}") from None
    if not levels or any(not 1 <= n <= MAX_CLIENTS for n in levels):
        raise ValueError(f"--clients takes 1 to {MAX_CLIENTS} clients per level, not {text!r}")
    return levels


def compare(workers: int = 8, clients: str = "1,10,100,500", as_json: bool = False, html: Optional[str] = None) -> int:
    """0 when every level ran, 1 when a server failed, 2 for bad arguments, 130 when interrupted."""
    try:
        levels = parse_levels(clients)
        if not 1 <= workers <= 64:
            raise ValueError(f"--workers must be between 1 and 64, not {workers}")
    except ValueError as exc:
        print(f"conclint demo compare: {exc}", file=sys.stderr)
        return 2
    if html is not None:
        from conclint.demo.report import missing_plotting

        problem = missing_plotting()
        if problem:
            print(f"conclint demo compare: {problem}", file=sys.stderr)
            return 2

    def progress(message: str) -> None:
        if not as_json:
            print(message, file=sys.stderr, flush=True)

    def terminate(signum, _frame):
        raise KeyboardInterrupt

    previous = (
        signal.signal(signal.SIGTERM, terminate) if threading.current_thread() is threading.main_thread() else None
    )
    started = time.monotonic()
    rows: List[Dict[str, Any]] = []
    try:
        for model in MODELS:
            rows.extend(measure_model(model, workers, levels, progress))
    except KeyboardInterrupt:
        stop_all()
        print("conclint demo compare: interrupted; every server it started is stopped", file=sys.stderr)
        return 130
    except ServerError as exc:
        stop_all()
        print(f"conclint demo compare: {exc}", file=sys.stderr)
        return 1
    finally:
        stop_all()
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)
    note = (
        f"prefork: {workers} worker processes; threaded: one process, a pool of {workers} threads; evented: one "
        f"event loop. Each client sends its requests one after the other, a new connection each; "
        f"measured in {time.monotonic() - started:.0f} s on {os.cpu_count()} CPUs."
    )
    text = table(rows)
    if html is not None:
        from conclint.demo.report import write_compare_page

        try:
            write_compare_page(html, rows, text, note)
        except OSError as exc:
            print(f"conclint demo compare: cannot write {html}: {exc.strerror or exc}", file=sys.stderr)
            return 2
    if as_json:
        print(json.dumps({"note": note, "rows": rows}, indent=2))
    else:
        print(text)
        print()
        print(note)
        if html is not None:
            print(f"the charts: {html}")
    return 0
