"""An editor's unsaved buffer as the bytes a save would write, for the analysis of sources from stdin."""

from __future__ import annotations

import re

from conclint.engine.source import python_lines

_COOKIE = re.compile(r"^[ \t\f]*#.*?coding[:=][ \t]*([-\w.]+)", re.MULTILINE)


def encode_buffer(text: str) -> bytes:
    """``text`` in the codec its coding cookie names (PEP 263), UTF-8 by default."""
    match = _COOKIE.search("\n".join(python_lines(text)[:2]))
    try:
        return text.encode(match.group(1) if match else "utf-8")
    except (LookupError, UnicodeError):
        return text.encode("utf-8", "surrogateescape")
