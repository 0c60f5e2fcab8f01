"""The analysed rows: missing scores stop the stage or are excluded and reported as the plan says; a
missing or non-binary outcome and probabilities outside [0, 1] are errors naming the rows or the model."""

from __future__ import annotations

import numpy as np
import pytest

from studylib.stages.evaluation import inputs
from studylib.stages.evaluation.inputs import EvaluationInputError
from tests.stages.evaluation.test_analysis import calibrated, frame_of, make_study

def test_missing_scores_stop_the_stage_with_count_and_ids():
    y, p, base = calibrated(n=300)
    frame = frame_of(y, p, base)
    frame.loc[[3, 17, 250], "p_v2"] = np.nan
    with pytest.raises(EvaluationInputError) as err:
        inputs.prepare(frame, make_study())
    message = str(err.value)
    assert "candidate score column 'p_v2' has 3 missing value(s)" in message
    assert "P-00003, P-00017, P-00250" in message and "missing_scores: exclude" in message


def test_missing_scores_excluded_and_reported_when_declared():
    y, p, base = calibrated(n=300)
    frame = frame_of(y, p, base)
    frame.loc[[3, 17], "p_v2"] = np.nan
    frame.loc[[17, 40], "p_v1"] = np.nan
    data = inputs.prepare(frame, make_study(missing_scores="exclude"))
    assert data.n == 297 and len(data.scores["candidate"]) == len(data.scores["baseline"]) == 297
    assert data.excluded.to_dict("records") == [
        {"id": "P-00003", "reason": "candidate score missing"},
        {"id": "P-00017", "reason": "candidate score missing; baseline score missing"},
        {"id": "P-00040", "reason": "baseline score missing"}]
    assert "P-00017" not in set(data.frame["person_id"])


def test_missing_outcome_is_always_an_error():
    y, p, base = calibrated(n=50)
    frame = frame_of(y, p, base)
    frame.loc[5, "death_5y"] = np.nan
    with pytest.raises(EvaluationInputError, match=r"outcome column 'death_5y' has 1 missing value\(s\).*P-00005"):
        inputs.prepare(frame, make_study(missing_scores="exclude"))


def test_probabilities_outside_unit_interval_name_the_model():
    y, p, base = calibrated(n=50)
    frame = frame_of(y, p, base)
    frame.loc[7, "p_v1"] = 1.4
    with pytest.raises(EvaluationInputError) as err:
        inputs.prepare(frame, make_study())
    assert "baseline model tiny 1 (column 'p_v1'): 1 predicted probabilities outside [0, 1]" in str(err.value)
    assert "max 1.4" in str(err.value) and "P-00007" in str(err.value)


def test_non_binary_outcome_is_an_error():
    y, p, base = calibrated(n=50)
    frame = frame_of(y, p, base)
    frame.loc[2, "death_5y"] = 2
    with pytest.raises(EvaluationInputError, match="must be 0 or 1; 1 row"):
        inputs.prepare(frame, make_study())
