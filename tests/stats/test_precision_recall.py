"""AUPRC (average precision) and the precision-recall curve against scikit-learn, hand-worked cases,
properties, undefined cases and validation."""

from __future__ import annotations

import doctest
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.metrics import average_precision_score
from sklearn.metrics import precision_recall_curve as sk_precision_recall_curve

from studylib import stats
from studylib.stats import precision_recall
from studylib.stats._validate import UndefinedMetricWarning
from tests.reference import proc_asah as ref


def data(seed, n=300, prevalence=0.15, decimals=2):
    rng = np.random.default_rng(seed)
    y = (rng.random(n) < prevalence).astype(int)
    y[:2], y[2:4] = 1, 0
    return y, np.round(rng.normal(size=n) + 1.2 * y, decimals)


@pytest.mark.parametrize("seed", range(6))
def test_auprc_equals_sklearn_average_precision(seed):
    y, s = data(seed, n=50 + 400 * seed, decimals=seed % 4)
    assert stats.auprc(y, s, n_resamples=50).estimate == pytest.approx(average_precision_score(y, s), abs=1e-12)


def test_auprc_on_asah_equals_sklearn():
    y, s100b, wfns, _ = ref.arrays()
    for s in (s100b, wfns):
        assert stats.auprc(y, s, n_resamples=50).estimate == pytest.approx(average_precision_score(y, s), abs=1e-12)


def test_hand_worked_average_precision_with_a_tie():
    # scores 0.9 (pos), 0.5 (pos, neg tied), 0.1 (neg): thresholds 0.9 -> P 1, R 1/2; 0.5 -> P 2/3, R 1
    est = stats.auprc([1, 1, 0, 0], [0.9, 0.5, 0.5, 0.1], n_resamples=50)
    assert est.estimate == pytest.approx(0.5 * 1 + 0.5 * 2 / 3, abs=1e-15)


@pytest.mark.parametrize("seed", range(4))
def test_precision_recall_curve_equals_sklearn_reversed(seed):
    y, s = data(seed, decimals=seed % 3)
    curve = stats.precision_recall_curve(y, s)
    precision, recall, thresholds = sk_precision_recall_curve(y, s)
    assert list(curve.columns) == ["threshold", "precision", "recall"]
    assert curve.iloc[0].tolist() == [np.inf, 1.0, 0.0]
    np.testing.assert_array_equal(curve["threshold"].to_numpy()[1:], thresholds[::-1])
    np.testing.assert_allclose(curve["precision"].to_numpy(), precision[::-1], rtol=0, atol=1e-15)
    np.testing.assert_allclose(curve["recall"].to_numpy(), recall[::-1], rtol=0, atol=1e-15)
    # the step-wise area of the curve is the average precision
    step_area = np.sum(np.diff(curve["recall"]) * curve["precision"].to_numpy()[1:])
    assert step_area == pytest.approx(stats.auprc(y, s, n_resamples=20).estimate, abs=1e-12)


def test_interval_is_a_stratified_bootstrap_with_the_given_options():
    y, s = data(7)
    est = stats.auprc(y, s, alpha=0.1, n_resamples=500, seed=3, method="bca")
    same = stats.bootstrap_ci(stats.auprc, y, s, n_resamples=500, alpha=0.1, method="bca", stratify=y, seed=3)
    assert est == same and est.method == "bootstrap-bca"
    assert est.lower < est.estimate < est.upper


def test_default_seed_makes_results_reproducible():
    y, s = data(8)
    assert stats.auprc(y, s, n_resamples=200) == stats.auprc(y, s, n_resamples=200)
    assert stats.auprc(y, s, n_resamples=200, seed=1) != stats.auprc(y, s, n_resamples=200)


@settings(max_examples=30, deadline=None)
@given(st.integers(0, 10_000), st.integers(8, 120), st.sampled_from(["percentile", "bca"]))
def test_property_bounds(seed, n, method):
    y, s = data(seed, n=n, prevalence=0.4, decimals=1)
    est = stats.auprc(y, s, n_resamples=100, seed=seed, method=method)
    if est.defined:
        assert 0.0 <= est.lower <= est.upper <= 1.0 and est.se >= 0
    assert 0.0 < est.estimate <= 1.0


@settings(max_examples=30, deadline=None)
@given(st.integers(0, 10_000))
def test_property_point_estimate_row_order_invariant(seed):
    y, s = data(seed, n=60, decimals=1)
    perm = np.random.default_rng(seed).permutation(60)
    assert stats.auprc(y[perm], s[perm], n_resamples=10).estimate == stats.auprc(y, s, n_resamples=10).estimate


@pytest.mark.parametrize("y, found", [([0, 0, 0, 0], "0 positive cases"), ([1, 0, 0, 0], "1 positive case")])
def test_auprc_undefined_with_fewer_than_two_cases_per_class(y, found):
    with pytest.warns(UndefinedMetricWarning, match=found):
        est = stats.auprc(y, [0.1, 0.2, 0.3, 0.4])
    assert not est.defined and math.isnan(est.estimate) and found in est.reason


def test_precision_recall_curve_without_positives_warns():
    with pytest.warns(UndefinedMetricWarning, match="no positive"):
        curve = stats.precision_recall_curve([0, 0, 0], [0.1, 0.2, 0.2])
    assert curve["recall"].isna().all() and curve["precision"].tolist() == [1.0, 0.0, 0.0]


def test_validation():
    with pytest.raises(ValueError, match="y has 3, score has 2"):
        stats.auprc([0, 1, 1], [0.1, 0.2])
    with pytest.raises(ValueError, match=r"score has 1 missing or infinite value\(s\) at positions 0"):
        stats.precision_recall_curve([0, 1], [np.nan, 0.2])
    with pytest.raises(ValueError, match=r"found other values \[-1\]"):
        stats.auprc([0, 1, -1, 1], [0.1, 0.2, 0.3, 0.4])
    with pytest.raises(ValueError, match="method must be one of"):
        stats.auprc([0, 1, 0, 1], [0.1, 0.2, 0.3, 0.4], method="bootstrap")
    with pytest.raises(ValueError, match="alpha must be in"):
        stats.auprc([0, 1, 0, 1], [0.1, 0.2, 0.3, 0.4], alpha=0)


def test_docstring_examples():
    result = doctest.testmod(precision_recall, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert result.attempted >= 2 and result.failed == 0
