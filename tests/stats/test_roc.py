"""AUROC, paired DeLong test and ROC curve: R pROC reference, scikit-learn, a brute-force DeLong oracle,
hand-worked cases, properties, undefined cases and input validation."""

from __future__ import annotations

import doctest
import math
import warnings

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.stats import norm
from sklearn.metrics import roc_auc_score
from sklearn.metrics import roc_curve as sk_roc_curve

from studylib import stats
from studylib.stats import roc
from studylib.stats._validate import UndefinedMetricWarning
from tests.reference import newcombe_auroc
from tests.reference import proc_asah as ref

# --------------------------------------------------------------------------------------------------
# Independent oracle: DeLong from pairwise comparisons, O(m * n), no ranks and no shared code
# --------------------------------------------------------------------------------------------------


def brute_delong(y, *scores):
    """AUCs and their DeLong covariance matrix from the pairwise kernel psi = 1, 1/2, 0."""
    y = np.asarray(y).astype(bool)
    v10, v01, aucs = [], [], []
    for s in scores:
        s = np.asarray(s, dtype=float)
        x, z = s[y], s[~y]
        psi = (x[:, None] > z[None, :]) + 0.5 * (x[:, None] == z[None, :])
        v10.append(psi.mean(axis=1))
        v01.append(psi.mean(axis=0))
        aucs.append(psi.mean())
    m, n = int(y.sum()), int((~y).sum())
    cov = np.atleast_2d(np.cov(np.array(v10))) / m + np.atleast_2d(np.cov(np.array(v01))) / n
    return np.array(aucs), cov


def tied_data(seed, n=200, prevalence=0.3, decimals=1):
    rng = np.random.default_rng(seed)
    y = rng.random(n) < prevalence
    y[:2], y[2:4] = True, False  # at least 2 of each class
    a = np.round(rng.normal(size=n) + 0.8 * y, decimals)
    b = np.round(0.6 * a + rng.normal(size=n) * 0.8 + 0.3 * y, decimals)
    return y.astype(int), a, b


# --------------------------------------------------------------------------------------------------
# R pROC on aSAH
# --------------------------------------------------------------------------------------------------


def test_auroc_reproduces_proc_ci_auc_on_asah():
    y, s100b, _, _ = ref.arrays()
    est = stats.auroc(y, s100b)
    assert est.method == "delong" and est.defined
    assert est.estimate == pytest.approx(ref.AUC_S100B, abs=ref.TOL_4DP)
    assert est.lower == pytest.approx(ref.CI_S100B[0], abs=ref.TOL_4DP)
    assert est.upper == pytest.approx(ref.CI_S100B[1], abs=ref.TOL_4DP)


def test_auroc_reproduces_proc_auc_of_wfns_and_ndka():
    y, _, wfns, ndka = ref.arrays()
    assert stats.auroc(y, wfns).estimate == pytest.approx(ref.AUC_WFNS, abs=ref.TOL_4DP)
    assert stats.auroc(y, ndka).estimate == pytest.approx(ref.AUC_NDKA, abs=ref.TOL_4DP)


def test_delong_test_reproduces_proc_roc_test_on_asah():
    y, s100b, wfns, _ = ref.arrays()
    res = stats.delong_test(y, s100b, wfns)
    assert res.auc_a == pytest.approx(ref.TEST_AUC_S100B, abs=ref.TOL_7DP)
    assert res.auc_b == pytest.approx(ref.TEST_AUC_WFNS, abs=ref.TOL_7DP)
    assert res.z == pytest.approx(ref.TEST_Z, abs=ref.TOL_3DP)
    assert res.p_value == pytest.approx(ref.TEST_P, abs=ref.TOL_P)
    assert res.diff == pytest.approx(res.auc_a - res.auc_b, abs=1e-15)
    assert res.lower < res.diff < res.upper < 0  # significant at 5 %: the interval excludes 0


def test_asah_agrees_with_brute_force_oracle_to_1e10():
    y, s100b, wfns, ndka = ref.arrays()
    aucs, cov = brute_delong(y, s100b, wfns, ndka)
    for j, s in enumerate((s100b, wfns, ndka)):
        assert stats.auroc(y, s).se == pytest.approx(math.sqrt(cov[j, j]), rel=1e-10)
    res = stats.delong_test(y, s100b, ndka)
    se = math.sqrt(cov[0, 0] + cov[2, 2] - 2 * cov[0, 2])
    assert res.se == pytest.approx(se, rel=1e-10)


# --------------------------------------------------------------------------------------------------
# Brute-force DeLong and scikit-learn
# --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("decimals", [0, 1, 3])
def test_auroc_equals_brute_force_delong(seed, decimals):
    y, a, _ = tied_data(seed, n=150 + 20 * seed, decimals=decimals)
    aucs, cov = brute_delong(y, a)
    est = stats.auroc(y, a, alpha=0.1)
    se = math.sqrt(cov[0, 0])
    z = norm.ppf(0.95)
    assert est.estimate == pytest.approx(aucs[0], abs=1e-12)
    assert est.se == pytest.approx(se, rel=1e-10)
    assert est.lower == pytest.approx(max(0.0, aucs[0] - z * se), abs=1e-10)
    assert est.upper == pytest.approx(min(1.0, aucs[0] + z * se), abs=1e-10)


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("decimals", [0, 1, 3])
def test_delong_test_equals_brute_force(seed, decimals):
    y, a, b = tied_data(seed, n=160, decimals=decimals)
    aucs, cov = brute_delong(y, a, b)
    res = stats.delong_test(y, a, b, alpha=0.05)
    se = math.sqrt(cov[0, 0] + cov[1, 1] - 2 * cov[0, 1])
    z = (aucs[0] - aucs[1]) / se
    assert (res.auc_a, res.auc_b) == pytest.approx(tuple(aucs), abs=1e-12)
    assert res.se == pytest.approx(se, rel=1e-10)
    assert res.z == pytest.approx(z, rel=1e-10, abs=1e-12)
    assert res.p_value == pytest.approx(2 * norm.sf(abs(z)), rel=1e-10)
    assert res.lower == pytest.approx(res.diff - norm.ppf(0.975) * se, abs=1e-10)
    assert res.upper == pytest.approx(res.diff + norm.ppf(0.975) * se, abs=1e-10)


@pytest.mark.parametrize("seed", range(5))
def test_auroc_equals_sklearn(seed):
    rng = np.random.default_rng(seed)
    n = int(rng.integers(10, 5000))
    y = rng.random(n) < rng.uniform(0.05, 0.95)
    y[:2], y[2:4] = True, False
    s = np.round(rng.normal(size=n) + y, int(rng.integers(0, 4)))
    assert stats.auroc(y, s).estimate == pytest.approx(roc_auc_score(y, s), abs=1e-12)


@pytest.mark.parametrize("drop", [False, True])
@pytest.mark.parametrize("seed", range(4))
def test_roc_curve_equals_sklearn(seed, drop):
    y, a, _ = tied_data(seed, n=300, decimals=seed % 3)
    curve = stats.roc_curve(y, a, drop_intermediate=drop)
    fpr, tpr, thr = sk_roc_curve(y, a, drop_intermediate=drop)
    assert list(curve.columns) == ["threshold", "fpr", "tpr"]
    np.testing.assert_array_equal(curve["threshold"].to_numpy(), thr)
    np.testing.assert_allclose(curve["fpr"].to_numpy(), fpr, rtol=0, atol=1e-15)
    np.testing.assert_allclose(curve["tpr"].to_numpy(), tpr, rtol=0, atol=1e-15)
    area = np.trapezoid(curve["tpr"], curve["fpr"])
    assert area == pytest.approx(stats.auroc(y, a).estimate, abs=1e-12)


def test_roc_curve_threshold_rule_is_score_at_least_threshold():
    y = np.array([0, 1, 0, 1, 1])
    s = np.array([0.2, 0.5, 0.5, 0.7, 0.1])
    for _, row in stats.roc_curve(y, s).iterrows():
        called = s >= row["threshold"]
        assert row["tpr"] == (called & (y == 1)).sum() / 3
        assert row["fpr"] == (called & (y == 0)).sum() / 2


# --------------------------------------------------------------------------------------------------
# Hand-worked cases
# --------------------------------------------------------------------------------------------------


def test_hand_worked_auroc_and_variance():
    # positives 0.4, 0.9 beat 1 and 2 of the negatives {0.1, 0.6}: V10 = (1/2, 1); negatives are
    # beaten by 2 and 1 positives: V01 = (1, 1/2). AUC 3/4; var = (1/8)/2 + (1/8)/2 = 1/8.
    est = stats.auroc([0, 0, 1, 1], [0.1, 0.6, 0.4, 0.9])
    assert est.estimate == 0.75
    assert est.se == pytest.approx(math.sqrt(0.125), rel=1e-14)
    assert est.upper == 1.0  # clipped
    assert est.lower == pytest.approx(0.75 - norm.ppf(0.975) * math.sqrt(0.125), rel=1e-12)


def test_all_tied_scores_give_one_half_with_ties_counted_half():
    est = stats.auroc([0, 1, 0, 1, 1], [3, 3, 3, 3, 3])
    assert est.estimate == 0.5 and est.lower < 0.5 < est.upper  # DeLong variance 0: no zero-width interval


@pytest.mark.parametrize("auc, m, n, lower, upper", newcombe_auroc.CASES)
def test_newcombe_score_interval_matches_r(auc, m, n, lower, upper):
    got = roc.newcombe_score_interval(auc, m, n, 0.05)
    assert got == pytest.approx((lower, upper), abs=newcombe_auroc.TOLERANCE)


def test_zero_delong_variance_gives_a_boundary_safe_interval():
    """Issue 13 item 5: perfect separation of 3 vs 3 was AUROC 1.0 (1.0–1.0), passing "lower >= 0.75";
    a constant score 0.5 (0.5–0.5). Both now get Newcombe's score interval (R values in
    tests/reference/newcombe_auroc.py)."""
    separated = stats.auroc([0, 0, 0, 1, 1, 1], [1, 2, 3, 4, 5, 6])
    assert separated.estimate == 1.0 and separated.upper == 1.0
    assert separated.lower == pytest.approx(0.5010187607, abs=1e-8) and separated.lower < 0.75
    assert separated.method == roc.NEWCOMBE_METHOD and separated.se == 0.0
    constant = stats.auroc([0, 0, 0, 1, 1, 1], [2] * 6)
    assert (constant.lower, constant.upper) == pytest.approx((0.1527735361, 0.8472264639), abs=1e-8)
    counts = roc.auroc_from_counts([0, 3], [3, 0])  # the same through the subgroup path
    assert (counts.lower, counts.upper) == (separated.lower, separated.upper)


def test_accepts_bool_labels_pandas_and_lists():
    y = pd.Series([False, False, True, True])
    s = pd.Series([0.1, 0.6, 0.4, 0.9])
    assert stats.auroc(y, s) == stats.auroc([0, 0, 1, 1], [0.1, 0.6, 0.4, 0.9])
    assert stats.auroc(np.array([0.0, 0.0, 1.0, 1.0]), s).estimate == 0.75


# --------------------------------------------------------------------------------------------------
# Undefined cases: never a crash, NaN with a reason and a warning
# --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "y, s, found",
    [
        ([1, 1, 1, 1], [0.1, 0.2, 0.3, 0.4], "0 negative cases"),
        ([0, 0, 0, 1], [0.1, 0.2, 0.3, 0.4], "1 positive case"),
        ([0, 1], [0.1, 0.2], "1 positive case and 1 negative case"),
        ([], [], "0 positive cases and 0 negative cases"),
    ],
)
def test_auroc_undefined_with_fewer_than_two_cases_per_class(y, s, found):
    with pytest.warns(UndefinedMetricWarning, match=found):
        est = stats.auroc(y, s)
    assert not est.defined and math.isnan(est.estimate) and math.isnan(est.se)
    assert found in est.reason and est.method == "delong"


def test_delong_test_undefined_with_one_class():
    with pytest.warns(UndefinedMetricWarning, match="0 positive cases"):
        res = stats.delong_test([0, 0, 0], [1, 2, 3], [3, 2, 1])
    assert not res.defined and all(math.isnan(v) for v in (res.auc_a, res.auc_b, res.diff, res.se, res.p_value))
    assert "0 positive cases" in res.reason


def test_delong_test_undefined_when_scores_rank_identically():
    y, a, _ = tied_data(1)
    with pytest.warns(UndefinedMetricWarning, match="variance of the difference is 0"):
        res = stats.delong_test(y, a, np.exp(a))  # strictly increasing transform: same ranks
    assert res.auc_a == res.auc_b and res.diff == 0.0 and res.se == 0.0
    assert math.isnan(res.z) and math.isnan(res.p_value) and math.isnan(res.lower) and not res.defined
    assert res.to_dict()["reason"] == res.reason


def test_roc_curve_with_one_class_warns_and_gives_nan_rates():
    with pytest.warns(UndefinedMetricWarning, match="no positive"):
        curve = stats.roc_curve([0, 0, 0], [0.1, 0.5, 0.5])
    assert curve["tpr"].isna().all() and curve["fpr"].tolist() == [0.0, 2 / 3, 1.0]


# --------------------------------------------------------------------------------------------------
# Input validation: actionable ValueErrors
# --------------------------------------------------------------------------------------------------


def test_length_mismatch_names_both_lengths():
    with pytest.raises(ValueError, match="y has 3, score has 2"):
        stats.auroc([0, 1, 1], [0.1, 0.2])
    with pytest.raises(ValueError, match="score_b has 2"):
        stats.delong_test([0, 1, 1], [0.1, 0.2, 0.3], [0.1, 0.2])
    with pytest.raises(ValueError, match="same length"):
        stats.roc_curve([0, 1, 1], [0.1, 0.2])


def test_nan_scores_reported_with_count_and_positions():
    with pytest.raises(ValueError, match=r"score has 2 missing or infinite value\(s\) at positions 1, 3"):
        stats.auroc([0, 1, 0, 1], [0.1, np.nan, 0.3, np.inf])
    with pytest.raises(ValueError, match=r"score_a has 1 missing"):
        stats.delong_test([0, 1, 0, 1], [0.1, np.nan, 0.3, 0.4], [1, 2, 3, 4])


def test_labels_that_are_not_binary_list_values_found():
    with pytest.raises(ValueError, match=r"found other values \[2\]"):
        stats.auroc([0, 1, 2, 1], [0.1, 0.2, 0.3, 0.4])
    with pytest.raises(ValueError, match="Good"):
        stats.auroc(["Good", "Poor", "Good"], [0.1, 0.2, 0.3])
    with pytest.raises(ValueError, match="y has 1 missing value"):
        stats.roc_curve([0, np.nan, 1], [0.1, 0.2, 0.3])


@pytest.mark.parametrize("alpha", [0, 1, -0.1, 1.5])
def test_alpha_out_of_range(alpha):
    with pytest.raises(ValueError, match="alpha must be in"):
        stats.auroc([0, 0, 1, 1], [1, 2, 3, 4], alpha=alpha)
    with pytest.raises(ValueError, match="alpha must be in"):
        stats.delong_test([0, 0, 1, 1], [1, 2, 3, 4], [1, 3, 2, 4], alpha=alpha)


def test_two_dimensional_scores_rejected():
    with pytest.raises(ValueError, match="one-dimensional"):
        stats.auroc([0, 1], [[0.1, 0.2], [0.3, 0.4]])


# --------------------------------------------------------------------------------------------------
# Properties
# --------------------------------------------------------------------------------------------------


@st.composite
def labelled_scores(draw, min_size=4, max_size=60):
    n = draw(st.integers(min_size, max_size))
    y = np.array(draw(st.lists(st.booleans(), min_size=n, max_size=n)))
    y[:2], y[2:4] = True, False
    # few distinct values (heavy ties) or a fine grid; on a grid, monotone transforms stay strict in floats
    values = st.integers(-5, 5) if draw(st.booleans()) else st.integers(-10**6, 10**6)
    s = np.array(draw(st.lists(values, min_size=n, max_size=n)), dtype=float) / 1000
    return y, s


@settings(max_examples=60, deadline=None)
@given(labelled_scores())
def test_property_interval_bounds_and_nonnegative_variance(data):
    y, s = data
    est = stats.auroc(y, s)
    assert est.se >= 0
    assert 0.0 <= est.lower <= est.estimate <= est.upper <= 1.0
    assert est.estimate == pytest.approx(roc_auc_score(y, s), abs=1e-12)


@settings(max_examples=60, deadline=None)
@given(labelled_scores())
def test_property_invariant_under_strictly_increasing_transform(data):
    y, s = data
    base = stats.auroc(y, s)
    ranks = pd.Series(s).rank(method="dense").to_numpy()
    for transformed in (3 * s + 7, np.exp(s / 500), ranks):
        other = stats.auroc(y, transformed)
        assert other.estimate == base.estimate
        assert other.se == pytest.approx(base.se, abs=1e-12)


@settings(max_examples=60, deadline=None)
@given(labelled_scores())
def test_property_reversed_score_gives_one_minus_auc_and_same_se(data):
    y, s = data
    base, flipped = stats.auroc(y, s), stats.auroc(y, -s)
    assert flipped.estimate == pytest.approx(1 - base.estimate, abs=1e-12)
    assert flipped.se == pytest.approx(base.se, abs=1e-12)


@settings(max_examples=60, deadline=None)
@given(labelled_scores(), st.randoms(use_true_random=False))
def test_property_row_order_invariance(data, random):
    y, s = data
    perm = np.array(random.sample(range(len(y)), len(y)))
    assert stats.auroc(y[perm], s[perm]) == stats.auroc(y, s)
    b = np.round(s / 2)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UndefinedMetricWarning)
        first, second = stats.delong_test(y, s, b), stats.delong_test(y[perm], s[perm], b[perm])
    fields = ("auc_a", "auc_b", "diff", "se", "lower", "upper", "z", "p_value")
    for name in fields:
        assert getattr(second, name) == pytest.approx(getattr(first, name), abs=1e-12, nan_ok=True)
    assert first.reason == second.reason


@settings(max_examples=40, deadline=None)
@given(labelled_scores())
def test_property_delong_test_antisymmetric(data):
    y, s = data
    b = np.round(s / 3)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UndefinedMetricWarning)
        ab, ba = stats.delong_test(y, s, b), stats.delong_test(y, b, s)
    assert ba.diff == pytest.approx(-ab.diff, abs=1e-12)
    assert ba.se == pytest.approx(ab.se, abs=1e-12)
    if ab.defined:
        assert ba.p_value == pytest.approx(ab.p_value, abs=1e-12)
        assert -1.0 <= ab.lower <= ab.diff <= ab.upper <= 1.0
        assert 0.0 <= ab.p_value <= 1.0


def test_docstring_examples():
    result = doctest.testmod(roc, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert result.attempted >= 3 and result.failed == 0


def test_auroc_logit_interval_is_the_wald_interval_of_the_logit():
    """Pepe (2003) §5.2.2: logit(A) ± z·SE/(A(1 − A)), transformed back; checked against scipy's logit and
    expit (tolerance 1e-12), inside (0, 1), longer towards 0.5, and the Wald interval's width when SE → 0."""
    from scipy.special import expit, logit

    from studylib.stats.roc import auroc_logit_interval

    z = 1.959963984540054
    for auc, se in ((0.88, 0.045), (0.6, 0.08), (0.99, 0.02), (0.3, 0.05)):
        lower, upper = auroc_logit_interval(auc, se)
        spread = z * se / (auc * (1 - auc))
        assert (lower, upper) == pytest.approx((expit(logit(auc) - spread), expit(logit(auc) + spread)), abs=1e-12)
        assert 0 < lower < auc < upper < 1
        assert (upper - auc > auc - lower) == (auc < 0.5)
    lower, upper = auroc_logit_interval(0.8, 1e-6)
    assert (lower, upper) == pytest.approx((0.8 - z * 1e-6, 0.8 + z * 1e-6), abs=1e-10)
    for auc, se in ((1.0, 0.01), (0.0, 0.01), (0.8, 0.0)):
        with pytest.raises(ValueError, match="0 < auc < 1 and se > 0"):
            auroc_logit_interval(auc, se)
