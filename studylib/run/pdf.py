"""``report.pdf`` of a run: the summary, the reporting checklist, the validation matrix and the four reviewer
stage reports, printed by headless Chromium and merged into one PDF with bookmarks (pypdf).

Why Chromium: the pages are HTML written for a browser (CSS grid and flex, SVG and PNG figures, the
print CSS of :mod:`studylib.report`); Chromium prints exactly what a reviewer sees, with the running
header (study id, run id, page numbers) of the pages' ``@page`` rules and an outline of their headings.
Python HTML-to-PDF libraries (WeasyPrint, xhtml2pdf) lay out the JupyterLab CSS of the stage reports
differently and were not used. One browser prints every page, each in a tab of its own, with the
settings of ``chromium --headless --print-to-pdf --no-pdf-header-footer --generate-pdf-document-outline
--virtual-time-budget=10000`` (:mod:`studylib.run.browser`); starting it once per page cost about a
CPU-second a page.

Two ways to get it: ``studylib run --pdf`` prints it before the manifest is written (so it is hashed
like every other file), and ``studylib pdf RUN`` adds it to an archived run: the checklist is rewritten to link it, and the manifest
gains the PDF's hash (and the checklist's new one) and the ledger a new entry for the run with the new manifest hash (the run's sign-offs,
signed on the old manifest, would no longer verify, so a signed run is refused).
"""

from __future__ import annotations

import datetime as dt
import io
import json
import os
from collections.abc import Callable
from pathlib import Path

import yaml

from studylib.data.hashing import sha256_file
from studylib.errors import StudyInputError
from studylib.evidence import ledger
from studylib.evidence import results as evidence
from studylib.evidence import verify as verifier
from studylib.run import pages
from studylib.run.browser import Browser, BrowserError, chromium

PDF = "report.pdf"
CHECKLIST = "checklist.html"
_STAGE_TITLES = {"01": "Stage 1: cohort", "02": "Stage 2: evaluation", "03": "Stage 3: subgroups",
                 "04": "Stage 4: drift"}


def pages_of(folder: Path) -> list[tuple[str, Path]]:
    """The pages of ``report.pdf`` in order, each with its bookmark title: summary, checklist, validation
    matrix, then the reviewer rendering of every stage that has one."""
    folder = Path(folder)
    found = [("Summary", folder / "index.html"), ("Reporting checklist", folder / "checklist.html"),
             ("Validation matrix", folder / "matrix.html")]
    for path in sorted((folder / "notebooks").glob("*.reviewer.html")):
        number = path.name[:2]
        found.append((_STAGE_TITLES.get(number, path.name.removesuffix(".reviewer.html")), path))
    return [(title, path) for title, path in found if path.is_file()]


def build(folder: Path, *, run: str = "", log: Callable[[str], None] = lambda m: None) -> Path:
    """Write ``report.pdf`` of a run folder (or staging folder) and return its path; ``run`` names the run
    (``<study-id>/<run-id>``) in the PDF's title (default: from the folder).

    Raises
    ------
    StudyInputError
        No Chromium to print with (install the ``chromium`` package or set ``STUDYLIB_CHROMIUM``).
    RuntimeError
        Chromium could not start, or could not print a page (:class:`~studylib.run.browser.BrowserError`,
        naming the page and what Chromium said).
    """
    from pypdf import PdfReader, PdfWriter

    folder = Path(folder)
    browser = chromium()
    if browser is None:
        raise StudyInputError("studylib pdf needs headless Chromium: install it (Debian: apt-get install chromium) "
                              "or set STUDYLIB_CHROMIUM to the browser's executable")
    target = folder / PDF
    run = run or f"{folder.parent.name}/{folder.name}"
    writer = PdfWriter()
    with Browser(browser, timeout=300) as printer:
        for title, page in pages_of(folder):
            log(f"  printing {page.relative_to(folder).as_posix()}")
            try:
                printed = printer.print_pdf(page)
            except BrowserError as exc:
                raise RuntimeError(f"Chromium could not print {page.name}: {exc}") from exc
            writer.append(PdfReader(io.BytesIO(printed)), outline_item=title, import_outline=True)
    writer.add_metadata({"/Title": f"Validation study report — run {run}",
                         "/Creator": "studylib (headless Chromium, pypdf)"})
    writer.page_mode = "/UseOutlines"
    partial = target.with_name(target.name + ".tmp")
    with open(partial, "wb") as out:
        writer.write(out)
    os.replace(partial, target)
    return target


def add_to_run(folder: str | Path, *, log: Callable[[str], None] = lambda m: None) -> Path:
    """Print ``report.pdf`` into an archived run and record it: the manifest lists the file with its hash
    and the ledger gets a new entry for the run holding the new manifest hash.

    Raises
    ------
    StudyInputError
        The run does not verify, already has a PDF, or has sign-offs (they signed the manifest as it is).
    """
    check = verifier.verify_run(folder)
    folder = check.folder
    if not check.ok:
        raise StudyInputError(f"{check.run}: fails verification, refusing to add a PDF: " + "; ".join(check.problems))
    if (folder / PDF).exists():
        raise StudyInputError(f"{check.run}: {PDF} already exists (it is listed in the manifest)")
    reports = folder.parent.parent
    if any(e.get("kind") == "signoff" and e.get("run") == check.run for e in ledger.read(ledger.ledger_path(reports))):
        raise StudyInputError(f"{check.run}: has sign-offs on its manifest; adding {PDF} would change the manifest "
                              "they signed. Print it with `studylib run --pdf` on a new run, or print the pages "
                              "from a browser")
    manifest_path = folder / "manifest.json"
    previous = "sha256:" + sha256_file(manifest_path)
    title = (yaml.safe_load((folder / "params.yaml").read_text(encoding="utf-8")) or {}).get("study", {}).get("title", "")
    before = (folder / CHECKLIST).read_bytes()
    pages.write_checklist(folder, title, pdf=True)  # the checklist links the PDF (and is printed into it)
    try:
        build(folder, log=log)
    except BaseException:
        (folder / CHECKLIST).write_bytes(before)  # the run stays as it was verified
        raise
    manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    for name in (PDF, CHECKLIST):
        manifest["files"][name] = {"sha256": sha256_file(folder / name), "bytes": (folder / name).stat().st_size}
    manifest.setdefault("amendments", []).append({
        "added": [PDF], "changed": [CHECKLIST], "at": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        "previous_manifest_sha256": previous})
    evidence.write_text_atomically(manifest_path, json.dumps(manifest, indent=2, sort_keys=True) + "\n")
    ledger.append(ledger.ledger_path(reports), {
        "kind": "run", "run": check.run, "study_id": manifest.get("study_id"), "verdict": manifest.get("verdict"),
        "exit_code": manifest.get("exit_code"), "manifest_sha256": "sha256:" + sha256_file(manifest_path),
        "amends": previous, "adds": [PDF], "changes": [CHECKLIST]})
    return folder / PDF
