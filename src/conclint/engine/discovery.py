"""Find the Python files to check: walk directories, honour excludes and `.gitignore`."""

from __future__ import annotations

import os
from typing import Callable, Dict, Iterable, List, Optional

import pathspec

from conclint.engine.patterns import lenient_spec
from conclint.engine.settings import Settings
from conclint.engine.source import read_regular_file


class _Ignores:
    """Exclude patterns (relative to the settings root) plus every `.gitignore` met on the way."""

    def __init__(self, settings: Settings) -> None:
        self.root = os.path.abspath(settings.root)
        self.exclude = pathspec.GitIgnoreSpec.from_lines([*settings.exclude, *settings.extend_exclude])
        self.respect_gitignore = settings.respect_gitignore
        self._gitignores: Dict[str, Optional[pathspec.PathSpec]] = {}

    def excluded(self, path: str, is_dir: bool, below: Optional[str] = None) -> bool:
        """Is ``path`` excluded? With ``below`` (a folder named on the command line that the
        excludes would skip), only the part of the path under that folder is matched."""
        name = os.path.basename(path)
        suffix = "/" if is_dir else ""
        if self.exclude.match_file(name + suffix):
            return True
        relative = relative_below(path, below or self.root)
        if relative is not None and self.exclude.match_file(relative.replace(os.sep, "/") + suffix):
            return True
        return self.respect_gitignore and self._gitignored(path, suffix)

    def _gitignored(self, path: str, suffix: str) -> bool:
        directory = os.path.dirname(path)
        while True:
            spec = self._gitignore_in(directory)
            if spec is not None:
                relative = os.path.relpath(path, directory).replace(os.sep, "/")
                if spec.match_file(relative + suffix):
                    return True
            if os.path.isdir(os.path.join(directory, ".git")):
                return False
            parent = os.path.dirname(directory)
            if parent == directory:
                return False
            directory = parent

    def _gitignore_in(self, directory: str) -> Optional[pathspec.PathSpec]:
        if directory not in self._gitignores:
            spec = None
            try:
                text = read_regular_file(os.path.join(directory, ".gitignore")).decode("utf-8", "replace")
                spec = lenient_spec(text.splitlines())  # git skips a line it cannot use; so do we
            except OSError:
                pass
            self._gitignores[directory] = spec
        return self._gitignores[directory]


def relative_below(path: str, folder: str) -> Optional[str]:
    """``path`` relative to ``folder`` when it lies below it, else None.

    Only a ``..`` component climbs out: ``..cache/x.py`` is below the folder.
    """
    try:
        relative = os.path.relpath(path, folder)
    except ValueError:  # another drive (Windows)
        return None
    if relative == os.pardir or relative.startswith(os.pardir + os.sep):
        return None
    return relative


def discover(paths: Iterable[str], settings: Settings) -> List[str]:
    """Absolute paths of the files to check, sorted and without duplicates.

    A path named explicitly is always checked, whatever the excludes say (a folder
    named explicitly is walked even if an exclude names it, as ruff does); a
    directory is walked for ``*.py`` without following symlinked directories,
    so a symlink loop cannot trap the walk. A folder that cannot be listed is in the list
    itself, so that it is reported (CCL002) rather than skipped in silence.
    """
    ignores = _Ignores(settings)
    found = set()

    def unlisted(error: OSError) -> None:
        if error.filename:
            found.add(os.path.abspath(error.filename))

    for given in paths:
        path = os.path.abspath(given)
        if not os.path.isdir(path):
            found.add(path)
            continue
        below = path if ignores.excluded(path, True) else None
        for directory, subdirs, files in os.walk(path, onerror=unlisted):
            subdirs[:] = sorted(d for d in subdirs if not ignores.excluded(os.path.join(directory, d), True, below))
            for name in files:
                if name.endswith(".py"):
                    full = os.path.join(directory, name)
                    if not ignores.excluded(full, False, below):
                        found.add(full)
    return sorted(found)


def walk_excludes(settings: Settings) -> Callable[[str], bool]:
    """A test of whether a walk from ``settings.root`` would skip a file: it, or a folder between
    the root and it, is excluded. For files found under a folder whose own configuration is
    another (a sub-project's excludes apply to its files)."""
    ignores = _Ignores(settings)
    root = os.path.abspath(settings.root)

    def skipped(path: str) -> bool:
        relative = relative_below(path, root)
        if relative is None:
            return ignores.excluded(path, False)
        folder = root
        for part in relative.split(os.sep)[:-1]:
            folder = os.path.join(folder, part)
            if ignores.excluded(folder, True):
                return True
        return ignores.excluded(path, False)

    return skipped
