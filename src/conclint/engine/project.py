"""The project: every analysed module's facts, and the concurrency model built over them once."""

from __future__ import annotations

from functools import cached_property
from typing import Dict, Iterator, List, Optional

from conclint.engine.settings import Settings
from conclint.model.concurrency import ConcurrencyModel
from conclint.model.facts import ModuleFacts


class Project:
    def __init__(self, modules: List[ModuleFacts], settings: Optional[Settings] = None) -> None:
        self._modules = modules
        self.settings = settings or Settings()
        self.by_path: Dict[str, ModuleFacts] = {m.path: m for m in modules}

    def modules(self) -> Iterator[ModuleFacts]:
        return iter(self._modules)

    @cached_property
    def model(self) -> ConcurrencyModel:
        """Built on first use, so a run whose rules never ask for it does not pay for it."""
        return ConcurrencyModel(
            self._modules,
            thread_entry_decorators=self.settings.thread_entry_decorators,
            thread_entry_calls=self.settings.thread_entry_calls,
        )
