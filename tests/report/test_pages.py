"""The run's HTML pages: escaping, checklist, links that resolve, self-containment and accessibility,
and a real browser loading them."""

import re
import shutil
import subprocess
from pathlib import Path
from types import SimpleNamespace
from urllib.parse import unquote, urlsplit

import pytest
from bs4 import BeautifulSoup

from studylib.report import checklist, pages
from studylib.run import pages as run_pages
from tests.conftest import MARKUP_TITLE as TITLE

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.fixture
def run_folder(archived_run):
    """The session's tiny study run (conftest), whose title holds markup (MARKUP_TITLE)."""
    return archived_run.folder


def _soup(page: Path) -> BeautifulSoup:
    return BeautifulSoup(page.read_text(encoding="utf-8"), "html.parser")


def _links(page: Path) -> list[str]:
    return [unquote(a["href"]) for a in _soup(page).find_all(href=True)]


@pytest.mark.e2e
def test_strings_from_parameters_are_escaped(run_folder):
    soup = _soup(run_folder / "index.html")
    assert soup.find("script") is None
    assert soup.h1.get_text() == TITLE and soup.title.get_text().startswith(TITLE)


@pytest.mark.e2e
@pytest.mark.parametrize("name", ["index.html", "checklist.html"])
def test_every_local_link_resolves(run_folder, name):
    for href in _links(run_folder / name):
        target = href.split("#")[0]
        if target.startswith(("http:", "https:")) or not target:
            continue
        assert (run_folder / target).exists(), f"{name} links to missing {href}"


_RESOURCE_ATTRIBUTES = ("src", "href", "srcset", "data", "action", "poster", "background", "xlink:href")


def self_containment_problems(page: str) -> list[str]:
    """What makes ``page`` load something from elsewhere or run code: scripts, elements whose
    src/href/… point to another host (``http:``, ``https:``, ``//``), CSS that imports or loads URLs
    from another host."""
    soup = BeautifulSoup(page, "html.parser")
    found = [f"<script src={s.get('src')!r}>" if s.get("src") else "<script>" for s in soup.find_all("script")]
    for element in soup.find_all(lambda e: e.name != "script"):
        for name in _RESOURCE_ATTRIBUTES:
            value = element.get(name)
            for url in (value.split(",") if name == "srcset" and value else [value] if value else []):
                parts = urlsplit(url.strip().split(" ")[0])
                if parts.scheme in ("http", "https") or parts.netloc:
                    found.append(f"<{element.name} {name}={url!r}>")
    css = " ".join([s.get_text() for s in soup.find_all("style")] + [e["style"] for e in soup.find_all(style=True)])
    found += [f"CSS {m}" for m in re.findall(r"(?:@import|url\()\s*['\"]?\s*(?:https?:)?//[^'\")\s;]*", css)]
    return found


def accessibility_problems(page: str) -> list[str]:
    """What the page misses for screen readers: ``lang`` on ``html``, a heading, ``scope`` on every table
    header, alt text on every image."""
    soup = BeautifulSoup(page, "html.parser")
    found = [] if soup.html is not None and soup.html.get("lang") else ["no lang on <html>"]
    found += [] if soup.find("h1") is not None else ["no <h1>"]
    found += [f"<th> without scope: {th.get_text()[:40]!r}" for th in soup.find_all("th")
              if th.get("scope") not in ("col", "row", "colgroup", "rowgroup")]
    found += [f"<img> without alt: {str(i.get('src'))[:40]!r}" for i in soup.find_all("img") if not i.get("alt")]
    return found


def test_the_page_checks_find_what_they_name():
    bad = ('<html><head><link rel="stylesheet" href="https://cdn.example.org/x.css">'
           "<style>@import url('https://fonts.example.org/f.css'); @import \"http://example.org/y.css\"; "
           "body { background: url(//example.org/b.png) } a { background: url(local.png) }</style>"
           '<script src="https://cdn.example.org/x.js"></script><script>1</script></head><body><p>no heading</p>'
           '<img src="//example.org/a.png"><img alt="b" srcset="b.png 1x, https://example.org/b2.png 2x">'
           '<table><tr><th>x</th></tr></table><a href="https://example.org">link</a></body></html>')
    assert self_containment_problems(bad) == [
        "<script src='https://cdn.example.org/x.js'>", "<script>", "<link href='https://cdn.example.org/x.css'>",
        "<img src='//example.org/a.png'>", "<img srcset=' https://example.org/b2.png 2x'>",
        "<a href='https://example.org'>", "CSS url('https://fonts.example.org/f.css",
        'CSS @import "http://example.org/y.css', "CSS url(//example.org/b.png"]
    assert accessibility_problems(bad) == ["no lang on <html>", "no <h1>", "<th> without scope: 'x'",
                                           "<img> without alt: '//example.org/a.png'"]
    good = ('<html lang="en"><head><style>a { color: red }</style></head><body><h1>t</h1><a href="x.html">x</a>'
            '<table><tr><th scope="col">x</th></tr></table><img alt="a figure" src="data:image/png;base64,AA">'
            "</body></html>")
    assert self_containment_problems(good) == [] and accessibility_problems(good) == []


@pytest.mark.e2e
def test_index_is_self_contained_and_accessible(run_folder):
    page = (run_folder / "index.html").read_text(encoding="utf-8")
    assert self_containment_problems(page) == []
    assert accessibility_problems(page) == []
    assert "@media print" in page and "max-width: 600px" in page  # printable, readable at phone width
    verdict = _soup(run_folder / "index.html").find("div", class_="verdict")
    name = [c for c in verdict["class"] if c != "verdict"]
    assert verdict["role"] == "status" and name and name[0] in ("PASS", "FAIL", "INSUFFICIENT_EVIDENCE", "ERROR")
    # the verdict is given in words as well as colour
    assert {"PASS": "✔ PASS", "FAIL": "✘ FAIL"}.get(name[0], "INSUFFICIENT") in verdict.get_text()


@pytest.mark.e2e
@pytest.mark.parametrize("name", ["checklist.html", "../../index.html"])
def test_other_pages_are_self_contained_and_accessible(run_folder, name):
    page = (run_folder / name).read_text(encoding="utf-8")
    assert self_containment_problems(page) == []
    assert accessibility_problems(page) == []


@pytest.mark.e2e
def test_checklist_maps_items_to_existing_artifacts(run_folder):
    statuses = checklist.assess(run_pages.present_artifacts(run_folder))
    assert len(statuses) == 25
    answered = {s.item.number for s in statuses if s.answered}
    assert {1, 3, 6, 9, 12, 16, 20, 21} <= answered
    assert 14 not in answered  # no index-test/reference dates in any snapshot
    page = (run_folder / "checklist.html").read_text()
    assert f"{len(answered)} of 25 items" in page
    assert page.count("not answered") == 25 - len(answered)  # one badge per unanswered item


def test_checklist_is_judged_on_present_files_and_non_empty_keys():
    results = {"steps": [{"id": "I1"}], "missingness": {}, "gates": None}
    present = {"results/cohort.json": {k for k, v in results.items() if v not in (None, [], {})},
               "index.html": set()}
    statuses = {s.item.number: s for s in checklist.assess(present)}
    assert [e.file for e in statuses[1].answered_by] == ["index.html"]
    assert [(e.file, e.key) for e in statuses[3].answered_by] == [("results/cohort.json", "steps")]
    assert not statuses[4].answered and not statuses[7].answered  # empty missingness, null gates
    assert not statuses[2].answered  # no dataset card
    assert checklist.files()["results/cohort.json"] and not checklist.files()["index.html"]


def test_gate_rows_show_the_estimate_with_its_interval():
    gate = {"stage": "evaluation", "id": "AC-1", "subject": "AUROC", "verdict": "PASS", "rule": "r", "blocks": True}
    rows = pages._gate_rows([{**gate, "estimate": 0.81, "lower": 0.75, "upper": 0.86},
                             {**gate, "estimate": None, "lower": None, "upper": None},  # a yes/no check
                             {**gate, "estimate": 0.31, "lower": None, "upper": None}])  # e.g. a PSI trigger
    assert [r["estimate"] for r in rows] == ["0.810 (0.750–0.860)", "—", "0.310"]


def test_archive_page_lists_runs_newest_first_with_signoffs():
    runs = [SimpleNamespace(study="demo", run_id="r1", started_at="2026-01-01T00:00:00+00:00", verdict="PASS",
                            signoffs=({"decision": "approve", "reviewer": "Ann <b>", "role": "QA",
                                       "signed_at": "2026-01-02", "signature": "…", "comment": "fine & <i>done</i>"},)),
            SimpleNamespace(study="demo", run_id="r2", started_at="2026-02-01T00:00:00+00:00", verdict="FAIL",
                            signoffs=())]
    soup = BeautifulSoup(pages.render_archive(runs), "html.parser")
    rows = soup.tbody.find_all("tr")
    assert [r["id"] for r in rows] == ["r2", "r1"]
    assert rows[0].find("a")["href"] == "demo/r2/index.html" and "✘ FAIL" in rows[0].get_text()
    assert rows[1].li.get_text() == "approved by Ann <b> (QA) on 2026-01-02 — signed: fine & <i>done</i>"
    assert soup.find("b") is None and soup.find("i") is None
    empty = BeautifulSoup(pages.render_archive([]), "html.parser")
    assert empty.tbody.get_text(strip=True) == "No runs yet."


def test_templates_refuse_undefined_names():
    import jinja2

    with pytest.raises(jinja2.UndefinedError, match="runs"):
        pages._render("archive.html.j2")


@pytest.mark.e2e
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


@pytest.mark.e2e
@pytest.mark.skipif(CHROMIUM is None or shutil.which("pdftotext") is None,
                    reason="needs Debian chromium and poppler-utils (apt-get install -y chromium poppler-utils)")
def test_printed_index_keeps_every_gate_column(run_folder, tmp_path):
    """Printed to PDF, the gate table must not be clipped at the page edge: the interval, the rule and
    the "Blocks release" column of the gates are in the PDF's text."""
    pdf = tmp_path / "index.pdf"
    subprocess.run([CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                    "--disable-background-networking", "--disable-component-update", "--disable-sync",
                    f"--user-data-dir={tmp_path / 'profile'}", "--no-pdf-header-footer", f"--print-to-pdf={pdf}",
                    (run_folder / "index.html").as_uri()], capture_output=True, timeout=120, check=True)
    text = " ".join(subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True,
                                   check=True).stdout.split())
    assert "Blocks" in text and "release" in text
    assert "lower 95% bound" in text  # the Rule column
    assert re.search(r"\([01]\.\d{3}–", text), "no interval in the printed gate table"


def test_card_items_are_answered_only_by_the_fields_that_answer_them():
    card = "snapshot-card.yaml"
    every = {"source", "collection", "label_provenance", "known_limitations", "population_gaps"}
    full = {s.item.number: s.state for s in checklist.assess({card: every})}
    assert (full[2], full[5], full[23]) == ("answered",) * 3
    one_line = {s.item.number: s for s in checklist.assess({card: frozenset()})}  # the card exists, no field
    assert [one_line[n].state for n in (2, 5, 23)] == ["partly answered"] * 3
    assert not any(one_line[n].answered for n in (2, 5, 23))
    some = {s.item.number: s for s in checklist.assess({card: {"source", "known_limitations", "label_provenance"}})}
    assert (some[2].state, some[5].state, some[23].state) == ("partly answered", "answered", "partly answered")
    assert [e.key for e in some[2].partly_by] == ["source", "collection"]
    markdown = {s.item.number: s.state for s in checklist.assess({"snapshot-card.md": frozenset()})}
    assert (markdown[2], markdown[5], markdown[23]) == ("partly answered",) * 3
    none = {s.item.number: s.state for s in checklist.assess({})}
    assert (none[2], none[5], none[23]) == ("not answered",) * 3
