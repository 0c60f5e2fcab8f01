"""The run folder's frozen analysis cohort: written once, found and hash-checked in one place for every stage."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

from studylib import plan
from studylib.data import hashing
from studylib.evidence import results, workspace
from studylib.evidence import results as evidence
from studylib.plan import CohortStep, Condition
from studylib.stages.cohort import build as cohort

FRAME = pd.DataFrame({
    "pid": ["a", "a", "b", "c", "d", "e"],
    "age": [50, 51, 65, np.nan, 80, 90],
    "sex": ["F", "F", "M", "M", None, "F"],
})


def test_freeze_and_read_back(tmp_path):
    digest = workspace.freeze(FRAME, tmp_path)
    assert digest == hashing.sha256_file(tmp_path / workspace.FROZEN_COHORT)
    back = workspace.read_frozen(tmp_path, digest)
    pd.testing.assert_frame_equal(back, FRAME)
    assert workspace.freeze(FRAME, tmp_path / "again") == digest  # same rows, same bytes
    with pytest.raises(RuntimeError, match="does not match the hash"):
        workspace.read_frozen(tmp_path, "0" * 64)


def test_freeze_empty_cohort(tmp_path):
    empty = cohort.apply(FRAME, (CohortStep(id="E", label="all", drop=Condition(column="pid", op="not null")),),
                         id_column="pid").cohort
    back = workspace.read_frozen(tmp_path, workspace.freeze(empty, tmp_path))
    assert len(back) == 0 and list(back.columns) == list(FRAME.columns)


def test_analysis_cohort_refuses_a_changed_frozen_file(tmp_path):
    digest = workspace.freeze(FRAME, tmp_path)
    results.record(tmp_path, "cohort", {"cohort_sha256": digest})
    pd.testing.assert_frame_equal(workspace.analysis_cohort(None, tmp_path), FRAME)  # no rebuild: study unused
    workspace.freeze(FRAME.iloc[:2], tmp_path)  # the file changes after the cohort stage recorded its hash
    with pytest.raises(RuntimeError, match=rf"expected sha256:{digest}, got sha256:"):
        workspace.analysis_cohort(None, tmp_path)


def _frozen(run_dir, frame) -> str:
    digest = workspace.freeze(frame, run_dir)
    evidence.record(run_dir, "cohort", {"cohort_sha256": digest, "gates": []})
    return digest


def test_frozen_cohort_is_found_and_hash_checked(tiny_project, tmp_path):
    study = plan.load(tiny_project)
    frame = workspace.build_cohort(study).cohort
    run_dir = tmp_path / "run"
    _frozen(run_dir, frame)
    path = run_dir / workspace.FROZEN_COHORT
    assert workspace.frozen_cohort(run_dir) == path
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no rebuild warning: the cohort stage ran here
        assert workspace.analysis_source(study, run_dir) == path
        pd.testing.assert_frame_equal(workspace.analysis_cohort(study, run_dir), frame)


def test_a_changed_frozen_cohort_is_refused_by_every_reader(tiny_project, tmp_path):
    study = plan.load(tiny_project)
    frame = workspace.build_cohort(study).cohort
    run_dir = tmp_path / "run"
    digest = _frozen(run_dir, frame)
    workspace.freeze(frame.iloc[1:], run_dir)  # the file changes after the hash was recorded
    for read in (lambda: workspace.frozen_cohort(run_dir), lambda: workspace.analysis_source(study, run_dir),
                 lambda: workspace.analysis_cohort(study, run_dir)):
        with pytest.raises(RuntimeError, match=rf"does not match the hash recorded by the cohort stage; expected "
                                               rf"sha256:{digest}, got sha256:[0-9a-f]{{64}}\. Re-run the cohort stage"):
            read()


def test_without_the_cohort_stage_the_cohort_is_rebuilt_with_a_note(tiny_project, tmp_path, capsys, recwarn):
    study = plan.load(tiny_project)
    assert workspace.frozen_cohort(tmp_path) is None
    source = workspace.analysis_source(study, tmp_path)
    pd.testing.assert_frame_equal(source, workspace.build_cohort(study).cohort)
    assert len(workspace.analysis_cohort(study, tmp_path)) == len(source)
    captured = capsys.readouterr()
    assert captured.out.count(workspace.REBUILT_NOTE) == 2 and captured.err == ""
    assert not [w for w in recwarn if "cohort" in str(w.message)]  # a note, not a warning
