"""The run folder's frozen analysis cohort: written once, read back only when its hash matches."""

import numpy as np
import pandas as pd
import pytest

from studylib.data import hashing
from studylib.evidence import results, workspace
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
