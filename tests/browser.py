"""The report tests' headless Chromium: one browser for many page loads (:mod:`studylib.run.browser`, the
client ``studylib pdf`` prints with), with scrollbars hidden so that a page's width is the viewport's.

Each load returns the page's DOM, its console errors and uncaught exceptions, and whatever a JavaScript
expression evaluated after the load gives (:class:`studylib.run.browser.Loaded`).
"""

from __future__ import annotations

from studylib.run import browser as _browser
from studylib.run.browser import Loaded

__all__ = ["CHROMIUM", "Browser", "Loaded"]

CHROMIUM = _browser.chromium()


class Browser(_browser.Browser):
    """A headless Chromium driven over a pipe, ``width`` × ``height`` pages; use as a context manager."""

    def __init__(self, width: int = 1366, height: int = 900, timeout: float = 120):
        super().__init__(CHROMIUM, width=width, height=height, timeout=timeout, arguments=("--hide-scrollbars",))
