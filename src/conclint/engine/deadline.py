"""A per-file time limit: a pathological file becomes a finding instead of a hang.

The limit is CPU time (what the user means by "this file takes 60 s": under load a file
that takes 20 s of CPU can take minutes of wall clock, and must not be stopped for it).
The analysis checks the analysing thread's CPU clock as it walks (cheaply, every few
thousand nodes); when the file's time is up it raises ``AnalysisTimeout``, which the engine
reports as CCL001. libcst's own parse is native code that cannot be interrupted: a large
file is analysed in a worker process that engine/workers.py kills when it overruns.
"""

from __future__ import annotations

import time
from typing import Optional

DEFAULT_SECONDS = 60.0


def stopped_message(seconds: float, clock: str = "CPU time") -> str:
    """The CCL001 message of a file whose analysis was stopped, wherever it was stopped."""
    return f"analysis stopped after {seconds:g} s of {clock} (file-timeout): too large or too complex to analyse"


class AnalysisTimeout(Exception):
    pass


class _Deadline:
    def __init__(self) -> None:
        self.until: Optional[float] = None
        self.seconds = 0.0
        self.ticks = 0

    def start(self, seconds: Optional[float]) -> None:
        self.seconds = seconds or 0.0
        self.until = time.thread_time() + seconds if seconds else None
        self.ticks = 0

    def stop(self) -> None:
        self.until = None

    def tick(self) -> None:
        """Called often; looks at the clock once every 4096 calls."""
        self.ticks += 1
        if self.until is not None and not self.ticks & 4095 and time.thread_time() > self.until:
            raise AnalysisTimeout(stopped_message(self.seconds))


deadline = _Deadline()
