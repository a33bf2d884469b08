"""Which locks are held: a lock entry recorded as ``?name`` (an imported object, an attribute
set up in a base class) is a lock only when the project says what it was built from; and
classes that are locks themselves follow the lock's own protocol."""

from __future__ import annotations

from typing import Sequence, Tuple

from conclint.model.apis import THREAD_LOCK_TYPES, looks_like_lock
from conclint.model.program import Program


def lock_name(held: str) -> str:
    """A held lock as written (``self._lock``), without its region number."""
    return held.split("#", 1)[0]


def real_locks(program: Program, held: Sequence[str]) -> Tuple[str, ...]:
    """The locks really held: ``?pkg.locks.guard`` entries count when that object is a lock."""
    real = []
    for entry in held:
        if entry.startswith("?"):
            name = entry[1:].split("#", 1)[0]
            if name.startswith("self:"):
                owner, attribute = name[5:].rsplit(".", 1)
                built = program.attribute_type(owner, attribute)
            else:
                built = program.object_type(name)
            if built not in THREAD_LOCK_TYPES and not looks_like_lock(name.rsplit(".", 1)[-1]):
                continue
            entry = entry[1:]
        real.append(entry)
    return tuple(real)


LOCK_NAME_WORDS = ("lock", "semaphore", "mutex", "condition", "limiter")


def inside_a_lock_class(program: Program, function: str) -> bool:
    """A method of a class that is itself a lock (it defines ``acquire`` and ``release``,
    like ``threading.RLock``, a logging ``Handler`` or an ``anyio.Lock``): its bookkeeping
    follows the lock's own protocol (only the owner touches it), which a race check cannot judge.
    A pool hands out resources to many holders at once and takes each back (``release(conn)``):
    not a lock, unless its name says it is one (an owner-keyed ``RLock.release(owner)``)."""
    info = program.functions.get(function, (None,))[0]
    owner = info.class_qualname if info is not None else None
    acquire, release = (program.method_of(owner, name) for name in ("acquire", "release")) if owner else (None, None)
    if not (acquire and release):
        return False
    takes_back = len(program.functions[release][0].params) > 1
    return not takes_back or any(word in owner.rsplit(".", 1)[-1].lower() for word in LOCK_NAME_WORDS)
