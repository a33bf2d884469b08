"""The concurrency a library's callers bring: classes meant to be used from several threads at
once, so that their public methods run in "any thread" against each other (RacerD's
inference: a class that locks expects threads; a class declared thread-safe promises it).

Each contract carries the reason a finding will print ("assumed concurrent: the class owns
`self._lock`"). A class that says it is *not* thread-safe gets none.
"""

from __future__ import annotations

from typing import Dict, Iterable, List, Optional, Set

from conclint.model.apis import SHARED_CLIENT_BASES, SHARED_CLIENT_TYPES
from conclint.model.callgraph import CallGraph
from conclint.model.facts import MODULE_SCOPE
from conclint.model.locks import lock_keys
from conclint.model.program import Program

# what the names of long-lived client classes end with (``GitHubClient``, ``URLLib3Session``)
CLIENT_CLASS_WORDS = ("Client", "Session", "Api", "API", "Service", "Adapter", "Transport", "Auth")
CONSTRUCTORS = ("__init__", "__new__", "__post_init__", "__init_subclass__", "__set_name__", "__setstate__")
# lifecycle methods an owner calls once, in order, from one place: not "any thread"
LIFECYCLE_METHODS = frozenset(
    {
        "start", "stop", "open", "close", "connect", "disconnect", "reconnect", "shutdown", "teardown", "setup",
        "initialize", "initialise", "cleanup", "dispose", "terminate", "join", "run", "install", "uninstall",
        "configure", "__enter__", "__exit__", "__del__",
    }
)  # fmt: skip
# dunder methods callers invoke like public ones
PUBLIC_DUNDERS = frozenset({"__call__", "__getitem__", "__setitem__", "__delitem__", "__iter__", "__next__"})


def is_public_method(name: str) -> bool:
    return not name.startswith("_") or name in PUBLIC_DUNDERS


class Contracts:
    def __init__(self, program: Program, calls: CallGraph, declared: Iterable[str] = ()) -> None:
        self.program = program
        self.calls = calls
        self._stored: Optional[Set[str]] = None  # what instances are stored in shared state
        self.declared = set(declared)
        self.by_class: Dict[str, str] = {}  # class -> why its public methods run in any thread
        self.module_functions: Dict[str, str] = {}  # module function -> why (a module declared thread-safe)
        # module functions assumed concurrent only because their module locks: they count
        # only where nothing else says how they run (no visible thread, no caller in the project)
        self.inferred_functions: Set[str] = set()
        self.inferred_classes: Set[str] = set()  # assumed concurrent only because they own a lock
        self._find()

    def reason(self, class_qualname: str) -> Optional[str]:
        return self.by_class.get(class_qualname)

    def _find(self) -> None:
        program = self.program
        locking = self._classes_owning_a_lock()
        for qualname, (info, facts) in sorted(program.classes.items()):
            module_reason = self._module_reason(facts.module, facts.thread_safety)
            if (info.thread_safety or "").startswith("not ") or (facts.thread_safety or "").startswith("not "):
                continue  # it says it is not thread-safe: callers must not share it
            reason = None
            if qualname in self.declared:
                reason = "declared thread-safe in [tool.conclint] thread-safe"
            elif info.thread_safety:
                reason = f"declared {info.thread_safety}"
            elif module_reason:
                reason = module_reason
            elif qualname in locking:
                reason = f"the class owns `{locking[qualname]}`, so it expects threads"
                self.inferred_classes.add(qualname)
            else:
                reason = self._shared_client(qualname)
            if reason is not None:
                self.by_class[qualname] = reason
        for qualname in sorted(self.by_class):  # a subclass keeps its base's promise
            for sub in program.subclasses_of(qualname):
                if sub not in self.by_class:
                    self.by_class[sub] = self.by_class[qualname]
                    if qualname in self.inferred_classes:
                        self.inferred_classes.add(sub)
        module_locks = self._modules_owning_a_lock()
        for function, (info, facts) in sorted(program.functions.items()):
            if info.parent is not None or info.class_qualname is not None or info.name.startswith("_"):
                continue
            if (facts.thread_safety or "").startswith("not "):
                continue
            reason = self._module_reason(facts.module, facts.thread_safety)
            if reason is None and facts.module in module_locks:
                reason = f"its module owns `{module_locks[facts.module]}`, so it expects threads"
                self.inferred_functions.add(function)
            if reason is not None:
                self.module_functions[function] = reason

    def _module_reason(self, module: str, said: Optional[str]) -> Optional[str]:
        """A module (or package) the setting names. Its docstring alone is no promise: "thread-safe
        connection pooling" describes one feature, not every function of the module."""
        declared = next((d for d in sorted(self.declared) if module == d or module.startswith(d + ".")), None)
        if declared is not None:
            what = "module" if declared == module else "package"
            return f"its {what} `{declared}` is declared thread-safe in [tool.conclint] thread-safe"
        return None

    def _classes_owning_a_lock(self) -> Dict[str, str]:
        """Classes whose own methods (constructors aside) hold a thread lock kept on ``self``."""
        found: Dict[str, str] = {}
        for function, (info, facts) in self.program.functions.items():
            owner = info.class_qualname
            state = facts.state.get(function)
            if owner is None or state is None or info.name in CONSTRUCTORS or function == MODULE_SCOPE:
                continue
            for access in (*state.reads, *state.writes):
                for key in sorted(lock_keys(self.program, access)):
                    lock_owner, attribute = self.program.split_class(key[5:]) if key.startswith("self:") else (None, "")
                    # its own attribute (``self._lock``), not a lock of an object it holds (``self._pool._lock``)
                    if lock_owner is not None and "." not in attribute and access.key.startswith("self:"):
                        found.setdefault(owner, "self." + attribute)
        for qualname in [name for name in found if self._made_per_call(name)]:
            del found[qualname]
        return found

    def _made_per_call(self, qualname: str) -> bool:
        """Every instance is made inside a function and kept there (never stored in an attribute
        or a global): an object per operation, which the thread that made it uses alone."""
        sites = self.calls.instantiations.get(qualname, [])
        if not sites or any(call.function == MODULE_SCOPE for call, _facts in sites):
            return False
        if self._stored is None:
            self._stored = {
                self.program.resolve_name(write.built) or write.built
                for facts in self.program.modules.values()
                for state in facts.state.values()
                for write in state.writes
                if write.built
            }
        return self._stored.isdisjoint({qualname, *self.program.subclasses_of(qualname)})

    def _modules_owning_a_lock(self) -> Dict[str, str]:
        """Modules whose own functions hold a thread lock kept in one of its globals while they
        touch its globals."""
        found: Dict[str, str] = {}
        for function, (info, facts) in self.program.functions.items():
            state = facts.state.get(function)
            if info.class_qualname is not None or info.parent is not None or state is None:
                continue
            prefix = f"global:{facts.module}."
            for access in (*state.reads, *state.writes):
                if not access.key.startswith(prefix):
                    continue
                for key in sorted(lock_keys(self.program, access)):
                    if key.startswith(prefix):
                        found.setdefault(facts.module, key[len(prefix) :])
        return found

    def _shared_client(self, qualname: str) -> Optional[str]:
        """A long-lived client of the kind users share across threads: a client, session or
        service class that holds an HTTP session or a connection pool (a per-request object that
        keeps a reference to its pool is none), or an auth handler sessions call on every request."""
        program = self.program
        for base in program.class_bases(qualname):
            if base in SHARED_CLIENT_BASES:
                return f"it is a `{base.rsplit('.', 1)[-1]}`, called on every request of a session threads share"
        if not qualname.rsplit(".", 1)[-1].endswith(CLIENT_CLASS_WORDS):
            return None
        for owner in [qualname, *program.class_bases(qualname)]:
            entry = program.classes.get(owner)
            if entry is None:
                continue
            for attribute, built in sorted(entry[0].attribute_types.items()):
                if (program.realize(built) or built) in SHARED_CLIENT_TYPES:
                    return f"it holds a `{built.rsplit('.', 1)[-1]}` (`self.{attribute}`): callers share one client"
        return None

    def roots(self) -> List[str]:
        """Every function a contract says callers run from several threads at once: the
        public methods of the classes (their own and those they inherit are each class's
        methods in the project), and the public functions of declared modules."""
        program = self.program
        found: Set[str] = set(self.module_functions)
        for qualname in self.by_class:
            for function, (info, _facts) in program.functions.items():
                if info.class_qualname != qualname or not is_public_method(info.name):
                    continue
                if info.name not in CONSTRUCTORS and info.name not in LIFECYCLE_METHODS:
                    found.add(function)
        return sorted(found)

    def inferred(self, function: str) -> bool:
        """Assumed concurrent only because its class or module owns a lock: evidence for the
        state that lock guards, not for everything else the class touches."""
        if function in self.module_functions:
            return function in self.inferred_functions
        info = self.program.functions.get(function, (None,))[0]
        return info is not None and info.class_qualname in self.inferred_classes

    def why(self, function: str) -> Optional[str]:
        if function in self.module_functions:
            return self.module_functions[function]
        info = self.program.functions.get(function, (None,))[0]
        return self.by_class.get(info.class_qualname) if info is not None and info.class_qualname else None
