"""The paired comparison with the baseline against statsmodels' McNemar test and the DeLong test.

The plan's default McNemar test is the mid-p test: statsmodels' exact conditional p-value minus the
binomial probability of the smaller discordant count (Fagerland et al. 2013)."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats as sps
from statsmodels.stats.contingency_tables import mcnemar as sm_mcnemar

from studylib import stats


def _mid_p(table):
    b, c = int(table[0, 1]), int(table[1, 0])
    return sm_mcnemar(table, exact=True).pvalue - sps.binom.pmf(min(b, c), b + c, 0.5)


def test_comparison_matches_statsmodels_mcnemar(evaluated):
    study, frame, y, p, base, ev = evaluated
    pos = y == 1
    a, b = p[pos] >= 0.3, base[pos] >= 0.3
    table = np.array([[np.sum(a & b), np.sum(a & ~b)], [np.sum(~a & b), np.sum(~a & ~b)]])
    assert ev.comparison.sensitivity.p_value == pytest.approx(_mid_p(table))
    neg = ~pos
    a, b = p[neg] < 0.3, base[neg] < 0.3
    table = np.array([[np.sum(a & b), np.sum(a & ~b)], [np.sum(~a & b), np.sum(~a & ~b)]])
    assert ev.comparison.specificity.p_value == pytest.approx(_mid_p(table))
    d = ev.differences()
    assert d["sensitivity"].estimate == pytest.approx(
        ev.models["candidate"].binary.sensitivity.estimate - ev.models["baseline"].binary.sensitivity.estimate)
    assert d["auroc"].estimate == pytest.approx(stats.delong_test(y, p, base).diff, abs=1e-12)
