"""The EXPLORATORY threshold table against binary_metrics, and the decision curve against net benefit by hand."""

from __future__ import annotations

import numpy as np
import pytest

from studylib import stats
from studylib.stages.evaluation import thresholds
from tests.stages.evaluation.test_analysis import make_study

def test_threshold_table_is_exploratory_and_matches_binary_metrics(evaluated):
    study, frame, y, p, base, ev = evaluated
    t = ev.thresholds
    assert list(t["threshold"]) == sorted(set(study.analysis.threshold_grid) | {0.3})
    assert t.loc[t["operating"], "threshold"].tolist() == [0.3]
    for _, row in t.iterrows():
        m = stats.binary_metrics(y, p, row["threshold"])
        assert row["sensitivity"] == pytest.approx(m.sensitivity.estimate)
        assert row["npv_lower"] == pytest.approx(m.npv.lower)
        assert row["flagged"] == m.tp + m.fp
    assert np.all(np.diff(t["sensitivity"]) <= 0)


def test_decision_curve_matches_net_benefit(evaluated):
    study, frame, y, p, base, ev = evaluated
    dc = ev.decision_curve
    assert dc["threshold"].iloc[0] == pytest.approx(0.05) and dc["threshold"].iloc[-1] == pytest.approx(0.5)
    assert 0.3 in set(np.round(dc["threshold"], 6))
    ref = stats.net_benefit(y, base, dc["threshold"])
    np.testing.assert_allclose(dc["net_benefit_baseline"], ref["net_benefit_model"], atol=1e-15)
    # by hand at t = 0.2: TP/n − FP/n · t/(1 − t)
    flagged = p >= 0.2
    by_hand = np.sum(flagged & (y == 1)) / len(y) - np.sum(flagged & (y == 0)) / len(y) * 0.25
    assert dc.loc[np.isclose(dc["threshold"], 0.2), "net_benefit_candidate"].item() == pytest.approx(by_hand)


def test_decision_thresholds_narrow_range():
    grid = thresholds.decision_thresholds(make_study(decision_curve=[0.1, 0.15], threshold=0.12))
    assert grid[0] == pytest.approx(0.1) and grid[-1] == pytest.approx(0.15) and len(grid) >= 11
