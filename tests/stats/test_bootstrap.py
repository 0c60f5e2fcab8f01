"""bootstrap_ci: the rank fast path against naive loops over scikit-learn, BCa against Efron's formula,
seeding, stratification, undefined cases and validation."""

from __future__ import annotations

import doctest
import math
import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.stats import norm
from sklearn.metrics import average_precision_score, roc_auc_score

from studylib import stats
from studylib.stats import bootstrap
from studylib.stats._validate import UndefinedMetricWarning
from studylib.stats.precision_recall import _ap_jackknife
from studylib.stats.roc import _auc_jackknife, _tie_groups


def data(seed=0, n=300, prevalence=0.2, decimals=2):
    rng = np.random.default_rng(seed)
    y = (rng.random(n) < prevalence).astype(int)
    y[:3], y[3:6] = 1, 0
    s = np.round(rng.normal(size=n) + y, decimals)
    return y, s


def resample_rows(n, n_resamples, seed, stratify=None):
    """The row indices bootstrap_ci draws for this seed, all resamples stacked."""
    strata = bootstrap._strata(stratify, n)
    rng = np.random.default_rng(seed)
    return np.concatenate(
        [bootstrap._rows(draws, strata) for _, draws in bootstrap._resample_chunks(n, n_resamples, strata, rng)]
    )


def replicates(statistic, y, s, n_resamples, seed, stratify=None):
    rng = np.random.default_rng(seed)
    rank = statistic.rank_statistic
    return bootstrap._rank_replicates(rank, (y, s), n_resamples, stratify, rng)[1]


# --------------------------------------------------------------------------------------------------
# Fast path == naive loop over scikit-learn on the same resampled rows
# --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("stratified", [False, True])
@pytest.mark.parametrize("decimals", [0, 2, 8])
def test_fast_auroc_replicates_equal_naive_roc_auc_score(stratified, decimals):
    y, s = data(1, n=400, decimals=decimals)
    strat = y if stratified else None
    rows = resample_rows(len(y), 300, seed=11, stratify=strat)
    naive = np.array([roc_auc_score(y[r], s[r]) for r in rows])
    fast = replicates(stats.auroc, y, s, 300, seed=11, stratify=strat)
    np.testing.assert_allclose(fast, naive, rtol=0, atol=1e-12)


@pytest.mark.parametrize("stratified", [False, True])
def test_fast_auprc_replicates_equal_naive_average_precision(stratified):
    y, s = data(2, n=400, decimals=1)
    strat = y if stratified else None
    rows = resample_rows(len(y), 200, seed=5, stratify=strat)
    naive = np.array([average_precision_score(y[r], s[r]) for r in rows])
    fast = replicates(stats.auprc, y, s, 200, seed=5, stratify=strat)
    np.testing.assert_allclose(fast, naive, rtol=0, atol=1e-12)


def test_fast_path_spans_several_chunks(monkeypatch):
    monkeypatch.setattr(bootstrap, "_CHUNK_ELEMENTS", 1000)  # 3 resamples of 300 rows per chunk
    y, s = data(3, n=300)
    rows = resample_rows(len(y), 20, seed=2, stratify=y)
    assert rows.shape == (20, 300)
    naive = np.array([roc_auc_score(y[r], s[r]) for r in rows])
    np.testing.assert_allclose(replicates(stats.auroc, y, s, 20, seed=2, stratify=y), naive, rtol=0, atol=1e-12)


@pytest.mark.parametrize("method", ["percentile", "bca"])
def test_bootstrap_ci_fast_path_equals_general_path(method):
    y, s = data(4, n=250)
    fast = stats.bootstrap_ci(stats.auroc, y, s, n_resamples=400, method=method, stratify=y, seed=9)
    general = stats.bootstrap_ci(
        lambda yy, ss: roc_auc_score(yy, ss), y, s, n_resamples=400, method=method, stratify=y, seed=9
    )
    for name in ("estimate", "lower", "upper", "se"):
        assert getattr(fast, name) == pytest.approx(getattr(general, name), abs=1e-12)
    assert fast.method == general.method == f"bootstrap-{method}"


def test_statistic_returning_an_estimate_uses_its_point_estimate():
    y, s = data(5, n=120)
    wrapped = stats.bootstrap_ci(lambda yy, ss: stats.auroc(yy, ss), y, s, n_resamples=100, stratify=y, seed=1)
    fast = stats.bootstrap_ci(stats.auroc, y, s, n_resamples=100, stratify=y, seed=1)
    assert wrapped == fast


@pytest.mark.parametrize("seed", range(3))
def test_closed_form_jackknife_equals_leave_one_out(seed):
    y, s = data(seed, n=60, decimals=1)
    tg = _tie_groups(y.astype(bool), s, with_gid=True)
    G = tg.values.size
    slot = np.where(y == 1, tg.gid, G + tg.gid)  # position of each observation's (group, class) value
    auc_values, auc_weights = _auc_jackknife(tg.n_pos, tg.n_neg)
    ap_values, _ = _ap_jackknife(tg.n_pos, tg.n_neg)
    loo = [np.delete(np.arange(len(y)), i) for i in range(len(y))]
    np.testing.assert_allclose(auc_values[slot], [roc_auc_score(y[r], s[r]) for r in loo], rtol=0, atol=1e-13)
    np.testing.assert_allclose(ap_values[slot], [average_precision_score(y[r], s[r]) for r in loo], rtol=0, atol=1e-13)
    assert auc_weights.sum() == len(y)


# --------------------------------------------------------------------------------------------------
# General statistics, BCa
# --------------------------------------------------------------------------------------------------


def test_general_path_with_a_mean():
    x = np.arange(10.0)
    est = stats.bootstrap_ci(np.mean, x, n_resamples=1000, seed=1)
    rows = resample_rows(10, 1000, seed=1)
    theta = x[rows].mean(axis=1)
    assert est.estimate == 4.5
    assert (est.lower, est.upper) == tuple(np.quantile(theta, [0.025, 0.975]))
    assert est.se == pytest.approx(np.std(theta, ddof=1), rel=1e-14)
    # the bootstrap SD of a mean is close to the plug-in SE sqrt(var/n)
    assert est.se == pytest.approx(np.std(x) / math.sqrt(10), rel=0.1)


def test_vectorized_statistic_gives_the_same_result_as_the_loop():
    rng = np.random.default_rng(0)
    x, z = rng.normal(size=80), rng.normal(size=80)
    loop = stats.bootstrap_ci(lambda a, b: np.corrcoef(a, b)[0, 1], x, z, n_resamples=300, method="bca", seed=3)

    def corr(a, b):
        a = a - a.mean(axis=-1, keepdims=True)
        b = b - b.mean(axis=-1, keepdims=True)
        return (a * b).sum(-1) / np.sqrt((a * a).sum(-1) * (b * b).sum(-1))

    vec = stats.bootstrap_ci(corr, x, z, n_resamples=300, method="bca", seed=3, vectorized=True)
    for name in ("estimate", "lower", "upper", "se"):
        assert getattr(vec, name) == pytest.approx(getattr(loop, name), abs=1e-12)


def test_bca_matches_efrons_formula_computed_here():
    rng = np.random.default_rng(1)
    x = rng.exponential(size=40)  # skewed: bias correction and acceleration both matter
    est = stats.bootstrap_ci(np.mean, x, n_resamples=2000, method="bca", alpha=0.1, seed=4)
    theta = x[resample_rows(40, 2000, seed=4)].mean(axis=1)
    z0 = norm.ppf((np.sum(theta < x.mean()) + 0.5 * np.sum(theta == x.mean())) / 2000)
    jack = np.array([np.delete(x, i).mean() for i in range(40)])
    d = jack.mean() - jack
    a = np.sum(d**3) / (6 * np.sum(d**2) ** 1.5)
    levels = [norm.cdf(z0 + (z0 + zq) / (1 - a * (z0 + zq))) for zq in norm.ppf([0.05, 0.95])]
    expected = np.quantile(theta, levels)
    assert (est.lower, est.upper) == pytest.approx(tuple(expected), abs=1e-12)
    assert est.method == "bootstrap-bca"
    # for a right-skewed mean BCa moves the interval up relative to the percentile interval
    perc = stats.bootstrap_ci(np.mean, x, n_resamples=2000, method="percentile", alpha=0.1, seed=4)
    assert est.upper > perc.upper


def test_stratify_keeps_class_counts_fixed():
    y, s = data(6, n=100)
    est = stats.bootstrap_ci(np.sum, y, n_resamples=200, stratify=y, seed=0)
    assert est.se == 0.0 and est.lower == est.upper == y.sum()
    free = stats.bootstrap_ci(np.sum, y, n_resamples=200, seed=0)
    assert free.se > 0


def test_stratify_accepts_strings():
    x = np.arange(12.0)
    groups = np.array(["a", "b", "c"] * 4)
    est = stats.bootstrap_ci(np.mean, x, n_resamples=50, stratify=groups, seed=0)
    assert est.defined


# --------------------------------------------------------------------------------------------------
# Seeding
# --------------------------------------------------------------------------------------------------


def test_same_seed_identical_and_different_seed_differs():
    y, s = data(7)
    first = stats.bootstrap_ci(stats.auroc, y, s, n_resamples=300, seed=123)
    assert stats.bootstrap_ci(stats.auroc, y, s, n_resamples=300, seed=123) == first
    assert stats.bootstrap_ci(stats.auroc, y, s, n_resamples=300, seed=124) != first


def test_generator_seed_is_accepted_and_consumed():
    y, s = data(8)
    with_int = stats.bootstrap_ci(stats.auroc, y, s, n_resamples=200, seed=5)
    rng = np.random.default_rng(5)
    assert stats.bootstrap_ci(stats.auroc, y, s, n_resamples=200, seed=rng) == with_int
    assert stats.bootstrap_ci(stats.auroc, y, s, n_resamples=200, seed=rng) != with_int


@settings(max_examples=25, deadline=None)
@given(st.integers(0, 2**32 - 1), st.integers(20, 80), st.sampled_from(["percentile", "bca"]))
def test_property_same_seed_same_result_and_bounds(seed, n, method):
    y, s = data(seed % 1000, n=n, decimals=1)
    first = stats.bootstrap_ci(stats.auroc, y, s, n_resamples=100, method=method, stratify=y, seed=seed)
    second = stats.bootstrap_ci(stats.auroc, y, s, n_resamples=100, method=method, stratify=y, seed=seed)
    assert first == second or (first.reason and first.reason == second.reason)
    if first.defined:
        assert 0.0 <= first.lower <= first.upper <= 1.0 and first.se >= 0
        assert first.estimate == pytest.approx(roc_auc_score(y, s), abs=1e-12)


# --------------------------------------------------------------------------------------------------
# Undefined cases and validation
# --------------------------------------------------------------------------------------------------


def test_resample_without_a_class_makes_the_interval_undefined_with_a_hint():
    y = np.array([1, 1, 0, 0, 0, 0, 0, 0])
    s = np.arange(8.0)
    with pytest.warns(UndefinedMetricWarning, match="stratify=y"):
        est = stats.bootstrap_ci(stats.auroc, y, s, n_resamples=500, seed=0)
    assert not est.defined and "resamples" in est.reason
    assert stats.bootstrap_ci(stats.auroc, y, s, n_resamples=500, seed=0, stratify=y).defined


def test_fast_path_undefined_with_one_class():
    with pytest.warns(UndefinedMetricWarning, match="0 negative cases"):
        est = stats.bootstrap_ci(stats.auroc, [1, 1, 1], [0.1, 0.2, 0.3], seed=0)
    assert not est.defined and est.method == "bootstrap-percentile"


def test_bca_undefined_when_every_replicate_is_on_one_side():
    y = np.array([0, 0, 1, 1])
    s = np.array([1.0, 2.0, 3.0, 4.0])  # AUROC 1 on every stratified resample... and the estimate
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UndefinedMetricWarning)
        perc = stats.bootstrap_ci(stats.auroc, y, s, n_resamples=50, stratify=y, seed=0)
    assert (perc.lower, perc.upper) == (1.0, 1.0)
    # replicates equal to the estimate count half: share 1/2, z0 = 0 - BCa is defined here
    assert stats.bootstrap_ci(stats.auroc, y, s, n_resamples=50, stratify=y, seed=0, method="bca").defined
    # the number of distinct values of 20 distinct numbers: every resample has fewer than 20
    x = np.arange(20.0)
    with pytest.warns(UndefinedMetricWarning, match="one side"):
        est = stats.bootstrap_ci(lambda v: np.unique(v).size, x, n_resamples=200, method="bca", seed=1)
    assert math.isnan(est.lower) and est.estimate == 20.0 and "percentile" in est.reason


def test_empty_data_is_undefined():
    with pytest.warns(UndefinedMetricWarning, match="no observations"):
        assert not stats.bootstrap_ci(np.mean, np.array([]), seed=0).defined


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"method": "BCa"}, r"method must be one of \['percentile', 'bca'\]; got 'BCa'"),
        ({"method": "basic"}, "method must be one of"),
        ({"n_resamples": 1}, "n_resamples must be an integer >= 2; got 1"),
        ({"n_resamples": 10.5}, "n_resamples must be an integer"),
        ({"alpha": 1.0}, "alpha must be in"),
        ({"seed": "abc"}, "seed must be"),
        ({"stratify": [0, 1]}, "stratify has 2"),
        ({"stratify": [0, 1, np.nan, 1]}, r"stratify has 1 missing value\(s\) at positions 2"),
    ],
)
def test_invalid_options(kwargs, match):
    with pytest.raises(ValueError, match=match):
        stats.bootstrap_ci(np.mean, np.arange(4.0), **kwargs)


def test_invalid_data():
    with pytest.raises(ValueError, match=r"arrays\[0\] has 3, arrays\[1\] has 2"):
        stats.bootstrap_ci(lambda a, b: 0.0, [1, 2, 3], [1, 2])
    with pytest.raises(ValueError, match="takes two arrays"):
        stats.bootstrap_ci(stats.auroc, [0, 1], [0.1, 0.2], [1, 2])
    with pytest.raises(ValueError, match=r"score has 1 missing"):
        stats.bootstrap_ci(stats.auroc, [0, 1, 0, 1], [0.1, np.nan, 0.2, 0.3])
    with pytest.raises(ValueError, match="at least one data array"):
        stats.bootstrap_ci(np.mean)
    with pytest.raises(ValueError, match="callable"):
        stats.bootstrap_ci("auroc", [0, 1], [0.1, 0.2])
    with pytest.raises(ValueError, match="one value per resample"):
        stats.bootstrap_ci(np.mean, np.arange(5.0), vectorized=True, seed=0)


def test_chunks_bound_memory():
    assert bootstrap._chunk_size(10**5) * 10**5 <= bootstrap._CHUNK_ELEMENTS
    assert bootstrap._chunk_size(10**8) == 1


def test_docstring_examples():
    result = doctest.testmod(bootstrap, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert result.attempted >= 3 and result.failed == 0
