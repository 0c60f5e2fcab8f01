"""Stages 2-4 run at once after the cohort stage (issue 15), with the records of a run one stage after another.

Stub notebooks (``stub.json`` in the project root makes a stage sleep or raise): the runner's stage loop
is under test, not the stages.
"""

import json
import os

import pytest

from studylib.run import runner
from tests.conftest import STUB_NOTEBOOKS

pytestmark = pytest.mark.e2e


def _run(tiny_project, control: dict):
    (tiny_project.parent.parent / "stub.json").write_text(json.dumps(control))
    messages = []
    outcome = runner.run(tiny_project, notebooks=STUB_NOTEBOOKS, log=messages.append)
    return outcome, messages


def test_later_stages_run_at_once_and_each_is_logged_as_it_ends(tiny_project):
    # evaluation sleeps; drift, started with it rather than after it, ends first
    cwd = os.getcwd()
    outcome, messages = _run(tiny_project, {"evaluation": {"sleep": 8}})
    assert [s.status for s in outcome.stages] == ["ok"] * 4
    assert os.getcwd() == cwd, "the stages' threads left the working directory changed"
    lines = [m.split()[1] for m in messages if m.lstrip().startswith("[")]
    assert lines[0] == "cohort" and lines.index("drift") < lines.index("evaluation"), messages
    for name in ("01_cohort", "02_evaluation", "03_subgroups", "04_drift"):
        assert (outcome.folder / "notebooks" / f"{name}.reviewer.html").is_file()


def test_a_failing_stage_stops_the_stages_after_it_only(tiny_project):
    # subgroups raises at once; evaluation (before it) still completes; drift (after it) is not run,
    # although it ended before the failure was seen or was stopped: nothing of it is archived
    outcome, messages = _run(tiny_project, {"subgroups": {"raise": "boom"}, "evaluation": {"sleep": 3}})
    assert [s.status for s in outcome.stages] == ["ok", "ok", "error", "not run"]
    assert outcome.exit_code == 3 and outcome.verdict == "ERROR"
    assert "RuntimeError: boom" in outcome.stages[2].error
    assert (outcome.folder / "results" / "evaluation.json").is_file()
    assert (outcome.folder / "notebooks" / "03_subgroups.ipynb").is_file()
    assert not list((outcome.folder / "notebooks").glob("04_drift.*"))
    assert not (outcome.folder / "results" / "drift.json").exists()
    manifest = json.loads((outcome.folder / "manifest.json").read_text())
    assert [s["status"] for s in manifest["stages"]] == ["ok", "ok", "error", "not run"]
    assert any("drift" in m and "not run" in m for m in messages)


def test_a_stage_still_running_after_a_failure_before_it_is_stopped(tiny_project):
    outcome, _ = _run(tiny_project, {"evaluation": {"raise": "early"}, "drift": {"sleep": 300}})
    assert [s.status for s in outcome.stages] == ["ok", "error", "not run", "not run"]
    assert outcome.stages[3].seconds == 0.0
    assert not list((outcome.folder / "notebooks").glob("04_drift.*"))


def test_interrupt_while_later_stages_run_stops_their_kernels_and_leaves_nothing(tiny_project):
    root = tiny_project.parent.parent
    (root / "stub.json").write_text(json.dumps({"evaluation": {"sleep": 300}, "subgroups": {"sleep": 300}}))

    def interrupt(message):
        if "drift" in message:  # drift ended; evaluation and subgroups are still executing
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        runner.run(tiny_project, notebooks=STUB_NOTEBOOKS, log=interrupt)
    assert not (root / "reports" / "tiny").exists() or not any((root / "reports" / "tiny").iterdir())
    assert not any((root / runner.STAGING).iterdir())


def test_later_stages_do_not_execute_when_the_cohort_stage_raises(tiny_project):
    # the cohort raises after a while: the later notebooks never execute (drift would otherwise sleep
    # 300 s), nothing of them is archived
    outcome, messages = _run(tiny_project, {"cohort": {"sleep": 2, "raise": "no cohort"},
                                            "drift": {"sleep": 300}})
    assert [s.status for s in outcome.stages] == ["error", "not run", "not run", "not run"]
    assert outcome.exit_code == 3 and "RuntimeError: no cohort" in outcome.stages[0].error
    assert sorted(p.name for p in (outcome.folder / "notebooks").iterdir()) == [
        "01_cohort.full.html", "01_cohort.ipynb", "01_cohort.reviewer.html"]
    assert not (outcome.folder / "results" / "drift.json").exists()
