"""Calibration from counts per distinct prediction (the subgroup fast path) against the per-row
versions: recalibration_from_counts vs stats.calibration and statsmodels' binomial GLM,
fit_*_counts vs fit_* on the rows, brier_from_counts vs the per-row mean and its standard error."""

from __future__ import annotations

import importlib
import math
import warnings

import numpy as np
import pytest
import statsmodels.api as sm

from studylib import stats
from studylib.stats.brier import brier_score
from studylib.stats._validate import UndefinedMetricWarning

cal = importlib.import_module("studylib.stats.calibration")  # the module; studylib.stats.calibration is also a function


def _rows(n, seed, intercept=0.3, slope=0.8, digits=2):
    """Outcomes drawn from a miscalibrated model; predictions rounded so that many rows tie."""
    rng = np.random.default_rng(seed)
    prob = np.clip(rng.beta(2, 5, n).round(digits), 0.0, 1.0)
    true = 1 / (1 + np.exp(-(intercept + slope * cal.logit(prob))))
    y = (rng.random(n) < true).astype(int)
    return y, prob


def _counts(y, prob):
    """Distinct predictions (ascending) with their events and non-events."""
    values, inverse = np.unique(prob, return_inverse=True)
    n_pos = np.bincount(inverse, weights=y, minlength=values.size).astype(np.int64)
    total = np.bincount(inverse, minlength=values.size)
    return values, n_pos, total - n_pos


@pytest.mark.parametrize("n, seed, digits", [(300, 0, 2), (5000, 1, 2), (2000, 2, 3), (800, 3, 1)])
def test_recalibration_from_counts_equals_calibration_on_the_rows(n, seed, digits):
    y, prob = _rows(n, seed, digits=digits)
    values, n_pos, n_neg = _counts(y, prob)
    fast = cal.recalibration_from_counts(cal.logit(values), n_pos, n_neg)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UndefinedMetricWarning)
        rows = stats.calibration(y, prob)
    for got, expected in ((fast.citl, rows.citl), (fast.slope, rows.slope)):
        assert got.method == expected.method == "wald"
        assert got.estimate == pytest.approx(expected.estimate, abs=1e-8)
        assert got.se == pytest.approx(expected.se, rel=1e-7)
        assert got.lower == pytest.approx(expected.lower, abs=1e-7)


@pytest.mark.parametrize("seed", [4, 5])
def test_recalibration_from_counts_matches_statsmodels_binomial_glm(seed):
    """Independent: statsmodels' GLM on the (events, non-events) table, offset logit for CITL."""
    y, prob = _rows(3000, seed)
    values, n_pos, n_neg = _counts(y, prob)
    x = cal.logit(values)
    fast = cal.recalibration_from_counts(x, n_pos, n_neg)
    keep = np.isfinite(x)  # probabilities rounded to 0 are left out of the fits
    x, endog = x[keep], np.column_stack([n_pos, n_neg])[keep]
    citl = sm.GLM(endog, np.ones((x.size, 1)), family=sm.families.Binomial(), offset=x).fit(tol=1e-14, maxiter=200)
    slope = sm.GLM(endog, sm.add_constant(x), family=sm.families.Binomial()).fit(tol=1e-14, maxiter=200)
    assert fast.citl.estimate == pytest.approx(citl.params[0], abs=1e-7)
    assert fast.citl.se == pytest.approx(citl.bse[0], rel=1e-6)
    assert fast.slope.estimate == pytest.approx(slope.params[1], abs=1e-7)
    assert fast.slope.se == pytest.approx(slope.bse[1], rel=1e-6)


def test_fits_on_counts_equal_fits_on_rows():
    y, prob = _rows(1500, 6)
    values, n_pos, n_neg = _counts(y, prob)
    k, t, x = n_pos.astype(float), (n_pos + n_neg).astype(float), cal.logit(values)
    a, a_se, why = cal.fit_citl_counts(k, t, x)
    a_rows, a_se_rows, why_rows = cal.fit_citl(y.astype(float), cal.logit(prob))
    assert why == why_rows == ""
    assert (a, a_se) == pytest.approx((a_rows, a_se_rows), rel=1e-8)
    b, b_se, why = cal.fit_slope_counts(k, t, x)
    coef, cov, why_rows = cal.fit_slope(y.astype(float), cal.logit(prob))
    assert why == why_rows == ""
    assert (b, b_se) == pytest.approx((coef[1], math.sqrt(cov[1, 1])), rel=1e-8)


def test_far_start_takes_the_line_search(monkeypatch):
    """Predictions far too low: the first Newton steps exceed the safe step and one is halved; the fit
    still reaches the per-row answer."""
    y, prob = _rows(2000, 7, intercept=3.0, slope=0.4)
    values, n_pos, n_neg = _counts(y, prob)
    halvings = []
    original = cal._halve

    def spy(loglik_at, ll, step):
        taken, new_ll = original(loglik_at, ll, step)
        halvings.append(not np.array_equal(taken, step))
        return taken, new_ll

    monkeypatch.setattr(cal, "_halve", spy)
    fast = cal.recalibration_from_counts(cal.logit(values), n_pos, n_neg)
    assert any(halvings)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UndefinedMetricWarning)
        rows = stats.calibration(y, prob)
    assert fast.citl.estimate == pytest.approx(rows.citl.estimate, abs=1e-8)
    assert fast.slope.estimate == pytest.approx(rows.slope.estimate, abs=1e-8)


def test_recalibration_undefined_cases_give_reasons_without_warning():
    x = cal.logit(np.array([0.2, 0.4]))
    with warnings.catch_warnings():
        warnings.simplefilter("error", UndefinedMetricWarning)
        one_class = cal.recalibration_from_counts(x, np.array([0, 0]), np.array([5, 7]))
        one_value = cal.recalibration_from_counts(x[:1], np.array([3]), np.array([5]))
        empty = cal.recalibration_from_counts(x[:0], np.array([], dtype=int), np.array([], dtype=int))
    for fit in (one_class, empty):
        assert fit.citl.reason == "citl: y has a single class: the maximum likelihood estimate is infinite"
        assert fit.slope.reason == "slope: y has a single class: the maximum likelihood estimate is infinite"
    assert one_value.citl.defined
    assert one_value.slope.reason == "slope: prob has a single distinct value: the slope is not identifiable"


def test_separation_is_undefined_not_an_error():
    x = cal.logit(np.array([0.1, 0.2, 0.8, 0.9]))
    fit = cal.recalibration_from_counts(x, np.array([0, 0, 5, 5]), np.array([5, 5, 0, 0]))
    assert not fit.slope.defined and "did not converge" in fit.slope.reason


@pytest.mark.parametrize("n, seed", [(2, 0), (50, 1), (4000, 2)])
def test_brier_from_counts_equals_the_per_row_mean_and_its_standard_error(n, seed):
    y, prob = _rows(n, seed)
    values, n_pos, n_neg = _counts(y, prob)
    est = cal.brier_from_counts(values, n_pos, n_neg)
    squared = (prob - y) ** 2
    assert est.method == "wald-mean"
    rows = brier_score(y, prob)  # issue 13 item 11: one interval of a mean, whichever path computes it
    assert (est.estimate, est.lower, est.upper, est.se) == pytest.approx((rows.estimate, rows.lower, rows.upper,
                                                                          rows.se), rel=1e-9, abs=1e-15)
    assert est.estimate == pytest.approx(squared.mean(), abs=1e-14)
    assert est.se == pytest.approx(np.std(squared, ddof=1) / math.sqrt(n), rel=1e-9, abs=1e-15)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UndefinedMetricWarning)
        assert est.estimate == pytest.approx(stats.calibration(y, prob).brier, abs=1e-14)
    assert 0.0 <= est.lower <= est.estimate <= est.upper <= 1.0


def test_brier_from_counts_needs_two_patients():
    est = cal.brier_from_counts(np.array([0.3]), np.array([1]), np.array([0]))
    assert not est.defined and est.reason == "one value: no interval" and est.estimate == pytest.approx(0.49)
