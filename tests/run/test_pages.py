"""Writing a run's pages: what the run folder holds of the checklist's evidence, and the runs page."""

import json

from bs4 import BeautifulSoup

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
    (run / "manifest.json").write_text(json.dumps({"started_at": "2026-01-01T00:00:00+00:00", "verdict": "PASS"}))
    ledger.append(ledger.ledger_path(reports), {"kind": "signoff", "run": "demo/20260101T000000Z-aaaaaa",
                                                "reviewer": "<b>Ann</b>", "role": "QA", "decision": "approve"})
    path = pages.write_archive_index(reports)
    assert path == reports / "index.html" and not (reports / "index.html.tmp").exists()
    soup = BeautifulSoup(path.read_text(encoding="utf-8"), "html.parser")
    row = soup.find("tr", id="20260101T000000Z-aaaaaa")
    assert row.a["href"] == "demo/20260101T000000Z-aaaaaa/index.html" and "✔ PASS" in row.get_text()
    assert row.li.get_text().startswith("approved by <b>Ann</b> (QA)") and soup.find("b") is None


def test_present_artifacts_reads_the_fields_of_the_yaml_dataset_card(tmp_path):
    (tmp_path / "snapshot-card.yaml").write_text("source: a registry\ncollection: ''\nknown_limitations: [one]\n")
    assert pages.present_artifacts(tmp_path) == {"snapshot-card.yaml": {"source", "known_limitations"}}
