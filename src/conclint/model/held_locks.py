"""Which locks a function holds at each point, as its walk goes: ``with lock:``,
``lock.acquire()`` / ``release()`` statements, ``if lock.acquire(False):`` branches; a lock
is known by its type or, failing that, by its name."""

from __future__ import annotations

from typing import Dict, List, Optional, Sequence, Tuple

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
    lock_identity: Dict[str, str]  # held entry ("self._lock#3") -> the lock's key ("self:mod.C._lock")

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

    def value_lock(self, expression: cst.BaseExpression) -> Optional[str]:
        """``with counter.get_lock():`` on a ``multiprocessing.Value``/``Array``: its lock, as written."""
        if (
            isinstance(expression, cst.Call)
            and isinstance(expression.func, cst.Attribute)
            and expression.func.attr.value == "get_lock"
            and not expression.args
        ):
            receiver = dotted_parts(expression.func.value)
            if receiver:
                return ".".join(receiver) + ".get_lock()"
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
        entry = f"{name}#{self.regions}"
        held.append(entry)
        if held is self.locks:
            self.lock_identity[entry] = self.lock_key(name)

    def lock_key(self, name: str) -> str:
        """Which lock ``name`` (as held) is, whoever writes it: the key of the state that holds it
        (``self:mod.C._lock``, ``global:mod.lock``), ``local:`` for a lock this call made
        itself (it guards nothing another call shares), ``param:`` for one passed in."""
        if name.startswith("?self:"):
            return name[1:]
        if name.startswith("?"):
            return f"global:{name[1:]}"
        if name.startswith("@synchronized"):
            return f"synchronized:{self.info.class_qualname or self.info.qualname}"
        suffix = ""
        if name.endswith(".get_lock()"):  # ``multiprocessing.Value(...).get_lock()``
            name, suffix = name[: -len(".get_lock()")], ".get_lock"
        parts = name.split(".")
        if parts[0] in self.params:
            return f"param:{name}{suffix}"
        resolved = self.key_of(parts)
        if resolved is not None:
            return resolved[0] + suffix
        owner = self.scope.owner_of(parts[0])
        if owner is self.scope and not self.at_module:
            return f"local:{self.info.qualname}.{name}{suffix}"
        return f"name:{name}{suffix}"

    def held_lock_keys(self) -> Tuple[str, ...]:
        """The keys of the thread locks held now; ``?`` marks those the model must confirm are locks."""
        return tuple(
            ("?" if entry.startswith("?") else "") + self.lock_identity.get(entry, f"name:{lock_name(entry)}")
            for entry in self.locks
        )

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
        """``if lock.acquire(False):`` or ``while queue and lock.acquire(blocking=False):``: the
        branch (or the loop body) runs holding the lock."""
        if isinstance(test, cst.BooleanOperation) and isinstance(test.operator, cst.And):
            return self._acquired_lock(test.left) or self._acquired_lock(test.right)
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
