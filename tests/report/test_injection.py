"""Markup injection: a run whose every user-supplied string carries HTML, checked in every page it writes.

One tiny study is run with ``<img src=x onerror=alert(1)>`` and ``<script>alert(1)</script>`` in the
study title and intended use (also inside Markdown code spans), model names and versions, criterion
and gate labels, cohort step labels, subgroup band labels and reference level, Table 1 labels,
category values of the data (sex, site, split), person ids, column names (sex, site) and the dataset
card. Every ``.html`` file of the run folder and the runs page are parsed with :mod:`html.parser`: no
``script`` element, no ``on…`` attribute, no image that is not an embedded figure and no link or source
whose scheme is not http(s) or relative may appear, and the payload must still be there as text. Then
every page is loaded in headless Chromium with ``alert``, ``confirm`` and ``prompt`` instrumented to mark
the document: no marker may appear (issue 15).

The run is the suite's run of the installed package (``installed_run`` in ``tests/conftest.py``, the project
of :mod:`tests.markup`): the same code as the checkout's, and one full run fewer.
"""

from __future__ import annotations

import json
import re
import shutil
import urllib.parse
from pathlib import Path

import pytest
from bs4 import BeautifulSoup

from tests.browser import CHROMIUM, Browser
from tests.markup import IMG, SCRIPT

pytestmark = pytest.mark.e2e

# the pages of a run, relative to its folder (the runs page is two levels up)
PAGES = ["index.html", "checklist.html", "matrix.html", "../../index.html",
         "notebooks/01_cohort.reviewer.html", "notebooks/01_cohort.full.html",
         "notebooks/02_evaluation.reviewer.html", "notebooks/02_evaluation.full.html",
         "notebooks/03_subgroups.reviewer.html", "notebooks/03_subgroups.full.html",
         "notebooks/04_drift.reviewer.html", "notebooks/04_drift.full.html"]


@pytest.fixture(scope="module")
def run_folder(installed_run) -> Path:
    """The run of the markup-injection project (every stage ran)."""
    assert installed_run.returncode in (0, 1), installed_run.stderr[-5000:]
    manifest = json.loads((installed_run.folder / "manifest.json").read_text(encoding="utf-8"))
    assert [s["status"] for s in manifest["stages"]] == ["ok"] * 4, [s["error"] for s in manifest["stages"]]
    return installed_run.folder


#: a figure file the run wrote itself (the summary's small figures link to them)
_RUN_FIGURE = re.compile(r"^figures/[A-Za-z0-9_.-]+\.svg$")


def markup_from_payload(page: str) -> list[str]:
    """What the payload created as markup in ``page``: script elements, ``on…`` attributes, and images
    other than embedded figures (``data:image/…``) and the run's own figure files (``figures/<name>.svg``)."""
    soup = BeautifulSoup(page, "html.parser")
    found = [f"<script> {s}"[:120] for s in soup.find_all("script")]
    found += [f"<{e.name} {a}=…>" for e in soup.find_all(True) for a in e.attrs if a.lower().startswith("on")]
    found += [f"<img src={i.get('src')!r}>" for i in soup.find_all("img")
              if not str(i.get("src", "")).startswith("data:image/") and not _RUN_FIGURE.match(str(i.get("src", "")))]
    found += [f"<{e.name} {a}={e[a]!r}>" for e in soup.find_all(True) for a in ("href", "src", "action", "formaction")
              if e.has_attr(a) and not _safe_target(e.name, a, str(e[a]))]
    return found


def _safe_target(element: str, attribute: str, value: str) -> bool:
    """http(s), relative, or (an image's source) an embedded image; as a browser reads the scheme."""
    scheme = urllib.parse.urlsplit("".join(c for c in value if ord(c) > 0x20 and ord(c) != 0x7f)).scheme.lower()
    if element == "img" and attribute == "src" and scheme == "data":
        return value.startswith("data:image/")
    return scheme in ("", "http", "https")


def test_the_check_finds_injected_markup():
    page = f"<p>{IMG}</p><p>{SCRIPT}</p><figure><img alt='a' src='data:image/png;base64,AA'></figure>"
    assert markup_from_payload(page) == ["<script> <script>alert(1)</script>", "<img onerror=…>",
                                         "<img src='x'>"]
    assert markup_from_payload(page.replace("<", "&lt;")) == []
    assert markup_from_payload("<a href=' JavaScript:alert(1)'>x</a><a href='https://e.org'>y</a>") == \
        ["<a href=' JavaScript:alert(1)'>"]


def test_every_page_of_the_run_is_checked(run_folder):
    written = {p.relative_to(run_folder).as_posix() for p in run_folder.rglob("*.html")}
    assert written == {p for p in PAGES if not p.startswith("..")}


@pytest.mark.parametrize("name", PAGES)
def test_no_markup_from_user_strings(run_folder, name):
    page = (run_folder / name).read_text(encoding="utf-8")
    assert markup_from_payload(page) == []
    if name != "../../index.html":  # the runs page shows ids and verdicts only
        text = BeautifulSoup(page, "html.parser").get_text()
        assert IMG in text and SCRIPT in text, "the payload should show as text"


#: put first in each page's copy: a script from the page that calls alert, confirm or prompt marks the document
PROBE = ("<script>for (const f of ['alert', 'confirm', 'prompt']) window[f] = m => "
         "document.documentElement.setAttribute('data-payload-ran', f + ':' + m);</script>")


@pytest.fixture(scope="module")
def chromium_doms(run_folder, tmp_path_factory) -> dict[str, str]:
    """Every page's DOM after loading in headless Chromium (one browser, a tab per page), with :data:`PROBE`
    first in the page."""
    reports = tmp_path_factory.mktemp("probe") / "reports"
    shutil.copytree(run_folder.parent.parent, reports)
    folder = reports / run_folder.parent.name / run_folder.name
    doms = {}
    with Browser() as browser:
        for name in PAGES:
            page = (folder / name).resolve()
            probe = page.with_name(page.stem + ".probe.html")
            probe.write_text(PROBE + page.read_text(encoding="utf-8"), encoding="utf-8")
            doms[name] = browser.load(probe).dom
    return doms


@pytest.mark.skipif(CHROMIUM is None, reason="Debian chromium is not installed (apt-get install -y chromium)")
@pytest.mark.parametrize("name", PAGES)
def test_no_payload_runs_in_a_browser(chromium_doms, name):
    dom = chromium_doms[name]
    assert "</html>" in dom or "</body>" in dom, "the page did not load"
    assert 'data-payload-ran="' not in dom, f"a payload ran in {name}"


@pytest.mark.skipif(CHROMIUM is None, reason="Debian chromium is not installed (apt-get install -y chromium)")
def test_the_browser_probe_sees_a_payload_that_runs(tmp_path):
    page = tmp_path / "live.html"
    page.write_text(PROBE + f"<p>{IMG}</p>")
    with Browser() as browser:
        dom = browser.load(page).dom
    assert 'data-payload-ran="alert:1"' in dom
