"""Coroutines that no event loop runs: a project's own sequential driver (a code generator's
scheduler) steps them with ``next()``/``send()``, so a blocking call in them stalls no other task.

The rule, decided by how the coroutines are driven:

* a **driver module** is a project module that imports no event-loop library and, in a function
  that is not itself an awaitable's dunder (``__await__``, ``__iter__``, ``__next__``, ``send``),
  calls ``__await__()`` on a coroutine explicitly, and steps an iterator with ``.send(...)``:
  it runs coroutines itself instead of handing them to a loop;
* the ``async def`` bodies of a module are run by that driver, not by an event loop, when the
  module reaches a driver module through the project's imports and imports no event-loop library
  or async framework itself (an ``asyncio`` import, or ``aiohttp``/``fastapi``/..., says a loop
  runs there).

A project without a driver module is unaffected: every ``async def`` is event-loop code.
"""

from __future__ import annotations

from typing import Dict, Iterable, Optional, Set

from conclint.model.facts import ModuleFacts

# importing any of these says the module's coroutines run on a real event loop
EVENT_LOOP_LIBRARIES = (
    "asyncio",
    "trio",
    "anyio",
    "curio",
    "uvloop",
    "twisted",
    "tornado",
    "gevent",
    "eventlet",
    "aiohttp",
    "fastapi",
    "starlette",
    "quart",
    "sanic",
    "litestar",
    "websockets",
    "httpx",
    "socketio",
    "uvicorn",
    "hypercorn",
    "discord",
    "aiogram",
    "telegram",
    "django",
    "channels",
    "flask",
    "textual",
    "nicegui",
    "chainlit",
    "slack_bolt",
    "pyrogram",
    "telethon",
    "hikari",
    "nextcord",
    "grpc.aio",
    "redis.asyncio",
    "motor",
    "asyncpg",
    "sqlalchemy.ext.asyncio",
    "mcp",
)
_AWAITABLE_DUNDERS = frozenset({"__await__", "__iter__", "__next__", "__anext__", "send", "throw"})


def _uses_a_loop(facts: ModuleFacts) -> bool:
    return facts.imports_any(*EVENT_LOOP_LIBRARIES) or any(
        name.split(".")[0].startswith("aio") for name in facts.imported_modules
    )


def is_driver_module(facts: ModuleFacts) -> bool:
    """Steps coroutines itself: ``coro(...).__await__()`` and ``gen.send(value)``, with no loop imported."""
    if _uses_a_loop(facts):
        return False
    awaits = any(
        call.method == "__await__" and call.function.rsplit(".", 1)[-1] not in _AWAITABLE_DUNDERS
        for call in facts.calls
    )
    return awaits and any(call.method == "send" for call in facts.calls)


class CoroutineDrivers:
    """Which modules' coroutines the project's own driver runs (see the module docstring)."""

    def __init__(self, program) -> None:
        self.program = program
        drivers = {name for name, facts in program.modules.items() if is_driver_module(facts)}
        self.driven: Set[str] = self._importers_of(drivers) if drivers else set()

    def _project_module(self, name: str) -> Optional[str]:
        modules = self.program.modules
        if name in modules:
            return name
        real = self.program.real_name(name)
        return real if real in modules else None

    def _importers_of(self, targets: Iterable[str]) -> Set[str]:
        """Every module that reaches one of ``targets`` through project imports (the targets too)."""
        importers: Dict[str, Set[str]] = {}
        for name, facts in self.program.modules.items():
            for imported in facts.imported_modules:
                target = self._project_module(imported) or self._project_module(imported.rpartition(".")[0])
                if target is not None and target != name:
                    importers.setdefault(target, set()).add(name)
        reached = set(targets)
        frontier = list(targets)
        while frontier:
            for importer in importers.get(frontier.pop(), ()):
                if importer not in reached:
                    reached.add(importer)
                    frontier.append(importer)
        return reached

    def runs(self, facts: ModuleFacts) -> bool:
        """The module's ``async def`` bodies are stepped by the project's driver, not an event loop."""
        return facts.module in self.driven and not _uses_a_loop(facts)
