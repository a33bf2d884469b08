"""Classes that are locks themselves: their bookkeeping follows the lock's own protocol."""

from __future__ import annotations

LOCK_NAME_WORDS = ("lock", "semaphore", "mutex", "condition", "limiter")


def inside_a_lock_class(model, function: str) -> bool:
    """A method of a class that is itself a lock (it defines ``acquire`` and ``release``,
    like ``threading.RLock``, a logging ``Handler`` or an ``anyio.Lock``): its bookkeeping
    follows the lock's own protocol (only the owner touches it), which a race check cannot judge.
    A pool hands out resources to many holders at once and takes each back (``release(conn)``):
    not a lock, unless its name says it is one (an owner-keyed ``RLock.release(owner)``)."""
    info = model.functions.get(function, (None,))[0]
    owner = info.class_qualname if info is not None else None
    acquire, release = (model.method_of(owner, name) for name in ("acquire", "release")) if owner else (None, None)
    if not (acquire and release):
        return False
    takes_back = len(model.functions[release][0].params) > 1
    return not takes_back or any(word in owner.rsplit(".", 1)[-1].lower() for word in LOCK_NAME_WORDS)
