"""CCL111/CCL112 on `self` state need an object that several tasks share, unless told otherwise."""

from __future__ import annotations

import textwrap

from conclint.engine.run import check_source

PER_REQUEST = textwrap.dedent(
    """
    import asyncio

    class Session:
        def __init__(self):
            self.token = None

        async def login(self):
            if self.token is None:
                self.token = await asyncio.sleep(0, "token")
            return self.token
    """
)


def test_an_object_not_seen_shared_is_not_reported_by_default():
    assert check_source(PER_REQUEST) == []


def test_await_unshared_self_reports_every_object():
    findings = check_source(PER_REQUEST, overrides={"await-unshared-self": True})
    assert [(f.code, f.span.row) for f in findings] == [("CCL112", 10)]


def test_the_message_says_why_the_object_is_shared():
    findings = check_source(PER_REQUEST + "\nsession = Session()\n")
    assert [f.code for f in findings] == ["CCL112"]
    assert "the object is shared: an instance is kept in the module global `session`" in findings[0].message


def test_a_lock_held_by_the_class_is_not_alone_evidence_that_a_method_overlaps_itself():
    locked = PER_REQUEST.replace("self.token = None", "self.token = None\n        self.guard = asyncio.Lock()")
    assert check_source(locked) == []


def test_a_lock_that_guards_the_state_elsewhere_is_evidence_of_sharing():
    locked = PER_REQUEST.replace("self.token = None", "self.token = None\n        self.guard = asyncio.Lock()")
    locked += textwrap.dedent(
        """
            async def logout(self):
                async with self.guard:
                    self.token = None
        """
    ).replace("\n", "\n    ")
    findings = check_source(locked)
    assert [f.code for f in findings] == ["CCL112"]
    assert "event-loop lock (`self.guard`)" in findings[0].message
    assert "`self.token` is guarded by `self.guard` at" in findings[0].message


def test_a_method_gathered_on_one_object_is_reported_with_the_spawn():
    gathered = PER_REQUEST + textwrap.dedent(
        """
        async def main(session):
            await asyncio.gather(session.login(), session.login())
        """
    )
    gathered = gathered.replace("async def main(session):", "async def main():\n    session = Session()")
    findings = check_source(gathered)
    assert [f.code for f in findings] == ["CCL112"]
    assert "(the object is shared: `Session.login()` runs in several tasks: asyncio.gather() at " in findings[0].message
    assert "starts `Session.login()` more than once)" in findings[0].message


ENTERED = textwrap.dedent(
    """
    import asyncio

    class Connection:
        def __init__(self):
            self.conn = None

        async def __aenter__(self):
            if self.conn is None:
                self.conn = await asyncio.open_connection("127.0.0.1", 8080)
            return self

        async def __aexit__(self, *exc):
            return None

        async def reconnect(self):
            if self.conn is None:
                self.conn = await asyncio.open_connection("127.0.0.1", 8080)
    """
)


def test_a_per_use_object_entered_by_one_task_is_not_reported_even_when_every_object_is_checked():
    findings = check_source(ENTERED, overrides={"await-unshared-self": True})
    assert [(f.code, f.span.row) for f in findings] == [("CCL112", 18)]


def test_a_shared_object_entered_by_every_task_is_reported():
    findings = check_source(ENTERED + "\nconnection = Connection()\n")
    assert [(f.code, f.span.row) for f in findings] == [("CCL112", 10), ("CCL112", 18)]


TALLY = textwrap.dedent(
    """
    import asyncio

    class Tally:
        def __init__(self):
            self.total = 0

        async def add(self, n):
            total = self.total
            await asyncio.sleep(0)
            self.total = total + n
    """
)
CLIENT = textwrap.dedent(
    """
    import aiohttp

    class Client:
        def __init__(self):
            self.session = aiohttp.ClientSession()
            self.sent = 0

        async def send(self, body):
            sent = self.sent
            await self.session.post("/", data=body)
            self.sent = sent + 1
    """
)


def test_await_shared_names_a_class_whose_coroutines_callers_tasks_share():
    assert check_source(TALLY) == []
    findings = check_source(TALLY, overrides={"await-shared": ["snippet.Tally"]})
    assert [(f.code, f.span.row) for f in findings] == [("CCL111", 11)]
    assert "assumed shared: `Tally` is named in [tool.conclint] await-shared" in findings[0].message


def test_a_client_holding_a_session_is_assumed_shared_unless_await_not_shared_says_otherwise():
    findings = check_source(CLIENT)
    assert [(f.code, f.span.row) for f in findings] == [("CCL111", 12)]
    assert "assumed shared: `Client` holds an HTTP session (`self.session`); callers' tasks share one client" in (
        findings[0].message
    )
    assert check_source(CLIENT, overrides={"await-not-shared": ["snippet.Client"]}) == []
