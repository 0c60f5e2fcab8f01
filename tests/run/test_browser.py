"""The DevTools client over a pipe (studylib.run.browser): the protocol against a scripted fake browser (no
Chromium needed: answers, interleaved events, dialogs, refusals, a browser that exits, hangs or cannot run),
then printing and loading in a real headless Chromium."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from studylib.run import browser as chromium_client
from studylib.run.browser import PRINT_OPTIONS, Browser, BrowserError

# A browser that speaks the protocol on fds 3 and 4 as $FAKE_CHROMIUM says: "answer" (every command, with the
# events a page sends: a dialog and the load event before navigate's answer), "refuse" (createTarget fails),
# "exit" (at once, with words on stderr), "silent" (reads, never answers), "die" (exits at printToPDF).
# Every command it reads is appended to $FAKE_CHROMIUM_LOG.
FAKE = '''
import base64, json, os, sys
scenario = os.environ.get("FAKE_CHROMIUM", "answer")
if scenario == "exit":
    sys.stderr.write("cannot open display :0\\n")
    sys.exit(3)
log = open(os.environ["FAKE_CHROMIUM_LOG"], "a")
replies = os.fdopen(4, "wb")
def send(message):
    replies.write(json.dumps(message).encode() + b"\\0")
    replies.flush()
buffer = b""
while True:
    chunk = os.read(3, 1 << 16)
    if not chunk:
        break
    buffer += chunk
    while b"\\0" in buffer:
        raw, buffer = buffer.split(b"\\0", 1)
        command = json.loads(raw)
        log.write(raw.decode() + "\\n")
        log.flush()
        method, session = command["method"], command.get("sessionId")
        if scenario == "silent":
            continue
        if scenario == "die" and method == "Page.printToPDF":
            sys.stderr.write("renderer crashed\\n")
            os._exit(9)
        reply = {"id": command["id"], "result": {}}
        if session:
            reply["sessionId"] = session
        if method == "Target.createTarget":
            if scenario == "refuse":
                reply = {"id": command["id"], "error": {"code": -32000, "message": "Failed to open a new tab"}}
            reply.setdefault("result", {})["targetId"] = "T1"
        elif method == "Target.attachToTarget":
            reply["result"] = {"sessionId": "S1"}
        elif method == "Page.navigate":
            send({"method": "Page.javascriptDialogOpening", "sessionId": session,
                  "params": {"type": "alert", "message": "hello"}})
            send({"method": "Page.loadEventFired", "sessionId": session, "params": {}})
            reply["result"] = {"frameId": "F1"}
        elif method == "Emulation.setVirtualTimePolicy":
            send(reply)
            reply = {"method": "Emulation.virtualTimeBudgetExpired", "sessionId": session, "params": {}}
        elif method == "Page.printToPDF":
            reply["result"] = {"data": base64.b64encode(b"%PDF-1.4 fake").decode()}
        elif method == "Runtime.evaluate":
            value = "<html></html>" if "outerHTML" in command["params"]["expression"] else 42
            reply["result"] = {"result": {"type": "string", "value": value}}
        send(reply)
        if method == "Browser.close":
            sys.exit(0)
'''


@pytest.fixture
def fake(tmp_path, monkeypatch):
    """The fake browser's executable; ``fake.commands()`` are the commands it read, in order."""
    executable = tmp_path / "fake-chromium"
    executable.write_text(f"#!{sys.executable}\n{FAKE}")
    executable.chmod(0o755)
    log = tmp_path / "commands.jsonl"
    log.touch()
    monkeypatch.setenv("FAKE_CHROMIUM_LOG", str(log))

    class Fake(str):
        def commands(self) -> list[dict]:
            return [json.loads(line) for line in log.read_text().splitlines()]

    return Fake(executable)


def test_print_sends_the_settings_of_chromiums_print_to_pdf_and_returns_the_pdf(fake, tmp_path):
    page = tmp_path / "page.html"
    page.write_text("<h1>x</h1>")
    with Browser(fake) as browser:
        assert browser.print_pdf(page) == b"%PDF-1.4 fake"
        assert browser.print_pdf(page, landscape=True) == b"%PDF-1.4 fake"
    commands = fake.commands()
    printed = [c["params"] for c in commands if c["method"] == "Page.printToPDF"]
    # --print-to-pdf --no-pdf-header-footer --generate-pdf-document-outline, as Chromium's headless command
    # handler sends them; options given to print_pdf are added
    assert printed == [{"displayHeaderFooter": False, "generateTaggedPDF": True, "generateDocumentOutline": True,
                        "printBackground": True, "preferCSSPageSize": True}, {**PRINT_OPTIONS, "landscape": True}]
    # --virtual-time-budget=10000 after the load
    policy = next(c["params"] for c in commands if c["method"] == "Emulation.setVirtualTimePolicy")
    assert policy == {"policy": "pauseIfNetworkFetchesPending", "budget": 10000,
                      "maxVirtualTimeTaskStarvationCount": 9999}
    navigate = next(c for c in commands if c["method"] == "Page.navigate")
    assert navigate["params"] == {"url": page.resolve().as_uri()} and navigate["sessionId"] == "S1"
    methods = [c["method"] for c in commands]
    assert methods.count("Target.closeTarget") == 2 and methods[-1] == "Browser.close"  # each tab closed, then all
    # the alert the page opened was dismissed (a dialog would block the page)
    assert {"id": next(c["id"] for c in commands if c["method"] == "Page.handleJavaScriptDialog"),
            "method": "Page.handleJavaScriptDialog", "params": {"accept": False}, "sessionId": "S1"} in commands


def test_load_returns_the_dom_the_value_and_the_dialog_as_an_error(fake, tmp_path):
    with Browser(fake, width=800, height=600) as browser:
        loaded = browser.load("about:blank", "6 * 7", settle=0)
    assert loaded.dom == "<html></html>" and loaded.value == 42
    assert loaded.errors == ["alert dialog: hello"]
    metrics = next(c["params"] for c in fake.commands() if c["method"] == "Emulation.setDeviceMetricsOverride")
    assert metrics == {"width": 800, "height": 600, "deviceScaleFactor": 1, "mobile": False}


def test_a_refused_command_is_named_with_chromiums_message(fake, monkeypatch):
    monkeypatch.setenv("FAKE_CHROMIUM", "refuse")
    with Browser(fake) as browser, pytest.raises(BrowserError, match="refused Target.createTarget: Failed to open"):
        browser.print_pdf("about:blank")


def test_a_browser_that_exits_at_once_gives_its_status_and_last_words(fake, monkeypatch):
    monkeypatch.setenv("FAKE_CHROMIUM", "exit")
    with Browser(fake) as browser, pytest.raises(BrowserError) as raised:
        browser.print_pdf("about:blank")
    assert "exited with status 3" in str(raised.value) and "cannot open display :0" in str(raised.value)


def test_a_browser_that_dies_while_printing_names_the_command(fake, monkeypatch):
    monkeypatch.setenv("FAKE_CHROMIUM", "die")
    with Browser(fake) as browser, pytest.raises(BrowserError) as raised:
        browser.print_pdf("about:blank")
    message = str(raised.value)
    assert "before answering Page.printToPDF" in message and "status 9" in message and "renderer crashed" in message


def test_a_browser_that_stops_answering_times_out(fake, monkeypatch):
    monkeypatch.setenv("FAKE_CHROMIUM", "silent")
    browser = Browser(fake, timeout=0.5)
    try:
        with pytest.raises(BrowserError, match=r"did not answer Target.createTarget within 0.5 s"):
            browser.print_pdf("about:blank")
    finally:
        browser._process.kill()  # it ignores Browser.close
        browser.close()


def test_an_executable_that_cannot_run_is_named(tmp_path):
    not_executable = tmp_path / "chromium"
    not_executable.write_text("not a program")
    with Browser(str(not_executable)) as browser, pytest.raises(BrowserError) as raised:
        browser.print_pdf("about:blank")
    assert "status 127" in str(raised.value) and f"cannot run {not_executable}" in str(raised.value)


def test_no_browser_installed(monkeypatch):
    monkeypatch.setattr(chromium_client, "chromium", lambda: None)
    with pytest.raises(BrowserError, match="no headless Chromium: install it .* or set STUDYLIB_CHROMIUM"):
        Browser()


def test_the_browser_is_found_on_the_path_or_named_by_the_environment(tmp_path, monkeypatch):
    named = tmp_path / "my-chrome"
    named.write_text("#!/bin/sh\n")
    named.chmod(0o755)
    monkeypatch.setenv("STUDYLIB_CHROMIUM", str(named))
    assert chromium_client.chromium() == str(named)
    monkeypatch.setenv("STUDYLIB_CHROMIUM", str(tmp_path / "missing"))
    assert chromium_client.chromium() is None
    monkeypatch.delenv("STUDYLIB_CHROMIUM")
    (tmp_path / "bin").mkdir()
    shutil.copy2(named, tmp_path / "bin" / "chromium-browser")
    monkeypatch.setenv("PATH", str(tmp_path / "bin"))
    assert chromium_client.chromium() == str(tmp_path / "bin" / "chromium-browser")
    monkeypatch.setenv("PATH", str(tmp_path))
    assert chromium_client.chromium() is None


# --- a real headless Chromium ----------------------------------------------------------------------

CHROMIUM = chromium_client.chromium()
PDFTOTEXT = shutil.which("pdftotext")
real = pytest.mark.skipif(CHROMIUM is None or PDFTOTEXT is None,
                          reason="needs Debian chromium and poppler-utils (apt-get install -y chromium poppler-utils)")

PAGE = """<!doctype html><html><head><title>t</title><style>@page { size: A5; margin: 1cm }
body { background: #eee }</style></head><body><h1>First heading</h1><p>Seen in print.</p>
<h2>Second heading</h2><p id="late">not yet</p>
<script>setTimeout(() => { document.getElementById('late').textContent = 'written after 5 s'; }, 5000);
console.error('a logged error'); </script></body></html>"""


@pytest.fixture(scope="module")
def printed(tmp_path_factory) -> tuple[Path, list]:
    """PAGE and a page with an uncaught exception: printed to PDF, then loaded, in one browser."""
    folder = tmp_path_factory.mktemp("browser")
    page, broken = folder / "page.html", folder / "broken.html"
    page.write_text(PAGE)
    broken.write_text("<p>x</p><script>undefined_function()</script>")
    with Browser() as browser:
        (folder / "page.pdf").write_bytes(browser.print_pdf(page))
        loads = [browser.load(page, "document.title"), browser.load(broken)]
    return folder / "page.pdf", loads


@real
def test_a_page_prints_as_chromiums_print_to_pdf_prints_it(printed):
    from pypdf import PdfReader

    pdf, _ = printed
    text = subprocess.run([PDFTOTEXT, "-layout", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
    assert "First heading" in text and "Seen in print." in text
    assert "written after 5 s" in text  # the page's timers ran (virtual time), without waiting 5 s
    assert "file://" not in text and "page.html" not in text  # no browser header or footer
    reader = PdfReader(pdf)
    width, height = (float(v) for v in reader.pages[0].mediabox[2:])
    assert (round(width), round(height)) == (420, 595)  # the page's @page size (A5), not Letter
    assert [item.title for item in reader.outline if not isinstance(item, list)] == ["First heading"]


@real
def test_pages_load_in_tabs_of_one_browser_with_their_errors(printed):
    _, (page, broken) = printed
    assert "First heading" in page.dom and page.value == "t"
    assert page.errors == ["a logged error"]
    assert len(broken.errors) == 1 and "undefined_function is not defined" in broken.errors[0]
