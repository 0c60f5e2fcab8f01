"""The count-based ROC fast path (sort once, count per subset) against the array versions on the
filtered rows: RankedScore.counts, auroc_from_counts vs stats.auroc, paired_auroc_difference vs
stats.delong_test; undefined cases and input validation."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from studylib import stats
from studylib.stats import roc
from studylib.stats._validate import UndefinedMetricWarning


def _cohort(n=2000, seed=1):
    """Outcomes and two correlated scores with many ties (rounded), plus random subsets of the rows."""
    rng = np.random.default_rng(seed)
    y = rng.random(n) < 0.3
    a = np.clip(0.3 + 0.25 * (y - 0.5) + rng.normal(0, 0.15, n), 0, 1).round(2)
    b = np.clip(a + rng.normal(0, 0.1, n), 0, 1).round(2)
    subsets = [np.arange(n)] + [np.flatnonzero(rng.random(n) < share) for share in (0.5, 0.1, 0.02)]
    subsets += [np.flatnonzero(a > 0.4), np.flatnonzero(b < 0.2)]
    return y, a, b, subsets


def test_counts_of_a_subset_equal_the_tie_groups_of_the_filtered_rows():
    y, a, _, subsets = _cohort()
    ranked = roc.RankedScore.of(y, a)
    for rows in subsets:
        counts = ranked.counts(rows)
        direct = roc._tie_groups(y[rows], a[rows])
        np.testing.assert_array_equal(counts.values, direct.values)
        np.testing.assert_array_equal(counts.n_pos, direct.n_pos)
        np.testing.assert_array_equal(counts.n_neg, direct.n_neg)
        np.testing.assert_array_equal(ranked.values[counts.groups], counts.values)
        assert (counts.m, counts.n) == (int(y[rows].sum()), int((~y[rows]).sum()))


def test_auroc_from_counts_equals_auroc_on_the_filtered_rows():
    y, a, _, subsets = _cohort()
    ranked = roc.RankedScore.of(y, a)
    for rows in subsets:
        counts = ranked.counts(rows)
        for alpha in (0.05, 0.1):
            fast = roc.auroc_from_counts(counts.n_pos, counts.n_neg, alpha=alpha)
            direct = stats.auroc(y[rows], a[rows], alpha=alpha)
            assert fast == direct  # the same arithmetic: equal to the last bit
            assert counts.auroc(alpha=alpha) == direct  # the cached-components path too


def test_subset_auroc_undefined_without_two_of_each_class():
    y, a, _, _ = _cohort(300)
    ranked = roc.RankedScore.of(y, a)
    rows = np.concatenate([np.flatnonzero(y)[:1], np.flatnonzero(~y)[:20]])
    est = ranked.counts(rows).auroc()
    assert not est.defined and est.reason.endswith("found 1 positive case")
    assert ranked.counts(np.array([], dtype=int)).auroc().reason.endswith("found 0 positive cases and 0 negative cases")


def test_auroc_from_counts_undefined_without_two_of_each_class_and_without_warning():
    with warnings.catch_warnings():
        warnings.simplefilter("error", UndefinedMetricWarning)
        est = roc.auroc_from_counts([0, 1, 0], [4, 0, 3])
    assert not est.defined and est.method == "delong"
    assert est.reason == "AUROC with a DeLong interval needs at least 2 positive and 2 negative cases; found 1 positive case"
    with pytest.warns(UndefinedMetricWarning):  # the array version warns; its reason is the same
        direct = stats.auroc([0, 1, 0, 0, 0, 0, 0, 0], [1, 2, 1, 1, 1, 3, 3, 3])
    assert (direct.reason, direct.method, direct.defined) == (est.reason, est.method, False)


@pytest.mark.parametrize("n_pos, n_neg, message", [
    ([1, 2], [1], "same length"),
    ([1, -1], [1, 1], "non-negative integer"),
    ([0.5, 1.0], [1, 1], "non-negative integer"),
    ([[1, 2]], [[1, 2]], "one-dimensional"),
])
def test_auroc_from_counts_rejects_bad_counts(n_pos, n_neg, message):
    with pytest.raises(ValueError, match=message):
        roc.auroc_from_counts(n_pos, n_neg)


def test_paired_difference_equals_delong_test_on_the_filtered_rows():
    y, a, b, subsets = _cohort()
    ra, rb = roc.RankedScore.of(y, a), roc.RankedScore.of(y, b)
    for rows in subsets:
        fast = roc.paired_auroc_difference(ra, rb, rows)
        again = roc.paired_auroc_difference(ra, rb, rows, counts_a=ra.counts(rows))
        test = stats.delong_test(y[rows], a[rows], b[rows])
        assert fast == again
        assert fast.method == "delong-paired"
        assert fast.estimate == pytest.approx(test.diff, abs=1e-15)
        assert fast.se == pytest.approx(test.se, rel=1e-12)
        assert (fast.lower, fast.upper) == pytest.approx((test.lower, test.upper), abs=1e-12)


def test_paired_difference_undefined_and_zero_variance():
    y, a, _, _ = _cohort(200)
    ra = roc.RankedScore.of(y, a)
    one_positive = np.concatenate([np.flatnonzero(y)[:1], np.flatnonzero(~y)[:10]])
    est = roc.paired_auroc_difference(ra, ra, one_positive)
    assert not est.defined and est.reason.startswith("The paired DeLong test needs at least 2 positive")
    monotone = roc.RankedScore.of(y, a ** 2)  # ranks the cases exactly as a does
    est = roc.paired_auroc_difference(ra, monotone, np.arange(y.size))
    assert est.estimate == 0.0 and est.se == 0.0 and np.isnan(est.lower)
    assert "variance of the difference is 0" in est.reason


def test_paired_difference_needs_the_same_outcomes():
    y, a, b, _ = _cohort(100)
    with pytest.raises(ValueError, match="same outcomes"):
        roc.paired_auroc_difference(roc.RankedScore.of(y, a), roc.RankedScore.of(~y, b), np.arange(100))


def test_ranked_score_validates_its_input():
    with pytest.raises(ValueError, match="missing or infinite"):
        roc.RankedScore.of([0, 1, 1], [0.1, np.nan, 0.3])
    with pytest.raises(ValueError, match="same length"):
        roc.RankedScore.of([0, 1], [0.1, 0.2, 0.3])


def test_rows_order_does_not_matter():
    y, a, _, subsets = _cohort(500)
    ranked = roc.RankedScore.of(y, a)
    rows = subsets[1]
    shuffled = np.random.default_rng(0).permutation(rows)
    assert roc.auroc_from_counts(ranked.counts(rows).n_pos, ranked.counts(rows).n_neg) == \
        roc.auroc_from_counts(ranked.counts(shuffled).n_pos, ranked.counts(shuffled).n_neg)
