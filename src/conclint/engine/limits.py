"""What one file may cost: CPU time (file-timeout), bytes on disk (max-file-size) and memory (max-memory)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

MB = 1024 * 1024
DEFAULT_MAX_FILE_SIZE = 10 * MB
DEFAULT_MAX_MEMORY_MB = 2048

_memory_ceiling_mb = 0.0  # max-memory of this process: set in a worker (engine/workers.py), 0 elsewhere


@dataclass(frozen=True)
class Limits:
    timeout: Optional[float] = None  # CPU seconds per file; None: no limit
    max_file_size: Optional[float] = DEFAULT_MAX_FILE_SIZE  # bytes; None: no limit
    max_memory: float = DEFAULT_MAX_MEMORY_MB  # MB a worker may allocate for its file; 0: no limit

    @classmethod
    def of(cls, settings) -> Limits:
        return cls(
            timeout=settings.file_timeout or None,
            max_file_size=settings.max_file_size * MB or None,
            max_memory=settings.max_memory,
        )

    @property
    def guarded(self) -> bool:
        """Is there a limit that only a worker process can enforce (the parse is native code)?"""
        return bool(self.timeout or self.max_memory)


def set_memory_ceiling(megabytes: float) -> None:
    global _memory_ceiling_mb
    _memory_ceiling_mb = megabytes


def memory_limit_mb() -> float:
    return _memory_ceiling_mb
