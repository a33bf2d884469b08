"""The project a file belongs to: where the whole-program analysis starts.

A file named on the command line (pre-commit passes only the staged ones) or opened in an editor
is analysed together with every module of its project, so a coroutine calling a blocking helper
of an unchanged module is still seen. The project is the folder of the configuration that
applies, or else the nearest folder at or above the file that holds `pyproject.toml`,
`setup.cfg` or `.git`.
"""

from __future__ import annotations

import os
from typing import Optional

PROJECT_MARKERS = ("pyproject.toml", "setup.cfg", ".git")


def nearest_project_folder(path: str) -> Optional[str]:
    """The nearest folder at or above ``path`` (a file or a folder) holding a project marker, None if there is none."""
    current = os.path.abspath(path)
    if not os.path.isdir(current):
        current = os.path.dirname(current)
    while True:
        if any(os.path.exists(os.path.join(current, marker)) for marker in PROJECT_MARKERS):
            return current
        parent = os.path.dirname(current)
        if parent == current:
            return None
        current = parent


def project_root(path: str, config_path: Optional[str], marked: Optional[str] = None) -> Optional[str]:
    """The configuration's folder when a project configuration applies, else the nearest marked folder.

    None for a file in no project (a script in /tmp): then only the files named are analysed.
    The home folder and the file system root are never a project (a stray `~/.git` would make
    every script in the home folder pull in the whole of it). ``marked``: the nearest marked
    folder, when the caller already knows it.
    """
    if config_path:
        folder: Optional[str] = os.path.dirname(os.path.abspath(config_path))
    else:
        folder = marked if marked is not None else nearest_project_folder(path)
    if folder is None or folder in (os.path.expanduser("~"), os.path.abspath(os.sep)):
        return None
    return folder
