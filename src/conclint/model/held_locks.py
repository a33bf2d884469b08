"""Which locks a function holds at each point, as its walk goes: ``with lock:``,
``lock.acquire()`` / ``release()`` statements, ``if lock.acquire(False):`` branches; a lock
is known by its type or, failing that, by its name."""

from __future__ import annotations

from typing import List, Optional, Sequence

import libcst as cst

from conclint.model.apis import ASYNC_LOCK_TYPES, THREAD_LOCK_TYPES, looks_like_lock
from conclint.model.locks import lock_name
from conclint.model.scopes import IMPORT, dotted_parts


class LockTracking:
    """The lock-holding part of the access walker (mixed into ``AccessWalker``): it keeps
    ``self.locks`` (thread locks) and ``self.async_locks`` (event-loop locks) up to date."""

    locks: List[str]
    async_locks: List[str]
    regions: int

    def lock_kind(self, expression: cst.BaseExpression, asynchronous: bool) -> Optional[str]:
        """ "thread" or "async" when ``expression`` is a lock, known by type or, failing that, by name."""
        parts = dotted_parts(expression)
        if not parts:
            return None
        known = self._type_of(parts)
        if known in THREAD_LOCK_TYPES:
            return "thread"
        if known in ASYNC_LOCK_TYPES:
            return "async"
        if looks_like_lock(parts[-1]) and (known is None or not _known_non_lock(known)):
            # the name says lock and the type (``trio._sync.Lock``, a project class) does not deny it
            return "async" if asynchronous else "thread"
        if known is None and not asynchronous and self._imported_object(parts):
            return "imported"
        if (
            known is None
            and not asynchronous
            and len(parts) == 2
            and parts[0] == self.info.self_name
            and self.info.class_qualname
        ):
            return "inherited"  # ``with self._cond:`` set up in a base class: the model looks it up
        return None

    def _imported_object(self, parts: Sequence[str]) -> Optional[str]:
        """The qualified name of an object imported from elsewhere, when ``parts`` names one."""
        binding = self.scope.lookup(parts[0])
        if binding is not None and binding.kind == IMPORT and binding.target:
            return ".".join([binding.target, *parts[1:]])
        return None

    def hold(self, held: List[str], name: str) -> None:
        """Hold ``name`` in a new region: a read and a write under the same lock but in two
        separate regions (released in between) are not protected together."""
        self.regions += 1
        held.append(f"{name}#{self.regions}")

    def _lock_call(self, value: cst.BaseExpression) -> bool:
        """``lock.acquire()`` / ``await lock.acquire()`` / ``lock.release()`` as a statement."""
        awaited = isinstance(value, cst.Await)
        call = value.expression if awaited else value
        if not (isinstance(call, cst.Call) and isinstance(call.func, cst.Attribute)):
            return False
        method = call.func.attr.value
        if method not in ("acquire", "release") or not dotted_parts(call.func.value):
            return False
        # acquire()/release() statements are lock vocabulary whatever the receiver is called
        kind = "async" if awaited or self.lock_kind(call.func.value, awaited) == "async" else "thread"
        held = self.locks if kind == "thread" else self.async_locks
        name = ".".join(dotted_parts(call.func.value) or [])
        if method == "acquire":
            if awaited:
                self.suspend(value)
            self.hold(held, name)
        else:
            release(held, name)
        return True

    def _holding_result(self, value: cst.BaseExpression) -> bool:
        """``rc = lock.acquire(blocking, timeout)``: what follows runs with the lock (when ``rc``
        is true, which the code then checks); count it as held until ``release()``."""
        call = value.expression if isinstance(value, cst.Await) else value
        if not (
            isinstance(call, cst.Call) and isinstance(call.func, cst.Attribute) and call.func.attr.value == "acquire"
        ):
            return False
        return self._lock_call(value)

    def _acquired_lock(self, test: cst.BaseExpression) -> Optional[str]:
        if (
            isinstance(test, cst.Call)
            and isinstance(test.func, cst.Attribute)
            and test.func.attr.value == "acquire"
            and self.lock_kind(test.func.value, False) == "thread"
        ):
            return ".".join(dotted_parts(test.func.value) or [])
        return None


def _known_non_lock(type_name: str) -> bool:
    """Types that are certainly not locks, whatever the variable is called."""
    return type_name.startswith(("builtins.", "dict", "list", "set", "collections.")) or type_name in (
        "threading.Event",
        "asyncio.Event",
        "threading.Thread",
        "queue.Queue",
        "asyncio.Queue",
    )


def release(held: List[str], name: str) -> None:
    """Forget the innermost hold of ``name``; a release already seen (in a ``finally``) is fine."""
    for index in range(len(held) - 1, -1, -1):
        if lock_name(held[index]) == name:
            del held[index]
            return
