"""binary_metrics: scikit-learn's confusion matrix, direct formulas, the Simel log-method LR interval,
ties at the threshold, one-class inputs, properties, validation and a million rows (speed: benchmarks/stats.py)."""

from __future__ import annotations

import doctest
import importlib
import math
import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.stats import norm
from sklearn.metrics import confusion_matrix, f1_score

from studylib import stats
from studylib.stats._validate import UndefinedMetricWarning


def _data(n=400, seed=0):
    rng = np.random.default_rng(seed)
    y = rng.random(n) < 0.3
    score = np.round(np.clip(rng.normal(0.3 + 0.3 * y, 0.2), 0, 1), 2)  # rounded: many ties
    return y.astype(int), score


@pytest.mark.parametrize("threshold", [0.0, 0.25, 0.3, 0.45, 0.5, 0.99, 1.0, 2.0])
def test_counts_match_sklearn(threshold):
    y, score = _data()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UndefinedMetricWarning)  # extreme thresholds: LR+ or NPV undefined
        m = stats.binary_metrics(y, score, threshold)
    tn, fp, fn, tp = confusion_matrix(y, (score >= threshold).astype(int), labels=[0, 1]).ravel()
    assert (m.tp, m.fp, m.tn, m.fn) == (tp, fp, tn, fn)
    assert m.n == len(y)
    assert all(isinstance(v, int) for v in (m.tp, m.fp, m.tn, m.fn))


def test_metrics_match_formulas():
    y, score = _data(seed=3)
    m = stats.binary_metrics(y, score, 0.45, alpha=0.1, method="jeffreys")
    tp, fp, tn, fn = m.tp, m.fp, m.tn, m.fn
    n = tp + fp + tn + fn
    for est, x, total in [(m.sensitivity, tp, tp + fn), (m.specificity, tn, tn + fp), (m.ppv, tp, tp + fp),
                          (m.npv, tn, tn + fn), (m.accuracy, tp + tn, n), (m.prevalence, tp + fn, n)]:
        assert est.estimate == pytest.approx(x / total)
        assert (est.lower, est.upper) == pytest.approx(stats.proportion_ci(x, total, 0.1, "jeffreys"))
        assert est.method == "jeffreys"
    assert m.youden_j == pytest.approx(tp / (tp + fn) + tn / (tn + fp) - 1)
    assert m.f1 == pytest.approx(f1_score(y, score >= 0.45))


def test_likelihood_ratio_log_method():
    # Simel et al. (1991): se(ln LR+) = sqrt(1/a - 1/(a+c) + 1/b - 1/(b+d)), a=tp, b=fp, c=fn, d=tn
    tp, fp, tn, fn = 90, 20, 80, 10
    y = np.r_[np.ones(tp + fn), np.zeros(fp + tn)]
    score = np.r_[np.ones(tp), np.zeros(fn), np.ones(fp), np.zeros(tn)]
    m = stats.binary_metrics(y, score, 0.5)
    z = norm.ppf(0.975)
    lr_pos = (tp / (tp + fn)) / (fp / (fp + tn))
    se = math.sqrt(1 / tp - 1 / (tp + fn) + 1 / fp - 1 / (fp + tn))
    assert m.lr_pos.estimate == pytest.approx(4.5)
    assert m.lr_pos.se == pytest.approx(se)
    assert (m.lr_pos.lower, m.lr_pos.upper) == pytest.approx((lr_pos * math.exp(-z * se), lr_pos * math.exp(z * se)))
    lr_neg = (fn / (tp + fn)) / (tn / (fp + tn))
    se_n = math.sqrt(1 / fn - 1 / (tp + fn) + 1 / tn - 1 / (fp + tn))
    assert m.lr_neg.estimate == pytest.approx(0.125)
    assert (m.lr_neg.lower, m.lr_neg.upper) == pytest.approx((lr_neg * math.exp(-z * se_n), lr_neg * math.exp(z * se_n)))
    # the same through the count-based helper
    assert stats.likelihood_ratios(tp, fp, tn, fn) == (m.lr_pos, m.lr_neg)


def test_tie_at_threshold_is_positive():
    with pytest.warns(UndefinedMetricWarning, match="npv"):
        m = stats.binary_metrics([1, 0], [0.5, 0.5], threshold=0.5)
    assert (m.tp, m.fp, m.tn, m.fn) == (1, 1, 0, 0)
    with pytest.warns(UndefinedMetricWarning, match="ppv"):
        m = stats.binary_metrics([1, 0], [0.5, 0.5], threshold=0.5 + 1e-12)
    assert (m.tp, m.fp, m.tn, m.fn) == (0, 0, 1, 1)


def test_one_class_no_positives():
    with pytest.warns(UndefinedMetricWarning) as record:
        m = stats.binary_metrics([0, 0, 0, 0], [0.1, 0.7, 0.2, 0.9], 0.5)
    assert len(record) == 1  # one warning listing every undefined metric
    message = str(record[0].message)
    assert "sensitivity" in message and "lr_pos" in message
    assert not m.sensitivity.defined and "no positive cases" in m.sensitivity.reason
    assert math.isnan(m.sensitivity.estimate)  # never a silent 0
    assert m.specificity.estimate == pytest.approx(0.5)
    assert m.ppv.estimate == 0.0 and m.ppv.defined
    assert math.isnan(m.youden_j) and math.isnan(m.lr_pos.estimate) and math.isnan(m.lr_neg.estimate)
    assert m.prevalence.estimate == 0.0


def test_one_class_all_positive():
    with pytest.warns(UndefinedMetricWarning, match="specificity"):
        m = stats.binary_metrics([1, 1, 1], [0.1, 0.7, 0.9], 0.5)
    assert not m.specificity.defined and "no negative cases" in m.specificity.reason
    assert m.sensitivity.estimate == pytest.approx(2 / 3)


def test_lr_degenerate_cells():
    # fp = 0: LR+ infinite -> undefined; fn = 0: LR- = 0 with undefined interval
    with pytest.warns(UndefinedMetricWarning, match="lr_pos"):
        m = stats.binary_metrics([1, 1, 0, 0], [0.9, 0.8, 0.1, 0.2], 0.5)
    assert not m.lr_pos.defined and "infinite" in m.lr_pos.reason
    assert m.lr_neg.estimate == 0.0 and math.isnan(m.lr_neg.lower) and "fn = 0" in m.lr_neg.reason


def test_empty_input():
    with pytest.warns(UndefinedMetricWarning):
        m = stats.binary_metrics([], [], 0.5)
    assert m.n == 0 and not m.accuracy.defined and math.isnan(m.f1)


def test_to_dict_roundtrip():
    y, score = _data()
    d = stats.binary_metrics(y, score, 0.5).to_dict()
    assert d["sensitivity"]["method"] == "wilson" and isinstance(d["tp"], int)


@pytest.mark.parametrize(("y", "score", "threshold", "fragment"), [
    ([0, 1, 1], [0.1, 0.2], 0.5, "same length"),
    ([0, 1, 2], [0.1, 0.2, 0.3], 0.5, "binary labels"),
    ([0, 1, np.nan], [0.1, 0.2, 0.3], 0.5, "missing"),
    ([0, 1, 1], [0.1, np.nan, 0.3], 0.5, "missing or infinite"),
    ([0, 1, 1], [0.1, 0.2, 0.3], float("nan"), "threshold must be a finite number"),
    ([0, 1, 1], [0.1, 0.2, 0.3], "high", "threshold must be a finite number"),
])
def test_validation(y, score, threshold, fragment):
    with pytest.raises(ValueError, match=fragment):
        stats.binary_metrics(y, score, threshold)


def test_unknown_method():
    with pytest.raises(ValueError, match="'wilson', 'clopper-pearson'"):
        stats.binary_metrics([0, 1], [0.2, 0.8], 0.5, method="exact")


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.booleans(), st.integers(0, 10)), min_size=1, max_size=60), st.randoms())
def test_property_row_order_invariance(rows, rnd):
    y = np.array([r[0] for r in rows])
    score = np.array([r[1] / 10 for r in rows])
    perm = list(range(len(rows)))
    rnd.shuffle(perm)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UndefinedMetricWarning)
        a = stats.binary_metrics(y, score, 0.5).to_dict()
        b = stats.binary_metrics(y[perm], score[perm], 0.5).to_dict()
    assert repr(a) == repr(b)  # repr: NaN compares equal to NaN


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.booleans(), st.floats(0, 1)), min_size=1, max_size=60), st.floats(0, 1))
def test_property_bounds(rows, threshold):
    y = np.array([r[0] for r in rows])
    score = np.array([r[1] for r in rows])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UndefinedMetricWarning)
        m = stats.binary_metrics(y, score, threshold)
    for est in (m.sensitivity, m.specificity, m.ppv, m.npv, m.accuracy, m.prevalence):
        if est.defined:
            assert 0 <= est.lower <= est.estimate <= est.upper <= 1
    for est in (m.lr_pos, m.lr_neg):
        if est.defined:
            assert 0 < est.lower <= est.estimate <= est.upper


def test_million_rows_bool_and_int_labels_give_the_direct_counts():
    """A million rows, labels as bool and as int: the same counts, equal to direct ones (the speed target,
    0.1 s, is in benchmarks/stats.py)."""
    rng = np.random.default_rng(1)
    y = rng.random(1_000_000) < 0.2
    score = rng.random(1_000_000)
    as_bool = stats.binary_metrics(y, score, 0.5)
    as_int = stats.binary_metrics(y.astype(int), score, 0.5)
    alert = score >= 0.5
    direct = (int(np.sum(y & alert)), int(np.sum(~y & alert)), int(np.sum(~y & ~alert)), int(np.sum(y & ~alert)))
    assert (as_bool.tp, as_bool.fp, as_bool.tn, as_bool.fn) == direct
    assert (as_int.tp, as_int.fp, as_int.tn, as_int.fn) == direct
    assert as_int.sensitivity == as_bool.sensitivity and as_int.npv == as_bool.npv


def test_docstring_examples():
    failures, _ = doctest.testmod(importlib.import_module("studylib.stats.binary"))
    assert failures == 0
