"""`conclint server`, driven as an editor drives it: JSON-RPC over the server's stdin and stdout."""

from __future__ import annotations

import json
import os
import queue
import subprocess
import threading
from pathlib import Path
from typing import Any, Dict, Optional

import pytest
from conftest import conclint_command, write

pytest.importorskip("pygls", reason='the language server needs pygls (pip install -e ".[test]")')

HELPER = "import requests\n\n\ndef load(url):\n    return requests.get(url).json()\n"
# on disk the handler is clean; the editor's buffer (never saved) adds a sleep and calls the helper
ON_DISK = "import asyncio\n\n\nasync def handle(url):\n    await asyncio.sleep(0)\n"
BUFFER = (
    "import time\n\nfrom app.storage import load\n\n\nasync def handle(url):\n    time.sleep(1)\n    return load(url)\n"
)
WAIT = 120  # seconds before a missing answer counts as a hang


class Client:
    """A minimal LSP client: Content-Length framed JSON-RPC, one reader thread."""

    def __init__(self, cwd: Path) -> None:
        env = {k: v for k, v in os.environ.items() if k != "CONCLINT_TEST_FAIL_ON"}
        self.process = subprocess.Popen(
            [*conclint_command(), "server"],
            cwd=str(cwd),
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=env,
        )
        self.messages: queue.Queue = queue.Queue()
        self.next_id = 0
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        stream = self.process.stdout
        while True:
            headers = {}
            while True:
                line = stream.readline()
                if not line:
                    return
                if line in (b"\r\n", b"\n"):
                    break
                name, _, value = line.decode("ascii").partition(":")
                headers[name.strip().lower()] = value.strip()
            self.messages.put(json.loads(stream.read(int(headers["content-length"]))))

    def send(self, message: Dict[str, Any]) -> None:
        body = json.dumps({"jsonrpc": "2.0", **message}).encode("utf-8")
        self.process.stdin.write(b"Content-Length: %d\r\n\r\n" % len(body) + body)
        self.process.stdin.flush()

    def notify(self, method: str, params: Optional[Dict[str, Any]] = None) -> None:
        self.send({"method": method, **({"params": params} if params is not None else {})})

    def request(self, method: str, params: Optional[Dict[str, Any]] = None) -> Any:
        self.next_id += 1
        self.send({"id": self.next_id, "method": method, **({"params": params} if params is not None else {})})
        message = self.wait(lambda m: m.get("id") == self.next_id and "method" not in m)
        assert "error" not in message, message
        return message["result"]

    def wait(self, wanted) -> Dict[str, Any]:
        while True:
            try:
                message = self.messages.get(timeout=WAIT)
            except queue.Empty:
                raise AssertionError(f"no answer from the server in {WAIT} s") from None
            if wanted(message):
                return message

    def diagnostics(self, uri: str, version: int) -> list:
        message = self.wait(
            lambda m: (
                m.get("method") == "textDocument/publishDiagnostics"
                and m["params"]["uri"] == uri
                and m["params"].get("version") == version
            )
        )
        return message["params"]["diagnostics"]


def test_a_real_session_publishes_related_places_and_offers_the_sleep_fix(tree):
    write(tree, "app/__init__.py", "")
    helper = write(tree, "app/storage.py", HELPER)
    handler = write(tree, "app/handlers.py", ON_DISK)
    uri = handler.as_uri()
    client = Client(tree)
    try:
        capabilities = client.request(
            "initialize",
            {
                "processId": os.getpid(),
                "rootUri": tree.as_uri(),
                "capabilities": {
                    "textDocument": {
                        "publishDiagnostics": {"relatedInformation": True},
                        "codeAction": {"codeActionLiteralSupport": {"codeActionKind": {"valueSet": ["quickfix"]}}},
                    }
                },
            },
        )["capabilities"]
        assert capabilities["codeActionProvider"]
        client.notify("initialized", {})
        client.notify(
            "textDocument/didOpen",
            {"textDocument": {"uri": uri, "languageId": "python", "version": 1, "text": BUFFER}},
        )
        diagnostics = client.diagnostics(uri, 1)
        by_code = {d["code"]: d for d in diagnostics}
        assert sorted(by_code) == ["CCL201", "CCL210"]
        sleep = by_code["CCL201"]
        assert sleep["range"] == {"start": {"line": 6, "character": 4}, "end": {"line": 6, "character": 17}}
        assert (sleep["severity"], sleep["source"]) == (2, "conclint")  # a hazard is a warning
        assert sleep["codeDescription"]["href"].endswith("/rules/CCL201/")
        # the blocking call sits in the unchanged module on disk: a related place there
        via_helper = by_code["CCL210"]
        assert via_helper["range"]["start"] == {"line": 7, "character": 11}
        related = {
            (r["location"]["uri"], r["location"]["range"]["start"]["line"]) for r in via_helper["relatedInformation"]
        }
        assert (helper.as_uri(), 4) in related

        actions = client.request(
            "textDocument/codeAction",
            {
                "textDocument": {"uri": uri},
                "range": sleep["range"],
                "context": {"diagnostics": [sleep]},
            },
        )
        (action,) = actions
        assert action["kind"] == "quickfix"
        (edit,) = action["edit"]["changes"][uri]
        fixed = edit["newText"]
        assert fixed == BUFFER.replace("import time\n", "import asyncio\n").replace(
            "time.sleep(1)", "await asyncio.sleep(1)"
        )

        client.notify(
            "textDocument/didChange",
            {"textDocument": {"uri": uri, "version": 2}, "contentChanges": [{"text": fixed}]},
        )
        assert [d["code"] for d in client.diagnostics(uri, 2)] == ["CCL210"]
        assert handler.read_text(encoding="utf-8") == ON_DISK  # the server never writes the file

        assert client.request("shutdown") is None
        client.notify("exit")
        assert client.process.wait(timeout=WAIT) == 0
    finally:
        if client.process.poll() is None:
            client.process.kill()
            client.process.wait()
