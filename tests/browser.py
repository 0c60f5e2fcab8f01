"""One headless Chromium for many page loads: the DevTools protocol over a pipe (``--remote-debugging-pipe``).

The report tests load a run's pages in a real browser. Starting Chromium once per page (``--dump-dom``)
cost about a CPU-second each, 20-odd times per suite; here one browser opens each page in a tab of its own
and answers over file descriptors 3 and 4 (JSON messages ended by a NUL byte), with nothing but the
standard library. Each load returns the page's DOM, its console errors and uncaught exceptions, and
whatever a JavaScript expression evaluated after the load gives.

References: https://chromedevtools.github.io/devtools-protocol/ (Target, Page, Runtime, Emulation).
"""

from __future__ import annotations

import fcntl
import json
import os
import shutil
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


@dataclass
class Loaded:
    """What a page gave: its DOM after the load, console errors and exceptions, and the evaluated value."""

    dom: str
    errors: list[str] = field(default_factory=list)
    value: object = None


class Browser:
    """A headless Chromium driven over a pipe; use as a context manager."""

    def __init__(self, width: int = 1366, height: int = 900, timeout: float = 120):
        if CHROMIUM is None:
            raise RuntimeError("Debian chromium is not installed (apt-get install -y chromium)")
        self.width, self.height, self.timeout = width, height, timeout
        self._profile = tempfile.TemporaryDirectory(prefix="chromium-")
        to_browser_r, self._to_browser = os.pipe()
        self._from_browser, from_browser_w = os.pipe()

        def child_fds():  # the browser reads commands on fd 3 and writes replies on fd 4
            high = [fcntl.fcntl(fd, fcntl.F_DUPFD, 10) for fd in (to_browser_r, from_browser_w)]
            os.dup2(high[0], 3)
            os.dup2(high[1], 4)

        self._process = subprocess.Popen(
            [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
             "--disable-background-networking", "--disable-component-update", "--disable-sync",
             "--hide-scrollbars", "--remote-debugging-pipe", f"--user-data-dir={self._profile.name}", "about:blank"],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            preexec_fn=child_fds, pass_fds=(3, 4))  # kept open after preexec_fn put the pipes there
        os.close(to_browser_r)
        os.close(from_browser_w)
        self._buffer = b""
        self._next_id = 0
        self._events: list[dict] = []

    def __enter__(self) -> "Browser":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        try:
            self._send("Browser.close")
        except (OSError, RuntimeError):
            pass
        try:
            self._process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait()
        os.close(self._to_browser)
        os.close(self._from_browser)
        self._profile.cleanup()

    # --- the protocol ---------------------------------------------------------------------------

    def _write(self, method: str, params: dict, session: str | None) -> int:
        """Send a command without waiting for its answer; returns its id."""
        self._next_id += 1
        message = {"id": self._next_id, "method": method, "params": params}
        if session:
            message["sessionId"] = session
        os.write(self._to_browser, json.dumps(message).encode() + b"\0")
        return self._next_id

    def _send(self, method: str, params: dict | None = None, session: str | None = None) -> dict:
        asked = self._write(method, params or {}, session)
        while True:
            reply = self._receive()
            if reply.get("id") == asked:
                if "error" in reply:
                    raise RuntimeError(f"{method}: {reply['error']}")
                return reply.get("result", {})
            self._events.append(reply)

    def _receive(self) -> dict:
        deadline = time.monotonic() + self.timeout
        while b"\0" not in self._buffer:
            if time.monotonic() > deadline:
                raise TimeoutError("no answer from Chromium")
            chunk = os.read(self._from_browser, 1 << 16)
            if not chunk:
                raise RuntimeError("Chromium closed the pipe")
            self._buffer += chunk
        raw, self._buffer = self._buffer.split(b"\0", 1)
        message = json.loads(raw)
        if message.get("method") == "Page.javascriptDialogOpening":  # an alert would block the page: dismiss it
            self._write("Page.handleJavaScriptDialog", {"accept": False}, message.get("sessionId"))
        return message

    def _wait_for(self, method: str, session: str) -> None:
        deadline = time.monotonic() + self.timeout
        while True:
            for i, event in enumerate(self._events):
                if event.get("method") == method and event.get("sessionId") == session:
                    del self._events[i]
                    return
            if time.monotonic() > deadline:
                raise TimeoutError(f"{method} did not come")
            self._events.append(self._receive())

    def load(self, page: Path | str, expression: str | None = None, settle: float = 0.2) -> Loaded:
        """Open ``page`` (a path or URL) in a new tab at the browser's width, wait for its load event and
        ``settle`` seconds more, and return its DOM, errors and the value of ``expression``."""
        url = Path(page).resolve().as_uri() if isinstance(page, Path) else page
        target = self._send("Target.createTarget", {"url": "about:blank"})["targetId"]
        session = self._send("Target.attachToTarget", {"targetId": target, "flatten": True})["sessionId"]
        try:
            for domain in ("Page", "Runtime"):
                self._send(f"{domain}.enable", session=session)
            self._send("Emulation.setDeviceMetricsOverride", {"width": self.width, "height": self.height,
                                                              "deviceScaleFactor": 1, "mobile": False}, session)
            self._events = [e for e in self._events if e.get("sessionId") != session]
            self._send("Page.navigate", {"url": url}, session)
            self._wait_for("Page.loadEventFired", session)
            time.sleep(settle)
            dom = self._evaluate("document.documentElement.outerHTML", session)
            value = self._evaluate(expression, session) if expression else None
            errors = []
            for event in [e for e in self._events if e.get("sessionId") == session]:
                if event.get("method") == "Runtime.exceptionThrown":
                    details = event["params"]["exceptionDetails"]
                    errors.append(details.get("exception", {}).get("description") or details.get("text", ""))
                elif event.get("method") == "Page.javascriptDialogOpening":
                    errors.append(f"{event['params']['type']} dialog: {event['params']['message']}")
                elif event.get("method") == "Runtime.consoleAPICalled" and event["params"]["type"] == "error":
                    errors.append(" ".join(str(a.get("value", a.get("description", "")))
                                           for a in event["params"]["args"]))
            return Loaded(dom, errors, value)
        finally:
            self._events = [e for e in self._events if e.get("sessionId") != session]
            self._send("Target.closeTarget", {"targetId": target})

    def _evaluate(self, expression: str, session: str):
        result = self._send("Runtime.evaluate", {"expression": expression, "returnByValue": True}, session)
        if "exceptionDetails" in result:
            raise RuntimeError(f"{expression[:60]}: {result['exceptionDetails'].get('text')}")
        return result["result"].get("value")
