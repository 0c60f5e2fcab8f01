"""The participant flow diagram: every count and reason drawn, empty cohorts in red, deterministic files."""

import numpy as np
import pandas as pd

from studylib.stages.cohort import build as cohort
from studylib.plan import CohortStep, Condition
from studylib.report.plots import flow

FRAME = pd.DataFrame({"pid": [f"p{i}" for i in range(30)], "age": np.arange(30) + 40,
                      "split": ["validation"] * 20 + ["monitoring"] * 10, "y": [0, 1] * 15})
STEPS = (CohortStep(id="I1", label="Aged 45 or more", keep=Condition(column="age", op=">=", value=45)),
         CohortStep(id="E1", label="Aged 65 or more", drop=Condition(column="age", op=">=", value=65)))


def _texts(fig):
    return [t.get_text() for ax in fig.axes for t in ax.texts]


def test_boxes_carry_counts_and_reasons():
    result = cohort.apply(FRAME, STEPS, id_column="pid")
    splits = cohort.split_counts(result.cohort, id_column="pid", outcome="y", split_column="split",
                                 order=("validation",))
    fig = flow.flow_diagram(result, splits, snapshot="Locked snapshot demo", outcome="y")
    texts = _texts(fig)
    for expected in ("Locked snapshot demo", "n = 30", "Not meeting inclusion (I1): n = 5", "Aged 45 or more",
                     "After I1", "n = 25", "Excluded (E1): n = 5", "Aged 65 or more", "Analysis cohort", "n = 20",
                     "validation", "monitoring", "y = 1: 8", "y = 0: 7", "y = 1: 2", "y = 0: 3"):
        assert expected in texts, expected
    alt = flow.alt_text(result, splits)
    assert alt.startswith("Participant flow. Locked snapshot: n = 30.")
    assert "Step E1, Aged 65 or more: n = 5 excluded, n = 20 remain." in alt


def test_empty_cohort_is_drawn_in_red_and_stops():
    steps = (*STEPS, CohortStep(id="E2", label="Everyone", drop=Condition(column="age", op="not null")),
             CohortStep(id="E3", label="Never reached", drop=Condition(column="age", op=">", value=0)))
    result = cohort.apply(FRAME, steps, id_column="pid")
    fig = flow.flow_diagram(result, cohort.split_counts(result.cohort, id_column="pid", outcome="y",
                                                        split_column="split"))
    texts = _texts(fig)
    assert "No rows remain after E2" in texts and "Never reached" not in texts
    red = [p for p in fig.axes[0].patches if p.get_edgecolor()[:3] == (163 / 255, 22 / 255, 26 / 255)]
    assert len(red) == 1


def test_records_and_patients_when_patients_have_several_rows():
    frame = pd.concat([FRAME, FRAME.iloc[:4]], ignore_index=True)
    result = cohort.apply(frame, STEPS, id_column="pid")
    assert "34 records of 30 patients" in _texts(flow.flow_diagram(result))


def test_outcome_counts_of_the_splits_follow_the_small_cell_rule():
    splits = pd.DataFrame({"split": ["train", "test", "external"], "rows": [500, 200, 50],
                           "patients": [500, 200, 50], "positive": [100, 40, 3], "negative": [400, 160, 47],
                           "unknown": [0, 0, 0]})
    shown = flow.outcome_counts(splits, 5)
    # external: 3 positives (<5) and its negatives withheld (50 − 47 = 3); test: withheld so that the
    # external count is not the cohort's positives minus the other splits'; train shown
    assert shown == [("100", "400", "0"), ("withheld", "withheld", "0"), ("<5", "withheld", "0")]
    assert flow.outcome_counts(splits, None)[2] == ("3", "47", "0")
