"""Plain, picklable facts about one module, gathered in a single pass over its CST.

Nodes never leave the collector: every fact carries a Span, so facts can cross a
process boundary and be cached; rules read facts, never the tree.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Dict, FrozenSet, List, Optional, Tuple

from conclint.engine.findings import Span

MODULE_SCOPE = "<module>"
NO_SPAN = Span(0, 0, 0, 0)
# write kinds whose value can come from a read of the same state (a read-modify-write)
RMW_KINDS = ("rmw", "assign", "item")


@dataclass
class Ref:
    """A value passed somewhere: a function reference (``worker``, ``self.run``, a lambda)."""

    target: Optional[str]  # resolved qualified name (functions, lambdas), when statically known
    text: str  # as written, dotted ("self.process"), "" for other expressions
    receiver_type: Optional[str] = None  # for ``obj.method``: the type ``obj`` was built from
    is_class: bool = False
    value_type: Optional[str] = None  # for a plain name (``wallet``): what it was built from


@dataclass
class CallSite:
    """One call expression."""

    callee: Optional[str]  # resolved qualified name, or None when the callee is a local value
    text: str  # the callee as written, dotted ("self.load", "time.sleep"), or "" when not a name
    function: str  # qualname of the innermost enclosing def or lambda, MODULE_SCOPE at top level
    awaited: bool
    span: Span = NO_SPAN
    receiver_type: Optional[str] = None  # ``obj.method(...)``: what ``obj`` was built from
    args: Tuple[Optional[Ref], ...] = ()  # positional arguments that name a function
    kwargs: Dict[str, Ref] = field(default_factory=dict)
    in_loop: bool = False  # inside a for/while loop or a comprehension of its function
    in_comprehension: bool = False
    receiver_varies: bool = False  # ``x.run()`` where the loop binds ``x`` anew each time round
    receiver_rebound: bool = False  # ``x.run()`` after a second binding of ``x`` in its scope (a parameter reassigned)
    unpacks: bool = False  # passes ``*args`` or ``**kwargs``: which parameters it sets is unknown
    arg_varies: Tuple[bool, ...] = ()  # per positional argument: a name the loop binds anew each time round
    method: str = ""  # for ``x.y(...)`` (any ``x``, even a call): ``y``
    receiver_object: Optional[str] = None  # ``clients.session.get()``: the imported object, to type across modules
    in_main_guard: bool = False  # module-level code under ``if __name__ == "__main__":``
    exit_branch: Optional[int] = None  # inside an ``if`` branch that ends in return/raise: its number
    catches: Tuple[str, ...] = ()  # exceptions an enclosing ``try`` catches (last name part: "BlockingIOError")
    callee_span: Span = NO_SPAN  # the callee expression alone (``time.sleep`` in ``time.sleep(1)``)
    literal: Optional[object] = None  # the first positional argument, when a literal (str, int, float, bool)
    keywords: Tuple[str, ...] = ()  # keyword argument names, with ``=False`` literal values as ``name=False``
    class_context: Optional[str] = None  # the class of the enclosing method (for self.m() calls)
    literal_keywords: Dict[str, object] = field(default_factory=dict)  # ``max_workers=1``: literal keyword values
    result_at_once: bool = False  # its result is waited for at once: ``pool.submit(f).result()``
    # conditions on its function's parameters that must hold to reach it (``if not path: return``
    # above it, ``if verbose:`` around it), as trees (see model/guards.py)
    requires: Tuple[tuple, ...] = ()
    constants: Dict[object, object] = field(default_factory=dict)  # argument (index or keyword) -> literal value
    passes: Dict[object, str] = field(default_factory=dict)  # argument (index or keyword) -> a plain name passed
    entered_async: bool = False  # ``async with x.request(...)``, ``async for row in x.fetch()``: the loop awaits it
    display: str = ""  # when ``text`` is "": the callee as a reader knows it (``open(...).read``, ``clients[...].get``)
    small_file: bool = False  # its receiver or first argument is a file of known small size (model/small_files.py)
    at_import: bool = False  # a module-level statement's call that runs whenever the module is imported (no if/loop)


@dataclass
class FunctionInfo:
    qualname: str
    name: str
    is_async: bool
    is_lambda: bool
    parent: Optional[str]  # enclosing function's qualname, None at module or class level
    class_qualname: Optional[str]  # set for methods
    span: Span = NO_SPAN
    decorators: Tuple[str, ...] = ()  # resolved names of decorators (calls: of the callee)
    decorator_receivers: Tuple[Optional[str], ...] = ()  # ``@app.route``: the type of ``app``, or its qualified name
    decorator_flags: Tuple[Tuple[str, ...], ...] = ()  # per decorator: keywords set to True (``@work(thread=True)``)
    is_generator: bool = False
    self_name: Optional[str] = None  # first parameter of a method (``self``, ``cls``)
    params: Tuple[str, ...] = ()  # positional parameter names, in order (``self`` included)
    returns: Optional[str] = None  # ``return Pool(...)``: what the function builds and returns (a factory)
    off_by_default: Tuple[str, ...] = ()  # parameters defaulting to False, None or 0 (``wait=False``)
    # a def whose name a later def of the same scope takes (its qualname is ``name#n``): that def's qualname
    replaced_by: Optional[str] = None
    defaults: Dict[str, object] = field(default_factory=dict)  # parameter -> literal default (``None``, ``False``)
    alternative: bool = False  # ... in another branch of an ``if``/``try``: either may be the one that runs
    # ``if path is None: return None`` at the top, in order: (condition, ("value", v) or ("unknown",)); see
    # model/guards.py ``returned``
    early_returns: Tuple[Tuple[tuple, tuple], ...] = ()
    # ``self.x = ...`` in a method, in order: (x, ("value", v) / ("param", p) / ("call", index in the module's
    # calls) / ("unknown",), how many of the module's calls come before the next statement)
    self_values: Tuple[Tuple[str, tuple, int], ...] = ()


@dataclass
class ClassInfo:
    qualname: str
    name: str
    bases: Tuple[str, ...]
    span: Span = NO_SPAN
    attribute_types: Dict[str, str] = field(default_factory=dict)  # self.x / class x -> constructor
    # what the class says of its own thread safety: "thread-safe (its docstring)", "not thread-safe
    # (its docstring)", "thread-safe (# conclint: thread-safe)"; None when it says nothing
    thread_safety: Optional[str] = None


@dataclass
class Access:
    """A read or write of possibly shared state inside one function."""

    key: str  # "global:mod.x", "class:mod.C.x", "self:mod.C.x", "cell:mod.f.x"
    display: str  # as written: "total", "self.count", "Counter.n"
    span: Span
    locks: Tuple[str, ...]  # thread locks held at this point, as written
    async_locks: Tuple[str, ...]  # event-loop locks held (async with)
    suspensions: int  # suspension points (await, async for/with) on the path before this access
    in_child: bool = False  # inside the child's branch after ``os.fork()``
    suspended_at: int = -1  # index (in suspension_spans) of the last suspension point before it
    # which thread locks ``locks`` are, one key each: "self:mod.C._lock", "global:mod.lock",
    # "local:mod.f.lock" (made in this call), "param:lock", "synchronized:mod.C"
    lock_keys: Tuple[str, ...] = ()
    # after a re-entry guard this call claimed before suspending (``if self._closing: return;
    # self._closing = True``): no other run of the function is past the guard with it
    claimed: bool = False


@dataclass
class Write(Access):
    kind: str = "assign"  # "assign", "rmw" (augmented), "item" (d[k] = v, del), "mutate", "atomic"
    derived_from: Optional[Access] = None  # the earlier read this value is computed from
    checked_by: Optional[Access] = None  # the enclosing condition that read the same state
    sources: Tuple[str, ...] = ()  # every key the value derives from ("arg:p" for parameter p)
    built: Optional[str] = None  # the value is a call of this (``sqlite3.connect``), resolved
    literal: Optional[str] = None  # the value is a constant (``True``, ``None``, ``0``, ``State.DONE``), as written
    rechecked: Tuple[
        str, ...
    ] = ()  # state read by enclosing conditions tested under an event-loop lock still held here
    condition: int = -1  # which condition of the function ``checked_by`` belongs to
    removes: bool = False  # ``del d[k]``: the entry is taken out, not stored
    awaited: bool = False  # the value stored comes from an await (``d[k] = await load(k)``, or a local holding one)
    method: str = ""  # for "mutate": the method called (``pop``, ``append``)
    into_entry: bool = False  # ``cache[k][v] = ...``: stored into an entry of the container, not replacing one
    empty: bool = False  # ``cache[k] = {}``: an entry stored empty, to be filled
    # conditions on the function's parameters that hold here (``if init:`` around it), as trees (model/guards.py)
    requires: Tuple[tuple, ...] = ()


@dataclass
class Schedule:
    """A call and the state each positional argument carries: ``loop.call_later(0.1, cb, value)``
    (scheduled callbacks) or, inside a lambda, any call (``lambda: store(value)``)."""

    span: Span
    arg_sources: Tuple[Tuple[str, ...], ...]
    partial_sources: Dict[int, Tuple[Tuple[str, ...], ...]] = field(default_factory=dict)  # arg -> partial's args


@dataclass
class Escape:
    """Code reached only through an exception the one suspension point of a one-statement
    ``try`` body may raise before it suspends: its handler, or what follows a body that returns."""

    region: Span
    suspension: int  # index in ``suspension_spans``
    caught: Tuple[str, ...]  # what the handler catches (last name part: "KeyError")
    lookup: bool = False  # ``await d[key]``: the lookup raises the caught error before the await


@dataclass
class FunctionState:
    """What one function does to shared state, in evaluation order."""

    reads: List[Access] = field(default_factory=list)
    writes: List[Write] = field(default_factory=list)
    suspension_spans: List[Span] = field(default_factory=list)  # the n-th suspension point's span
    suspension_targets: List[str] = field(default_factory=list)  # what it waits on, dotted ("self.reader.read"), or ""
    suspension_requires: List[Tuple[str, ...]] = field(
        default_factory=list
    )  # parameters an ``if`` needs true to reach it
    locked_calls: List[Span] = field(default_factory=list)  # calls made while a thread lock is held
    locked_call_keys: List[Tuple[str, ...]] = field(default_factory=list)  # the lock keys held at each of them
    owned_calls: List[Span] = field(default_factory=list)  # method calls on an object made here, not yet published
    scoped_pools: List[Span] = field(default_factory=list)  # ``with Executor() as pool:``: leaving waits for its tasks
    async_locked_calls: List[Span] = field(default_factory=list)  # calls made while an event-loop lock is held
    schedules: List[Schedule] = field(default_factory=list)  # loop callbacks scheduled here
    lambda_calls: List[Schedule] = field(default_factory=list)  # calls a lambda makes, with their arguments
    thread_lock_withs: List[Access] = field(default_factory=list)  # ``with lock:`` on a threading lock
    child_calls: List[Span] = field(default_factory=list)  # calls made in an ``os.fork()`` child branch
    forks_exec_at_once: List[Span] = field(default_factory=list)  # forks whose child runs exec*/_exit first
    local_sources: Dict[str, Tuple[str, ...]] = field(default_factory=dict)  # local -> keys it carried
    raises: List[Tuple[str, int]] = field(default_factory=list)  # ``raise X(...)``: X, suspension points before it
    escapes: List[Escape] = field(default_factory=list)
    # ``await self.helper()`` under checks of shared state: the suspension point's index and the checks' reads
    helper_awaits: List[Tuple[int, Tuple[Access, ...]]] = field(default_factory=list)
    # ``if not await cache.exists(key): ... await cache.set(key, ...)``: (the lookup, the store) on one
    # client object and key, keyed "store:<receiver>:<key as written>"
    store_acts: List[Tuple[Access, Access]] = field(default_factory=list)


@dataclass
class ModuleFacts:
    path: str
    module: str
    functions: Dict[str, FunctionInfo] = field(default_factory=dict)
    classes: Dict[str, ClassInfo] = field(default_factory=dict)
    calls: List[CallSite] = field(default_factory=list)
    imported_modules: FrozenSet[str] = frozenset()
    import_time_imports: FrozenSet[str] = frozenset()  # what module-level imports outside any if/loop name
    module_imports: Dict[str, str] = field(default_factory=dict)  # top-level name -> imported target
    global_types: Dict[str, str] = field(default_factory=dict)  # module variable -> constructor
    state: Dict[str, FunctionState] = field(default_factory=dict)
    import_insertion: Span = NO_SPAN  # where a new top-level import goes (autofix)
    constants: Dict[str, object] = field(default_factory=dict)  # module-level name = literal (int, str, bool)
    noqa: Dict[int, Optional[Tuple[str, ...]]] = field(default_factory=dict)
    thread_safety: Optional[str] = None  # what the module docstring says of thread safety (see ClassInfo)
    main_guards: List[Span] = field(default_factory=list)  # ``if __name__ == "__main__":`` blocks
    # module variables that name a type (``Request = Annotated[AsgiRequest, ...]``), not an instance of it
    type_aliases: FrozenSet[str] = frozenset()

    def imports_any(self, *names: str) -> bool:
        return any(m == n or m.startswith(n + ".") for m in self.imported_modules for n in names)
