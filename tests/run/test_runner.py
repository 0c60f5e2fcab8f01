"""End-to-end study runs through Papermill and nbconvert on a small locked project: the session's archived
run (real notebooks), and the runner's exit codes, skips and interruptions with stub notebooks."""

import json

import pandas as pd
import pytest
import yaml

from studylib.run import runner
from studylib.data import snapshot
from tests.conftest import STUB_NOTEBOOKS, make_project, tiny_frame

pytestmark = pytest.mark.e2e


def _reports(params_file):
    return params_file.parent.parent / "reports"


def test_full_run_archives_everything(archived_run):
    outcome, tiny_project = archived_run.outcome, archived_run.params_file
    folder = outcome.folder
    assert folder == _reports(tiny_project) / "tiny" / outcome.run_id
    assert outcome.exit_code in (0, 1) and outcome.verdict in ("PASS", "FAIL", "INSUFFICIENT_EVIDENCE")
    names = {p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file()}
    for stem in ("01_cohort", "02_evaluation", "03_subgroups", "04_drift"):
        assert {f"notebooks/{stem}.ipynb", f"notebooks/{stem}.full.html", f"notebooks/{stem}.reviewer.html"} <= names
    for stage in ("cohort", "evaluation", "subgroups", "drift"):
        assert f"results/{stage}.json" in names
    assert {"index.html", "manifest.json", "params.yaml", "verdict.json", "cohort.parquet"} <= names
    # each stage's figures, as SVG, in figures/ (the evidence layer writes what report/ renders)
    for figure in ("participant_flow", "evaluation_roc_pr", "evaluation_calibration_candidate", "drift_heatmap"):
        assert f"figures/{figure}.svg" in names
    assert not [n for n in names if n.endswith(".tmp")]
    manifest = json.loads((folder / "manifest.json").read_text())
    assert set(manifest["files"]) == names - {"manifest.json"}
    for name, entry in manifest["files"].items():
        assert snapshot.sha256_file(folder / name) == entry["sha256"]
    assert manifest["snapshot"]["lock"] == yaml.safe_load(tiny_project.read_text())["snapshot"]["lock"]
    assert [s["status"] for s in manifest["stages"]] == ["ok"] * 4
    assert manifest["environment"]["packages"]["papermill"]
    # the reviewer rendering hides code, the full one shows it
    reviewer = (folder / "notebooks" / "02_evaluation.reviewer.html").read_text()
    full = (folder / "notebooks" / "02_evaluation.full.html").read_text()
    assert "metric_estimates" in full and "metric_estimates" not in reviewer
    assert not (tiny_project.parent.parent / runner.STAGING).exists() or not any(
        (tiny_project.parent.parent / runner.STAGING).iterdir())
    verdict = json.loads((folder / "verdict.json").read_text())
    assert verdict["verdict"] == outcome.verdict
    assert outcome.gates == verdict["gates"]  # the CLI reports the outcome's blocking gates: the same ones


def test_two_runs_give_identical_results(archived_run, reproduced_run):
    """The session run and its re-execution (``studylib reproduce``, from the same parameters and snapshot)."""
    first, second = archived_run.folder, reproduced_run.reproduced
    assert first.name != second.name
    for stage in ("cohort", "evaluation", "subgroups", "drift"):
        a = (first / "results" / f"{stage}.json").read_bytes()
        b = (second / "results" / f"{stage}.json").read_bytes()
        assert a == b, stage


def test_failing_stage_is_archived_with_exit_3(tmp_path):
    frame = tiny_frame()
    hole = (frame.split == "validation") & (frame.index % 50 == 0)
    frame.loc[hole, "p_v2"] = float("nan")  # missing candidate scores in the analysis cohort
    params_file = make_project(tmp_path, frame)
    # the stub evaluation runs the stage's own input checks (evaluation.prepare), which raise here
    outcome = runner.run(params_file, notebooks=STUB_NOTEBOOKS, log=lambda m: None)
    assert outcome.exit_code == 3 and outcome.verdict == "ERROR"
    assert [s.status for s in outcome.stages] == ["ok", "error", "not run", "not run"]
    assert "missing value(s)" in outcome.stages[1].error
    failed = outcome.folder / "notebooks" / "02_evaluation.ipynb"
    assert failed.is_file() and "missing value" in failed.read_text()
    assert (outcome.folder / "manifest.json").is_file()


def test_interrupt_leaves_no_partial_run(tiny_project):
    def interrupt(message):
        if "[1/4]" in message:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        runner.run(tiny_project, notebooks=STUB_NOTEBOOKS, log=interrupt)
    root = tiny_project.parent.parent
    assert not (root / "reports" / "tiny").exists() or not any((root / "reports" / "tiny").iterdir())
    assert not any((root / runner.STAGING).iterdir())


def test_stale_staging_of_killed_run_is_removed(tiny_project):
    root = tiny_project.parent.parent
    stale = root / runner.STAGING / "20000101T000000Z-dead00"
    stale.mkdir(parents=True)
    (stale / "params.yaml").write_text("")  # no lock held, no ledger entry: a run that never finished
    messages = []
    runner.clean_stale_staging(root / "reports", messages.append)
    assert not stale.exists() and "interrupted run" in messages[0]


def test_staging_folder_whose_lock_is_held_is_never_removed(tiny_project):
    """Another process finishing its run holds its staging lock: the cleanup leaves the folder alone."""
    from studylib.evidence import staging

    root = tiny_project.parent.parent
    with staging.claim(root / runner.STAGING, "20000101T000000Z-busy00") as folder:
        messages = []
        runner.clean_stale_staging(root / "reports", messages.append)
        assert folder.is_dir() and messages == []
    assert not (root / runner.STAGING / "20000101T000000Z-busy00.lock").exists()


def test_results_match_library_on_frozen_cohort(archived_run):
    """Numbers in the results JSON equal the library's on the frozen cohort."""
    from studylib import stats
    from studylib import plan

    outcome = archived_run.outcome
    study = plan.load(archived_run.params_file)
    cohort = pd.read_parquet(outcome.folder / "cohort.parquet")
    validation = cohort[cohort.split == "validation"]
    expected = stats.auroc(validation.death_5y.astype(int), validation.p_v2)
    recorded = json.loads((outcome.folder / "results" / "evaluation.json").read_text())
    auroc = recorded["estimates"]["candidate"]["auroc"]
    assert auroc["estimate"] == pytest.approx(expected.estimate, abs=1e-12)
    assert auroc["lower"] == pytest.approx(expected.lower, abs=1e-12)
    assert recorded["n"] == len(validation)
    assert study.analysis.split == "validation"


@pytest.mark.slow  # 80 s: the demo (real flchain data) runs once in `make test`, under nbval
@pytest.mark.parametrize("params_file", ["params/breast_external.yaml"])
def test_real_studies_run_from_the_command_line(tmp_path, params_file):
    """The real study through the CLI, as `make demo` runs one (archive into a temporary folder).

    The demo study runs once in the suite: nbval executes its four notebooks with their default
    parameters (``testpaths`` in pyproject.toml), which are the demo's.
    """
    import subprocess
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    result = subprocess.run([sys.executable, "-m", "studylib.cli", "run", params_file, "--reports-dir",
                             str(tmp_path / "reports")], cwd=root, capture_output=True, text=True)
    assert result.returncode in (0, 1), result.stderr
    assert "Traceback" not in result.stderr
    lines = result.stdout.strip().splitlines()
    verdict_line = next(line for line in lines if line.startswith("verdict: "))
    report_line = lines[lines.index(verdict_line) + 1]
    assert verdict_line.startswith("verdict: ")
    index = Path(report_line.removeprefix("report:").strip())
    assert index.is_file() and index.parent.parent.parent == tmp_path / "reports"
    for stage in ("cohort", "evaluation", "subgroups", "drift"):
        assert f"{stage}" in result.stderr and "error" not in result.stderr.split(stage)[1].splitlines()[0]


def test_empty_cohort_fails_the_study_without_a_traceback(tiny_project):
    """Criteria that exclude everyone: exit 1 (a failed gate naming the step), later stages skipped."""
    data = yaml.safe_load(tiny_project.read_text())
    data["cohort"].append({"id": "E9", "label": "Everyone", "drop": {"column": "person_id", "op": "not null"}})
    tiny_project.write_text(yaml.safe_dump(data, sort_keys=False))
    messages = []
    # the stub cohort applies the real cohort steps and the COH-EMPTY check; the runner skips the rest
    outcome = runner.run(tiny_project, notebooks=STUB_NOTEBOOKS, log=messages.append)
    assert outcome.exit_code == 1 and outcome.verdict == "FAIL"
    assert [s.status for s in outcome.stages] == ["ok", "skipped", "skipped", "skipped"]
    assert "emptied by step E9" in outcome.stages[1].error
    verdict = json.loads((outcome.folder / "verdict.json").read_text())
    assert any(g["id"] == "COH-EMPTY" and g["verdict"] == "FAIL" for g in verdict["gates"])
    assert "skipped: nothing to analyse" in (outcome.folder / "index.html").read_text()
