"""Gitignore-style patterns: strict where the user wrote them, lenient in `.gitignore` files (as git is)."""

from __future__ import annotations

import re
from typing import Iterable, Optional

import pathspec


def pattern_error(pattern: str) -> Optional[str]:
    """Why ``pattern`` is not a usable gitignore pattern (``!``, a trailing ``\\``, ``[z-a]``), or None."""
    try:
        pathspec.GitIgnoreSpec.from_lines([pattern])
    except (ValueError, re.error) as exc:  # pathspec's GitIgnorePatternError is a ValueError
        return str(exc)
    return None


def lenient_spec(lines: Iterable[str]) -> pathspec.PathSpec:
    """The patterns of a `.gitignore` file, without the lines git itself would skip as invalid."""
    lines = list(lines)
    try:
        return pathspec.GitIgnoreSpec.from_lines(lines)
    except (ValueError, re.error):
        return pathspec.GitIgnoreSpec.from_lines([line for line in lines if pattern_error(line) is None])
