"""Drift: PSI against hand-worked examples (tests/reference/drift.py) and a direct implementation, KS
and chi-square against scipy; the count-based forms (from histograms over shared bins) against the
sample forms; missingness change; edge cases, validation, properties and large windows (speed:
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


def direct_psi(reference, current, bins=10, smoothing=0.5):
    """Independent PSI: pandas.cut (R's cut) on the unique inner reference quantiles (right-closed),
    counts + 0.5, then the formula."""
    q = np.unique(np.quantile(reference, [k / bins for k in range(1, bins)]))
    edges = np.r_[-np.inf, q, np.inf]
    r = pd.cut(pd.Series(reference), edges, right=True).value_counts(sort=False).to_numpy() + smoothing
    c = pd.cut(pd.Series(current), edges, right=True).value_counts(sort=False).to_numpy() + smoothing
    r, c = r / r.sum(), c / c.sum()
    return float(np.sum((c - r) * np.log(c / r)))


def test_hand_worked_counts():
    got = stats.psi_from_counts(ref.EXAMPLE_A["ref_counts"], ref.EXAMPLE_A["cur_counts"])
    assert got == pytest.approx(ref.EXAMPLE_A["psi"], abs=ref.TOLERANCE)


def test_hand_worked_empty_bins():
    got = stats.psi(ref.EXAMPLE_B["reference"], ref.EXAMPLE_B["current"])
    assert got == pytest.approx(ref.EXAMPLE_B["psi"], abs=ref.TOLERANCE)


def test_tied_minimum_keeps_its_bin_as_r_cut_does():
    """A spike of values tied at the reference minimum is its own bin (R's cut on the unique inner
    quantiles), so a change of that spike is seen (it was merged into the next bin: PSI 0)."""
    d = ref.EXAMPLE_D
    assert stats.reference_edges(d["reference"], d["bins"]).tolist() == pytest.approx(d["edges"])
    table = stats.psi_table(d["reference"], d["current"], d["bins"])
    assert table["reference_count"].tolist() == d["reference_counts"]
    assert table["current_count"].tolist() == d["current_counts"]
    assert stats.psi(d["reference"], d["current"], d["bins"]) == pytest.approx(d["psi"], abs=ref.TOLERANCE)
    psi_edges, _ = drift.bin_edges(d["reference"], d["bins"], 100)
    assert psi_edges.tolist() == pytest.approx(d["edges"])


def test_empty_bin_adds_a_term_that_follows_the_window_size():
    """Counts + 0.5 instead of a 1e-4 proportion floor: an empty decile adds about r ln(r / (0.5 / n)),
    small for a small window (where empty bins come from chance) and large for a large one; the
    floor added ~0.69 whatever the size (demo: creatinine 2002, n = 4, PSI 2.67)."""
    reference = np.full(10, 300)
    small = stats.psi_from_counts(reference, [0, 5, 5, 5, 5, 5, 5, 5, 5, 5])
    large = stats.psi_from_counts(reference, [0, 500, 500, 500, 500, 500, 500, 500, 500, 500])
    assert small < 0.25 < large
    assert large == pytest.approx(0.1 * np.log(0.1 / (0.5 / 4505)), rel=0.05)
    four = stats.psi_from_counts(reference, [1, 1, 1, 1, 0, 0, 0, 0, 0, 0])  # n = 4: six empty deciles
    assert four < 0.6  # the floor: 0.6 ln(1e-4 / 0.1) terms alone give 4.1


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
    # inner deciles 0 (x7), 0.2, 10.1: unique -> [0, 0.2, 10.1]; the zeros keep their bin (-inf, 0]
    assert stats.reference_edges(reference).tolist() == pytest.approx([0, 0.2, 10.1])
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


def test_psi_is_symmetric_in_counts_and_smoothing_fades_with_size():
    assert stats.psi_from_counts([10, 20, 70], [30, 30, 40]) == pytest.approx(stats.psi_from_counts([30, 30, 40], [10, 20, 70]))
    r, c = np.array([0.1, 0.2, 0.7]), np.array([0.3, 0.3, 0.4])
    unsmoothed = float(np.sum((c - r) * np.log(c / r)))
    assert stats.psi_from_counts(r * 1e6, c * 1e6) == pytest.approx(unsmoothed, rel=1e-5)
    assert stats.psi_from_counts(r * 10, c * 10) < unsmoothed


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
    (dict(ref_counts=[1, 2], cur_counts=[1, 2], smoothing=0), "smoothing must be a positive number"),
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


# --- count-based forms against the sample forms -------------------------------------------------------

def _right_closed_counts(x, edges):
    """Counts of ``x`` in the bins (-inf, e_0], (e_0, e_1], ..., (e_last, inf) (numpy, not DuckDB)."""
    idx = np.searchsorted(edges, x, side="left")  # number of edges < x
    return np.bincount(idx, minlength=edges.size + 1)


@pytest.mark.parametrize("bins", [10, 7, 1])
def test_bin_edges_psi_edges_are_reference_edges_and_fine_edges(bins):
    ref = np.round(np.random.default_rng(1).lognormal(size=3000), 2)
    psi_edges, fine = drift.bin_edges(ref, bins, 200)
    np.testing.assert_array_equal(psi_edges, stats.reference_edges(ref, bins))
    assert np.all(np.diff(fine) > 0) and np.isin(psi_edges, fine).all()
    assert fine[0] == ref.min() and fine[-1] == ref.max()
    with pytest.raises(ValueError, match="reference is empty"):
        drift.bin_edges([], 10)


@pytest.mark.parametrize("kind", ["normal", "integers", "ties"])
def test_psi_counts_give_the_psi_of_the_raw_values(kind):
    rng = np.random.default_rng(2)
    make = {"normal": lambda n, s: rng.normal(s, 1, n), "integers": lambda n, s: rng.integers(0, 25, n) + s,
            "ties": lambda n, s: np.round(rng.normal(s, 1, n), 1)}[kind]
    ref, cur = make(4000, 0.0).astype(float), make(900, 0.4).astype(float)
    psi_edges, fine = drift.bin_edges(ref, 10, 300)
    r, c = _right_closed_counts(ref, fine), _right_closed_counts(cur, fine)
    np.testing.assert_array_equal(drift.psi_counts(r, fine, psi_edges), _right_closed_counts(ref, psi_edges))
    got = stats.psi_from_counts(drift.psi_counts(r, fine, psi_edges), drift.psi_counts(c, fine, psi_edges))
    assert got == pytest.approx(stats.psi(ref, cur), rel=1e-12, abs=1e-15)
    with pytest.raises(ValueError, match="every PSI edge must be one of the fine edges"):
        drift.psi_counts(r, fine, psi_edges + 1e-9)


@pytest.mark.parametrize(("n", "m"), [(3000, 400), (40, 25), (30_000, 20_000)])
def test_ks_from_counts_with_exact_bins_is_the_ks_of_the_raw_values(n, m):
    # integer values with fewer distinct values than fine bins: every bin holds one value, so D is exact
    rng = np.random.default_rng(n)
    ref, cur = rng.integers(0, 20, n).astype(float), rng.integers(1, 21, m).astype(float)
    _, fine = drift.bin_edges(ref, 10, 1000)
    r = drift.ks_from_counts(_right_closed_counts(ref, fine), _right_closed_counts(cur, fine))
    exact = stats.ks_test(ref, cur)
    assert r.statistic == pytest.approx(exact.statistic, abs=1e-12)
    assert r.upper >= r.statistic
    want = sps.ks_2samp(ref, cur, method="asymp")  # the p-value of the count path: scipy's asymptotic one
    assert r.statistic == pytest.approx(want.statistic, abs=1e-12)
    if n * m / (n + m) <= 10_000:
        assert r.p_value == pytest.approx(want.pvalue, rel=1e-9) and r.method == "kstwo(round(nm/(n+m)))"
    else:  # beyond it both paths use Kolmogorov's limit
        assert r.p_value == pytest.approx(exact.p_value, rel=1e-12) and r.method == "kolmogorov-limit"


def test_ks_from_counts_bounds_the_exact_statistic_and_empty_is_nan():
    rng = np.random.default_rng(8)
    ref, cur = rng.normal(size=5000), rng.normal(0.2, 1.1, 700)
    _, fine = drift.bin_edges(ref, 10, 100)  # coarse: the bounds are apart
    r = drift.ks_from_counts(_right_closed_counts(ref, fine), _right_closed_counts(cur, fine))
    exact = stats.ks_test(ref, cur).statistic
    assert r.statistic <= exact + 1e-12 <= r.upper + 2e-12 and r.upper - r.statistic < 0.05
    empty = drift.ks_from_counts([0, 0], [1, 2])
    assert all(math.isnan(v) for v in (empty.statistic, empty.upper, empty.p_value))


def test_chi2_from_counts_is_scipy_and_chi2_test_on_the_labels():
    ref = ["a"] * 50 + ["b"] * 30 + ["c"] * 20
    cur = ["a"] * 40 + ["b"] * 30 + ["d"] * 10
    r = drift.chi2_from_counts([50, 30, 20, 0, 0], [40, 30, 0, 10, 0])  # "e": empty in both, left out
    want = sps.chi2_contingency(np.array([[50, 30, 20, 0], [40, 30, 0, 10]]), correction=False)
    assert (r.statistic, r.dof, r.p_value) == (pytest.approx(want.statistic), 3, pytest.approx(want.pvalue))
    direct = stats.chi2_test(ref, cur)
    assert (r.statistic, r.p_value) == (pytest.approx(direct.statistic, rel=1e-12), pytest.approx(direct.p_value))
    assert (drift.chi2_from_counts([5, 0], [3, 0]).statistic, drift.chi2_from_counts([5, 0], [3, 0]).p_value) == (0.0, 1.0)
    assert math.isnan(drift.chi2_from_counts([5, 2], [0, 0]).p_value)


def test_categorical_drift_equals_direct_computation():
    rng = np.random.default_rng(9)
    ref = pd.Series(rng.choice(["a", "b", "c"], 3000, p=[0.5, 0.3, 0.2]))
    cur = pd.Series(rng.choice(["a", "b", "d"], 500, p=[0.4, 0.4, 0.2]))
    found = drift.categorical_drift(ref.value_counts(), cur.value_counts())
    direct = stats.chi2_test(ref, cur)
    assert found.statistic == pytest.approx(direct.statistic, rel=1e-12)
    assert found.p_value == pytest.approx(direct.p_value, rel=1e-9)
    table = direct.table
    assert found.psi == pytest.approx(stats.psi_from_counts(table["reference"], table["current"]), rel=1e-12)
    assert found.test == "chi2" and math.isnan(found.ks_upper)
    empty = drift.categorical_drift(ref.value_counts(), pd.Series(dtype=float))
    assert math.isnan(empty.psi) and math.isnan(empty.p_value)


def test_continuous_drift_is_psi_and_ks_of_the_counts():
    rng = np.random.default_rng(10)
    ref, cur = rng.integers(0, 40, 2000).astype(float), rng.integers(3, 43, 600).astype(float)
    psi_edges, fine = drift.bin_edges(ref, 10, 1000)
    found = drift.continuous_drift(_right_closed_counts(ref, fine), _right_closed_counts(cur, fine), fine, psi_edges)
    assert found.psi == pytest.approx(stats.psi(ref, cur), rel=1e-12)
    assert found.statistic == pytest.approx(stats.ks_test(ref, cur).statistic, abs=1e-12)
    assert found.test == "ks"
    assert math.isnan(drift.continuous_drift(np.zeros(fine.size + 1), _right_closed_counts(cur, fine), fine,
                                             psi_edges).psi)


def test_missingness_change_newcombe_interval():
    out = drift.missingness_change(10, 100, 30, 100)
    change = out.change
    assert change.estimate == pytest.approx(0.2)
    # Newcombe 1998 method 10 (hybrid score) from the Wilson limits of 30/100 and 10/100
    w1, w2 = stats.proportion(30, 100), stats.proportion(10, 100)
    assert change.lower == pytest.approx(0.2 - math.hypot(0.3 - w1.lower, w2.upper - 0.1))
    assert change.upper == pytest.approx(0.2 + math.hypot(w1.upper - 0.3, 0.1 - w2.lower))
    want = sps.chi2_contingency(np.array([[10, 90], [30, 70]]), correction=False).pvalue
    assert out.p_value == pytest.approx(want, rel=1e-12) and out.p_value < 0.001
    assert out.rate.estimate == 0.3 and out.rate.method == "wilson"
    exact = drift.missingness_change(10, 100, 30, 100, method="clopper-pearson")
    assert exact.rate == stats.proportion(30, 100, method="clopper-pearson") and exact.change == change
    assert math.isnan(drift.missingness_change(0, 50, 0, 60).p_value)  # nothing missing anywhere
    assert math.isnan(drift.missingness_change(50, 50, 60, 60).p_value)  # everything missing
    empty = drift.missingness_change(3, 50, 0, 0)
    assert empty.change.reason == "empty window" and math.isnan(empty.p_value)


def test_psi_band():
    assert [drift.psi_band(v) for v in (0.05, 0.1, 0.25, 0.3, float("nan"))] == [
        "stable", "moderate", "moderate", "significant", ""]
    # below the minimum size no band is read, never "significant shift"
    assert drift.psi_band(1.66, 45, min_n=100) == "too few rows"
    assert drift.psi_band(0.3, 100, min_n=100) == "significant"


@pytest.mark.parametrize(("n", "m", "bins"), [(1000, 3000, 10), (400, 5000, 5)])
def test_psi_null_approaches_yurdakul_for_large_windows(n, m, bins):
    """Independent check: for large samples the PSI without drift is (1/n + 1/m) chi2(bins - 1)
    (Yurdakul 2018); the simulated mean and 95th percentile agree within 5 % (Monte Carlo and
    smoothing error)."""
    null = drift.psi_null(np.full(bins, m // bins), n, draws=4000, rng=np.random.default_rng(3))
    scale = 1 / n + 1 / (m // bins * bins)
    assert null.mean == pytest.approx(scale * (bins - 1), rel=0.05)
    assert null.q95 == pytest.approx(scale * sps.chi2.ppf(0.95, bins - 1), rel=0.05)
    assert (null.n_current, null.draws) == (n, 4000) and null.method.startswith("simulated")


def test_psi_null_of_a_small_window_is_what_a_window_without_drift_gives():
    """A window of 45 against 3,167 reference rows, deciles: the simulated null matches the PSI of
    windows really drawn from the reference population (and is far below Yurdakul's formula at n = 4)."""
    rng = np.random.default_rng(5)
    population = rng.normal(size=3167)
    edges = stats.reference_edges(population)
    null = drift.psi_null(drift._counts(population, edges), 45, rng=np.random.default_rng(6))
    observed = [stats.psi(rng.choice(population, 3167), rng.choice(population, 45)) for _ in range(300)]
    assert null.mean == pytest.approx(np.mean(observed), rel=0.1)
    assert 0.15 < null.mean < 0.22 and 0.3 < null.q95 < 0.45
    tiny = drift.psi_null(drift._counts(population, edges), 4, rng=np.random.default_rng(6))
    assert tiny.q95 < (1 / 4 + 1 / 3167) * 9  # Yurdakul's mean at n = 4 (2.25) overstates it
    assert math.isnan(drift.psi_null(drift._counts(population, edges), 0, rng=rng).mean)


@settings(max_examples=40, deadline=None)
@given(st.lists(st.integers(0, 12), min_size=1, max_size=60), st.lists(st.integers(0, 12), min_size=1, max_size=60))
def test_property_count_forms_equal_sample_forms_on_integers(a, b):
    a, b = np.array(a, dtype=float), np.array(b, dtype=float)
    psi_edges, fine = drift.bin_edges(a, 10, 100)  # 100 fine bins > 13 values: exact
    ra, rb = _right_closed_counts(a, fine), _right_closed_counts(b, fine)
    found = drift.continuous_drift(ra, rb, fine, psi_edges)
    assert found.psi == pytest.approx(stats.psi(a, b), abs=1e-12)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # scipy's p-value at n m / (n + m) < 1
        exact = sps.ks_2samp(a, b, method="asymp").statistic
    assert found.statistic <= exact + 1e-12 <= found.ks_upper + 2e-12
    pooled = np.union1d(a, b)
    if np.bincount(np.searchsorted(fine, pooled, side="left")).max() == 1:  # one distinct value per bin
        assert found.statistic == pytest.approx(exact, abs=1e-12)
    values = np.union1d(a, b)
    cats = drift.chi2_from_counts([np.sum(a == v) for v in values], [np.sum(b == v) for v in values])
    direct = stats.chi2_test(a.astype(int), b.astype(int))
    assert cats.statistic == pytest.approx(direct.statistic, rel=1e-12, abs=1e-12)
    assert cats.dof == direct.dof


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
