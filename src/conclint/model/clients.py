"""Long-lived async clients that callers' tasks share: a class that holds an HTTP session, a
connection or pool, or credentials, and has coroutines that send requests through it. Users of
async libraries make one client and call it from many tasks at once, so its public coroutine
methods run in several tasks (issue 18's decision); lifecycle methods an owner calls once
(``connect``, ``close``, ``login``) do not.
"""

from __future__ import annotations

from typing import Dict, Iterable, List, Optional, Set, Tuple

from conclint.model.apis import ASYNC_CLIENT_TYPES
from conclint.model.callgraph import CallGraph
from conclint.model.contracts import CONSTRUCTORS, LIFECYCLE_METHODS, is_public_method
from conclint.model.program import Program

# ``self.<name>`` (leading underscores aside) that holds what a client sends through, and what it is
HELD_NAMES: Tuple[Tuple[Tuple[str, ...], str], ...] = (
    (
        ("session", "http_session", "client_session", "http", "http_client", "httpx_client", "aiohttp_session"),
        "an HTTP session",
    ),
    (("pool", "db_pool", "connection_pool", "conn_pool"), "a connection pool"),
    (("conn", "connection", "db", "database", "redis", "channel", "websocket", "ws"), "a connection"),
    (("token", "access_token", "auth_token", "bearer_token", "credentials", "creds", "api_key", "auth"), "credentials"),
)  # fmt: skip
# what the names of such classes end with, when only an attribute's name says what it holds
CLIENT_CLASS_WORDS = (
    "Client", "Session", "Api", "API", "Service", "Manager", "Provider", "Gateway", "Connector", "Wrapper",
    "Repository", "Store", "Cache", "Bot", "Auth", "Authenticator", "Connection", "Adapter", "Transport",
)  # fmt: skip
# method names that send a request (through a session, a connection, a pool)
REQUEST_METHODS = frozenset(
    {
        "request", "get", "post", "put", "patch", "delete", "head", "options", "send", "fetch", "fetchrow",
        "fetchval", "execute", "executemany", "query", "call", "stream", "ws_connect", "publish", "send_json",
        "send_str", "send_bytes", "acquire", "cursor", "set", "hget", "hset", "invoke",
    }
)  # fmt: skip
# lifecycle coroutines an owner calls once, in order, from one place (``static_login``, ``start_polling``)
ASYNC_LIFECYCLE = LIFECYCLE_METHODS | {"aclose", "login", "logout", "__aenter__", "__aexit__", "serve", "main"}
LIFECYCLE_WORDS = frozenset(
    {
        "login", "logout", "connect", "disconnect", "reconnect", "close", "start", "stop", "setup", "shutdown",
        "initialize", "initialise", "init", "open", "teardown", "cleanup", "aclose", "run", "serve",
        # a transaction's finalisation, once per transaction; a component's unloading, once per load
        "commit", "rollback", "finalize", "finalise", "unload",
    }
)  # fmt: skip
# words before the verb of a lifecycle step's name (``async_start``, ``_partial_shutdown``, ``cog_unload``)
LIFECYCLE_QUALIFIERS = frozenset({"async", "pre", "post", "do", "partial", "savepoint", "cog", "static", "graceful"})
NO_SHARING_REASON = ""


class AsyncClients:
    def __init__(
        self,
        program: Program,
        calls: CallGraph,
        declared: Iterable[str] = (),
        not_shared: Iterable[str] = (),
    ) -> None:
        self.program = program
        self.calls = calls
        self.declared = set(declared)
        self.not_shared = set(not_shared)
        self._reasons: Optional[Dict[str, str]] = None
        self._methods: Optional[Dict[str, List[str]]] = None

    def _methods_of(self, owner: str) -> List[str]:
        """The methods a class defines, in name order: indexed once, not searched for each class
        (a project of thousands of classes and functions made that quadratic)."""
        if self._methods is None:
            self._methods = {}
            for function, (info, _facts) in sorted(self.program.functions.items()):
                if info.class_qualname:
                    self._methods.setdefault(info.class_qualname, []).append(function)
        return self._methods.get(owner, [])

    def reasons(self) -> Dict[str, str]:
        """Class -> why callers' tasks share one instance ("assumed shared: ...")."""
        if self._reasons is None:
            self._reasons = {}
            for qualname in sorted(self.program.classes):
                reason = self._reason(qualname)
                if reason:
                    self._reasons[qualname] = reason
        return self._reasons

    def shared_method(self, function: str, receiver: Optional[str] = None) -> Optional[str]:
        """Why ``function`` runs in several tasks at once: a public coroutine method of a shared
        client (its own or one it inherits), not a constructor or a lifecycle method. With
        ``receiver``, the class of the object it is known to run on (a subclass of its own): only
        that class and its subclasses count, not a sibling that happens to be a client (a base
        class's method called on an entity of one integration is not shared because another
        integration's entity holds a session)."""
        info = self.program.functions.get(function, (None,))[0]
        if info is None or not info.is_async or not info.class_qualname or info.parent is not None:
            return None
        if info.is_generator:
            return None  # a stream (``async for event in client.events()``) is iterated by the one task that reads it
        if not is_public_method(info.name) or info.name in CONSTRUCTORS or _lifecycle(info.name):
            return None
        reasons = self.reasons()
        owner = info.class_qualname
        if receiver is not None and receiver != owner and owner in self.program.class_bases(receiver):
            owner = receiver
        for candidate in [owner, *sorted(self.program.subclasses_of(owner))]:
            if candidate in reasons:
                return reasons[candidate]
        return None

    def _reason(self, qualname: str) -> str:
        program = self.program
        lineage = [qualname, *program.class_bases(qualname)]
        name = qualname.rsplit(".", 1)[-1]
        if any(owner in self.not_shared for owner in lineage):
            return NO_SHARING_REASON
        if any(owner in self.declared for owner in lineage):
            return f"assumed shared: `{name}` is named in [tool.conclint] await-shared; callers' tasks share one object"
        held = self._held(lineage)
        if not held:
            return NO_SHARING_REASON
        typed = {attribute: what for attribute, (what, by_type) in held.items() if by_type}
        if not typed and not name.endswith(CLIENT_CLASS_WORDS):
            return NO_SHARING_REASON
        sent = self._sends_through(lineage, set(typed or held))
        # made in ``main()`` and handed to the tasks is the ordinary way: where it is built says nothing
        if sent is None:
            return NO_SHARING_REASON
        what = held[sent][0]
        return f"assumed shared: `{name}` holds {what} (`self.{sent}`); callers' tasks share one client"

    def _held(self, lineage) -> Dict[str, Tuple[str, bool]]:
        """Attributes that hold a session, connection, pool or credentials: by the type built
        into them, or by their name."""
        program = self.program
        held: Dict[str, Tuple[str, bool]] = {}
        for owner in lineage:
            entry = program.classes.get(owner)
            if entry is None:
                continue
            for attribute, built in sorted(entry[0].attribute_types.items()):
                what = ASYNC_CLIENT_TYPES.get(program.realize(built) or built)
                if what is not None and not attribute.endswith("[]"):
                    held.setdefault(attribute, (what, True))
            for attribute in sorted(self._written_attributes(owner)):
                what = _named(attribute)
                if what is not None:
                    held.setdefault(attribute, (what, False))
        return held

    def _written_attributes(self, owner: str) -> Set[str]:
        prefix = f"self:{owner}."
        found: Set[str] = set()
        for function in self._methods_of(owner):
            state = self.program.functions[function][1].state.get(function)
            for write in state.writes if state is not None else ():
                if write.key.startswith(prefix):
                    found.add(write.key[len(prefix) :].split(".", 1)[0])
        return found

    def _sends_through(self, lineage, attributes: Set[str]) -> Optional[str]:
        """The attribute a coroutine of the class sends a request through (``await
        self._session.get(url)``); credentials count when any coroutine sends a request."""
        credentials = {a for a in attributes if _named(a) == "credentials"}
        for owner in lineage:
            for function in self._methods_of(owner):
                info = self.program.functions[function][0]
                if not info.is_async or not info.self_name:
                    continue
                for call in self.calls.calls_of(function):
                    if call.method not in REQUEST_METHODS:
                        continue
                    parts = call.text.split(".")
                    if len(parts) >= 3 and parts[0] == info.self_name and parts[1] in attributes:
                        return parts[1]
                    if credentials and call.awaited:
                        return sorted(credentials)[0]
        return None


def _lifecycle(name: str) -> bool:
    return name in ASYNC_LIFECYCLE or bool(LIFECYCLE_WORDS & set(name.lower().split("_")))


def lifecycle_step_name(name: str) -> bool:
    """Named as a lifecycle step an owner calls once, in order: the name's verb is one (``start``,
    ``start_polling``, ``_pre_login``, ``async_shutdown``, ``commit``); not a name that only ends
    in one (``count_open`` counts)."""
    words = [word for word in name.lower().split("_") if word]
    while len(words) > 1 and words[0] in LIFECYCLE_QUALIFIERS:
        words = words[1:]
    return name in ASYNC_LIFECYCLE or (bool(words) and words[0] in LIFECYCLE_WORDS)


def _named(attribute: str) -> Optional[str]:
    bare = attribute.lstrip("_")
    for names, what in HELD_NAMES:
        if bare in names:
            return what
    return None
