"""The run's HTML pages: escaping, checklist, links that resolve, self-containment and accessibility,
and a real browser loading them."""

import json
import re
import shutil
import subprocess
from pathlib import Path
from types import SimpleNamespace
from urllib.parse import unquote, urlsplit

import pytest
from bs4 import BeautifulSoup

from studylib.report import checklist, pages, stage_pages
from studylib.report.stage_pages import true_minus
from studylib.run import pages as run_pages
from tests.browser import CHROMIUM, Browser
from tests.conftest import MARKUP_TITLE as TITLE


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
    statuses = checklist.assess(run_pages.present_artifacts(run_folder), run_pages.not_checked_gates(run_folder))
    assert len(statuses) == 25
    answered = {s.item.number for s in statuses if s.answered}
    assert {1, 3, 6, 9, 12, 16, 20, 21} <= answered
    assert 14 not in answered  # no index-test/reference dates in any snapshot
    assert 7 not in answered  # the tiny study declares no label time: LEAK-TIME was not checked
    page = (run_folder / "checklist.html").read_text()
    assert "LEAK-TIME: Not checked: data.label_time" in page
    assert f"{len(answered)} of 25 items" in page
    partly = sum(s.state == "partly answered" for s in statuses)
    assert page.count("– not answered") == 25 - len(answered) - partly  # one badge per unanswered item
    assert page.count("◐ partly answered") == partly


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


def test_sample_size_item_is_answered_by_the_pre_registered_plan_only_when_one_is_declared():
    """Item 10 (STARD 18): the run's results/plan.json holds each rule's size when the plan declares
    planning inputs; without them the file says so and the item is not answered by it."""
    declared = {s.item.number: s for s in checklist.assess({"results/plan.json": {"stage", "declared", "requirements"}})}
    assert declared[10].answered and [e.key for e in declared[10].answered_by] == ["requirements"]
    undeclared = {s.item.number: s for s in checklist.assess({"results/plan.json": {"stage", "declared"}})}
    assert not undeclared[10].answered


def test_checklist_item_resting_on_a_check_not_performed_is_not_answered():
    """Issue 13 item 12: the leakage item was marked answered although LEAK-TIME was not checked."""
    present = {"results/cohort.json": {"gates"}}
    before = {s.item.number: s for s in checklist.assess(present)}
    assert before[7].answered
    statuses = {s.item.number: s for s in checklist.assess(
        present, {"LEAK-TIME": "Not checked: data.label_time is not declared.", "AC-1": "elsewhere"})}
    assert not statuses[7].answered and statuses[7].answered_by  # the gates exist, but one check was not done
    assert statuses[7].not_checked == ("LEAK-TIME: Not checked: data.label_time is not declared.",)
    assert all(not s.not_checked for n, s in statuses.items() if n != 7)


def test_gates_not_checked_and_the_test_of_each_rule_are_shown():
    """Issue 13 items 9 and 12: a NOT_CHECKED gate is counted and shows its reason; each verdict its test."""
    gate = {"stage": "cohort", "id": "LEAK-TIME", "subject": "no prediction after the label",
            "verdict": "NOT_CHECKED", "rule": "not checked", "blocks": False,
            "sentence": "Not checked: data.label_time is not declared."}
    judged = {"stage": "cohort", "id": "LEAK-DUP", "subject": "s", "verdict": "PASS", "rule": "r", "blocks": True,
              "test": "check on every record (no sampling)"}
    rows = pages._gate_rows([gate, judged])
    assert rows[0]["mark"] == "– NOT CHECKED" and rows[0]["rule"] == gate["sentence"]
    assert rows[1]["test"] == "check on every record (no sampling)"
    summary = pages._summary([gate, judged])
    assert summary[0]["not_checked"] == 1 and summary[0]["passed"] == 1 and summary[0]["blocking"] == ""


def test_gate_rows_show_the_estimate_with_its_interval():
    gate = {"stage": "evaluation", "id": "AC-1", "subject": "AUROC", "verdict": "PASS", "rule": "r", "blocks": True}
    rows = pages._gate_rows([{**gate, "estimate": 0.81, "lower": 0.75, "upper": 0.86},
                             {**gate, "estimate": None, "lower": None, "upper": None},  # a yes/no check
                             {**gate, "estimate": 0.31, "lower": None, "upper": None},  # e.g. a PSI trigger
                             {**gate, "verdict": "FAIL", "estimate": None, "lower": None, "upper": None,
                              "sentence": "x: AUROC does not meet the rule; its estimate is withheld because ..."}], threshold=5)
    assert [r["estimate"] for r in rows] == ["0.810 (0.750–0.860)", "—", "0.310", "withheld (<5)"]


def test_archive_page_lists_runs_newest_first_with_signoffs():
    runs = [SimpleNamespace(study="demo", run_id="r1", started_at="2026-01-01T00:00:00+00:00", verdict="PASS",
                            signoffs=({"decision": "approve", "reviewer": "Ann <b>", "role": "QA",
                                       "signed_at": "2026-01-02", "signature": "…", "comment": "fine & <i>done</i>",
                                       "status": "verified"},
                                      {"decision": "approve", "reviewer": "Mal", "role": "QA", "signed_at": "2026-01-03",
                                       "status": "invalid: not signed"})),
            SimpleNamespace(study="demo", run_id="r2", started_at="2026-02-01T00:00:00+00:00", verdict="FAIL",
                            signoffs=())]
    soup = BeautifulSoup(pages.render_archive(runs), "html.parser")
    rows = soup.tbody.find_all("tr")
    assert [r["id"] for r in rows] == ["r2", "r1"]
    assert rows[0].find("a")["href"] == "demo/r2/index.html" and "✘ FAIL" in rows[0].get_text()
    first, forged = rows[1].find_all("li")
    assert first.get_text() == "approved by Ann <b> (QA) on 2026-01-02 — signature verified: fine & <i>done</i>"
    assert forged.get_text().startswith("INVALID sign-off (not counted) by Mal") and "approved" not in forged.get_text()
    assert soup.find("b") is None and soup.find("i") is None
    empty = BeautifulSoup(pages.render_archive([]), "html.parser")
    assert empty.tbody.get_text(strip=True) == "No runs yet."


def test_templates_refuse_undefined_names():
    import jinja2

    with pytest.raises(jinja2.UndefinedError, match="runs"):
        pages._render("archive.html.j2")


CONSOLE_PAGES = ["index.html", "checklist.html", "notebooks/02_evaluation.reviewer.html"]


@pytest.fixture(scope="module")
def loaded_pages(archived_run) -> dict:
    """The pages loaded in one headless Chromium (a tab each): DOM, console errors, uncaught exceptions."""
    with Browser() as browser:
        return {name: browser.load(archived_run.folder / name) for name in CONSOLE_PAGES}


@pytest.mark.e2e
@pytest.mark.skipif(CHROMIUM is None, reason="Debian chromium is not installed (apt-get install -y chromium)")
@pytest.mark.parametrize("name", CONSOLE_PAGES)
def test_pages_load_in_headless_chromium_without_console_errors(loaded_pages, name):
    loaded = loaded_pages[name]
    assert "</html>" in loaded.dom or "</body>" in loaded.dom
    assert loaded.errors == []


@pytest.mark.e2e
@pytest.mark.skipif(CHROMIUM is None or shutil.which("pdftotext") is None,
                    reason="needs Debian chromium and poppler-utils (apt-get install -y chromium poppler-utils)")
def test_printed_index_keeps_every_gate_column(run_folder, tmp_path):
    """Printed to PDF, the gate table must not be clipped at the page edge: the interval, the rule and
    the "Blocks release" column of the gates are in the PDF's text."""
    pdf = tmp_path / "index.pdf"
    with Browser() as browser:  # as report.pdf prints it (studylib.run.pdf)
        pdf.write_bytes(browser.print_pdf(run_folder / "index.html"))
    text = " ".join(subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True,
                                   check=True).stdout.split())
    assert "Blocks" in text and "release" in text
    assert "lower 95% bound" in text  # the Rule column
    assert re.search(r"\([01]\.\d{3}–", text), "no interval in the printed gate table"


GATES = [
    {"stage": "evaluation", "id": "AC-1", "subject": "sensitivity (candidate)", "verdict": "PASS", "estimate": 0.81,
     "lower": 0.75, "upper": 0.86, "rule": "lower 95% bound >= 0.7", "blocks": True, "sentence": "Meets it."},
    {"stage": "evaluation", "id": "AC-5", "subject": "calibration_slope (candidate)", "verdict": "FAIL",
     "estimate": 0.886, "lower": 0.798, "upper": 0.974, "rule": "95% interval within [0.8, 1.2]", "blocks": True,
     "sentence": "The lower end 0.798 is below 0.8."},
    {"stage": "subgroups", "id": "SG-1[age=90+]", "subject": "age = 90+: sensitivity", "verdict": "INSUFFICIENT_EVIDENCE",
     "estimate": None, "lower": None, "upper": None, "rule": "lower 95% bound >= 0.5", "blocks": True,
     "sentence": "age = 90+: sensitivity could not be judged: 43 positives and 9 negatives; the plan requires 20."},
    {"stage": "subgroups", "id": "SG-1[age=50–59]", "subject": "age = 50–59: sensitivity", "verdict": "FAIL",
     "estimate": None, "lower": None, "upper": None, "rule": "lower 95% bound >= 0.5", "blocks": True,
     "sentence": "its estimate is withheld because it would disclose a count below 5 (small-cell suppression)."},
    {"stage": "drift", "id": "TR-4", "subject": "p_adjusted of any_feature", "verdict": "FAIL", "estimate": 0.0,
     "lower": None, "upper": None, "rule": "p_adjusted of any_feature: estimate < 0.05 in any window → clinical_review",
     "blocks": False, "sentence": "FIRED for age."},
    {"stage": "drift", "id": "TR-2", "subject": "oe_ratio of score", "verdict": "PASS", "estimate": 1.2, "lower": 0.9,
     "upper": 1.5, "rule": "oe_ratio of score: 95% interval excludes 1 → revalidate", "blocks": True,
     "sentence": "Did not fire."},
    {"stage": "drift", "id": "TR-9", "subject": "auroc of score", "verdict": "NOT CHECKED", "rule": "auroc of score",
     "blocks": True, "reason": "no monitoring window has outcomes"},
]


def test_why_lists_blocking_failures_first_then_insufficient_then_not_checked():
    rows = pages._gate_rows(GATES, {"evaluation": "notebooks/02_evaluation.reviewer.html"}, threshold=5)
    why = pages.why(rows)
    assert [r["id"] for r in why["failed"]] == ["AC-5", "SG-1[age=50–59]"]
    assert [r["id"] for r in why["insufficient"]] == ["SG-1[age=90+]"]
    assert [(r["id"], r["sentence"]) for r in why["not_checked"]] == [("TR-9", "no monitoring window has outcomes")]
    assert [r["id"] for r in why["not_blocking"]] == ["TR-4"]
    assert [(stage, [r["id"] for r in rows]) for stage, rows in why["passed"]] == [("Evaluation", ["AC-1"]),
                                                                                  ("Drift", ["TR-2"])]
    failed = why["failed"][0]
    assert failed["estimate"] == "0.886 (0.798–0.974)" and failed["subject"] == "calibration slope (candidate)"
    assert failed["href"] == "notebooks/02_evaluation.reviewer.html#gate-AC-5"
    assert why["failed"][1]["estimate"] == "withheld (<5)"  # never a bare "—" beside a FAIL
    trigger = next(r for r in rows if r["id"] == "TR-4")
    assert (trigger["state"], trigger["mark"], trigger["action"]) == ("FIRED", "⚑ FIRED", "clinical review")
    assert trigger["rule"] == "any feature (adjusted p): estimate < 0.05 in any window"
    assert trigger["estimate"] == "<0.001"  # a p-value reads as one
    assert next(r for r in rows if r["id"] == "TR-2")["state"] == "NOT FIRED"


def test_blocking_gates_with_a_one_line_reason():
    found = pages.blocking(GATES)
    assert [g["id"] for g in found] == ["AC-5", "SG-1[age=50–59]", "SG-1[age=90+]", "TR-9"]
    assert found[0]["reason"] == "calibration slope (candidate) 0.886 (0.798–0.974); rule: 95% interval within [0.8, 1.2]"
    assert found[2]["reason"] == "age = 90+: sensitivity could not be judged: 43 positives and 9 negatives"
    assert found[3]["reason"] == "no monitoring window has outcomes"
    assert all("\n" not in g["reason"] for g in found)


def test_archive_page_shows_title_model_and_blocking_gates():
    runs = [SimpleNamespace(study="demo", run_id="r1", started_at="2026-01-01", verdict="FAIL", signoffs=())]
    details = {"demo/r1": {"title": "Model v2 <b>", "model": "flc-risk 2.0.0", "blocking": pages.blocking(GATES)}}
    row = BeautifulSoup(pages.render_archive(runs, details), "html.parser").find("tr", id="r1")
    text = row.get_text(" ")
    assert "Model v2 <b>" in text and "flc-risk 2.0.0" in text and "AC-5, SG-1[age=50–59]" in text


@pytest.mark.e2e
def test_summary_names_every_blocking_gate_with_its_interval_and_reason(run_folder):
    import json

    recorded = json.loads((run_folder / "verdict.json").read_text())["gates"]
    section = _soup(run_folder / "index.html").find("section", attrs={"aria-labelledby": "why-h"})
    assert section.h2.get_text() in ("Why it failed", "Why it passed", "Why the evidence is insufficient")
    blocking = [g for g in recorded if g.get("blocks", True) and g["verdict"] != "PASS"]
    shown = {tr.find("td").get_text(" ", strip=True): tr for tr in section.select("table.gates tbody tr")}
    for gate in blocking:
        row = shown[gate["id"]]
        cells = [td.get_text(" ", strip=True) for td in row.find_all("td")]
        if gate.get("lower") is not None:
            assert true_minus(f"({gate['lower']:.3f}") in cells[2]
        assert cells[4].endswith(gate["verdict"].replace("_", " ")) and cells[5]


@pytest.mark.e2e
def test_every_gate_link_resolves_to_an_anchor_of_its_stage_report(run_folder):
    import json

    recorded = json.loads((run_folder / "verdict.json").read_text())["gates"]
    links = [a["href"] for a in _soup(run_folder / "index.html").find_all("a", href=True) if "#gate-" in a["href"]]
    assert links, "no gate links"
    reports = {}
    for href in links:
        target, anchor = unquote(href).split("#")
        if target not in reports:
            reports[target] = _soup(run_folder / target)
        assert reports[target].find(id=anchor) is not None, f"{href}: no such anchor"
    ran = {g["stage"] for g in recorded}
    linked = {a.split("#")[1] for a in links}
    missing = [g["id"] for g in recorded if g["stage"] in ran and
               (run_folder / "notebooks").glob(f"*_{g['stage']}.reviewer.html") and
               "gate-" + "-".join(re.findall(r"[A-Za-z0-9_]+", g["id"])) not in linked]
    assert missing == []
    for name, soup in reports.items():  # every stage report links back to the summary
        assert soup.find("nav").a["href"] == "../index.html"
        assert "Figure —" not in soup.get_text()
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


def test_partly_answered_items_render_distinctly_with_what_is_missing():
    """Issue 14: a partly answered item has its own badge and names the missing dataset-card field."""
    card = "snapshot-card.yaml"
    statuses = checklist.assess({card: frozenset({"source", "known_limitations", "label_provenance"})})
    by_number = {s.item.number: s for s in statuses}
    assert [e.key for e in by_number[2].missing] == ["collection"]
    assert [e.key for e in by_number[23].missing] == ["population_gaps"]
    page = pages.render_checklist("A study", statuses)
    soup = BeautifulSoup(page, "html.parser")
    row = next(tr for tr in soup.find_all("tr") if tr.td and tr.td.get_text(strip=True) == "2")
    assert row.find("span", class_="PARTLY").get_text(strip=True) == "◐ partly answered"
    missing = row.find("span", class_="missing")
    assert missing.get_text("", strip=False).startswith("Missing: dataset card: setting, sites and collection window")
    assert missing.code.get_text() == "collection"
    assert "report.pdf" not in page and "1 item" not in page
    assert 'href="report.pdf"' in pages.render_checklist("A study", statuses, pdf=True)


def estimate_mismatches(folder) -> list[str]:
    """Gates whose estimate reads differently on the summary and on the row of its stage report (the row the
    summary links to): the same number must have the same text (decimals, sign, minus, p-value) on every page."""
    gates = json.loads((folder / "verdict.json").read_text(encoding="utf-8"))["gates"]
    index = BeautifulSoup((folder / "index.html").read_text(encoding="utf-8"), "html.parser")
    reports, out = {}, []
    for gate in gates:
        anchor = "#" + stage_pages.gate_anchor(gate["id"])
        link = index.find("a", href=lambda h, a=anchor: bool(h) and h.endswith(a))
        if link is None:
            continue
        cell = link.find_parent("tr").find("td", attrs={"data-label": lambda v: bool(v) and v.startswith("Estimate")})
        shown = cell.get_text(" ", strip=True)
        if shown == "—":  # no estimate (a count check, not checked): nothing to compare
            continue
        page = link["href"].split("#")[0]
        soup = reports.setdefault(page, BeautifulSoup((folder / page).read_text(encoding="utf-8"), "html.parser"))
        row = soup.find(id=anchor[1:])
        cells = [c.get_text(" ", strip=True) for c in row.find_all(["td", "th"])] if row else []
        if shown not in cells:
            out.append(f"{gate['id']}: summary '{shown}', stage row {cells}")
    return out


def test_every_gate_estimate_reads_the_same_on_the_summary_and_its_stage_page(run_folder):
    assert estimate_mismatches(run_folder) == []
