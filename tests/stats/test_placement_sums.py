"""AUROC and paired DeLong from placement sums equal the row-level functions on the same cases."""

from __future__ import annotations

import numpy as np
import pytest

from studylib import stats
from studylib.stats.placement_sums import PlacementSums, paired_auroc_from_sums


def sums_from_rows(y, a, b) -> tuple[PlacementSums, PlacementSums]:
    """Half-unit placements by brute force (every positive against every negative), then their sums:
    an independent O(m·n) computation of what the engines return."""
    y = np.asarray(y, dtype=bool)
    a, b = np.asarray(a, float), np.asarray(b, float)

    def half_units(score, mine, other, sign):
        diff = sign * (score[mine][:, None] - score[other][None, :])
        return (2 * (diff > 0) + (diff == 0)).sum(axis=1).astype(object)

    out = []
    for mine, other, sign in ((y, ~y, 1), (~y, y, -1)):
        za, zb = half_units(a, mine, other, sign), half_units(b, mine, other, sign)
        out.append(PlacementSums(int(mine.sum()), int(za.sum()), int(zb.sum()), int((za * za).sum()),
                                 int((zb * zb).sum()), int((za * zb).sum())))
    return out[0], out[1]


@pytest.mark.parametrize("seed,ties", [(1, False), (2, True), (3, True)])
def test_equals_auroc_and_delong_test_on_the_rows(seed, ties):
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 2, 400)
    a = 0.8 * y + rng.normal(size=400)
    b = 0.5 * y + 0.6 * a + rng.normal(size=400)
    if ties:
        a, b = np.round(a, 1), np.round(b, 1)
    result = paired_auroc_from_sums(*sums_from_rows(y, a, b))
    rows = stats.delong_test(y, a, b)
    for mine, theirs in ((result.a, stats.auroc(y, a)), (result.b, stats.auroc(y, b))):
        assert mine.estimate == pytest.approx(theirs.estimate, abs=1e-12)
        assert mine.se == pytest.approx(theirs.se, rel=1e-9)
        assert (mine.lower, mine.upper) == pytest.approx((theirs.lower, theirs.upper), abs=1e-12)
    d = result.difference
    assert d.diff == pytest.approx(rows.diff, abs=1e-12)
    assert d.se == pytest.approx(rows.se, rel=1e-9)
    assert d.p_value == pytest.approx(rows.p_value, rel=1e-8)


def test_identical_rankings_give_a_difference_without_a_test():
    rng = np.random.default_rng(4)
    y = rng.integers(0, 2, 100)
    a = rng.random(100) + y
    result = paired_auroc_from_sums(*sums_from_rows(y, a, np.exp(a)))
    assert result.difference.diff == 0 and result.difference.se == 0
    assert np.isnan(result.difference.p_value) and "rank the cases identically" in result.difference.reason


def test_fewer_than_two_cases_of_a_class_is_undefined_with_a_reason():
    positives, negatives = sums_from_rows([1, 0, 0, 0], [0.9, 0.1, 0.2, 0.3], [0.8, 0.2, 0.1, 0.3])
    result = paired_auroc_from_sums(positives, negatives)
    assert not result.a.defined and result.a.reason and np.isnan(result.difference.diff)


def test_published_paired_example():
    # DeLong et al. worked example used by stats.delong_test's doctest: diff 1/3, z 1.2247
    y = [0, 0, 0, 1, 1, 1]
    result = paired_auroc_from_sums(*sums_from_rows(y, [1, 2, 3, 4, 5, 6], [1, 5, 3, 4, 2, 6]))
    assert round(result.difference.diff, 4) == 0.3333 and round(result.difference.z, 4) == 1.2247


def test_a_zero_variance_auroc_gets_the_same_interval_as_from_the_rows():
    # perfect separation of 3 and 3: the DeLong variance is 0; both paths give Newcombe's score interval
    y, a, b = [0, 0, 0, 1, 1, 1], [1, 2, 3, 4, 5, 6], [1, 5, 3, 4, 2, 6]
    result = paired_auroc_from_sums(*sums_from_rows(y, a, b))
    rows = stats.auroc(y, a)
    assert (result.a.estimate, result.a.lower, result.a.upper, result.a.method) == \
        (rows.estimate, pytest.approx(rows.lower, abs=1e-12), pytest.approx(rows.upper, abs=1e-12), rows.method)
    assert result.a.upper - result.a.lower > 0.4
