"""Settings: their definitions (one table, also rendered in the docs) and loading `[tool.conclint]`."""

from __future__ import annotations

import math
import os
import sys
from dataclasses import dataclass, field
from typing import Any, Collection, Dict, List, Optional, Tuple

from conclint.engine.patterns import pattern_error
from conclint.engine.source import NotRegularFile, read_regular_file
from conclint.engine.target import parse_target_version

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on older Pythons only
    import tomli as tomllib

DEFAULT_EXCLUDE = (
    ".git",
    ".hg",
    ".svn",
    ".tox",
    ".nox",
    ".venv",
    "venv",
    "env",
    "__pycache__",
    "build",
    "dist",
    "node_modules",
    "site-packages",
    ".eggs",
    "*.egg-info",
)


BLOCKING_SEVERITIES = ("all", "unbounded")


class ConfigError(Exception):
    """A bad configuration file, key or value: reported in one line, exit code 2."""


@dataclass(frozen=True)
class SettingDef:
    key: str
    kind: str  # "codes", "globs", "names", "bool", "table-of-codes", "table-of-text"
    default: Any
    doc: str


SETTINGS: Tuple[SettingDef, ...] = (
    SettingDef("select", "codes", ["CCL"], "Rule codes or prefixes to enable (`CCL1`, `CCL201`)."),
    SettingDef("extend-select", "codes", [], "Codes or prefixes enabled on top of `select`."),
    SettingDef("ignore", "codes", [], "Codes or prefixes to disable; a more specific `select` wins."),
    SettingDef(
        "exclude",
        "globs",
        list(DEFAULT_EXCLUDE),
        "Gitignore-style patterns of paths never walked into (replaces the defaults).",
    ),
    SettingDef("extend-exclude", "globs", [], "Patterns excluded on top of `exclude`."),
    SettingDef("per-file-ignores", "table-of-codes", {}, "A table of pattern = [codes] ignored in matching files."),
    SettingDef("respect-gitignore", "bool", True, "Skip files that `.gitignore` files ignore."),
    SettingDef(
        "file-timeout",
        "number",
        60,
        "Seconds of CPU time one file may take to analyse before it is reported as CCL001 instead (0: no limit).",
    ),
    SettingDef(
        "max-file-size",
        "megabytes",
        10,
        "Megabytes a file may hold; a larger one is reported as CCL001 without being read (0: no limit).",
    ),
    SettingDef(
        "max-memory",
        "megabytes",
        2048,
        "Megabytes of memory the analysis of one file may take in its worker process; a file that needs more is "
        "reported as CCL001 (0: no limit).",
    ),
    SettingDef(
        "cache-dir",
        "path",
        "",
        "Where to keep the cache, relative to the configuration (default: a folder per project in the user "
        "cache folder, `$XDG_CACHE_HOME/conclint` or `~/.cache/conclint`); `--no-cache` turns it off.",
    ),
    SettingDef(
        "thread-entry-decorators",
        "names",
        [],
        "Qualified names of decorators whose function runs in a thread (`myapp.tasks.background`).",
    ),
    SettingDef(
        "thread-entry-calls",
        "names",
        [],
        "Qualified names of calls that run their first argument in a thread (`myapp.spawn`).",
    ),
    SettingDef(
        "thread-safe",
        "names",
        [],
        "Classes (`pkg.mod.Client`) or modules (`pkg.mod`: every class and function in it) whose public API "
        "callers use from several threads at once (CCL101-CCL103).",
    ),
    SettingDef(
        "blocking-calls",
        "table-of-text",
        {},
        'Extra blocking APIs for CCL209: qualified name = advice (`"mylib.fetch" = "use mylib.aio.fetch"`).',
    ),
    SettingDef(
        "allowed-blocking-calls",
        "names",
        [],
        "Catalogue entries never to report (`os.path.exists`, `requests.Session.get`).",
    ),
    SettingDef(
        "offload-decorators",
        "names",
        [],
        "Qualified names of decorators that run their function in a worker thread, so that a coroutine calling it "
        "does not block (`myapp.utils.in_thread`); Textual's `@work(thread=True)`, asgiref's `sync_to_async`, "
        "asyncer's `asyncify` and decorators named `run_in_executor`, `run_in_thread` or `to_thread` are known.",
    ),
    SettingDef(
        "blocking-severity",
        "severity",
        "all",
        'Which CCL2xx findings to report: `"all"`, or `"unbounded"` for only the calls whose wait has no bound '
        "(network, sleep, subprocesses, waits, databases, directory walks, reads of data of unknown size), not "
        "a single `stat` or a small write.",
    ),
    SettingDef(
        "server",
        "server",
        "",
        "How the app is served, when no gunicorn.conf.py, Procfile or Dockerfile says: `prefork`, `threaded` or "
        "`evented` (CCL303/CCL304).",
    ),
    SettingDef("workers", "int", 0, "Worker processes of a `prefork` server (CCL303 needs more than one)."),
    SettingDef(
        "preload-app",
        "bool",
        False,
        "The prefork server imports the app before forking (gunicorn `preload_app`; CCL304).",
    ),
    SettingDef(
        "target-version",
        "python-version",
        "",
        'The Python the code runs on (`"py313"`): it decides multiprocessing\'s default start method (fork on Linux '
        "up to 3.13, forkserver from 3.14; CCL302-CCL306). Default: the versions `requires-python` in the "
        "pyproject.toml beside the configuration allows.",
    ),
    SettingDef(
        "await-parameter-attributes",
        "bool",
        False,
        "CCL111/CCL112 also check attributes of parameters other than `self` (off: ESLint's `allowProperties` lesson).",
    ),
    SettingDef(
        "await-shared",
        "names",
        [],
        "Classes (`pkg.mod.Client`) whose public coroutine methods callers' tasks run at once (CCL111/CCL112), "
        "beside those assumed shared because they hold a session, connection, pool or credentials and send "
        "requests through it.",
    ),
    SettingDef(
        "await-not-shared",
        "names",
        [],
        "Classes (`pkg.mod.Client`) never assumed shared by callers' tasks for holding a session, connection, pool "
        "or credentials (one task drives each instance).",
    ),
    SettingDef(
        "await-unshared-self",
        "bool",
        False,
        "CCL111/CCL112 also check `self` attributes where nothing shows several tasks in the method on one object "
        "(by default: an instance in a module global; or a class holding an event-loop lock or with methods spawned "
        "as several tasks, for a keyed entry, state guarded by the lock elsewhere, or a method itself spawned "
        "repeatedly or reached by request or connection handlers; an object passed to every task a loop spawns).",
    ),
)
SETTINGS_BY_KEY = {setting.key: setting for setting in SETTINGS}


@dataclass
class Settings:
    select: List[str] = field(default_factory=lambda: ["CCL"])
    extend_select: List[str] = field(default_factory=list)
    ignore: List[str] = field(default_factory=list)
    exclude: List[str] = field(default_factory=lambda: list(DEFAULT_EXCLUDE))
    extend_exclude: List[str] = field(default_factory=list)
    per_file_ignores: Dict[str, List[str]] = field(default_factory=dict)
    respect_gitignore: bool = True
    cache_dir: str = ""
    file_timeout: float = 60
    max_file_size: float = 10
    max_memory: float = 2048
    thread_entry_decorators: List[str] = field(default_factory=list)
    thread_entry_calls: List[str] = field(default_factory=list)
    thread_safe: List[str] = field(default_factory=list)
    await_parameter_attributes: bool = False
    await_unshared_self: bool = False
    await_shared: List[str] = field(default_factory=list)
    await_not_shared: List[str] = field(default_factory=list)
    server: str = ""
    workers: int = 0
    preload_app: bool = False
    target_version: str = ""
    blocking_calls: Dict[str, str] = field(default_factory=dict)
    allowed_blocking_calls: List[str] = field(default_factory=list)
    offload_decorators: List[str] = field(default_factory=list)
    blocking_severity: str = "all"
    root: str = field(default_factory=os.getcwd)  # patterns are relative to this folder
    config_path: Optional[str] = None
    # not a key: ``[project] requires-python`` of the pyproject.toml beside the configuration
    requires_python: str = ""


def find_pyproject(start: str) -> Optional[str]:
    """The nearest pyproject.toml at or above ``start`` that has a [tool.conclint] table."""
    current = os.path.abspath(start)
    while True:
        candidate = os.path.join(current, "pyproject.toml")
        if os.path.isfile(candidate) and has_conclint_table(candidate):
            return candidate
        parent = os.path.dirname(current)
        if parent == current:
            return None
        current = parent


def has_conclint_table(path: str) -> bool:
    try:
        return _conclint_table(_read_toml(path)) is not None
    except ConfigError:
        return True  # report the broken file rather than skipping past it


def _conclint_table(data: Dict[str, Any]) -> Any:
    """The `[tool.conclint]` value, None when absent; `tool` itself may be any TOML value."""
    tool = data.get("tool")
    return tool.get("conclint") if isinstance(tool, dict) else None


def _read_toml(path: str) -> Dict[str, Any]:
    try:
        data = read_regular_file(path)
    except NotRegularFile:
        raise ConfigError(f"{path}: cannot read configuration: not a regular file") from None
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read configuration: {exc.strerror or exc}") from None
    try:
        return tomllib.loads(data.decode("utf-8"))
    except UnicodeDecodeError as exc:  # TOML is UTF-8
        raise ConfigError(f"{path}: invalid TOML: not UTF-8 (byte 0x{data[exc.start]:02x} at {exc.start})") from None
    except (tomllib.TOMLDecodeError, RecursionError) as exc:
        raise ConfigError(f"{path}: invalid TOML: {exc}") from None


def load_settings(config_path: Optional[str], codes: Collection[str], cwd: Optional[str] = None) -> Settings:
    """The settings of ``config_path`` (or of the nearest pyproject.toml), with rule selectors
    checked against ``codes``, the codes of the rules the caller runs."""
    cwd = cwd or os.getcwd()
    path = config_path if config_path is not None else find_pyproject(cwd)
    if path is None:
        return Settings(root=cwd, requires_python=_requires_python(os.path.join(cwd, "pyproject.toml")))
    data = _read_toml(path)
    table = _conclint_table(data)
    if config_path is not None and not path.endswith("pyproject.toml") and "tool" not in data:
        table = data  # a dedicated conclint.toml holds the keys at top level
    if table is None:
        table = {}
    if not isinstance(table, dict):
        raise ConfigError(f"{path}: [tool.conclint] must be a table")
    settings = Settings(root=os.path.dirname(os.path.abspath(path)), config_path=path)
    for key, value in table.items():
        setting = SETTINGS_BY_KEY.get(key)
        if setting is None:
            raise ConfigError(f"{path}: unknown key '{key}' in [tool.conclint]")
        setattr(settings, key.replace("-", "_"), _validated(path, setting, value, codes))
    beside = path if os.path.basename(path) == "pyproject.toml" else os.path.join(settings.root, "pyproject.toml")
    settings.requires_python = _requires_python(beside, data if beside == path else None)
    return settings


def _requires_python(path: str, data: Optional[Dict[str, Any]] = None) -> str:
    """``[project] requires-python`` of a pyproject.toml, "" when there is none (or it cannot be
    read: the configuration, not this file, is what a broken file must stop)."""
    if data is None:
        if not os.path.isfile(path):
            return ""
        try:
            data = _read_toml(path)
        except ConfigError:
            return ""
    project = data.get("project")
    value = project.get("requires-python") if isinstance(project, dict) else None
    return value if isinstance(value, str) else ""


def _validated(path: str, setting: SettingDef, value: Any, codes: Collection[str]) -> Any:
    def bad(expected: str) -> ConfigError:
        return ConfigError(f"{path}: '{setting.key}' in [tool.conclint] must be {expected}, not {type(value).__name__}")

    if setting.kind == "bool":
        if not isinstance(value, bool):
            raise bad("true or false")
        return value
    if setting.kind in ("codes", "globs", "names"):
        if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
            raise bad("a list of strings")
        if setting.kind == "codes":
            check_codes(value, f"{path}: '{setting.key}'", codes)
        if setting.kind == "globs":
            check_patterns(value, f"{path}: '{setting.key}'")
        return list(value)
    if setting.kind == "path":
        if not isinstance(value, str):
            raise bad("a path")
        return os.path.join(os.path.dirname(os.path.abspath(path)), value) if value else value
    if setting.kind == "server":
        if value not in ("prefork", "threaded", "evented", ""):
            raise ConfigError(
                f'{path}: \'server\' in [tool.conclint] must be "prefork", "threaded" or "evented", not {value!r}'
            )
        return value
    if setting.kind == "severity":
        if value not in BLOCKING_SEVERITIES:
            raise ConfigError(
                f'{path}: \'blocking-severity\' in [tool.conclint] must be "unbounded" or "all", not {value!r}'
            )
        return value
    if setting.kind == "python-version":
        if not isinstance(value, str) or parse_target_version(value) is None:
            raise ConfigError(
                f"{path}: 'target-version' in [tool.conclint] must be a Python version like \"py313\", not {value!r}"
            )
        return value
    if setting.kind == "number":
        if not isinstance(value, (int, float)) or isinstance(value, bool) or not 0 <= value < math.inf:
            raise ConfigError(
                f"{path}: '{setting.key}' in [tool.conclint] must be a number of seconds (0 or more), not {value!r}"
            )
        return value
    if setting.kind == "int":
        if not isinstance(value, int) or isinstance(value, bool) or value < 0:
            raise bad("a whole number")
        return value
    if setting.kind == "megabytes":
        if not isinstance(value, (int, float)) or isinstance(value, bool) or not value >= 0:
            raise bad("a number of megabytes (0 or more)")
        return value
    if setting.kind == "table-of-text":
        if not isinstance(value, dict) or not all(isinstance(v, str) for v in value.values()):
            raise bad('a table of name = "advice"')
        return dict(value)
    if setting.kind == "table-of-codes":
        if not isinstance(value, dict) or not all(
            isinstance(codes, list) and all(isinstance(c, str) for c in codes) for codes in value.values()
        ):
            raise bad("a table of pattern = [codes]")
        for selected in value.values():
            check_codes(selected, f"{path}: '{setting.key}'", codes)
        check_patterns(list(value), f"{path}: '{setting.key}'")
        return {pattern: list(codes) for pattern, codes in value.items()}
    raise AssertionError(setting.kind)


def check_patterns(patterns: List[str], where: str) -> None:
    """Every pattern must be one gitignore can use."""
    for pattern in patterns:
        error = pattern_error(pattern)
        if error is not None:
            raise ConfigError(f"{where}: invalid pattern {pattern!r}: {error}")


def check_codes(selectors: List[str], where: str, codes: Collection[str]) -> None:
    """Every selector must name a rule or a prefix of one (``CCL``, ``CCL1``, ``CCL101``); "" names none."""
    for selector in selectors:
        if selector == "ALL":
            continue
        if not selector.strip():
            raise ConfigError(f"{where}: empty rule selector")
        if not any(code.startswith(selector) for code in codes):
            raise ConfigError(f"{where}: unknown rule selector '{selector}'")
