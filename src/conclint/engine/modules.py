"""Module names from paths: the package folders (those with ``__init__.py``) above a file."""

from __future__ import annotations

import functools
import os
from typing import Container, Dict, Iterable, List, Optional, Tuple

PROJECT_MARKERS = ("pyproject.toml", "setup.py", "setup.cfg", ".git")
NAMESPACE_DEPTH = 8  # folders tried above a module that sits in a namespace folder


def module_name_for(path: str) -> Tuple[str, bool]:
    """Dotted module name from the package folders (those with ``__init__.py``) above ``path``, and
    the namespace folders (PEP 420, without one) that sit inside such a package (``pkg/routers/``)."""
    directory, filename = os.path.split(os.path.abspath(path))
    stem = filename[:-3] if filename.endswith(".py") else filename
    is_package = stem == "__init__"
    parts = [] if is_package else [stem]
    while True:
        while os.path.isfile(os.path.join(directory, "__init__.py")):
            directory, package = os.path.split(directory)
            parts.append(package)
            if not package:
                break
        package = _enclosing_package(directory) if parts and os.path.basename(directory) else None
        if package is None:
            break
        while directory != package:  # the namespace folders between, as parts of the package
            directory, folder = os.path.split(directory)
            parts.append(folder)
    parts.reverse()
    return ".".join(p for p in parts if p), is_package


def _enclosing_package(directory: str, limit: int = 3) -> Optional[str]:
    """The package folder a namespace folder sits in, a few levels up at most; None when there is none
    (a top-level namespace folder: its names are ``namespace_names``)."""
    current = directory
    for _ in range(limit):
        parent, folder = os.path.split(current)
        if not folder.isidentifier() or parent == current:
            return None
        if os.path.isfile(os.path.join(parent, "__init__.py")):
            return parent
        current = parent
    return None


@functools.cache
def namespace_names(path: str) -> Tuple[str, ...]:
    """Other names the module may be imported by, nearest first: the folders above its top package
    (the first one up is a PEP 420 namespace folder, without ``__init__.py``; packages above it count
    too) prefixed one by one (``utils.questions``, ``app.utils.questions`` for ``app/utils/questions.py``),
    up to the project's root folder (on ``sys.path``, not a name) or a folder that cannot be a name."""
    name, _ = module_name_for(path)
    directory = os.path.dirname(os.path.abspath(path))
    for _ in name.split(".")[:-1] if name else ():
        directory = os.path.dirname(directory)  # up to the folder holding the top package
    names: List[str] = []
    for _ in range(NAMESPACE_DEPTH):
        parent, folder = os.path.split(directory)
        if not folder.isidentifier() or any(os.path.exists(os.path.join(directory, m)) for m in PROJECT_MARKERS):
            break
        name = f"{folder}.{name}" if name else folder
        names.append(name)
        directory = parent
    return tuple(names)


class ModuleIndex:
    """Module names of the files in the run, to find the file a qualified name lives in."""

    def __init__(self, paths: Iterable[str]) -> None:
        self.path_of: Dict[str, str] = {}
        self.real: Dict[str, str] = {}  # a namespace-package name -> the module's own name
        for path in paths:
            name, _ = module_name_for(path)
            self.path_of.setdefault(name, path)
        for path in list(self.path_of.values()):
            name, _ = module_name_for(path)
            for other in namespace_names(path):
                if other not in self.path_of:
                    self.path_of[other] = path
                    self.real[other] = name

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
