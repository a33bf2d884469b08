"""Module names from paths: the package folders (those with ``__init__.py``) above a file."""

from __future__ import annotations

import os
from typing import Container, Dict, Iterable, Optional, Tuple


def module_name_for(path: str) -> Tuple[str, bool]:
    """Dotted module name from the package folders (those with ``__init__.py``) above ``path``."""
    directory, filename = os.path.split(os.path.abspath(path))
    stem = filename[:-3] if filename.endswith(".py") else filename
    is_package = stem == "__init__"
    parts = [] if is_package else [stem]
    while os.path.isfile(os.path.join(directory, "__init__.py")):
        directory, package = os.path.split(directory)
        parts.append(package)
        if not package:
            break
    parts.reverse()
    return ".".join(p for p in parts if p), is_package


class ModuleIndex:
    """Module names of the files in the run, to find the file a qualified name lives in."""

    def __init__(self, paths: Iterable[str]) -> None:
        self.path_of: Dict[str, str] = {}
        for path in paths:
            name, _ = module_name_for(path)
            self.path_of.setdefault(name, path)

    def split(self, dotted: str) -> Tuple[Optional[str], str]:
        """(module, rest) for the longest module prefix of ``dotted`` among the run's files."""
        return split_prefix(dotted, self.path_of, whole=True)


def split_prefix(dotted: str, known: Container[str], whole: bool = False) -> Tuple[Optional[str], str]:
    """(the longest dotted prefix of ``dotted`` that is in ``known``, the rest), or (None, dotted).
    ``whole``: the entire name may be the prefix (a module named as such)."""
    parts = dotted.split(".")
    for cut in range(len(parts) if whole else len(parts) - 1, 0, -1):
        prefix = ".".join(parts[:cut])
        if prefix in known:
            return prefix, ".".join(parts[cut:])
    return None, dotted
