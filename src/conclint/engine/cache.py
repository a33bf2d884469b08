"""The cache: per-file results keyed by content, and the last whole run keyed by everything.

- A file's result (its facts, its CCL001/CCL002, its ``# noqa`` rows) depends only on its
  path, its bytes, the trigger words (which decide a full or a light analysis) and
  conclint's own version: those make its key. Editing one file re-parses one file;
  cross-module results are recomputed from the cached facts.
- A run whose files, settings and version are all unchanged returns the last run's
  findings without loading any facts; so does a run whose edited files give the same
  first-round results as before (see ``_Equivalence`` in run.py).

Entries are typed JSON (engine/codec.py), never pickles: reading a cache, even one the
analysed repository crafted, builds only our own plain data, so it cannot run code. They are
written atomically (a temporary file, then a rename), so concurrent runs on one cache are
safe; an unreadable, corrupt, foreign or ill-typed entry is ignored and rewritten, never an
error.

The cache lives in the user's cache folder (``$XDG_CACHE_HOME/conclint``, by default
``~/.cache/conclint``), one folder per project root, unless ``cache-dir`` or ``--cache-dir``
says where: the tree under analysis does not choose where its cache is read from.
"""

from __future__ import annotations

import hashlib
import os
import sys
import tempfile
from typing import Any, Optional

from conclint import __version__
from conclint.engine.codec import Codec, CodecError
from conclint.engine.source import read_regular_file

_FORMAT = 23
_SALT = f"conclint {__version__} format {_FORMAT} python {sys.version_info[:2]}"


def digest(*parts: Any) -> str:
    h = hashlib.sha256(_SALT.encode())
    for part in parts:
        h.update(b"\0")
        h.update(part if isinstance(part, bytes) else repr(part).encode("utf-8", "backslashreplace"))
    return h.hexdigest()


def default_cache_dir(project_root: str) -> str:
    """The cache folder of a project when none is configured: in the user's cache folder, named
    by a digest of the project's path (so two checkouts never share entries). "" (no cache)
    when there is no home folder: a relative ``~/.cache`` would put it in the tree after all."""
    base = os.environ.get("XDG_CACHE_HOME", "")
    if not os.path.isabs(base):  # the XDG spec: a relative value is to be ignored
        base = os.path.join(os.path.expanduser("~"), ".cache")
    if not os.path.isabs(base):
        return ""
    name = hashlib.sha256(os.path.realpath(project_root).encode("utf-8", "surrogateescape")).hexdigest()[:20]
    return os.path.join(base, "conclint", name)


_ENTRY_HEAD = b'{"key":"'


class Cache:
    def __init__(self, folder: str) -> None:
        self.folder = folder

    def _path(self, kind: str, key: str) -> str:
        return os.path.join(self.folder, kind, key[:2], key + ".json")

    def load(self, kind: str, key: str, codec: Codec) -> Optional[Any]:
        """The entry under ``key`` as a value of ``codec``'s type, or None when there is none, or
        it is not one (another version's, truncated, crafted): the caller recomputes and rewrites it."""
        try:
            data = read_regular_file(self._path(kind, key))
        except (OSError, ValueError):
            return None
        head = _ENTRY_HEAD + key.encode("ascii") + b'","value":'
        if not data.startswith(head) or not data.endswith(b"}"):
            return None
        try:
            return codec.loads(data[len(head) : -1])
        except CodecError:
            return None

    def store(self, kind: str, key: str, value: Any, codec: Codec) -> None:
        path = self._path(kind, key)
        try:
            body = codec.dumps(value)
        except CodecError:
            return  # not ours to keep (cannot happen with our own results): recomputed next time
        try:
            os.makedirs(os.path.dirname(path), exist_ok=True)
            self._mark_folder()
            handle, temporary = tempfile.mkstemp(dir=os.path.dirname(path), suffix=".tmp")
            with os.fdopen(handle, "wb") as out:
                out.write(_ENTRY_HEAD + key.encode("ascii") + b'","value":' + body + b"}")
            os.replace(temporary, path)
        except OSError:
            pass  # a read-only or full disk costs the cache, not the run

    def _mark_folder(self) -> None:
        """Keep the cache out of version control and out of our own walk, as ruff does."""
        ignore = os.path.join(self.folder, ".gitignore")
        if not os.path.exists(ignore):
            with open(ignore, "w", encoding="utf-8") as handle:
                handle.write("# created by conclint\n*\n")
