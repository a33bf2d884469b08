"""What has already run once a module is imported, so that later calls cannot run it again.

Importing a module runs its top-level statements and, first, those of every module it imports. A
function called there has run before any coroutine of the importing module can call it. Two kinds of
function do their work only on their first call:

- a **once flag**: ``if not _ready: _ready = True; <set-up>``, where ``_ready`` is a module global that
  starts falsy and that nothing in the project ever writes but this ``True``;
- a **memoised** function without parameters (``@functools.cache``, ``@lru_cache``): every later call
  returns the cached value.

Reviewed on real code: a memoised logger's first call stood at import in hundreds of modules, and a
blocking chain through its set-up branch was reported from coroutines that can only meet the latch set.
"""

from __future__ import annotations

from typing import Dict, FrozenSet, Iterable, List, Optional, Set

from conclint.model.facts import MODULE_SCOPE, ModuleFacts
from conclint.model.guards import mentions
from conclint.model.program import Program

GLOBAL = "global:"  # a once flag's key in guard conditions and in the values a blocking chain carries
MEMO = "memo:"  # ``memo:<function>``: the memoised function already ran, its body is not run again
MEMO_DECORATORS = frozenset(("functools.cache", "functools.lru_cache", "cache", "lru_cache"))


class ImportTime:
    """Once flags latched and memoised functions filled by the time a module's own code can run."""

    def __init__(self, program: Program, modules: Iterable[ModuleFacts]) -> None:
        self.program = program
        self.modules: Dict[str, ModuleFacts] = {facts.module: facts for facts in modules}
        self._flags_by_setter = self._once_flags()
        self._after_import: Dict[str, Dict[str, object]] = {}
        self._effects: Dict[str, Dict[str, object]] = {}
        # most projects have neither: then no import closure is ever walked
        self._any = bool(self._flags_by_setter) or any(self._memoised(name) for name in program.functions)

    def _once_flags(self) -> Dict[str, Set[str]]:
        """function -> the once flags (``global:mod.x``) its own first call latches."""
        writes: Dict[str, List[tuple]] = {}
        for facts in self.modules.values():
            for qualname, state in facts.state.items():
                for write in state.writes:
                    if write.key.startswith(GLOBAL) and qualname != MODULE_SCOPE:  # not the initial value
                        writes.setdefault(write.key, []).append((qualname, write))
        setters: Dict[str, Set[str]] = {}
        for key, written in writes.items():
            module, _, name = key[len(GLOBAL) :].rpartition(".")
            facts = self.modules.get(module)
            if facts is None or facts.constants.get(name, True) not in (False, 0):
                continue  # it does not start falsy (or it is not a plain module constant)
            if any(write.kind != "assign" or write.literal != "True" for _, write in written):
                continue  # something sets it to another value: it may be reset
            for qualname, write in written:
                if all(mentions(tree) <= {key} for tree in write.requires):  # set on every first call
                    setters.setdefault(qualname, set()).add(key)
        return setters

    def _memoised(self, qualname: str) -> bool:
        info = self.program.functions[qualname][0]
        return not info.params and any(name in MEMO_DECORATORS for name in info.decorators)

    def after_import(self, module: str) -> Dict[str, object]:
        """The values a chain entered from ``module``'s code can rely on: once flags latched (``global:...``
        -> True) and memoised functions filled (``memo:f`` -> True) by the imports that run before it."""
        if not self._any:
            return {}
        if module not in self._after_import:
            values: Dict[str, object] = {}
            for imported in sorted(self._imported_closure(module)):
                values.update(self._own_effects(imported))
            self._after_import[module] = values
        return self._after_import[module]

    def _own_effects(self, module: str) -> Dict[str, object]:
        """What ``module``'s own top-level calls latch and fill (computed once per module)."""
        if module not in self._effects:
            effects: Dict[str, object] = {}
            for call in self.modules[module].calls:
                if not call.at_import or call.function != MODULE_SCOPE:
                    continue
                target = self.program.resolve_call(call)
                if target is None or target not in self.program.functions:
                    continue
                effects.update(dict.fromkeys(self._flags_by_setter.get(target, ()), True))
                if self._memoised(target):
                    effects[MEMO + target] = True
            self._effects[module] = effects
        return self._effects[module]

    def _imported_closure(self, module: str) -> FrozenSet[str]:
        """``module`` and every project module importing it runs first: its packages' ``__init__`` and
        what each of them imports at the top level, outside any ``if`` (``TYPE_CHECKING`` imports do not run)."""
        seen: Set[str] = set()
        pending = [module]
        while pending:
            name = pending.pop()
            for candidate in (name, *_packages_of(name)):
                found = self._project_module(candidate)
                if found is None or found in seen:
                    continue
                seen.add(found)
                pending.extend(self.modules[found].import_time_imports)
        return frozenset(seen)

    def _project_module(self, dotted: str) -> Optional[str]:
        """The project module ``dotted`` names, or holds (``pkg.mod.name`` -> ``pkg.mod``)."""
        for candidate in (dotted, dotted.rpartition(".")[0]):
            if candidate in self.modules:
                return candidate
            real = self.program.real_name(candidate) if candidate else candidate
            if real in self.modules:
                return real
        return None


def _packages_of(module: str) -> List[str]:
    parts = module.split(".")
    return [".".join(parts[:end]) for end in range(1, len(parts))]
