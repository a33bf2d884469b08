"""A real headless Chromium for the tests, driven over the DevTools protocol on a pipe
(``--remote-debugging-pipe``: no port, no websocket, nothing but the standard library), and a
small PNG reader to look at what it painted."""

from __future__ import annotations

import json
import os
import select
import shutil
import struct
import subprocess
import sys
import tempfile
import time
import zlib
from pathlib import Path
from typing import Any, Dict, List, Optional, Set, Tuple

CANDIDATES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable", "chrome")
FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--remote-debugging-pipe",
)
# fds 3 and 4 are the pipe Chromium reads commands from and writes answers to
WRAPPER = (
    "import os, sys; os.dup2(int(sys.argv[1]), 3); os.dup2(int(sys.argv[2]), 4); os.execvp(sys.argv[3], sys.argv[3:])"
)


def find_chromium() -> Optional[str]:
    for name in CANDIDATES:
        found = shutil.which(name)
        if found:
            return found
    return None


class Chromium:
    def __init__(self, executable: str, timeout: float = 30.0) -> None:
        self.executable = executable
        self.timeout = timeout
        self._next = 0
        self._buffer = b""
        self.events: List[Dict[str, Any]] = []

    def __enter__(self) -> Chromium:
        self.profile = tempfile.mkdtemp(prefix="conclint-chromium-")
        commands_read, self._commands = os.pipe()
        self._answers, answers_write = os.pipe()
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-c",
                WRAPPER,
                str(commands_read),
                str(answers_write),
                self.executable,
                *FLAGS,
                f"--user-data-dir={self.profile}",
                "about:blank",
            ],
            pass_fds=(commands_read, answers_write),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        os.close(commands_read)
        os.close(answers_write)
        return self

    def __exit__(self, *_exc) -> None:
        try:
            self.call("Browser.close", timeout=5)
        except (OSError, TimeoutError, EOFError, RuntimeError):
            pass
        try:
            self.process.wait(10)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, 9)
            self.process.wait()
        os.close(self._commands)
        os.close(self._answers)
        shutil.rmtree(self.profile, ignore_errors=True)

    def _read(self, deadline: float) -> Dict[str, Any]:
        while b"\0" not in self._buffer:
            ready, _, _ = select.select([self._answers], [], [], max(0.0, deadline - time.monotonic()))
            if not ready:
                raise TimeoutError("Chromium did not answer")
            chunk = os.read(self._answers, 1 << 20)
            if not chunk:
                raise EOFError("Chromium closed its end of the pipe")
            self._buffer += chunk
        message, _, self._buffer = self._buffer.partition(b"\0")
        return json.loads(message)

    def call(self, method: str, params: Optional[dict] = None, session: Optional[str] = None, timeout=None) -> dict:
        self._next += 1
        message: Dict[str, Any] = {"id": self._next, "method": method, "params": params or {}}
        if session:
            message["sessionId"] = session
        os.write(self._commands, json.dumps(message).encode() + b"\0")
        deadline = time.monotonic() + (timeout or self.timeout)
        while True:
            answer = self._read(deadline)
            if answer.get("id") == self._next:
                if "error" in answer:
                    raise RuntimeError(f"{method}: {answer['error']}")
                return answer.get("result", {})
            self.events.append(answer)

    def wait_for(self, event: str, session: str) -> dict:
        deadline = time.monotonic() + self.timeout
        while True:
            for index, seen in enumerate(self.events):
                if seen.get("method") == event and seen.get("sessionId") == session:
                    return self.events.pop(index)
            self.events.append(self._read(deadline))

    def open(self, url: str, width: int = 1280, height: int = 900) -> str:
        """A new tab showing ``url``, loaded: its session id."""
        target = self.call("Target.createTarget", {"url": "about:blank"})["targetId"]
        session = self.call("Target.attachToTarget", {"targetId": target, "flatten": True})["sessionId"]
        self.call(
            "Emulation.setDeviceMetricsOverride",
            {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": False},
            session,
        )
        self.call("Page.enable", session=session)
        self.call("Network.enable", session=session)
        self.call("Page.navigate", {"url": url}, session)
        self.wait_for("Page.loadEventFired", session)
        return session

    def evaluate(self, session: str, expression: str) -> Any:
        answer = self.call("Runtime.evaluate", {"expression": expression, "returnByValue": True}, session)
        if "exceptionDetails" in answer:
            raise RuntimeError(answer["exceptionDetails"])
        return answer["result"].get("value")

    def screenshot(self, session: str, x: float, y: float, width: float, height: float, scale: float) -> bytes:
        import base64

        clip = {"x": x, "y": y, "width": width, "height": height, "scale": scale}
        answer = self.call(
            "Page.captureScreenshot", {"format": "png", "clip": clip, "captureBeyondViewport": True}, session
        )
        return base64.b64decode(answer["data"])


def png_pixels(data: bytes) -> Set[Tuple[int, int, int]]:
    """The distinct RGB colours of an 8-bit RGB or RGBA PNG (what Chromium's screenshots are)."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    position, chunks, header = 8, [], b""
    while position < len(data):
        (length,) = struct.unpack(">I", data[position : position + 4])
        kind = data[position + 4 : position + 8]
        body = data[position + 8 : position + 8 + length]
        if kind == b"IHDR":
            header = body
        elif kind == b"IDAT":
            chunks.append(body)
        position += 12 + length
    width, height, depth, colour = struct.unpack(">IIBB", header[:10])
    assert depth == 8 and colour in (2, 6), (depth, colour)
    channels = 3 if colour == 2 else 4
    raw = zlib.decompress(b"".join(chunks))
    stride = width * channels
    previous = bytearray(stride)
    colours: Set[Tuple[int, int, int]] = set()
    for row in range(height):
        start = row * (stride + 1)
        kind, line = raw[start], bytearray(raw[start + 1 : start + 1 + stride])
        for i in range(stride):
            left = line[i - channels] if i >= channels else 0
            up = previous[i]
            corner = previous[i - channels] if i >= channels else 0
            if kind == 1:
                line[i] = (line[i] + left) & 0xFF
            elif kind == 2:
                line[i] = (line[i] + up) & 0xFF
            elif kind == 3:
                line[i] = (line[i] + (left + up) // 2) & 0xFF
            elif kind == 4:
                guess = left + up - corner
                pa, pb, pc = abs(guess - left), abs(guess - up), abs(guess - corner)
                line[i] = (line[i] + (left if pa <= pb and pa <= pc else up if pb <= pc else corner)) & 0xFF
        colours.update(tuple(line[i : i + 3]) for i in range(0, stride, channels))
        previous = line
    return colours


CHARTS_ON_PAGE = """JSON.stringify([...document.querySelectorAll('figure.chart')].map(figure => {
  const svg = figure.querySelector('svg');
  const box = svg ? svg.getBoundingClientRect() : {left: 0, top: 0, width: 0, height: 0};
  return {name: figure.dataset.scenario || figure.dataset.chart, x: box.left + window.scrollX,
          y: box.top + window.scrollY, width: box.width, height: box.height,
          shapes: svg ? svg.querySelectorAll('path, rect, use, text').length : 0,
          text: svg ? svg.textContent : ''};
}))"""


def rendered_charts(executable: str, page: str) -> Tuple[List[Dict[str, Any]], List[str]]:
    """Each chart of the page as Chromium laid it out, with the colours it painted; and every URL
    the page made Chromium fetch (itself included)."""
    with Chromium(executable) as browser:
        session = browser.open(Path(page).resolve().as_uri())
        charts = json.loads(browser.evaluate(session, CHARTS_ON_PAGE))
        for chart in charts:
            if chart["width"] > 0 and chart["height"] > 0:
                shot = browser.screenshot(session, chart["x"], chart["y"], chart["width"], chart["height"], 0.5)
                chart["colours"] = png_pixels(shot)
            else:
                chart["colours"] = set()
        fetched = [
            e["params"]["request"]["url"] for e in browser.events if e.get("method") == "Network.requestWillBeSent"
        ]
    return charts, fetched


def near(colours: Set[Tuple[int, int, int]], target: str, tolerance: int = 12) -> bool:
    """Some painted colour is within ``tolerance`` of ``target`` (``#rrggbb``) on every channel."""
    wanted = tuple(int(target[i : i + 2], 16) for i in (1, 3, 5))
    return any(all(abs(a - b) <= tolerance for a, b in zip(colour, wanted)) for colour in colours)
