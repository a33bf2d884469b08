"""The cache: per-file results keyed by content, and the last whole run keyed by everything.

- A file's result (its facts, its CCL001/CCL002, its ``# noqa`` rows) depends only on its
  path, its bytes, the trigger words (which decide a full or a light analysis) and
  conclint's own version: those make its key. Editing one file re-parses one file;
  cross-module results are recomputed from the cached facts.
- A run whose files, settings and version are all unchanged returns the last run's
  findings without loading any facts; so does a run whose edited files give the same
  first-round results as before (see ``_Equivalence`` in run.py).

Entries are pickles written atomically (a temporary file, then a rename), so concurrent
runs on one cache are safe; an unreadable, corrupt or foreign entry is ignored and
rewritten, never an error.
"""

from __future__ import annotations

import hashlib
import os
import pickle
import sys
import tempfile
from typing import Any, Optional

from conclint import __version__

CACHE_DIR_NAME = ".conclint_cache"
_FORMAT = 17
_SALT = f"conclint {__version__} format {_FORMAT} python {sys.version_info[:2]}"


def digest(*parts: Any) -> str:
    h = hashlib.sha256(_SALT.encode())
    for part in parts:
        h.update(b"\0")
        h.update(part if isinstance(part, bytes) else repr(part).encode("utf-8", "backslashreplace"))
    return h.hexdigest()


class Cache:
    def __init__(self, folder: str) -> None:
        self.folder = folder

    def _path(self, kind: str, key: str) -> str:
        return os.path.join(self.folder, kind, key[:2], key + ".pickle")

    def load(self, kind: str, key: str) -> Optional[Any]:
        try:
            with open(self._path(kind, key), "rb") as handle:
                entry = pickle.load(handle)
        except FileNotFoundError:
            return None
        except Exception:  # corrupt, truncated, from another version: recompute and rewrite
            return None
        if not isinstance(entry, tuple) or len(entry) != 2 or entry[0] != key:
            return None
        return entry[1]

    def store(self, kind: str, key: str, value: Any) -> None:
        path = self._path(kind, key)
        try:
            os.makedirs(os.path.dirname(path), exist_ok=True)
            self._mark_folder()
            handle, temporary = tempfile.mkstemp(dir=os.path.dirname(path), suffix=".tmp")
            with os.fdopen(handle, "wb") as out:
                pickle.dump((key, value), out, protocol=pickle.HIGHEST_PROTOCOL)
            os.replace(temporary, path)
        except OSError:
            pass  # a read-only or full disk costs the cache, not the run

    def _mark_folder(self) -> None:
        """Keep the cache out of version control and out of our own walk, as ruff does."""
        ignore = os.path.join(self.folder, ".gitignore")
        if not os.path.exists(ignore):
            with open(ignore, "w", encoding="utf-8") as handle:
                handle.write("# created by conclint\n*\n")
