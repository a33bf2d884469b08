"""The flake8 plugin's analysis: one run of the engine per project, shared by files and processes.

flake8 hands the plugin one file at a time, in several processes (`-j`). Each file's findings
are those of a `conclint check` of its whole project (with `# noqa` left to flake8), computed
once per process and kept in memory. Across processes, the first to reach a project holds a
lock on it in the cache folder while it analyses; the others wait, then read its result from
the cache of `conclint check` (per-file results and the whole run), so a project is analysed
once per flake8 run however many processes check its files, and a later run, or a
`conclint check`, reuses what is unchanged.
"""

from __future__ import annotations

import multiprocessing
import os
from contextlib import contextmanager
from typing import Dict, Iterator, List, Optional, Sequence, Set, Tuple

from conclint.adapters.buffers import encode_buffer
from conclint.engine.cache import default_cache_dir
from conclint.engine.config_files import ConfigResolver
from conclint.engine.discovery import discover
from conclint.engine.findings import Finding
from conclint.engine.run import RunResult, run
from conclint.engine.settings import Settings
from conclint.rules import RULES_BY_CODE

_RESOLVERS: Dict[Tuple, ConfigResolver] = {}
_INDEXES: Dict[Tuple, Tuple[Set[str], RunResult]] = {}  # (settings, root) -> (files analysed, their run)


def _resolver(overrides: Dict[str, object]) -> ConfigResolver:
    """Settings per file as `conclint check` reads them, with flake8's options on top and selection left to flake8."""
    key = tuple(sorted((k, repr(v)) for k, v in overrides.items()))
    if key not in _RESOLVERS:

        def adjust(settings: Settings) -> None:
            for name, value in overrides.items():
                setattr(settings, name.replace("-", "_"), value)
            settings.select, settings.extend_select, settings.ignore = ["CCL"], [], []
            settings.per_file_ignores = {}

        _RESOLVERS[key] = ConfigResolver(RULES_BY_CODE, adjust=adjust)
    return _RESOLVERS[key]


def _root(resolver: ConfigResolver, path: str) -> str:
    """The file's project; for a file in none, flake8's working directory when the file is below it, else its folder."""
    root = resolver.project_root_for(path)
    if root is not None:
        return root
    cwd = os.getcwd()
    inside = os.path.abspath(path).startswith(os.path.join(cwd, ""))
    return cwd if inside else os.path.dirname(os.path.abspath(path))


def _jobs() -> int:
    """The CPU count in flake8's main process; one in its worker processes (a daemon cannot start more)."""
    return 1 if multiprocessing.current_process().daemon else (os.cpu_count() or 1)


@contextmanager
def _project_lock(cache_dir: str, root: str) -> Iterator[None]:
    """Held while one process analyses ``root``: flake8's other processes wait, then find the result cached."""
    try:
        import fcntl
    except ImportError:  # Windows: each process analyses on its own, the per-file cache still shared
        yield
        return
    try:
        os.makedirs(cache_dir, exist_ok=True)
        handle = open(os.path.join(cache_dir, "flake8.lock"), "a+")  # noqa: SIM115 - held across the yield
    except OSError:
        yield
        return
    with handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _cache_dir(settings: Settings) -> str:
    return settings.cache_dir or default_cache_dir(settings.root)


def _index(settings: Settings, root: str) -> Tuple[Set[str], RunResult]:
    key = (id(settings), root)
    if key not in _INDEXES:
        files = set(discover([root], settings))
        cache_dir = _cache_dir(settings)
        with _project_lock(cache_dir, root):
            outcome = run([root], settings, _jobs(), cache_dir, project_root=root, apply_noqa=False)
        _INDEXES[key] = (files, outcome)
    return _INDEXES[key]


def findings_in(path: str, text: Optional[str], overrides: Dict[str, object]) -> List[Finding]:
    """The CCL findings located in ``path`` (``text``: the editor's buffer flake8 read from stdin)."""
    resolver = _resolver(overrides)
    settings = resolver.settings_for(path)
    root = _root(resolver, path)
    if text is not None:  # the buffer wins over the saved file; a one-off run, never cached as the file
        sources = {path: encode_buffer(text)}
        outcome = run([path], settings, _jobs(), _cache_dir(settings), root, sources, apply_noqa=False)
    else:
        files, outcome = _index(settings, root)
        if path not in files:  # a file flake8 checks and the project's excludes skip
            outcome = run([path], settings, _jobs(), _cache_dir(settings), root, apply_noqa=False)
    if path in outcome.internal_errors:
        raise RuntimeError(f"conclint internal error in {path}: {outcome.internal_errors[path]}")
    return [f for f in outcome.findings if f.path == path]


def prepare(paths: Sequence[str], overrides: Dict[str, object]) -> None:
    """Read the configuration of each path flake8 was given, so a bad one is one line and exit 2
    before any file is checked (ConfigError), and analyse their projects now, in flake8's main
    process with every CPU: its worker processes, forked after this, find the analyses done
    (started otherwise, they find them in the cache)."""
    resolver = _resolver(overrides)
    for path in paths:
        if path != "-" and os.path.exists(path):
            path = os.path.abspath(path)
            _index(resolver.settings_for(path), _root(resolver, path))
