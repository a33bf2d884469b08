"""How rule messages name other files: relative to where conclint runs, when below it."""

import os


def short_path(path: str) -> str:
    try:
        relative = os.path.relpath(path)
    except ValueError:
        return path
    return path if relative.startswith("..") else relative
