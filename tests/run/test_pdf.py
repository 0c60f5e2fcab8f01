"""report.pdf and the printed pages: every gate row keeps its interval and verdict on paper, no page
overflows horizontally at 1366 px, and the PDF is hashed into the manifest and the ledger."""

import json
import re
import shutil
import subprocess

import pytest

from studylib.report.stage_pages import true_minus
from studylib.run import pdf
from tests.browser import Browser

CHROMIUM = pdf.chromium()
PDFTOTEXT = shutil.which("pdftotext")
needs_browser = pytest.mark.skipif(CHROMIUM is None or PDFTOTEXT is None,
                                   reason="needs Debian chromium and poppler-utils (apt-get install -y chromium poppler-utils)")

# evaluated in a page after its load: how far the page and any scrolling box overflow horizontally
_MEASURE = """(() => { const boxes = [];
  for (const e of document.querySelectorAll('body *')) {
    const x = getComputedStyle(e).overflowX;
    if (e.clientWidth > 0 && e.scrollWidth > e.clientWidth + 1 && x !== 'visible' && x !== 'clip')
      boxes.push(e.tagName + ' ' + String(e.className).slice(0, 30) + ' ' + e.scrollWidth + '>' + e.clientWidth); }
  return {page: document.documentElement.scrollWidth - document.documentElement.clientWidth, boxes: boxes}; })()"""


def _pdf_text(path, first=None, last=None) -> str:
    pages = (["-f", str(first)] if first else []) + (["-l", str(last)] if last else [])
    return subprocess.run([PDFTOTEXT, "-layout", *pages, str(path), "-"], capture_output=True, text=True,
                          check=True).stdout


def test_pages_in_order_with_bookmark_titles(tmp_path):
    (tmp_path / "notebooks").mkdir()
    for name in ("index.html", "checklist.html", "matrix.html", "notebooks/02_evaluation.reviewer.html",
                 "notebooks/01_cohort.reviewer.html", "notebooks/01_cohort.full.html"):
        (tmp_path / name).write_text("<html></html>")
    assert [(t, p.relative_to(tmp_path).as_posix()) for t, p in pdf.pages_of(tmp_path)] == [
        ("Summary", "index.html"), ("Reporting checklist", "checklist.html"), ("Validation matrix", "matrix.html"),
        ("Stage 1: cohort", "notebooks/01_cohort.reviewer.html"),
        ("Stage 2: evaluation", "notebooks/02_evaluation.reviewer.html")]


def test_without_chromium_the_message_says_what_to_install(tmp_path, monkeypatch):
    from studylib.errors import StudyInputError

    monkeypatch.setattr(pdf, "chromium", lambda: None)
    with pytest.raises(StudyInputError, match="needs headless Chromium: install it"):
        pdf.build(tmp_path)


def test_a_browser_that_dies_is_named_with_the_page_and_what_it_said(tmp_path, monkeypatch):
    (tmp_path / "index.html").write_text("<html></html>")
    dying = tmp_path / "chromium"
    dying.write_text("#!/bin/sh\necho 'Trace/breakpoint trap: no usable sandbox' >&2\nexit 5\n")
    dying.chmod(0o755)
    monkeypatch.setenv("STUDYLIB_CHROMIUM", str(dying))
    with pytest.raises(RuntimeError, match=r"Chromium could not print index.html: .*exited with status 5\): "
                                           r"Trace/breakpoint trap: no usable sandbox"):
        pdf.build(tmp_path)
    assert not (tmp_path / "report.pdf").exists() and not (tmp_path / "report.pdf.tmp").exists()


@pytest.fixture(scope="module")
def printed(archived_run, tmp_path_factory):
    """A copy of the session run (its reports folder with the ledger) with report.pdf added."""
    reports = tmp_path_factory.mktemp("pdf") / "reports"
    shutil.copytree(archived_run.folder.parent.parent, reports)
    folder = reports / archived_run.folder.parent.name / archived_run.folder.name
    if CHROMIUM is None:
        pytest.skip("Debian chromium is not installed (apt-get install -y chromium)")
    pdf.add_to_run(folder)
    return folder


@pytest.mark.e2e
@needs_browser
def test_pdf_holds_every_gate_row_with_interval_and_verdict(printed):
    from pypdf import PdfReader

    reader = PdfReader(printed / "report.pdf")
    titles = [item.title for item in reader.outline if not isinstance(item, list)]
    assert titles[:2] == ["Summary", "Reporting checklist"] and "Stage 3: subgroups" in titles
    starts = {item.title: reader.get_destination_page_number(item) + 1 for item in reader.outline
              if not isinstance(item, list)}
    summary = " ".join(_pdf_text(printed / "report.pdf", 1, starts["Reporting checklist"] - 1).split())
    stage3 = " ".join(_pdf_text(printed / "report.pdf", starts["Stage 3: subgroups"],
                                starts.get("Stage 4: drift", len(reader.pages) + 1) - 1).split())
    gates = json.loads((printed / "verdict.json").read_text())["gates"]
    words = {"PASS": "PASS", "FAIL": "FAIL", "INSUFFICIENT_EVIDENCE": "INSUFFICIENT EVIDENCE"}
    for gate in gates:
        # estimate and lower bound: a narrow column may put the interval on the next line of the cell
        interval = (true_minus(f"({gate['lower']:.3f}") if gate.get("lower") is not None else None)
        verdict_words = words.get(gate["verdict"], gate["verdict"])
        texts = [summary] + ([stage3] if gate["stage"] == "subgroups" else [])
        for text in texts:
            start = text.find(gate["id"] + " ")
            assert start >= 0, f"{gate['id']} is not in the printed page"
            if interval:
                assert interval in text, f"{gate['id']}: interval {interval} lost in print"
        assert re.search(re.escape(verdict_words) + "|FIRED", summary)
    # a gate row printed whole: its id, interval and verdict on the same stretch of text
    for gate in (g for g in gates if g["stage"] == "subgroups" and g.get("lower") is not None):
        row = stage3[stage3.find(gate["id"] + " "):][:300]
        assert true_minus(f"{gate['lower']:.3f}") in row and words[gate["verdict"]] in row, row


@pytest.mark.e2e
@needs_browser
def test_pdf_is_in_the_manifest_and_the_run_still_verifies(printed):
    from studylib.data.hashing import sha256_file
    from studylib.evidence import verify

    manifest = json.loads((printed / "manifest.json").read_text())
    assert manifest["files"]["report.pdf"]["sha256"] == sha256_file(printed / "report.pdf")
    assert manifest["amendments"][0]["added"] == ["report.pdf"]
    check = verify.verify_run(printed)
    assert check.ok, check.problems
    from studylib.errors import StudyInputError

    with pytest.raises(StudyInputError, match="already exists"):
        pdf.add_to_run(printed)


WIDE_PAGES = ["index.html", "checklist.html", "matrix.html", "notebooks/01_cohort.reviewer.html",
              "notebooks/02_evaluation.reviewer.html", "notebooks/03_subgroups.reviewer.html",
              "notebooks/04_drift.reviewer.html"]


@pytest.fixture(scope="module")
def overflow(archived_run) -> dict:
    """Each page of the session run measured at 1366 px in one headless Chromium (:data:`_MEASURE`)."""
    with Browser(width=1366, height=900) as browser:
        return {name: browser.load(archived_run.folder / name, _MEASURE) for name in WIDE_PAGES
                if (archived_run.folder / name).is_file()}


@pytest.mark.e2e
@needs_browser
@pytest.mark.parametrize("name", WIDE_PAGES)
def test_no_page_overflows_horizontally_at_1366_px(overflow, name):
    if name not in overflow:
        pytest.skip(f"the session run has no {name}")
    assert overflow[name].value == {"page": 0, "boxes": []}


@pytest.mark.e2e
@needs_browser
def test_checklist_of_a_printed_run_links_the_pdf(printed, archived_run):
    """Issue 14: the checklist lists report.pdf when the run has one (and not before)."""
    assert "report.pdf" not in (archived_run.folder / "checklist.html").read_text(encoding="utf-8")
    assert 'href="report.pdf"' in (printed / "checklist.html").read_text(encoding="utf-8")
    assert json.loads((printed / "manifest.json").read_text())["amendments"][0]["changed"] == ["checklist.html"]


def test_a_failed_print_leaves_the_checklist_as_it_was(archived_run, tmp_path, monkeypatch):
    reports = tmp_path / "reports"
    shutil.copytree(archived_run.folder.parent.parent, reports)
    folder = reports / archived_run.folder.parent.name / archived_run.folder.name
    before = (folder / "checklist.html").read_bytes()
    monkeypatch.setattr(pdf, "chromium", lambda: None)
    from studylib.errors import StudyInputError

    with pytest.raises(StudyInputError):
        pdf.add_to_run(folder)
    assert (folder / "checklist.html").read_bytes() == before


@pytest.mark.e2e
@needs_browser
def test_collapsed_sections_print_open(printed):
    """Issue 14: metrics no gate uses sit in collapsed sections on screen; the PDF keeps their numbers."""
    from bs4 import BeautifulSoup

    page = BeautifulSoup((printed / "notebooks" / "02_evaluation.reviewer.html").read_text(encoding="utf-8"),
                         "html.parser")
    collapsed = page.select("details.sl-ungated table")
    assert collapsed, "the evaluation report has no collapsed table"
    cells = {td.get_text(" ", strip=True) for table in collapsed for td in table.find_all("td")}
    cells = {c for c in cells if re.search(r"\d\.\d{3}", c)}
    text = "".join(_pdf_text(printed / "report.pdf").split())
    missing = [c for c in cells if "".join(true_minus(c).split()) not in text]
    assert cells and missing == []
