"""The flake8 plugin: conclint's findings as flake8 `CCL` errors.

flake8 hands a plugin one file at a time, but conclint's hazards often span modules:
a thread started in ``runner.py`` runs a function of ``jobs.py``; a coroutine in
``handlers.py`` calls a helper in ``storage.py`` that blocks. So each file is analysed
together with the modules linked to it by imports: the project modules it imports
(found from its package root or flake8's working directory), and, within its own
top-level package (or, outside a package, its folder), the modules that import it.
Only the findings located in the file are yielded; flake8 applies --select, --ignore and
`# noqa` itself. Analyses are cached per process, so a flake8 run analyses each module,
and each group of linked modules, once. docs/integrations.md says what can differ from
`conclint check`.
"""

from __future__ import annotations

import argparse
import ast
import os
import re
import sys
from collections import defaultdict
from typing import Dict, FrozenSet, Iterator, List, Optional, Sequence, Set, Tuple

from conclint import __version__
from conclint.engine.analysis import FileResult, analyse_file
from conclint.engine.deadline import AnalysisTimeout, deadline
from conclint.engine.deployment import GUNICORN_CONFIGS
from conclint.engine.discovery import discover
from conclint.engine.findings import Finding, Span
from conclint.engine.modules import module_name_for
from conclint.engine.parsing import ParseFailure, parse_source, run_with_deep_stack
from conclint.engine.run import RunResult, raw_findings
from conclint.engine.settings import SETTINGS, ConfigError, SettingDef, Settings, load_settings
from conclint.engine.target import parse_target_version
from conclint.model.collector import collect_facts
from conclint.rules import RULES_BY_CODE

# Selection and discovery belong to flake8 (--select, --extend-ignore, --per-file-ignores, --exclude);
# the cache is `conclint check`'s (the plugin keeps its analyses in memory for one flake8 run).
NOT_OPTIONS = {
    "select",
    "extend-select",
    "ignore",
    "exclude",
    "extend-exclude",
    "per-file-ignores",
    "respect-gitignore",
    "cache-dir",
}
RULE_SETTINGS: Tuple[SettingDef, ...] = tuple(s for s in SETTINGS if s.key not in NOT_OPTIONS)


def _option(setting: SettingDef) -> str:
    return f"--conclint-{setting.key}"


def _dest(setting: SettingDef) -> str:
    return "conclint_" + setting.key.replace("-", "_")


class ConclintChecker:
    name = "conclint"
    version = __version__
    settings: Settings = Settings()
    reads_stdin = False

    def __init__(self, tree: ast.AST, filename: str, lines: Sequence[str]) -> None:
        # analysed here, not in run(): flake8 turns an exception raised here into its
        # one-paragraph "plugin failed" report, but lets one from run() end in a traceback
        text = "".join(lines) if self.reads_stdin else None
        self.findings = _analyses(self.settings).findings_in(os.path.abspath(filename), text)

    @classmethod
    def add_options(cls, manager) -> None:
        for setting in RULE_SETTINGS:
            extra: dict = {}
            if setting.kind == "names":
                extra = {"comma_separated_list": True, "metavar": "NAMES"}
            elif setting.kind == "bool":
                extra = {"action": "store_true"}
            elif setting.kind == "int":
                extra = {"type": int, "metavar": "N"}
            elif setting.kind == "number":
                extra = {"metavar": "SECONDS"}
            elif setting.kind == "server":
                extra = {"metavar": "{prefork,threaded,evented}"}
            elif setting.kind == "table-of-text":
                extra = {"metavar": "'NAME = ADVICE; ...'"}
            elif setting.kind == "python-version":
                extra = {"metavar": "PY3XX"}
            help_text = setting.doc.replace("%", "%%") + " Overrides [tool.conclint]."
            manager.add_option(_option(setting), default=None, parse_from_config=True, help=help_text, **extra)

    @classmethod
    def parse_options(cls, options: argparse.Namespace) -> None:
        """[tool.conclint] as `conclint check` run here reads it, then flake8's options on top."""
        try:
            settings = load_settings(None, RULES_BY_CODE)
            for setting in RULE_SETTINGS:
                value = getattr(options, _dest(setting), None)
                if value is not None:
                    setattr(settings, setting.key.replace("-", "_"), _converted(setting, value))
        except ConfigError as exc:
            print(f"flake8: conclint: error: {exc}", file=sys.stderr)
            raise SystemExit(2) from None
        settings.select, settings.extend_select, settings.ignore = ["CCL"], [], []
        cls.settings = settings
        cls.reads_stdin = "-" in (getattr(options, "filenames", None) or ())

    def run(self) -> Iterator[Tuple[int, int, str, type]]:
        for finding in self.findings:
            # conclint columns are 1-based, flake8 wants a 0-based offset
            yield finding.span.row, finding.span.col - 1, f"{finding.code} {finding.message}", type(self)


def _converted(setting: SettingDef, value):
    """A flake8 option value (command line or [flake8] config) as the setting's type."""
    if setting.kind == "names":
        return list(value)
    if setting.kind == "bool":
        return bool(value)
    if setting.kind == "int":
        if value < 0:
            raise ConfigError(f"{_option(setting)} must be a whole number, not {value}")
        return value
    if setting.kind == "number":  # a string from [flake8] (flake8 converts only int and bool options)
        try:
            number = float(value)
        except ValueError:
            number = -1.0
        if not number >= 0:
            raise ConfigError(f"{_option(setting)} must be a number of seconds (0 or more), not {value!r}")
        return number
    if setting.kind == "server":
        if value not in ("prefork", "threaded", "evented"):
            raise ConfigError(f"{_option(setting)} must be prefork, threaded or evented, not {value!r}")
        return value
    if setting.kind == "table-of-text":
        table = {}
        for item in re.split(r"[;\n]", value):
            name, equals, advice = item.partition("=")
            if item.strip() and (not equals or not name.strip()):
                raise ConfigError(f"{_option(setting)}: expected 'name = advice', not {item.strip()!r}")
            if item.strip():
                table[name.strip()] = advice.strip()
        return table
    if setting.kind == "python-version":
        if parse_target_version(value) is None:
            raise ConfigError(f"{_option(setting)} must be a Python version like py313, not {value!r}")
        return value
    raise AssertionError(setting.kind)


_CACHES: Dict[str, _Analyses] = {}


def _analyses(settings: Settings) -> _Analyses:
    """One cache per process and settings (flake8 gives every file of a run the same settings)."""
    key = repr(settings)
    if key not in _CACHES:
        _CACHES[key] = _Analyses(settings)
    return _CACHES[key]


class _Analyses:
    """Each module analysed once, each package's importers found once, each group of linked modules checked once."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.results: Dict[str, FileResult] = {}
        self.imported: Dict[str, List[str]] = {}
        self.neighbourhoods: Dict[str, Tuple[List[str], Dict[str, Set[str]]]] = {}
        self.checked: Dict[Tuple[FrozenSet[str], str], Tuple[Dict[str, List[Finding]], Dict[str, str]]] = {}

    def findings_in(self, path: str, text: Optional[str] = None) -> List[Finding]:
        if text is not None:  # the editor's buffer, read from stdin: it wins over the saved file
            self.results[path] = _analyse_text(path, text, self.settings.file_timeout or None)
            self.imported.pop(path, None)
        _, top = _package_root(path)
        folder = top or os.path.dirname(path)
        unit = self._unit(path, folder, top is not None)
        key = (frozenset(unit), folder)
        if key not in self.checked:
            outcome = RunResult()
            by_path: Dict[str, List[Finding]] = defaultdict(list)
            results = [self._result(p) for p in sorted(unit)]
            for finding in raw_findings(results, self.settings, [folder], outcome):
                by_path[finding.path].append(finding)
            self.checked[key] = (by_path, outcome.internal_errors)
        by_path, errors = self.checked[key]
        if path in errors:
            raise RuntimeError(f"conclint internal error in {path}: {errors[path]}")
        return sorted(by_path.get(path, []), key=Finding.sort_key)

    def _result(self, path: str) -> FileResult:
        if path not in self.results:
            timeout = self.settings.file_timeout or None
            self.results[path] = run_with_deep_stack(lambda: analyse_file(path, timeout=timeout))
        return self.results[path]

    def _imports(self, path: str) -> List[str]:
        """The project files ``path`` imports: the modules and the packages above them."""
        if path not in self.imported:
            facts = self._result(path).facts
            root, _ = _package_root(path)
            bases = list(dict.fromkeys([root, os.getcwd()]))
            found: Set[str] = set()
            for name in sorted(facts.imported_modules if facts else ()):
                found.update(_resolve(name, bases))
            found.discard(path)
            self.imported[path] = sorted(found)
        return self.imported[path]

    def _neighbourhood(self, folder: str, is_package: bool) -> Tuple[List[str], Dict[str, Set[str]]]:
        """(the modules that may import a file: its top-level package, or its folder outside a
        package; module -> those of them that import it)."""
        if folder not in self.neighbourhoods:
            if is_package:
                modules = discover([folder], self.settings)
            else:
                modules = [os.path.join(folder, n) for n in sorted(os.listdir(folder)) if n.endswith(".py")]
            modules = [m for m in modules if os.path.isfile(m)]
            importers: Dict[str, Set[str]] = defaultdict(set)
            for module in modules:
                for target in self._imports(module):
                    importers[target].add(module)
            self.neighbourhoods[folder] = (modules, importers)
        return self.neighbourhoods[folder]

    def _unit(self, path: str, folder: str, is_package: bool) -> Set[str]:
        """``path`` and every module linked to it by imports: imported ones anywhere, importing
        ones in its neighbourhood.

        Gunicorn configs come along too: they are prefork evidence without importing anything.
        """
        modules, importers = self._neighbourhood(folder, is_package)
        unit = {path, *(m for m in modules if os.path.basename(m) in GUNICORN_CONFIGS)}
        todo = list(unit)
        while todo:
            module = todo.pop()
            for other in [*self._imports(module), *sorted(importers.get(module, ()))]:
                if other not in unit:
                    unit.add(other)
                    todo.append(other)
        return unit


def _package_root(path: str) -> Tuple[str, Optional[str]]:
    """(the folder its absolute imports resolve from, its top-level package folder or None)."""
    name, is_package = module_name_for(path)
    parts = name.split(".")
    depth = len(parts) if is_package else len(parts) - 1  # package folders holding the file
    folder = os.path.dirname(path)
    for _ in range(depth):
        folder = os.path.dirname(folder)
    return folder, (os.path.join(folder, parts[0]) if depth else None)


def _resolve(name: str, bases: Sequence[str]) -> List[str]:
    """The files of the longest importable prefix of ``name`` (``pkg.mod.func`` -> pkg/mod.py), with
    the ``__init__.py`` of each package above it (Python runs them; they may re-export)."""
    parts = name.split(".")
    for base in bases:
        for n in range(len(parts), 0, -1):
            stem = os.path.join(base, *parts[:n])
            for candidate in (os.path.join(stem, "__init__.py"), stem + ".py"):
                if os.path.isfile(candidate) and module_name_for(candidate)[0] == ".".join(parts[:n]):
                    inits = [os.path.join(base, *parts[:i], "__init__.py") for i in range(1, n)]
                    return [os.path.abspath(candidate), *map(os.path.abspath, inits)]
    return []


def _analyse_text(path: str, text: str, timeout: Optional[float]) -> FileResult:
    """Analyse source text flake8 read from stdin (an editor's unsaved buffer) as if saved at ``path``:
    `analyse_file()` without the reading. A parse failure yields nothing: flake8 reports E999 itself."""
    result = FileResult(path)
    deadline.start(timeout)
    try:
        module = run_with_deep_stack(lambda: parse_source(text))
        if not isinstance(module, ParseFailure):
            name, is_package = module_name_for(path)
            result.facts = run_with_deep_stack(lambda: collect_facts(module, path, name, is_package))
    except AnalysisTimeout as exc:
        result.findings.append(Finding("CCL001", str(exc), path, Span.point(1, 1)))
    except RecursionError:
        pass  # too deeply nested: `conclint check` says CCL001, flake8 has no line to pin it on
    except Exception as exc:
        result.internal_error = f"{type(exc).__name__}: {exc}"
    finally:
        deadline.stop()
    return result
