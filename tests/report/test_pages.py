"""The run's HTML pages: escaping, checklist, links that resolve, and a real browser loading them."""

import html
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from studylib.report import checklist

pytestmark = pytest.mark.e2e
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.fixture
def run_folder(archived_run):
    """The session's tiny study run (conftest), whose title holds markup (MARKUP_TITLE)."""
    return archived_run.folder


def _links(page: Path) -> list[str]:
    return [html.unescape(h) for h in re.findall(r'href="([^"]+)"', page.read_text())]


def test_strings_from_parameters_are_escaped(run_folder):
    page = (run_folder / "index.html").read_text()
    assert "<script>" not in page
    assert "Tiny &lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; study" in page


@pytest.mark.parametrize("name", ["index.html", "checklist.html"])
def test_every_local_link_resolves(run_folder, name):
    for href in _links(run_folder / name):
        target = href.split("#")[0]
        if target.startswith(("http:", "https:")) or not target:
            continue
        assert (run_folder / target).exists(), f"{name} links to missing {href}"


def test_index_is_self_contained_and_accessible(run_folder):
    page = (run_folder / "index.html").read_text()
    assert "<script" not in page and "cdn" not in page.lower() and "http://" not in page and "https://" not in page
    assert '<html lang="en">' in page and "<h1>" in page and 'scope="col"' in page
    assert "@media print" in page and "max-width: 600px" in page
    assert re.search(r'class="verdict [A-Z_]+"', page) and ("✔ PASS" in page or "✘ FAIL" in page or "INSUFFICIENT" in page)


def test_checklist_maps_items_to_existing_artifacts(run_folder):
    statuses = checklist.assess(run_folder)
    assert len(statuses) == 25
    answered = {s.item.number for s in statuses if s.answered}
    assert {1, 3, 6, 9, 12, 16, 20, 21} <= answered
    assert 14 not in answered  # no index-test/reference dates in any snapshot
    page = (run_folder / "checklist.html").read_text()
    assert f"{len(answered)} of 25 items" in page
    assert page.count("not answered") == 25 - len(answered)  # one badge per unanswered item


@pytest.mark.skipif(CHROMIUM is None, reason="Debian chromium is not installed (apt-get install -y chromium)")
@pytest.mark.parametrize("name", ["index.html", "checklist.html", "notebooks/02_evaluation.reviewer.html"])
def test_pages_load_in_headless_chromium_without_console_errors(run_folder, name, tmp_path):
    result = subprocess.run(
        [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         f"--user-data-dir={tmp_path}", "--enable-logging=stderr", "--v=0", "--dump-dom", "--virtual-time-budget=5000",
         (run_folder / name).as_uri()],
        capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr[-2000:]
    assert "</html>" in result.stdout or "</body>" in result.stdout
    console = [line for line in result.stderr.splitlines() if "CONSOLE" in line and ("Error" in line or "Uncaught" in line)]
    assert console == []
