"""Which configuration applies to a file: the closest one, as in ruff.

For each file, the nearest folder at or above it holding `.conclint.toml`, `conclint.toml` or a
`pyproject.toml` with a `[tool.conclint]` table (in that order of preference, within one folder)
gives its settings; a configuration is not merged with the ones above it. Without one, the
user-level `conclint.toml` (in `$XDG_CONFIG_HOME/conclint/`, by default `~/.config/conclint/`)
applies, else the defaults. `--config` names one file for every file; `--isolated` ignores them all.
"""

from __future__ import annotations

import os
from typing import Callable, Collection, Dict, Optional, Tuple

from conclint.engine.project_root import nearest_project_folder, project_root
from conclint.engine.settings import Settings, has_conclint_table, load_settings

STANDALONE_NAMES = (".conclint.toml", "conclint.toml")
USER_SOURCE = "user"  # how `--show-settings` names the user-level file's role


def config_in(folder: str) -> Optional[str]:
    """The configuration file of ``folder`` itself, if it has one."""
    for name in STANDALONE_NAMES:
        candidate = os.path.join(folder, name)
        if os.path.isfile(candidate):
            return candidate
    candidate = os.path.join(folder, "pyproject.toml")
    if os.path.isfile(candidate) and has_conclint_table(candidate):
        return candidate
    return None


def user_config() -> Optional[str]:
    """The user-level configuration, if there is one."""
    base = os.environ.get("XDG_CONFIG_HOME") or os.path.join(os.path.expanduser("~"), ".config")
    for name in ("conclint.toml", ".conclint.toml"):
        candidate = os.path.join(base, "conclint", name)
        if os.path.isfile(candidate):
            return candidate
    return None


class ConfigResolver:
    """Settings per file, each configuration read once.

    ``adjust`` applies the command line's overrides (`--select`, `--ignore`...) to each settings
    object as it is loaded; ``codes`` are the rule codes the caller runs.
    """

    def __init__(
        self,
        codes: Collection[str],
        explicit: Optional[str] = None,
        isolated: bool = False,
        adjust: Callable[[Settings], None] = lambda settings: None,
    ) -> None:
        self.codes = codes
        self.explicit = explicit
        self.isolated = isolated
        self.adjust = adjust
        self._closest: Dict[str, Optional[str]] = {}
        self._settings: Dict[Tuple[Optional[str], str], Settings] = {}
        self._marked: Dict[str, Optional[str]] = {}  # folder -> its nearest marked folder

    def config_for(self, path: str) -> Tuple[Optional[str], str]:
        """(the configuration file that applies to ``path``, its role: "explicit", "project", "user" or "default")."""
        if self.explicit is not None:
            return os.path.abspath(self.explicit), "explicit"
        if self.isolated:
            return None, "default"
        folder = os.path.abspath(path)
        if not os.path.isdir(folder):
            folder = os.path.dirname(folder)
        found = self._closest_from(folder)
        if found is not None:
            return found, "project"
        user = user_config()
        return (user, USER_SOURCE) if user is not None else (None, "default")

    def _closest_from(self, folder: str) -> Optional[str]:
        visited = []
        found: Optional[str] = None
        current = folder
        while True:
            if current in self._closest:
                found = self._closest[current]
                break
            visited.append(current)
            found = config_in(current)
            if found is not None:
                break
            parent = os.path.dirname(current)
            if parent == current:
                break
            current = parent
        for seen in visited:
            self._closest.setdefault(seen, found)
        return found

    def settings_for(self, path: str) -> Settings:
        config, role = self.config_for(path)
        root = self._default_root(path) if role in (USER_SOURCE, "default") else os.path.dirname(config)
        key = (config, root)
        if key not in self._settings:
            settings = load_settings(config, self.codes) if config is not None else Settings(root=root)
            settings.root = root  # a user-level file's patterns are relative to the project, not ~/.config
            self.adjust(settings)
            self._settings[key] = settings
        return self._settings[key]

    def project_root_for(self, path: str) -> Optional[str]:
        """The folder whose files are analysed with ``path``: the project configuration's, or the nearest marked one."""
        config, role = self.config_for(path)
        if role == "project":
            return project_root(path, config)
        # ``--config FILE`` says which settings apply, not where the project is (as in ruff): a
        # configuration kept outside the tree must not make its folder the project
        return project_root(path, None, self._nearest_marked(path))

    def _nearest_marked(self, path: str) -> Optional[str]:
        folder = os.path.abspath(path)
        if not os.path.isdir(folder):
            folder = os.path.dirname(folder)
        if folder not in self._marked:
            self._marked[folder] = nearest_project_folder(folder)
        return self._marked[folder]

    def _default_root(self, path: str) -> str:
        """Where patterns are relative to when no project configuration applies: the project folder, else the cwd."""
        return self._nearest_marked(path) or os.getcwd()
