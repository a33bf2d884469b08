"""The project: every analysed module's facts, and what is built over them once, on first use."""

from __future__ import annotations

import os
from functools import cached_property
from typing import Callable, Dict, Iterator, List, Optional, Sequence, Tuple, TypeVar

from conclint.engine.deployment import GUNICORN_CONFIGS, ServerEvidence, find_server_evidence
from conclint.engine.settings import Settings
from conclint.engine.target import python_target
from conclint.model.concurrency import ConcurrencyModel
from conclint.model.facts import ModuleFacts

T = TypeVar("T")


class Project:
    def __init__(
        self, modules: List[ModuleFacts], settings: Optional[Settings] = None, folders: Sequence[str] = ()
    ) -> None:
        self._modules = modules
        self.settings = settings or Settings()
        self.by_path: Dict[str, ModuleFacts] = {m.path: m for m in modules}
        self._shared: Dict[str, Tuple[bool, object]] = {}
        # where deployment files (gunicorn.conf.py, Procfile, Dockerfile) may stand
        self.folders = list(dict.fromkeys([os.path.abspath(self.settings.root), *map(os.path.abspath, folders)]))

    def modules(self) -> Iterator[ModuleFacts]:
        return iter(self._modules)

    def shared(self, name: str, build: Callable[[], T]) -> T:
        """A project-wide analysis several rules (or modules) share, built once.

        A build that fails is remembered too and raised again at once: the failure is
        reported for every module that needs it, without paying for it each time.
        """
        if name not in self._shared:
            try:
                self._shared[name] = (True, build())
            except Exception as exc:
                self._shared[name] = (False, exc)
        ok, value = self._shared[name]
        if not ok:
            raise value
        return value

    @cached_property
    def model(self) -> ConcurrencyModel:
        """Built on first use, so a run whose rules never ask for it does not pay for it."""
        server = self.server
        return ConcurrencyModel(
            self._modules,
            thread_entry_decorators=self.settings.thread_entry_decorators,
            thread_entry_calls=self.settings.thread_entry_calls,
            thread_safe=self.settings.thread_safe,
            await_shared=self.settings.await_shared,
            await_not_shared=self.settings.await_not_shared,
            threaded_server=server.source if server is not None and server.threads else None,
            python_target=python_target(self.settings.target_version, self.settings.requires_python),
        )

    @cached_property
    def server(self) -> Optional[ServerEvidence]:
        """Evidence of a prefork server, from deployment files or settings; None without any."""
        from conclint.engine.analysis import analyse_file

        modules = list(self._modules)
        for folder in self.folders:
            for name in GUNICORN_CONFIGS:
                path = os.path.join(folder, name)
                if os.path.isfile(path) and path not in self.by_path:
                    facts = analyse_file(path).facts
                    if facts is not None:
                        modules.append(facts)
        return find_server_evidence(modules, self.folders, self.settings)
