"""One headless Chromium for many pages: the DevTools protocol over a pipe (``--remote-debugging-pipe``).

``studylib pdf`` prints a run's pages, and the report tests load them in a real browser. Starting
Chromium once per page (``--print-to-pdf``, ``--dump-dom``) costs about a CPU-second each; here one
browser opens each page in a tab of its own and answers over file descriptors 3 and 4 (JSON messages
ended by a NUL byte), with nothing but the standard library. A tab can be printed to PDF
(:meth:`Browser.print_pdf`, with the settings of Chromium's own ``--print-to-pdf``) or loaded for its DOM,
console errors and uncaught exceptions, and the value of a JavaScript expression (:meth:`Browser.load`).

Errors: no browser to start is the caller's to report (:func:`chromium` returns None); a browser that
cannot start, exits, stops answering or rejects a command raises :class:`BrowserError`, which names the
command, the exit status and the end of what Chromium wrote on stderr.

References: https://chromedevtools.github.io/devtools-protocol/ (Target, Page, Runtime, Emulation);
Chromium's ``components/headless/command_handler/headless_command_handler.js`` (what ``--print-to-pdf``
and ``--virtual-time-budget`` send).
"""

from __future__ import annotations

import base64
import contextlib
import json
import os
import select
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

__all__ = ["Browser", "BrowserError", "Loaded", "PRINT_OPTIONS", "chromium"]

#: the environment variable naming the browser's executable (a name on the PATH or a path)
VARIABLE = "STUDYLIB_CHROMIUM"

#: the command-line switches of every browser started here: headless, no sandbox (containers), and nothing
#: that reaches the network on its own (updates, sync, QUIC)
SWITCHES = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
            "--disable-background-networking", "--disable-component-update", "--disable-sync",
            "--disable-extensions")

#: ``Page.printToPDF`` as ``chromium --headless --print-to-pdf --no-pdf-header-footer
#: --generate-pdf-document-outline`` sends it: the page's ``@page`` rules give size and margins (else Letter,
#: 1 cm), backgrounds printed, tagged, an outline from the headings, no browser header or footer (the pages'
#: ``@page`` rules carry the running header and page numbers)
PRINT_OPTIONS = {"displayHeaderFooter": False, "generateTaggedPDF": True, "generateDocumentOutline": True,
                 "printBackground": True, "preferCSSPageSize": True}


def chromium() -> str | None:
    """The headless browser: ``$STUDYLIB_CHROMIUM``, else chromium / chromium-browser / google-chrome on the
    PATH; None when there is none."""
    named = os.environ.get(VARIABLE)
    if named:
        return shutil.which(named) or (named if Path(named).is_file() else None)
    return next((found for name in ("chromium", "chromium-browser", "google-chrome") if (found := shutil.which(name))),
                None)


#: run by ``python -c`` with the two pipe ends and the browser's command: moves the ends to fds 3 and 4, then
#: becomes the browser (an executable that cannot be run exits 127, named on stderr)
_TRAMPOLINE = """import fcntl, os, sys
ends = [int(a) for a in sys.argv[1:3]]
high = [fcntl.fcntl(fd, fcntl.F_DUPFD, 10) for fd in ends]
for fd in ends:
    os.close(fd)
for fd, at in zip(high, (3, 4)):
    os.dup2(fd, at)
    os.close(fd)
try:
    os.execv(sys.argv[3], sys.argv[3:])
except OSError as exc:
    sys.stderr.write(f"cannot run {sys.argv[3]}: {exc.strerror}\\n")
    sys.exit(127)
"""


class BrowserError(RuntimeError):
    """Chromium could not start, exited, stopped answering, or refused a command."""


@dataclass
class Loaded:
    """What a page gave: its DOM after the load, console errors and exceptions, and the evaluated value."""

    dom: str
    errors: list[str] = field(default_factory=list)
    value: object = None


class Browser:
    """A headless Chromium driven over a pipe; use as a context manager.

    Parameters
    ----------
    executable
        The browser to start (default: :func:`chromium`).
    width, height
        The viewport of pages opened by :meth:`load` (CSS pixels).
    timeout
        Seconds to wait for any one answer or event before giving up (:class:`BrowserError`).
    arguments
        More command-line switches, e.g. ``("--hide-scrollbars",)``.

    Raises
    ------
    BrowserError
        No browser is installed, or it could not be started.

    Examples
    --------
    >>> with Browser() as browser:                                   # doctest: +SKIP
    ...     pdf = browser.print_pdf(Path("index.html"))
    ...     pdf[:5]
    b'%PDF-'
    """

    def __init__(self, executable: str | None = None, *, width: int = 1366, height: int = 900, timeout: float = 120,
                 arguments: Sequence[str] = ()):
        executable = executable or chromium()
        if executable is None:
            raise BrowserError("no headless Chromium: install it (Debian: apt-get install chromium) or set "
                               f"{VARIABLE} to the browser's executable")
        self.width, self.height, self.timeout = width, height, timeout
        self._profile = tempfile.TemporaryDirectory(prefix="studylib-chromium-")
        self._stderr = open(Path(self._profile.name) / "stderr.log", "w+b")  # a file: a full pipe would block it
        to_browser_r, self._to_browser = os.pipe()
        self._from_browser, from_browser_w = os.pipe()

        # the browser reads commands on fd 3 and writes replies on fd 4: a small exec trampoline puts the pipes
        # there (subprocess keeps given descriptors at their numbers only; preexec_fn is unsafe with threads)
        command = [sys.executable, "-I", "-S", "-c", _TRAMPOLINE, str(to_browser_r), str(from_browser_w),
                   executable, *SWITCHES, *arguments, "--remote-debugging-pipe",
                   f"--user-data-dir={Path(self._profile.name) / 'profile'}", "about:blank"]
        try:
            self._process = subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                             stderr=self._stderr, pass_fds=(to_browser_r, from_browser_w))
        except OSError as exc:
            for fd in (self._to_browser, self._from_browser):
                os.close(fd)
            self._stderr.close()
            self._profile.cleanup()
            raise BrowserError(f"Chromium could not be started ({executable}): {exc.strerror or exc}") from exc
        finally:  # the browser's ends
            os.close(to_browser_r)
            os.close(from_browser_w)
        self._buffer = b""
        self._next_id = 0
        self._events: list[dict] = []
        self._closed = False

    def __enter__(self) -> "Browser":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        """Close the browser (politely, else killed after 10 s) and remove its profile."""
        if self._closed:
            return
        self._closed = True
        if self._process.poll() is None:
            try:
                self._write("Browser.close", {}, None)
            except OSError:
                pass
        try:
            self._process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait()
        os.close(self._to_browser)
        os.close(self._from_browser)
        self._stderr.close()
        self._profile.cleanup()

    # --- pages ----------------------------------------------------------------------------------

    def print_pdf(self, page: Path | str, *, virtual_time_budget: int = 10_000, **options) -> bytes:
        """``page`` (a path or URL) printed to PDF in a new tab, as ``chromium --headless --print-to-pdf`` with
        ``--virtual-time-budget`` prints it: after the load event, timers run for ``virtual_time_budget``
        virtual milliseconds (fast-forwarded while no fetch is pending), then ``Page.printToPDF`` with
        :data:`PRINT_OPTIONS` updated by ``options`` (e.g. ``landscape=True``). Returns the PDF's bytes."""
        with self._tab(page) as session:
            if virtual_time_budget:
                self._send("Emulation.setVirtualTimePolicy", {
                    "policy": "pauseIfNetworkFetchesPending", "budget": virtual_time_budget,
                    "maxVirtualTimeTaskStarvationCount": 9999}, session)
                self._wait_for("Emulation.virtualTimeBudgetExpired", session)
            data = self._send("Page.printToPDF", {**PRINT_OPTIONS, **options}, session)["data"]
        return base64.b64decode(data)

    def load(self, page: Path | str, expression: str | None = None, settle: float = 0.2) -> Loaded:
        """Open ``page`` (a path or URL) in a new tab at the browser's width, wait for its load event and
        ``settle`` seconds more, and return its DOM, errors and the value of ``expression``."""
        with self._tab(page, viewport=True, domains=("Page", "Runtime")) as session:
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

    # --- the protocol ---------------------------------------------------------------------------

    @contextlib.contextmanager
    def _tab(self, page: Path | str, *, viewport: bool = False, domains: Sequence[str] = ("Page",)):
        """A new tab with ``page`` (a path or URL) loaded, its load event come; yields the tab's session and
        closes the tab after."""
        url = Path(page).resolve().as_uri() if isinstance(page, Path) else page
        target = self._send("Target.createTarget", {"url": "about:blank"})["targetId"]
        session = None
        try:
            session = self._send("Target.attachToTarget", {"targetId": target, "flatten": True})["sessionId"]
            for domain in domains:
                self._send(f"{domain}.enable", session=session)
            if viewport:
                self._send("Emulation.setDeviceMetricsOverride", {
                    "width": self.width, "height": self.height, "deviceScaleFactor": 1, "mobile": False}, session)
            self._events = [e for e in self._events if e.get("sessionId") != session]
            navigated = self._send("Page.navigate", {"url": url}, session)
            if navigated.get("errorText"):
                raise BrowserError(f"Chromium could not open {url}: {navigated['errorText']}")
            self._wait_for("Page.loadEventFired", session)
            yield session
        except BaseException:  # close the tab without waiting: the browser may be the trouble
            if self._process.poll() is None:
                try:
                    self._write("Target.closeTarget", {"targetId": target}, None)
                except OSError:
                    pass
            raise
        else:
            self._send("Target.closeTarget", {"targetId": target})
        finally:
            self._events = [e for e in self._events if e.get("sessionId") != session]

    def _write(self, method: str, params: dict, session: str | None) -> int:
        """Send a command without waiting for its answer; returns its id."""
        self._next_id += 1
        message = {"id": self._next_id, "method": method, "params": params}
        if session:
            message["sessionId"] = session
        os.write(self._to_browser, json.dumps(message).encode() + b"\0")
        return self._next_id

    def _send(self, method: str, params: dict | None = None, session: str | None = None) -> dict:
        """Send a command and return its result; events that come meanwhile are kept for :meth:`_wait_for`."""
        try:
            asked = self._write(method, params or {}, session)
        except BrokenPipeError:
            raise self._died(method) from None
        while True:
            reply = self._receive(method)
            if reply.get("id") == asked:
                if "error" in reply:
                    raise BrowserError(f"Chromium refused {method}: {reply['error'].get('message', reply['error'])}")
                return reply.get("result", {})
            self._events.append(reply)

    def _receive(self, waiting_for: str) -> dict:
        deadline = time.monotonic() + self.timeout
        while b"\0" not in self._buffer:
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([self._from_browser], [], [], left)[0]:
                raise BrowserError(f"Chromium did not answer {waiting_for} within {self.timeout:g} s")
            chunk = os.read(self._from_browser, 1 << 16)
            if not chunk:
                raise self._died(waiting_for)
            self._buffer += chunk
        raw, self._buffer = self._buffer.split(b"\0", 1)
        message = json.loads(raw)
        if message.get("method") == "Page.javascriptDialogOpening":  # an alert would block the page: dismiss it
            self._write("Page.handleJavaScriptDialog", {"accept": False}, message.get("sessionId"))
        return message

    def _died(self, waiting_for: str) -> BrowserError:
        """The error for a browser that closed its end of the pipe: its exit status and last words."""
        try:
            code = self._process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            code = None
        self._stderr.seek(0)
        said = self._stderr.read().decode("utf-8", "replace").strip()[-500:]
        status = "is still running" if code is None else f"exited with status {code}"
        return BrowserError(f"Chromium closed the DevTools pipe before answering {waiting_for} (it {status})"
                            + (f": {said}" if said else ""))

    def _wait_for(self, method: str, session: str) -> None:
        deadline = time.monotonic() + self.timeout
        while True:
            for i, event in enumerate(self._events):
                if event.get("method") == method and event.get("sessionId") == session:
                    del self._events[i]
                    return
            if time.monotonic() > deadline:
                raise BrowserError(f"Chromium did not send {method} within {self.timeout:g} s")
            self._events.append(self._receive(method))

    def _evaluate(self, expression: str, session: str):
        result = self._send("Runtime.evaluate", {"expression": expression, "returnByValue": True}, session)
        if "exceptionDetails" in result:
            raise BrowserError(f"{expression[:60]}: {result['exceptionDetails'].get('text')}")
        return result["result"].get("value")
