"""The project: every analysed module's facts, the index rules query across modules."""

from __future__ import annotations

from typing import Dict, Iterator, List

from conclint.model.facts import ModuleFacts


class Project:
    def __init__(self, modules: List[ModuleFacts]) -> None:
        self._modules = modules
        self.by_path: Dict[str, ModuleFacts] = {m.path: m for m in modules}

    def modules(self) -> Iterator[ModuleFacts]:
        return iter(self._modules)
