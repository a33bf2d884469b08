"""A per-file time limit: a pathological file becomes a finding instead of a hang.

The analysis checks the clock as it walks (cheaply, every few thousand nodes); when the
file's time is up it raises ``AnalysisTimeout``, which the engine reports as CCL001.
libcst's own parse cannot be interrupted, but CPython's parser, run first, refuses the
inputs that would make it run away.
"""

from __future__ import annotations

import time
from typing import Optional

DEFAULT_SECONDS = 60.0


class AnalysisTimeout(Exception):
    pass


class _Deadline:
    def __init__(self) -> None:
        self.until: Optional[float] = None
        self.seconds = 0.0
        self.ticks = 0

    def start(self, seconds: Optional[float]) -> None:
        self.seconds = seconds or 0.0
        self.until = time.monotonic() + seconds if seconds else None
        self.ticks = 0

    def stop(self) -> None:
        self.until = None

    def tick(self) -> None:
        """Called often; looks at the clock once every 4096 calls."""
        self.ticks += 1
        if self.until is not None and not self.ticks & 4095 and time.monotonic() > self.until:
            raise AnalysisTimeout(
                f"analysis stopped after {self.seconds:g} s (file-timeout): too large or too complex to analyse"
            )


deadline = _Deadline()
