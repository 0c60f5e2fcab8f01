"""Random-effects meta-analysis against R metafor (REML / DL, Hartung–Knapp, predict()), and edge cases."""

from __future__ import annotations

import math

import numpy as np
import pytest

from studylib.stats.meta_analysis import random_effects
from tests.reference import metafor_random_effects as ref


@pytest.mark.parametrize(("case", "method"), sorted(ref.CASES))
def test_matches_metafor(case, method):
    y, v = ref.INPUTS[case]
    got = random_effects(y, v, method=method, test="knha")
    want = ref.CASES[(case, method)]
    tol = ref.TOLERANCE
    assert got.estimate == pytest.approx(want["b"], abs=tol)
    assert got.se == pytest.approx(want["se"], abs=tol)
    assert (got.lower, got.upper) == pytest.approx((want["ci.lb"], want["ci.ub"]), abs=tol)
    assert got.tau2 == pytest.approx(want["tau2"], abs=tol)
    assert 100 * got.i2 == pytest.approx(want["I2"], abs=1e-4)
    assert got.q == pytest.approx(want["QE"], abs=tol) and got.q_p_value == pytest.approx(want["QEp"], abs=tol)
    assert (got.pi_lower, got.pi_upper) == pytest.approx((want["pi.lb"], want["pi.ub"]), abs=tol)


def test_two_sites_pool_without_a_prediction_interval():
    got = random_effects([0.1, 0.3], [0.01, 0.02])
    assert got.k == 2 and math.isfinite(got.estimate) and math.isnan(got.pi_lower)
    assert "at least 3 sites" in got.pi_reason


def test_one_and_no_site():
    one = random_effects([0.4, math.nan], [0.01, 0.02])
    assert one.k == 1 and one.estimate == 0.4 and math.isnan(one.tau2)
    none = random_effects([], [])
    assert none.k == 0 and none.reason


def test_bad_method():
    with pytest.raises(ValueError, match="method must be one of reml, dl"):
        random_effects([0.1], [0.1], method="pm")


@pytest.mark.slow
def test_prediction_interval_covers_a_new_site_under_the_model():
    """k = 10 sites, τ² = 0.04: the 95 % prediction interval covers a new site's true value in >= 90 % of runs."""
    rng = np.random.default_rng(20261201)
    hits = []
    for _ in range(2000):
        v = rng.uniform(0.005, 0.03, 10)
        theta = rng.normal(0.5, 0.2, 11)
        y = rng.normal(theta[:10], np.sqrt(v))
        got = random_effects(y, v)
        hits.append(got.pi_lower <= theta[10] <= got.pi_upper)
    assert np.mean(hits) >= 0.90
