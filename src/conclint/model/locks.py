"""Which locks are held: a lock entry recorded as ``?name`` (an imported object, an attribute
set up in a base class) is a lock only when the project says what it was built from; a lock
is known by its key, whoever names it; and classes that are locks themselves follow the
lock's own protocol."""

from __future__ import annotations

from typing import Dict, FrozenSet, List, Optional, Sequence, Tuple

from conclint.model.apis import THREAD_LOCK_TYPES, looks_like_lock
from conclint.model.facts import Access, ModuleFacts
from conclint.model.program import Program

LOCK_NAME_WORDS = ("lock", "semaphore", "mutex", "condition", "limiter")


def lock_name(held: str) -> str:
    """A held lock as written (``self._lock``), without its region number."""
    return held.split("#", 1)[0]


def _built_as_lock(program: Program, name: str) -> bool:
    """``self:pkg.C._cond`` or ``pkg.locks.guard``: the project built it as a lock, or its name says so."""
    if name.startswith("self:"):
        owner, attribute = name[5:].rsplit(".", 1)
        built = program.attribute_type(owner, attribute)
    else:
        built = program.object_type(name)
    return built in THREAD_LOCK_TYPES or looks_like_lock(name.rsplit(".", 1)[-1])


def _is_lock(program: Program, entry: str) -> bool:
    """A held entry counts; ``?name`` only when that object is a lock."""
    return not entry.startswith("?") or _built_as_lock(program, entry[1:].split("#", 1)[0])


def real_locks(program: Program, held: Sequence[str]) -> Tuple[str, ...]:
    """The locks really held: ``?pkg.locks.guard`` entries count when that object is a lock."""
    return tuple(entry.lstrip("?") for entry in held if _is_lock(program, entry))


def _confirmed(program: Program, key: str) -> Optional[str]:
    """A lock key as the rules compare it: ``?`` keys only when the object is a lock, ``self:``
    keys on the class that defines the attribute; None for a lock this very call made."""
    if key.startswith("?"):
        key = key[1:]
        if not _built_as_lock(program, key if key.startswith("self:") else key.partition(":")[2]):
            return None
    if key.startswith("local:"):
        return None  # made by this call: it guards nothing another call shares
    if key.startswith("self:"):
        return program.canonical_key(key) or key
    return key


def call_lock_keys(program: Program, keys: Sequence[str]) -> FrozenSet[str]:
    """The locks held at a call (``FunctionState.locked_call_keys``), as the rules compare them."""
    return frozenset(k for k in (_confirmed(program, key) for key in keys) if k is not None)


def lock_keys(program: Program, access: Access, regions: Optional[Sequence[str]] = None) -> FrozenSet[str]:
    """The keys of the thread locks really held at ``access`` that guard state other calls
    share. With ``regions``, only the locks held in those regions (the entries of another
    access): a read and a write under one lock taken twice are not guarded together."""
    keys = set()
    for entry, key in zip(access.locks, access.lock_keys):
        if regions is not None and entry not in regions:
            continue
        confirmed = _confirmed(program, key)
        if confirmed is not None:
            keys.add(confirmed)
    return frozenset(keys)


def decorator_locks(program: Program, modules: Sequence[ModuleFacts]) -> Dict[str, str]:
    """Functions a project decorator wraps in a lock, and the lock: the decorator's inner
    wrapper calls the wrapped function while it holds a thread lock (``@synchronized``)."""
    wrapping: Dict[str, str] = {}
    for facts in modules:
        nested: Dict[str, List[str]] = {}  # by the function they are defined in: one pass, not one per function
        for inner, inner_info in facts.functions.items():
            if inner_info.parent is not None:
                nested.setdefault(inner_info.parent, []).append(inner)
        for qualname, info in facts.functions.items():
            wrapped = info.params[0] if info.params and info.parent is None and info.class_qualname is None else None
            if wrapped is None:
                continue
            for inner in nested.get(qualname, ()):
                state = facts.state.get(inner)
                if state is None or not state.locked_calls:
                    continue
                locked = set(state.locked_calls)
                if any(c.function == inner and c.text == wrapped and c.span in locked for c in facts.calls):
                    wrapping[qualname] = f"decorator:{qualname}"
    found: Dict[str, str] = {}
    for function, (info, _facts) in program.functions.items():
        for decorator in info.decorators:
            target = program.resolve_name(decorator)
            if target in wrapping:
                found[function] = wrapping[target]
    return found


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
