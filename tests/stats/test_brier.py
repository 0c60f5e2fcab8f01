"""The Brier score and the paired Brier difference: point estimates against scikit-learn, intervals and
the paired z test against statsmodels' z test of the per-patient values, edges.

Brier GW. Mon Weather Rev. 1950;78(1):1-3 (the score); Bradley AA et al. Weather Forecast.
2008;23(5):992-1006 (its normal-approximation interval); Redelmeier DA et al. J Clin Epidemiol.
1991;44(11):1141-1146 (the paired comparison of two models' Brier scores).
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats as sps
from sklearn.metrics import brier_score_loss
from statsmodels.stats.weightstats import ztest

from studylib.stats import Estimate
from studylib.stats.brier import brier_difference, brier_difference_p_value, brier_score


def _data(n=2000, seed=4):
    rng = np.random.default_rng(seed)
    p = rng.uniform(0.01, 0.9, n)
    y = (rng.random(n) < p).astype(int)
    other = np.clip(p + rng.normal(0, 0.15, n), 0, 1)
    return y, p, other


def test_hand_worked_example():
    # squared errors 0.01, 0.01, 0.09, 0.09: mean 0.05, sample SD 0.04619, se 0.02309, 95% CI 0.0047 to 0.0953
    e = brier_score([0, 1, 0, 1], [0.1, 0.9, 0.3, 0.7])
    assert e.estimate == pytest.approx(0.05, abs=1e-15)
    se = math.sqrt(4 * 0.04 ** 2 / 3) / 2
    assert e.se == pytest.approx(se, rel=1e-12)
    half = 1.959963984540054 * se
    assert (e.lower, e.upper) == (pytest.approx(0.05 - half, rel=1e-12), pytest.approx(0.05 + half, rel=1e-12))
    assert e.method == "wald-mean"
    # squared errors 0, 0, 0, 0.25: mean 0.0625, se 0.0625, so the interval is clipped at 0
    clipped = brier_score([0, 0, 0, 1], [0.0, 0.0, 0.0, 0.5])
    assert (clipped.estimate, clipped.se, clipped.lower) == (0.0625, 0.0625, 0.0)


def test_brier_score_matches_sklearn_and_the_mean_interval():
    y, p, _ = _data()
    e = brier_score(y, p, alpha=0.1)
    assert e.estimate == pytest.approx(brier_score_loss(y, p), abs=1e-15)
    z = ztest((p - y) ** 2, value=0)  # statsmodels' z test of the same mean (ddof 1)
    assert e.estimate / e.se == pytest.approx(z[0], rel=1e-12)
    half = sps.norm.ppf(0.95) * e.se
    assert (e.lower, e.upper) == (pytest.approx(e.estimate - half, abs=1e-15), pytest.approx(e.estimate + half, abs=1e-15))
    assert 0 <= e.lower <= e.estimate <= e.upper <= 1


def test_brier_difference_is_the_mean_paired_difference_with_its_z_test():
    y, a, b = _data(seed=9)
    d = (a - y) ** 2 - (b - y) ** 2
    e = brier_difference(y, a, b)
    assert e.estimate == pytest.approx(brier_score_loss(y, a) - brier_score_loss(y, b), abs=1e-14)
    assert e.se == pytest.approx(d.std(ddof=1) / math.sqrt(d.size), rel=1e-12)
    assert e.method == "paired-wald-mean" and -1 <= e.lower <= e.estimate <= e.upper <= 1
    statistic, p_value = ztest(d, value=0)
    assert brier_difference_p_value(e) == pytest.approx(p_value, rel=1e-10)
    assert brier_difference(y, b, a).estimate == pytest.approx(-e.estimate, abs=1e-15)  # antisymmetric


def test_row_order_does_not_matter():
    y, a, b = _data(n=300, seed=2)
    order = np.random.default_rng(0).permutation(y.size)
    assert brier_score(y[order], a[order]).upper == pytest.approx(brier_score(y, a).upper, rel=1e-12)
    assert brier_difference(y[order], a[order], b[order]).lower == pytest.approx(brier_difference(y, a, b).lower,
                                                                                rel=1e-12)


def test_fewer_than_two_patients_is_undefined_with_the_reason():
    e = brier_score([1], [0.7])
    assert not e.defined and e.reason == "one value: no interval" and e.estimate == pytest.approx(0.09)
    d = brier_difference([], [], [])
    assert not d.defined and d.reason == "n = 0: no patients" and d.method == "paired-wald-mean"
    assert math.isnan(brier_difference_p_value(d))


def test_identical_models_give_no_p_value():
    y, a, _ = _data(n=50)
    e = brier_difference(y, a, a)
    assert e.estimate == 0.0 and e.se == 0.0
    assert math.isnan(brier_difference_p_value(e))
    assert brier_difference_p_value(Estimate(-0.02, -0.0396, -0.0004, 0.01)) == pytest.approx(2 * sps.norm.sf(2))
