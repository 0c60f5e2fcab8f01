"""Results files: the reviewer version written beside the restricted results, through the safety net."""

from __future__ import annotations

import json

import pandas as pd

from studylib.evidence import results as evidence


def test_record_reviewer_writes_beside_the_results(tmp_path):
    path = evidence.record_reviewer(tmp_path, "subgroups", {"n": 4, "metrics": [{"positives": 1}]}, 5)
    assert path == tmp_path / "results" / "subgroups.reviewer.json"
    assert path == evidence.reviewer_path(tmp_path, "subgroups")
    body = json.loads(path.read_text())
    assert body == {"stage": "subgroups", "version": "reviewer", "small_cell_threshold": 5, "n": "<5",
                    "metrics": [{"positives": "<5"}]}


def test_record_reviewer_converts_tables_before_the_safety_net(tmp_path):
    results = {"table": pd.DataFrame({"n": [1, 10], "estimate": [0.5, float("nan")]})}
    path = evidence.record_reviewer(tmp_path, "subgroups", results, 5)
    body = json.loads(path.read_text())
    assert body["table"] == [{"n": "<5", "estimate": 0.5}, {"n": 10, "estimate": None}]
    assert path.read_text() == evidence.dumps(body)  # canonical JSON, like results/<stage>.json


def test_figure_saver_writes_each_file_into_the_run_folder_and_names_it_relative(tmp_path):
    save = evidence.figure_saver(tmp_path)
    assert save("flow", {"svg": b"<svg/>", "pdf": b"%PDF"}) == ["figures/flow.svg", "figures/flow.pdf"]
    assert (tmp_path / "figures" / "flow.svg").read_bytes() == b"<svg/>"
    assert sorted(p.name for p in (tmp_path / "figures").iterdir()) == ["flow.pdf", "flow.svg"]  # no .tmp left


def test_figure_saver_refuses_a_name_that_leaves_the_figures_folder(tmp_path):
    import pytest

    with pytest.raises(ValueError, match="plain file name"):
        evidence.figure_saver(tmp_path)("../manifest", {"svg": b""})
