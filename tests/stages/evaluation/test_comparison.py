"""The paired comparison with the baseline against statsmodels' McNemar test and the DeLong test."""

from __future__ import annotations

import numpy as np
import pytest
from statsmodels.stats.contingency_tables import mcnemar as sm_mcnemar

from studylib import stats

def test_comparison_matches_statsmodels_mcnemar(evaluated):
    study, frame, y, p, base, ev = evaluated
    pos = y == 1
    a, b = p[pos] >= 0.3, base[pos] >= 0.3
    table = np.array([[np.sum(a & b), np.sum(a & ~b)], [np.sum(~a & b), np.sum(~a & ~b)]])
    assert ev.comparison.sensitivity.p_value == pytest.approx(sm_mcnemar(table, exact=True).pvalue)
    neg = ~pos
    a, b = p[neg] < 0.3, base[neg] < 0.3
    table = np.array([[np.sum(a & b), np.sum(a & ~b)], [np.sum(~a & b), np.sum(~a & ~b)]])
    assert ev.comparison.specificity.p_value == pytest.approx(sm_mcnemar(table, exact=True).pvalue)
    d = ev.differences()
    assert d["sensitivity"].estimate == pytest.approx(
        ev.models["candidate"].binary.sensitivity.estimate - ev.models["baseline"].binary.sensitivity.estimate)
    assert d["auroc"].estimate == pytest.approx(stats.delong_test(y, p, base).diff, abs=1e-12)
