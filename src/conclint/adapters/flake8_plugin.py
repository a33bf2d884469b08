"""The flake8 plugin: conclint's findings as flake8 `CCL` errors.

It costs nothing unless a CCL code is selected: flake8's own selection is asked first, and
this module imports nothing of the analysis (libcst, the rules) until then. When selected,
each file is reported as `conclint check` of its project reports it: the project (the folder
of the configuration that applies, or the nearest one with pyproject.toml, setup.cfg or
.git) is analysed once per flake8 run, through the on-disk cache of `conclint check`, and
shared by every file and every flake8 process (see flake8_index.py). flake8 applies
--select, --ignore, --per-file-ignores and `# noqa` itself. docs/integrations.md says what
can differ from `conclint check`.
"""

from __future__ import annotations

import argparse
import math
import os
import re
import sys
from typing import Dict, Iterator, Sequence, Tuple

from conclint import __version__
from conclint.engine.settings import SETTINGS, ConfigError, SettingDef
from conclint.engine.target import parse_target_version

# Selection and discovery belong to flake8 (--select, --extend-ignore, --per-file-ignores, --exclude);
# the cache is `conclint check`'s; so is max-memory (flake8's own workers cannot start the processes it limits).
NOT_OPTIONS = {
    "max-memory",
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
CODE_PREFIX = "CCL"


def _option(setting: SettingDef) -> str:
    return f"--conclint-{setting.key}"


def _dest(setting: SettingDef) -> str:
    return "conclint_" + setting.key.replace("-", "_")


def ccl_selected(options: argparse.Namespace) -> bool:
    """Does flake8's own selection (--select, --extend-select, --ignore, --extend-ignore, the defaults)
    report any CCL code? Every code of the CCL range is asked, as flake8 would decide it."""
    try:
        from flake8.style_guide import Decision, DecisionEngine

        engine = DecisionEngine(options)
        return any(engine.decision_for(f"{CODE_PREFIX}{n:03d}") is Decision.Selected for n in range(1000))
    except Exception:  # another flake8 than the one this was written for: analyse, as before
        return True


class ConclintChecker:
    name = "conclint"
    version = __version__
    selected = True
    overrides: Dict[str, object] = {}  # setting key -> value given as a flake8 option
    reads_stdin = False

    def __init__(self, tree, filename: str, lines: Sequence[str]) -> None:
        # analysed here, not in run(): flake8 turns an exception raised here into its
        # one-paragraph "plugin failed" report, but lets one from run() end in a traceback
        self.findings: list = []
        if not self.selected:
            return
        from conclint.adapters.flake8_index import findings_in

        text = "".join(lines) if self.reads_stdin else None
        self.findings = findings_in(os.path.abspath(filename), text, self.overrides)

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
            elif setting.kind == "megabytes":
                extra = {"metavar": "MB"}
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
        """flake8's options on top of the closest [tool.conclint], as `conclint check` reads it for each file."""
        cls.selected = ccl_selected(options)
        cls.reads_stdin = "-" in (getattr(options, "filenames", None) or ())
        if not cls.selected:
            return
        try:
            cls.overrides = {
                setting.key: _converted(setting, getattr(options, _dest(setting)))
                for setting in RULE_SETTINGS
                if getattr(options, _dest(setting), None) is not None
            }
            from conclint.adapters.flake8_index import prepare

            prepare(getattr(options, "filenames", None) or ["."], cls.overrides)
        except ConfigError as exc:
            print(f"flake8: conclint: error: {exc}", file=sys.stderr)
            raise SystemExit(2) from None

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
    if setting.kind in ("number", "megabytes"):  # a string from [flake8] (flake8 converts only int and bool options)
        try:
            number = float(value)
        except ValueError:
            number = -1.0
        if not 0 <= number < math.inf:  # nan and inf are no number
            unit = "seconds" if setting.kind == "number" else "megabytes"
            raise ConfigError(f"{_option(setting)} must be a number of {unit} (0 or more), not {value!r}")
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
