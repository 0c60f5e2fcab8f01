"""The run folder of a stage: the frozen analysis cohort is found once, its hash checked, for every stage."""

from __future__ import annotations

import warnings

import pandas as pd
import pytest

from studylib import plan
from studylib.evidence import results as evidence
from studylib.evidence import workspace
from studylib.stages.cohort import build as cohort


def _frozen(run_dir, frame) -> str:
    digest = cohort.freeze(frame, run_dir)
    evidence.record(run_dir, "cohort", {"cohort_sha256": digest, "gates": []})
    return digest


def test_frozen_cohort_is_found_and_hash_checked(tiny_project, tmp_path):
    study = plan.load(tiny_project)
    frame = workspace.build_cohort(study).cohort
    run_dir = tmp_path / "run"
    _frozen(run_dir, frame)
    path = run_dir / cohort.FROZEN_COHORT
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
    cohort.freeze(frame.iloc[1:], run_dir)  # the file changes after the hash was recorded
    for read in (lambda: workspace.frozen_cohort(run_dir), lambda: workspace.analysis_source(study, run_dir),
                 lambda: workspace.analysis_cohort(study, run_dir)):
        with pytest.raises(RuntimeError, match=rf"does not match the hash recorded by the cohort stage; expected "
                                               rf"sha256:{digest}, got sha256:[0-9a-f]{{64}}\. Re-run the cohort stage"):
            read()


def test_without_the_cohort_stage_the_cohort_is_rebuilt_with_a_warning(tiny_project, tmp_path):
    study = plan.load(tiny_project)
    assert workspace.frozen_cohort(tmp_path) is None
    with pytest.warns(UserWarning, match="rebuilding the cohort from the snapshot"):
        source = workspace.analysis_source(study, tmp_path)
    pd.testing.assert_frame_equal(source, workspace.build_cohort(study).cohort)
    with pytest.warns(UserWarning, match="rebuilding the cohort"):
        assert len(workspace.analysis_cohort(study, tmp_path)) == len(source)
