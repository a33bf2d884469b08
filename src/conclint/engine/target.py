"""Which Python the analysed code runs on: it decides multiprocessing's default start method.

On Linux the default is ``fork`` up to Python 3.13 and ``forkserver`` from 3.14 (macOS and
Windows use ``spawn``). The ``target-version`` setting names one version (``"py313"``);
without it, the ``requires-python`` of the project's pyproject.toml gives the range of versions
the code supports, and both defaults apply when that range spans 3.14. Nothing is imported or
executed: the specifier is read as text.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Optional, Tuple

Version = Tuple[int, int]
FORKSERVER_DEFAULT = (3, 14)  # the first Python whose default start method on Linux is forkserver
OLDEST = (3, 0)
_CLAUSE = re.compile(r"^\s*(?P<op>~=|==|!=|<=|>=|<|>|===)?\s*(?P<major>\d+)(?:\.(?P<minor>\d+|\*))?")
_TARGET = re.compile(r"^(?:py)?(?P<major>\d)\.?(?P<minor>\d+)$")


@dataclass(frozen=True)
class PythonTarget:
    """The Python versions the code may run on: ``lowest`` to ``highest`` (None: no upper bound)."""

    lowest: Version = OLDEST
    highest: Optional[Version] = None
    source: str = "no `requires-python` or `target-version` says which Python runs it"

    @property
    def default_forks(self) -> bool:
        """The default start method is ``fork`` on some version the code runs on (on Linux)."""
        return self.lowest < FORKSERVER_DEFAULT

    @property
    def default_reimports(self) -> bool:
        """The default start method starts children that import the main module afresh on some
        version the code runs on (forkserver on Linux from 3.14; spawn on macOS and Windows)."""
        return self.highest is None or self.highest >= FORKSERVER_DEFAULT

    def describe_fork_default(self) -> str:
        return f"the default start method: fork on Linux up to Python 3.13; {self.source}"

    def describe_reimport_default(self) -> str:
        return (
            f"the default start method: forkserver on Linux from Python 3.14, spawn on macOS and Windows; {self.source}"
        )


def parse_target_version(text: str) -> Optional[Version]:
    """``"py313"``, ``"3.13"`` -> (3, 13); None when it is not such a version."""
    match = _TARGET.match(text.strip())
    return (int(match.group("major")), int(match.group("minor"))) if match else None


def python_target(target_version: str, requires_python: str, where: str = "pyproject.toml") -> PythonTarget:
    """The target from the ``target-version`` setting, else from a ``requires-python`` specifier."""
    if target_version:
        version = parse_target_version(target_version)
        if version is not None:
            return PythonTarget(version, version, f'target-version = "{target_version}"')
    if requires_python:
        bounds = _range(requires_python)
        if bounds is not None:
            return PythonTarget(bounds[0], bounds[1], f"requires-python {requires_python.strip()!r} in {where}")
    return PythonTarget()


def _range(specifier: str) -> Optional[Tuple[Version, Optional[Version]]]:
    """The (lowest, highest) minor versions a PEP 440 specifier allows (``>=3.9,<3.14`` ->
    ((3, 9), (3, 13))); clauses it cannot read are left out, an empty range gives None."""
    lowest, highest = OLDEST, None
    for clause in specifier.split(","):
        match = _CLAUSE.match(clause)
        if match is None or match.group("op") in (None, "!="):
            continue
        op, major = match.group("op"), int(match.group("major"))
        minor = match.group("minor")
        version = (major, int(minor)) if minor not in (None, "*") else (major, 0)
        if op in (">=", "~="):
            lowest = max(lowest, version)
        elif op == ">":
            lowest = max(lowest, version if minor is not None else (major + 1, 0))
        elif op in ("==", "==="):
            if minor in (None, "*"):
                lowest, highest = max(lowest, (major, 0)), _lower(highest, (major, 99))
            else:
                lowest, highest = max(lowest, version), _lower(highest, version)
        elif op == "<":
            below = (version[0], version[1] - 1) if version[1] > 0 else (version[0] - 1, 99)
            highest = _lower(highest, below)
        elif op == "<=":
            highest = _lower(highest, version)
    if highest is not None and highest < lowest:
        return None
    return lowest, highest


def _lower(current: Optional[Version], bound: Version) -> Version:
    return bound if current is None else min(current, bound)
