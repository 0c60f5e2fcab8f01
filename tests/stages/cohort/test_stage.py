"""The cohort notebook end to end: an empty cohort is reported as a failed gate, a planted leak fails the study."""

import json

import pytest
import yaml

from studylib.run import runner
from tests.conftest import notebooks_with, tiny_frame, tiny_params, write_snapshot

pytestmark = pytest.mark.e2e


def _project(tmp_path, frame, change=lambda p: None):
    lock, artifact = write_snapshot(tmp_path / "snapshots" / "tiny", frame)
    (tmp_path / "params").mkdir()
    data = tiny_params(lock, artifact)
    change(data)
    path = tmp_path / "params" / "tiny.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


def test_empty_cohort_notebook_finishes_with_a_failed_gate_naming_the_step(tmp_path):
    import papermill

    params_file = _project(tmp_path, tiny_frame(300), lambda p: p["cohort"].append(
        {"id": "E9", "label": "Everyone", "drop": {"column": "age", "op": ">=", "value": 0}}))
    run_dir = tmp_path / "run"
    papermill.execute_notebook(str(runner.NOTEBOOK_DIR / "01_cohort.ipynb"), str(tmp_path / "out.ipynb"),
                               parameters={"study_file": str(params_file), "run_dir": str(run_dir)},
                               kernel_name=runner.kernel_name(), cwd=str(tmp_path), progress_bar=False)
    results = json.loads((run_dir / "results" / "cohort.json").read_text())
    empty = next(g for g in results["gates"] if g["id"] == "COH-EMPTY")
    assert empty["verdict"] == "FAIL" and "Step E9 (Everyone) excluded every remaining row" in empty["sentence"]
    assert results["emptied_by"] == "E9" and results["cohort_rows"] == 0
    assert (run_dir / "cohort.parquet").is_file() and (run_dir / "figures" / "participant_flow.svg").is_file()


def test_planted_split_leak_fails_the_study_and_names_the_ids(tmp_path):
    frame = tiny_frame()
    development = frame.index[frame.split == "development"][:3]
    validation = frame.index[frame.split == "validation"][:3]
    frame.loc[validation, "person_id"] = frame.loc[development, "person_id"].to_numpy()
    # the real cohort notebook; stubs for the later stages (their verdicts: PASS, or no gates)
    notebooks = notebooks_with(tmp_path / "notebooks", "01_cohort.ipynb")
    outcome = runner.run(_project(tmp_path, frame), notebooks=notebooks, log=lambda m: None)
    assert outcome.exit_code == 1 and outcome.verdict == "FAIL"
    results = json.loads((outcome.folder / "results" / "cohort.json").read_text())
    leak = next(g for g in results["gates"] if g["id"] == "LEAK-SPLIT")
    ids = sorted(frame.loc[development, "person_id"])
    assert leak["verdict"] == "FAIL" and f"(3 patient(s)): {', '.join(ids)}." in leak["sentence"]
    integrity = {f["id"]: f for f in results["integrity"]}
    assert integrity["LEAK-SPLIT"]["examples"] == ids and integrity["LEAK-SPLIT"]["offending_rows"] == 6
    assert results["steps"][0]["id"] == "I1" and results["table_one"]["by_split"]["groups"][0]["group"] == "development"
    verdict = json.loads((outcome.folder / "verdict.json").read_text())
    assert any(g["id"] == "LEAK-SPLIT" and g["verdict"] == "FAIL" for g in verdict["gates"])
