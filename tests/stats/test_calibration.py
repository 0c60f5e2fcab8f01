"""Calibration: statsmodels GLM (CITL with offset, slope), scikit-learn Brier, statsmodels lowess
E-statistics, Spiegelhalter and O/E by direct formulas, calibration curves, undefined cases,
validation, properties and a large sample (speed: benchmarks/stats.py)."""

from __future__ import annotations

import doctest
import importlib
import math
import warnings

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats as sps
from sklearn.metrics import brier_score_loss
from statsmodels.nonparametric.smoothers_lowess import lowess

from studylib import stats
from studylib.stats._validate import UndefinedMetricWarning
from studylib.stats.calibration import logit, lowess_calibration

calibration_module = importlib.import_module("studylib.stats.calibration")


def _data(n, seed=0, intercept=0.3, slope=0.8):
    rng = np.random.default_rng(seed)
    lp = rng.normal(-1, 1.5, n)
    prob = 1 / (1 + np.exp(-lp))
    y = (rng.random(n) < 1 / (1 + np.exp(-(intercept + slope * lp)))).astype(int)
    return y, prob


def _glm(y, X, offset=None):
    return sm.GLM(y, X, family=sm.families.Binomial(), offset=offset).fit(tol=1e-14, maxiter=200)


@pytest.mark.parametrize(("n", "seed"), [(60, 1), (500, 2), (5000, 3)])
def test_citl_and_slope_match_statsmodels_glm(n, seed):
    y, prob = _data(n, seed)
    cal = stats.calibration(y, prob)
    lp = logit(prob)
    citl = _glm(y, np.ones((n, 1)), offset=lp)
    slope = _glm(y, sm.add_constant(lp))
    z = sps.norm.ppf(0.975)
    assert cal.citl.estimate == pytest.approx(citl.params[0], abs=1e-6)
    assert cal.citl.se == pytest.approx(citl.bse[0], abs=1e-6)
    assert cal.citl.lower == pytest.approx(citl.params[0] - z * citl.bse[0], abs=1e-6)
    assert cal.slope.estimate == pytest.approx(slope.params[1], abs=1e-6)
    assert cal.slope.se == pytest.approx(slope.bse[1], abs=1e-6)
    assert (cal.slope.lower, cal.slope.upper) == pytest.approx(tuple(slope.conf_int()[1]), abs=1e-6)
    assert cal.citl.method == cal.slope.method == "wald"


def test_probabilities_zero_and_one_are_left_out_of_the_logistic_fits():
    """rms val.prob: rows with p in {0, 1} are dropped from the CITL/slope fits, counted, and kept by
    every other measure. (Before: clipped to 1e-15, so one event at p = 0 dominated the slope.)"""
    y = np.array([0, 0, 1, 1, 0, 1, 0, 1, 1, 0])
    prob = np.array([0.0, 0.2, 1.0, 0.7, 0.4, 0.6, 0.3, 0.35, 0.0, 0.55])
    with pytest.warns(UndefinedMetricWarning, match="2 row|3 row"):
        cal = stats.calibration(y, prob)
    keep = (prob > 0) & (prob < 1)
    lp = logit(prob[keep])
    assert np.isneginf(logit(np.array([0.0]))[0]) and np.isposinf(logit(np.array([1.0]))[0])
    assert cal.excluded_from_fits == 3
    assert cal.slope.estimate == pytest.approx(_glm(y[keep], sm.add_constant(lp)).params[1], abs=1e-6)
    assert cal.citl.estimate == pytest.approx(_glm(y[keep], np.ones((keep.sum(), 1)), offset=lp).params[0], abs=1e-6)
    assert cal.brier == pytest.approx(brier_score_loss(y, prob))  # every row
    assert cal.oe_ratio.estimate == pytest.approx(y.sum() / prob.sum())
    # the per-count path of the subgroups drops them too
    values, inverse = np.unique(prob, return_inverse=True)
    n_pos = np.bincount(inverse, weights=y).astype(int)
    n_neg = np.bincount(inverse, weights=1 - y).astype(int)
    fast = calibration_module.recalibration_from_counts(logit(values), n_pos, n_neg)
    assert fast.slope.estimate == pytest.approx(cal.slope.estimate, abs=1e-6)
    assert fast.citl.estimate == pytest.approx(cal.citl.estimate, abs=1e-6)


def test_one_event_at_probability_zero_does_not_move_the_slope():
    """The issue's case: one event at p = 0 among 2,000 rows leaves the slope where it was."""
    y, prob = _data(1999, 11, intercept=0.0, slope=1.0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UndefinedMetricWarning)
        clean = stats.calibration(y, prob)
        spiked = stats.calibration(np.append(y, 1), np.append(prob, 0.0))
    assert spiked.excluded_from_fits == 1 and clean.excluded_from_fits == 0
    assert spiked.slope.estimate == pytest.approx(clean.slope.estimate, abs=1e-9)
    assert spiked.citl.estimate == pytest.approx(clean.citl.estimate, abs=1e-9)


def test_every_probability_zero_or_one_leaves_the_fits_undefined():
    with pytest.warns(UndefinedMetricWarning):
        cal = stats.calibration([0, 1, 1, 0], [0.0, 1.0, 1.0, 0.0])
    assert not cal.slope.defined and "every prob is 0 or 1" in cal.slope.reason
    assert cal.excluded_from_fits == 4 and cal.brier == 0.0


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_brier_matches_sklearn_and_scaled_brier(seed):
    y, prob = _data(300, seed)
    cal = stats.calibration(y, prob)
    assert cal.brier == pytest.approx(brier_score_loss(y, prob), rel=1e-12)
    q = y.mean()
    assert cal.scaled_brier == pytest.approx(1 - brier_score_loss(y, prob) / brier_score_loss(y, np.full(y.size, q)))


def test_e_statistics_match_statsmodels_lowess():
    y, prob = _data(800, 5)
    cal = stats.calibration(y, prob)
    # rms::val.prob: lowess(p, y, iter = 0) with R's default delta = 0.01 * range, f = 2/3,
    # then approx() at each p; here through statsmodels directly on sorted data + np.interp
    fit = lowess(y.astype(float), prob, frac=2 / 3, it=0, delta=0.01 * np.ptp(prob), return_sorted=True)
    smoothed = np.interp(prob, fit[:, 0], fit[:, 1])
    err = np.abs(prob - smoothed)
    assert cal.eavg == pytest.approx(err.mean(), abs=1e-12)
    assert cal.e50 == pytest.approx(np.median(err), abs=1e-12)
    assert cal.e90 == pytest.approx(np.quantile(err, 0.9), abs=1e-12)
    assert cal.emax == pytest.approx(err.max(), abs=1e-12)
    assert cal.ici == cal.eavg


def test_lowess_with_heavy_ties_uses_tie_mean():
    # 8 of 10 observations share prob 0.2: the window at 0.2 has zero width; R's clowess returns the
    # mean y of the tied points (statsmodels would return 0)
    prob = np.array([0.1] + [0.2] * 8 + [0.3])
    y = np.array([0, 1, 1, 0, 1, 0, 1, 1, 0, 1])
    fitted = lowess_calibration(y, prob)
    assert fitted[1:9] == pytest.approx(np.full(8, y[1:9].mean()))
    assert np.all(np.isfinite(fitted))


def test_constant_prob():
    y = np.array([0, 1, 1, 0, 1])
    with pytest.warns(UndefinedMetricWarning, match="slope"):
        cal = stats.calibration(y, np.full(5, 0.4))
    assert not cal.slope.defined and "single distinct value" in cal.slope.reason
    assert cal.citl.defined
    assert cal.eavg == pytest.approx(0.2)  # lowess of a constant x is the mean of y, 0.6


def test_spiegelhalter_matches_formula():
    y, prob = _data(400, 7)
    cal = stats.calibration(y, prob)
    num = np.sum((y - prob) * (1 - 2 * prob))
    den = np.sqrt(np.sum((1 - 2 * prob) ** 2 * prob * (1 - prob)))
    assert cal.z == pytest.approx(num / den)
    assert cal.p_value == pytest.approx(2 * sps.norm.sf(abs(num / den)))


def test_oe_ratio_default_is_the_log_delta_interval():
    """Debray et al. 2017: se(ln O/E) = sqrt(sum p(1-p)) / O (before: the exact Poisson interval,
    which assumes Var(O) = E and is too wide for calibrated risks)."""
    y, prob = _data(400, 8)
    cal = stats.calibration(y, prob, alpha=0.1)
    observed, expected = y.sum(), prob.sum()
    se_log = np.sqrt(np.sum(prob * (1 - prob))) / observed
    z = sps.norm.ppf(0.95)
    assert cal.oe_ratio.method == "delta-log"
    assert cal.oe_ratio.estimate == pytest.approx(observed / expected)
    assert cal.oe_ratio.lower == pytest.approx(observed / expected * np.exp(-z * se_log))
    assert cal.oe_ratio.upper == pytest.approx(observed / expected * np.exp(z * se_log))
    exact = stats.calibration(y, prob, alpha=0.1, oe_method="poisson-exact").oe_ratio
    assert exact.lower < cal.oe_ratio.lower and cal.oe_ratio.upper < exact.upper


def test_oe_ratio_without_events_falls_back_to_exact_poisson():
    e = calibration_module.oe_ratio(0, 4.0, variance=3.0)
    assert (e.estimate, e.lower, e.method) == (0.0, 0.0, "poisson-exact")
    assert e.upper == pytest.approx(sps.chi2.ppf(0.975, 2) / 2 / 4.0)
    with pytest.raises(ValueError, match="needs variance"):
        calibration_module.oe_ratio(3, 4.0)
    with pytest.raises(ValueError, match="oe_method must be one of"):
        stats.calibration([0, 1], [0.2, 0.8], oe_method="poisson")


def test_oe_ratio_exact_poisson():
    y, prob = _data(400, 8)
    cal = stats.calibration(y, prob, alpha=0.1, oe_method="poisson-exact")
    observed, expected = y.sum(), prob.sum()
    assert cal.oe_ratio.estimate == pytest.approx(observed / expected)
    assert cal.oe_ratio.lower == pytest.approx(sps.chi2.ppf(0.05, 2 * observed) / 2 / expected)
    assert cal.oe_ratio.upper == pytest.approx(sps.chi2.ppf(0.95, 2 * observed + 2) / 2 / expected)
    assert cal.oe_ratio.method == "poisson-exact"


def test_perfectly_calibrated_groups():
    cal = stats.calibration([0, 0, 0, 1, 0, 1, 1, 1], [0.25] * 4 + [0.75] * 4)
    assert cal.citl.estimate == pytest.approx(0, abs=1e-9)
    assert cal.slope.estimate == pytest.approx(1, abs=1e-9)
    assert cal.oe_ratio.estimate == 1.0 and cal.brier == 0.1875


def test_one_class_is_undefined_with_warning():
    with pytest.warns(UndefinedMetricWarning) as record:
        cal = stats.calibration([0, 0, 0, 0], [0.1, 0.2, 0.3, 0.4])
    assert len(record) == 1
    assert not cal.citl.defined and "single class" in cal.citl.reason
    assert not cal.slope.defined
    assert math.isnan(cal.scaled_brier)
    assert cal.brier == pytest.approx(np.mean(np.square([0.1, 0.2, 0.3, 0.4])))
    assert cal.oe_ratio.estimate == 0.0 and cal.oe_ratio.lower == 0.0 and cal.oe_ratio.upper > 0


def test_separation_is_undefined_not_a_crash():
    with pytest.warns(UndefinedMetricWarning, match="did not converge"):
        cal = stats.calibration([0, 0, 1, 1], [0.2, 0.3, 0.6, 0.7])
    assert not cal.slope.defined


def test_empty_input():
    with pytest.warns(UndefinedMetricWarning, match="n = 0"):
        cal = stats.calibration([], [])
    assert cal.n == 0 and not cal.citl.defined and math.isnan(cal.eavg)


@pytest.mark.parametrize(("y", "prob", "fragment"), [
    ([0, 1], [0.2, 1.2], r"prob must be probabilities in \[0, 1\]"),
    ([0, 1], [-0.1, 0.5], "prob must be probabilities"),
    ([0, 1, 1], [0.2, 0.3], "same length"),
    ([0, 1], [0.2, np.nan], "prob has 1 missing"),
    ([0, 3], [0.2, 0.3], "binary labels"),
])
def test_validation(y, prob, fragment):
    with pytest.raises(ValueError, match=fragment):
        stats.calibration(y, prob)
    with pytest.raises(ValueError, match=fragment):
        stats.calibration_curve(y, prob)


def test_curve_quantile_bins():
    y, prob = _data(1000, 9)
    df = stats.calibration_curve(y, prob, method="quantile-bins", n_bins=10)
    assert list(df.columns) == ["predicted", "observed", "lower", "upper", "n"]
    assert len(df) == 10 and df["n"].sum() == 1000
    edges = np.quantile(prob, np.linspace(0, 1, 11))
    first = (prob <= edges[1])
    assert df["n"].iloc[0] == first.sum()
    assert df["predicted"].iloc[0] == pytest.approx(prob[first].mean())
    assert df["observed"].iloc[0] == pytest.approx(y[first].mean())
    lo, hi = stats.proportion_ci(int(y[first].sum()), int(first.sum()))
    assert (df["lower"].iloc[0], df["upper"].iloc[0]) == pytest.approx((lo, hi))


def test_curve_bins_with_ties_share_a_bin():
    prob = np.array([0.1] * 50 + [0.5] * 30 + [0.9] * 20)
    y = np.r_[np.zeros(45), np.ones(5), np.zeros(15), np.ones(15), np.zeros(2), np.ones(18)].astype(int)
    df = stats.calibration_curve(y, prob, method="quantile-bins", n_bins=10)
    assert df["n"].tolist() == [50, 30, 20]
    assert df["observed"].tolist() == pytest.approx([0.1, 0.5, 0.9])


def test_curve_lowess_follows_the_calibration_smoother():
    y, prob = _data(2000, 10)
    df = stats.calibration_curve(y, prob, method="lowess", n_points=25)
    assert len(df) == 25 and df["n"].sum() == 2000
    assert df["predicted"].iloc[0] == prob.min() and df["predicted"].iloc[-1] == prob.max()
    order = np.argsort(prob)
    smoothed = lowess_calibration(y[order], prob[order])
    assert df["observed"].to_numpy() == pytest.approx(np.interp(df["predicted"], prob[order], smoothed))
    assert (df["lower"] <= df["observed"].clip(0, 1) + 1e-12).all()
    assert (df["upper"] >= df["observed"].clip(0, 1) - 1e-12).all()
    assert ((df["lower"] >= 0) & (df["upper"] <= 1)).all()


def test_curve_lowess_band_has_nominal_pointwise_coverage_roughly():
    # well-calibrated model: the band at mid-range predictions should usually contain the identity
    hits = []
    for seed in range(40):
        rng = np.random.default_rng(seed)
        prob = rng.uniform(0.05, 0.95, 1500)
        y = (rng.random(1500) < prob).astype(int)
        df = stats.calibration_curve(y, prob, n_points=5)
        mid = df.iloc[2]
        hits.append(mid["lower"] <= mid["predicted"] <= mid["upper"])
    assert np.mean(hits) >= 0.8


def test_curve_validation_and_empty():
    with pytest.raises(ValueError, match="'lowess', 'quantile-bins'"):
        stats.calibration_curve([0, 1], [0.2, 0.8], method="loess")
    with pytest.raises(ValueError, match="n_bins must be a positive integer"):
        stats.calibration_curve([0, 1], [0.2, 0.8], method="quantile-bins", n_bins=0)
    with pytest.warns(UndefinedMetricWarning):
        df = stats.calibration_curve([], [])
    assert df.empty and list(df.columns) == ["predicted", "observed", "lower", "upper", "n"]


@settings(max_examples=25, deadline=None)
@given(st.integers(0, 2**32 - 1), st.integers(20, 200))
def test_property_row_order_invariance(seed, n):
    y, prob = _data(n, seed)
    prob = np.round(prob, 2)  # ties
    perm = np.random.default_rng(seed).permutation(n)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UndefinedMetricWarning)
        a = stats.calibration(y, prob)
        b = stats.calibration(y[perm], prob[perm])
    for name in ("brier", "scaled_brier", "e50", "e90", "emax", "eavg", "z"):
        assert getattr(a, name) == pytest.approx(getattr(b, name), rel=1e-9, abs=1e-12, nan_ok=True)
    for name in ("citl", "slope", "oe_ratio"):
        ea, eb = getattr(a, name), getattr(b, name)
        assert ea.estimate == pytest.approx(eb.estimate, rel=1e-7, abs=1e-9, nan_ok=True)


def test_large_sample_slope_interval_covers_the_true_slope():
    """10^5 rows drawn with a true calibration slope of 0.8: the Wald interval is narrow and covers it
    (the speed target, 10^6 rows in 5 s, is in benchmarks/stats.py)."""
    y, prob = _data(100_000, 11)
    slope = stats.calibration(y, prob).slope
    assert slope.lower <= 0.8 <= slope.upper and slope.upper - slope.lower < 0.03


def test_docstring_examples():
    failures, _ = doctest.testmod(calibration_module)
    assert failures == 0


def test_to_dict():
    y, prob = _data(100, 12)
    d = stats.calibration(y, prob).to_dict()
    assert set(d["citl"]) == {"estimate", "lower", "upper", "se", "method", "reason"}
    assert isinstance(pd.Series(d).to_json(), str)


def test_zero_and_one_probabilities_match_rms_val_prob():
    """R rms val.prob drops p in {0, 1} from the logistic calibration and keeps them elsewhere
    (tests/reference/val_prob.py holds the R call and output)."""
    from pathlib import Path
    from tests.reference import val_prob as ref

    data = pd.read_csv(Path(ref.__file__).with_name(ref.CSV))
    with pytest.warns(UndefinedMetricWarning, match="2 row"):
        cal = stats.calibration(data["y"], data["p"])
    tol = ref.TOLERANCE
    assert cal.excluded_from_fits == ref.EXCLUDED
    assert cal.slope.estimate == pytest.approx(ref.VAL_PROB["Slope"], abs=tol)
    assert (cal.slope.estimate, cal.slope.se) == pytest.approx(ref.SLOPE, abs=tol)
    assert (cal.citl.estimate, cal.citl.se) == pytest.approx(ref.CITL, abs=tol)
    for ours, theirs in ((cal.brier, "Brier"), (cal.emax, "Emax"), (cal.e90, "E90"), (cal.eavg, "Eavg"),
                         (cal.z, "S:z"), (cal.p_value, "S:p")):
        assert ours == pytest.approx(ref.VAL_PROB[theirs], abs=tol)


def test_a_slope_on_separated_classes_is_not_estimable_on_rows_and_counts():
    # every event above every non-event: the logistic slope has no finite MLE (hypothesis found n = 20
    # with 303.6 on the rows and 363.1 permuted, each with a standard error near 10^8)
    y = np.array([0] * 6 + [1] * 4)
    prob = np.array([0.05, 0.1, 0.2, 0.3, 0.4, 0.5, 0.5, 0.6, 0.7, 0.9])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UndefinedMetricWarning)
        rows = stats.calibration(y, prob)
    assert math.isnan(rows.slope.estimate) and "separates the classes" in rows.slope.reason
    from studylib.stats.calibration import fit_slope_counts
    x, t = np.unique(np.log(prob / (1 - prob)), return_counts=True)
    k = np.array([y[np.isclose(np.log(prob / (1 - prob)), v)].sum() for v in x])
    assert math.isnan(fit_slope_counts(k, t, x)[0]) and "separates" in fit_slope_counts(k, t, x)[2]
    assert math.isfinite(rows.citl.estimate)  # calibration-in-the-large (slope fixed at 1) still exists
