"""Writing a run's pages: what the run folder holds of the checklist's evidence, and the runs page."""

import json

from bs4 import BeautifulSoup

from studylib.data.hashing import sha256_file
from studylib.evidence import ledger
from studylib.run import pages


def test_present_artifacts_reads_files_and_their_non_empty_keys(tmp_path):
    (tmp_path / "results").mkdir()
    (tmp_path / "results" / "cohort.json").write_text(json.dumps(
        {"steps": [1], "missingness": {}, "gates": None, "table_one": 0}))
    (tmp_path / "results" / "evaluation.json").write_text("not json")
    (tmp_path / "results" / "drift.json").write_text("[1, 2]")
    (tmp_path / "index.html").write_text("<html></html>")
    (tmp_path / "unrelated.txt").write_text("x")
    present = pages.present_artifacts(tmp_path)
    assert present == {"results/cohort.json": {"steps", "table_one"}, "results/evaluation.json": frozenset(),
                       "results/drift.json": frozenset(), "index.html": frozenset()}


def test_card_file_names_the_copied_card(tmp_path):
    assert pages.card_file(tmp_path) == "snapshot-card.yaml"
    (tmp_path / "snapshot-card.md").write_text("# card")
    assert pages.card_file(tmp_path) == "snapshot-card.md"


def test_archive_index_lists_runs_with_signoffs_from_the_ledger(tmp_path):
    reports = tmp_path / "reports"
    assert "No runs yet." in pages.write_archive_index(tmp_path).read_text()
    run = reports / "demo" / "20260101T000000Z-aaaaaa"
    run.mkdir(parents=True)
    (run / "manifest.json").write_text(json.dumps({"started_at": "2026-01-01T00:00:00+00:00", "verdict": "PASS",
                                                   "files": {}}))
    ledger.append(ledger.ledger_path(reports), {"kind": "signoff", "run": "demo/20260101T000000Z-aaaaaa",
                                                "manifest_sha256": "sha256:" + sha256_file(run / "manifest.json"),
                                                "reviewer": "<b>Ann</b>", "role": "QA", "decision": "approve"})
    path = pages.write_archive_index(reports)
    assert path == reports / "index.html" and not (reports / "index.html.tmp").exists()
    soup = BeautifulSoup(path.read_text(encoding="utf-8"), "html.parser")
    row = soup.find("tr", id="20260101T000000Z-aaaaaa")
    assert row.a["href"] == "demo/20260101T000000Z-aaaaaa/index.html" and "✔ PASS" in row.get_text()
    assert row.li.get_text().startswith("approved by <b>Ann</b> (QA)") and soup.find("b") is None


def test_runs_page_shows_title_model_and_blocking_gates_of_each_run(tmp_path):
    reports = tmp_path / "reports"
    run = reports / "demo" / "20260101T000000Z-aaaaaa"
    run.mkdir(parents=True)
    (run / "manifest.json").write_text(json.dumps({
        "started_at": "2026-01-01T00:00:00+00:00", "verdict": "FAIL",
        "models": {"candidate": {"name": "flc-risk", "version": "2.0.0"}}}))
    (run / "params.yaml").write_text("study:\n  id: demo\n  title: Risk model v2 <i>against</i> v1\n")
    (run / "verdict.json").write_text(json.dumps({"verdict": "FAIL", "gates": [
        {"stage": "evaluation", "id": "AC-5", "subject": "calibration slope", "verdict": "FAIL", "estimate": 0.9,
         "lower": 0.79, "upper": 0.97, "rule": "95% interval within [0.8, 1.2]", "blocks": True},
        {"stage": "evaluation", "id": "AC-1", "subject": "sensitivity", "verdict": "PASS", "blocks": True,
         "rule": "r"}]}))
    (reports / "demo" / "20260102T000000Z-bbbbbb").mkdir()  # a folder without anything readable
    soup = BeautifulSoup(pages.write_archive_index(reports).read_text(encoding="utf-8"), "html.parser")
    row = soup.find("tr", id="20260101T000000Z-aaaaaa").get_text(" ")
    assert "Risk model v2 <i>against</i> v1" in row and "flc-risk 2.0.0" in row and "AC-5" in row
    assert "AC-1" not in row and soup.find("i") is None
    assert "none" in soup.find("tr", id="20260102T000000Z-bbbbbb").get_text(" ")
def test_present_artifacts_reads_the_fields_of_the_yaml_dataset_card(tmp_path):
    (tmp_path / "snapshot-card.yaml").write_text("source: a registry\ncollection: ''\nknown_limitations: [one]\n")
    assert pages.present_artifacts(tmp_path) == {"snapshot-card.yaml": {"source", "known_limitations"}}
