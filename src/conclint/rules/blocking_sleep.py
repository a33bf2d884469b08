"""CCL201: ``time.sleep`` inside ``async def`` stalls every task the loop runs."""

from __future__ import annotations

from typing import Iterable

from conclint.engine.findings import Finding
from conclint.model.facts import ModuleFacts
from conclint.rules.base import Rule


def async_sleep_for(facts: ModuleFacts) -> str:
    """The non-blocking sleep matching the event-loop library the module uses."""
    if facts.imports_any("trio"):
        return "trio.sleep"
    if facts.imports_any("anyio"):
        return "anyio.sleep"
    return "asyncio.sleep"


class BlockingSleepInAsync(Rule):
    code = "CCL201"
    name = "blocking-sleep-in-async"
    summary = "`time.sleep()` called inside an `async def` blocks the event loop."
    explanation = """
        An event loop runs one task at a time. `time.sleep()` does not yield to the loop:
        for its whole duration no other coroutine, callback or connection makes progress,
        so one slow handler stalls every client the server has.

        Names are resolved through imports (`import time as t`, `from time import sleep as nap`).
        A `time.sleep` handed to a thread (`asyncio.to_thread(time.sleep, 1)`,
        `loop.run_in_executor(None, time.sleep, 1)`) or called inside a nested `def` or
        `lambda` does not run in the coroutine and is not reported.

        Use `await asyncio.sleep(...)` (`trio.sleep`, `anyio.sleep` in trio or anyio code).
    """
    bad = (
        """
        import time

        async def poll():
            time.sleep(1)
        """,
        """
        from time import sleep as nap

        async def poll():
            nap(0.5)
        """,
    )
    good = (
        """
        import asyncio

        async def poll():
            await asyncio.sleep(1)
        """,
        """
        import asyncio, time

        async def poll():
            await asyncio.to_thread(time.sleep, 1)
        """,
    )
    scenario = "blocking-loop"

    def check(self, project, facts: ModuleFacts) -> Iterable[Finding]:
        for call in facts.calls:
            if call.callee != "time.sleep":
                continue
            function = facts.functions.get(call.function)
            if function is None or not function.is_async:
                continue
            yield Finding(
                self.code,
                f"`time.sleep()` blocks the event loop inside `async def {function.name}()`: "
                f"every other task waits; use `await {async_sleep_for(facts)}(...)` instead",
                facts.path,
                call.span,
            )
