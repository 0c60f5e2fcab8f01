"""Drift: PSI against hand-worked examples (tests/reference/drift.py) and a direct implementation, KS
and chi-square against scipy, edge cases, validation, properties and large windows (speed:
benchmarks/stats.py)."""

from __future__ import annotations

import doctest
import importlib
import math
import warnings

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats as sps

from studylib import stats
from studylib.stats._validate import UndefinedMetricWarning
from tests.reference import drift as ref

drift = importlib.import_module("studylib.stats.drift")


def direct_psi(reference, current, bins=10, eps=1e-4):
    """Independent PSI: pandas.cut on the reference deciles (right-closed), then the formula."""
    q = np.unique(np.quantile(reference, [k / bins for k in range(bins + 1)]))
    edges = np.r_[-np.inf, q[1:-1], np.inf]
    r = pd.cut(pd.Series(reference), edges, right=True).value_counts(sort=False, normalize=True).to_numpy()
    c = pd.cut(pd.Series(current), edges, right=True).value_counts(sort=False, normalize=True).to_numpy()
    r, c = np.maximum(r, eps), np.maximum(c, eps)
    return float(np.sum((c - r) * np.log(c / r)))


def test_hand_worked_counts():
    got = stats.psi_from_counts(ref.EXAMPLE_A["ref_counts"], ref.EXAMPLE_A["cur_counts"])
    assert got == pytest.approx(ref.EXAMPLE_A["psi"], abs=ref.TOLERANCE)


def test_hand_worked_empty_bins():
    got = stats.psi(ref.EXAMPLE_B["reference"], ref.EXAMPLE_B["current"])
    assert got == pytest.approx(ref.EXAMPLE_B["psi"], abs=ref.TOLERANCE)


def test_edges_right_closed():
    table = stats.psi_table(ref.EXAMPLE_C["reference"], ref.EXAMPLE_C["reference"])
    assert table["reference_count"].tolist() == ref.EXAMPLE_C["reference_counts"]
    assert stats.reference_edges(ref.EXAMPLE_C["reference"]).tolist() == list(range(1, 10))
    assert table["lower"].iloc[0] == -np.inf and table["upper"].iloc[-1] == np.inf


def test_matches_direct_implementation():
    rng = np.random.default_rng(0)
    reference = np.round(rng.normal(size=5000), 1)  # ties, duplicate edges possible
    current = np.round(rng.normal(0.3, 1.2, size=3000), 1)
    assert stats.psi(reference, current) == pytest.approx(direct_psi(reference, current), rel=1e-12)
    assert stats.psi(reference, current, bins=20) == pytest.approx(direct_psi(reference, current, 20), rel=1e-12)


def test_duplicate_edges_are_removed():
    reference = np.r_[np.zeros(80), np.arange(1, 21)]  # 80% zeros: the first 8 deciles are 0
    # deciles 0 (x8), 0.2, 10.1, 20: unique -> [0, 0.2, 10.1, 20]; outer ones become -inf/+inf
    assert stats.reference_edges(reference).tolist() == pytest.approx([0.2, 10.1])
    table = stats.psi_table(reference, reference)
    assert table["reference_count"].iloc[0] == 80 and table["reference_count"].sum() == 100


def test_psi_table_sums_to_psi_and_identity_is_zero():
    rng = np.random.default_rng(1)
    a, b = rng.normal(size=2000), rng.normal(0.5, 1, size=1000)
    table = stats.psi_table(a, b)
    assert table["contribution"].sum() == pytest.approx(stats.psi(a, b))
    assert stats.psi(a, a) == 0.0
    assert table["reference_prop"].sum() == pytest.approx(1) and table["current_prop"].sum() == pytest.approx(1)


def test_psi_from_counts_matches_psi_with_shared_edges():
    rng = np.random.default_rng(2)
    a, b = rng.exponential(size=4000), rng.exponential(1.3, size=4000)
    edges = np.r_[-np.inf, stats.reference_edges(a), np.inf]
    rc = np.histogram(a, edges)[0]  # a histogram path, e.g. DuckDB, with the same edges
    cc = np.histogram(b, edges)[0]
    # np.histogram bins are left-closed; continuous data has no value on an edge except the
    # reference quantiles that are data points, so compare on counts from the right-closed rule
    table = stats.psi_table(a, b)
    assert abs(int(table["current_count"].sum()) - int(cc.sum())) == 0
    assert stats.psi_from_counts(table["reference_count"], table["current_count"]) == stats.psi(a, b)
    assert stats.psi_from_counts(rc, cc) == pytest.approx(stats.psi(a, b), abs=5e-3)


def test_psi_is_symmetric_in_counts_and_scale_free():
    assert stats.psi_from_counts([10, 20, 70], [30, 30, 40]) == pytest.approx(stats.psi_from_counts([30, 30, 40], [10, 20, 70]))
    assert stats.psi_from_counts([1, 2, 7], [3, 3, 4]) == pytest.approx(stats.psi_from_counts([10, 20, 70], [30, 30, 40]))


def test_empty_current_is_nan_with_warning():
    with pytest.warns(UndefinedMetricWarning, match="current sample is empty"):
        assert math.isnan(stats.psi([1.0, 2.0, 3.0], []))
    with pytest.raises(ValueError, match="reference is empty"):
        stats.psi([], [1.0])


@pytest.mark.parametrize(("args", "fragment"), [
    (([1.0, np.nan, 3.0], [1.0]), "reference has 1 missing or infinite value"),
    (([1.0, 2.0], [np.inf]), "current has 1 missing or infinite value"),
])
def test_psi_validation(args, fragment):
    with pytest.raises(ValueError, match=fragment):
        stats.psi(*args)


@pytest.mark.parametrize(("kwargs", "fragment"), [
    (dict(ref_counts=[1, 2], cur_counts=[1, 2, 3]), "one count per bin"),
    (dict(ref_counts=[1, -2], cur_counts=[1, 2]), "non-negative finite"),
    (dict(ref_counts=[], cur_counts=[]), "non-empty"),
    (dict(ref_counts=[1, 2], cur_counts=[1, 2], eps=0), "eps must be in"),
])
def test_psi_from_counts_validation(kwargs, fragment):
    with pytest.raises(ValueError, match=fragment):
        stats.psi_from_counts(**kwargs)


def test_bins_validation():
    with pytest.raises(ValueError, match="bins must be a positive integer"):
        stats.psi([1.0, 2.0], [1.0], bins=0)


@pytest.mark.parametrize(("n", "m", "shift"), [(30, 40, 0.5), (500, 800, 0.1), (10_000, 7_000, 0.05),
                                               (3, 3, 10.0)])
def test_ks_matches_scipy_small(n, m, shift):
    rng = np.random.default_rng(n)
    a, b = np.round(rng.normal(size=n), 1), np.round(rng.normal(shift, 1, size=m), 1)
    r = stats.ks_test(a, b)
    want = sps.ks_2samp(a, b)
    assert r.statistic == want.statistic and r.p_value == want.pvalue
    assert (r.n_reference, r.n_current, r.method) == (n, m, "exact")


@pytest.mark.parametrize("ties", [False, True])
def test_ks_large_samples(ties):
    rng = np.random.default_rng(3)
    a, b = rng.normal(size=60_000), rng.normal(0.01, 1, size=40_000)
    if ties:
        a, b = np.round(a, 2), np.round(b, 2)
    r = stats.ks_test(a, b)
    want = sps.ks_2samp(a, b, method="asymp")
    assert r.statistic == pytest.approx(want.statistic, abs=1e-15)  # may differ in the last bit
    assert r.p_value == pytest.approx(want.pvalue, rel=0.02)
    assert r.method == "asymptotic"
    assert stats.ks_test(np.sort(a), b).statistic == r.statistic  # pre-sorted input path


def test_ks_unbalanced_sizes_use_scipy_asymptotic_p():
    rng = np.random.default_rng(6)
    a, b = rng.normal(size=20_000), rng.normal(0.2, 1, size=300)
    r = stats.ks_test(a, b)
    want = sps.ks_2samp(a, b)  # auto -> asymp, kstwo with round(n m / (n + m))
    assert r.statistic == pytest.approx(want.statistic, abs=1e-15)
    assert r.p_value == pytest.approx(want.pvalue, rel=1e-9)


def test_ks_large_discrete_with_signed_zero():
    rng = np.random.default_rng(5)
    a = rng.integers(-3, 4, size=30_000).astype(float)
    b = rng.integers(-3, 5, size=20_000).astype(float)
    a[a == 0] = -0.0  # -0.0 and 0.0 are one value
    r = stats.ks_test(a, b)
    assert r.statistic == pytest.approx(sps.ks_2samp(a, b, method="asymp").statistic, abs=1e-15)


def test_ks_empty():
    with pytest.warns(UndefinedMetricWarning, match="reference sample is empty"):
        r = stats.ks_test([], [1.0])
    assert math.isnan(r.statistic) and r.reason


def test_chi2_matches_scipy_and_handles_one_sided_categories():
    ref_cat = ["a"] * 50 + ["b"] * 30 + ["c"] * 20
    cur_cat = ["a"] * 40 + ["b"] * 30 + ["d"] * 10  # c only in reference, d only in current
    r = stats.chi2_test(ref_cat, cur_cat)
    table = np.array([[50, 40], [30, 30], [20, 0], [0, 10]])
    want = sps.chi2_contingency(table, correction=False)
    assert r.statistic == pytest.approx(want.statistic) and r.p_value == pytest.approx(want.pvalue)
    assert r.dof == 3
    assert r.table.loc["d", "reference"] == 0 and r.table.loc["c", "current"] == 0
    assert list(r.table.columns) == ["reference", "current"]


def test_chi2_two_categories_and_correction():
    r = stats.chi2_test(["a"] * 50 + ["b"] * 50, ["a"] * 30 + ["b"] * 70)
    assert r.statistic == pytest.approx(25 / 3) and r.dof == 1
    rc = stats.chi2_test(["a"] * 50 + ["b"] * 50, ["a"] * 30 + ["b"] * 70, correction=True)
    want = sps.chi2_contingency(np.array([[50, 30], [50, 70]]), correction=True)
    assert rc.statistic == pytest.approx(want.statistic)


def test_chi2_single_category_and_empty():
    r = stats.chi2_test(["x"] * 5, ["x"] * 3)
    assert (r.statistic, r.dof, r.p_value) == (0.0, 0, 1.0)
    with pytest.warns(UndefinedMetricWarning, match="current sample is empty"):
        r = stats.chi2_test(["x"], [])
    assert math.isnan(r.p_value)


def test_chi2_integer_and_bool_categories():
    r = stats.chi2_test(np.array([1, 2, 2, 3] * 10), pd.Series([1, 2, 3, 3] * 10))
    assert r.table.index.tolist() == [1, 2, 3]
    r = stats.chi2_test([True, False] * 10, [True] * 15 + [False] * 5)
    assert r.dof == 1


def test_chi2_missing_values_are_errors():
    with pytest.raises(ValueError, match=r"current_categories has 2 missing value\(s\) at positions 1, 3"):
        stats.chi2_test(["a", "b"], ["a", None, "b", np.nan])


@settings(max_examples=40, deadline=None)
@given(st.lists(st.integers(0, 30), min_size=1, max_size=80), st.lists(st.integers(0, 30), min_size=1, max_size=80),
       st.randoms())
def test_property_psi_order_invariance_and_nonnegative(a, b, rnd):
    a, b = np.array(a, dtype=float), np.array(b, dtype=float)
    value = stats.psi(a, b)
    assert value >= 0
    pa, pb = a.copy(), b.copy()
    rnd.shuffle(pa)
    rnd.shuffle(pb)
    assert stats.psi(pa, pb) == pytest.approx(value, abs=1e-12)
    assert stats.psi(a, b) == pytest.approx(direct_psi(a, b), abs=1e-12)
    ks = stats.ks_test(a, b)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # scipy: exact failed, switching to asymp
        want = sps.ks_2samp(a, b)
    assert ks.statistic == want.statistic
    assert drift._ks_statistic(np.sort(a), np.sort(b)) == pytest.approx(want.statistic, abs=1e-15)
    hashed = drift._ks_from_distinct(*drift._distinct_counts(a), a.size, *drift._distinct_counts(b), b.size)
    assert hashed == pytest.approx(want.statistic, abs=1e-15)


def test_psi_and_ks_on_a_million_rows_equal_direct_computation():
    """10^6 rows split into a reference and a current window (the speed target for 20 such features,
    8 s, is in benchmarks/stats.py)."""
    rng = np.random.default_rng(4)
    n = 500_000
    reference, current = rng.normal(size=n), rng.normal(0.02, 1, size=n)
    assert stats.psi(reference, current) == pytest.approx(direct_psi(reference, current), rel=1e-9)
    ks = stats.ks_test(reference, current)
    assert ks.statistic == pytest.approx(sps.ks_2samp(reference, current, method="asymp").statistic, abs=1e-15)
    assert (ks.n_reference, ks.n_current) == (n, n)


def test_docstring_examples():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        failures, _ = doctest.testmod(drift)
    assert failures == 0
