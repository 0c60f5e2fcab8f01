"""Sample size for external validation (Riley et al. 2021): the authors' R code, the worked example, simulation."""

from __future__ import annotations

import math

import numpy as np
import pytest

from studylib.stats.calibration import logistic_recalibration
from studylib.stats.validation_size import (
    LinearPredictor, classification_at, external_validation_size, n_c_statistic, n_calibration_slope,
    n_net_benefit, n_oe, oe_se_for_width,
)
from tests.reference import validation_size as ref


@pytest.mark.parametrize(("case", "expected"), sorted(ref.OE.items()))
def test_oe_matches_r_code(case, expected):
    prevalence, width = case
    assert n_oe(prevalence, width).participants == pytest.approx(expected, rel=ref.RELATIVE_TOLERANCE)


@pytest.mark.parametrize(("case", "expected"), sorted(ref.C_STATISTIC.items()))
def test_c_statistic_matches_r_code(case, expected):
    c, prevalence = case
    assert n_c_statistic(c, prevalence, 0.1).participants == pytest.approx(expected, rel=ref.RELATIVE_TOLERANCE)


@pytest.mark.parametrize(("case", "expected"), sorted(ref.NET_BENEFIT.items()))
def test_net_benefit_matches_r_code(case, expected):
    sens, spec, threshold, prevalence = case
    got = n_net_benefit(sens, spec, prevalence, threshold, 0.2).participants
    assert got == pytest.approx(expected, rel=ref.RELATIVE_TOLERANCE)


def test_worked_example_c_statistic_and_events():
    """Section 4: C = 0.8, outcome proportion 0.018, width 0.1: the exact smallest n is 4,252 (77 events); the R
    code's optimize() stops at 4,255."""
    got = n_c_statistic(0.8, 0.018, 0.1)
    assert (got.participants, got.events) == (4252, 77)


def test_oe_width_is_solved_exactly():
    se = oe_se_for_width(1.0)
    assert math.exp(1.959963984540054 * se) - math.exp(-1.959963984540054 * se) == pytest.approx(1.0, abs=1e-12)
    assert n_oe(0.018, 1.0).participants == 906          # exact SE 0.2455 (the R code's 0.245 gives 909)


def test_pearson_iv_has_the_declared_moments():
    lp = LinearPredictor.pearson_iv(-5.8, 5, -0.5, 4)
    assert lp.moments() == pytest.approx((-5.8, 5, -0.5, 4), abs=1e-5)
    assert lp.prevalence == pytest.approx(0.0182, abs=1e-4)
    with pytest.raises(ValueError, match="Pearson type IV"):
        LinearPredictor.pearson_iv(0, 1, 0, 3)


def test_worked_example_slope_drives_the_size():
    """The worked example's calibration slope criterion is the largest of the four (O/E 906, C-statistic 4,252,
    net benefit 3,551) and needs 10,536 participants on the Pearson IV of the published moments.

    Why the published 9,835 (177 events) is not matched to 1 %: the paper gives the LP distribution by four
    rounded moments (mean -5.8, variance 5, skewness -0.5, kurtosis 4) and simulated 1e6 LP values from them
    with PearsonDS. The criterion is an expectation over the upper tail of that distribution, so sensitive to
    the moments that within their rounding (skewness -0.55 to -0.45, kurtosis 3.75 to 4.25, variance 4.75 to
    5.25) it spans 8,943 to 13,463 participants; 9,835 lies inside that range, 10,536 is the value at the
    rounded moments themselves. Our number is not a quadrature artefact: 1e6 draws from the same distribution
    (as the paper did) give 10,539. PearsonDS's type IV parameters (pearsonFitM: m = 1 + r/2, nu, scale,
    location) are the ones :meth:`LinearPredictor.pearson_iv` uses (Heinrich 2004). The paper's event count is
    participants × the anticipated outcome proportion 0.018 (9,835 × 0.018 = 177); ours is participants × the
    LP's own mean risk (0.01825: 192 events; × 0.018 it would be 190).
    """
    lp = LinearPredictor.pearson_iv(-5.8, 5, -0.5, 4)
    slope = n_calibration_slope(lp, 0.2)
    assert (slope.participants, slope.events) == (10536, 192)
    assert round(9835 * 0.018) == 177
    rng = np.random.default_rng(20210830)
    draws = rng.choice(lp.nodes, size=200_000, p=lp.weights)   # the paper drew 1e6: 10,539
    p = 1 / (1 + np.exp(-draws))
    v = p * (1 - p)
    i00, i01, i11 = v.mean(), (v * draws).mean(), (v * draws * draws).mean()
    simulated = i00 / ((0.2 / (2 * 1.959963984540054)) ** 2 * (i00 * i11 - i01 ** 2))
    assert simulated == pytest.approx(slope.participants, rel=0.02)
    corners = [n_calibration_slope(LinearPredictor.pearson_iv(-5.8, var, skew, kurt, points=20_001), 0.2).participants
               for skew in (-0.55, -0.45) for kurt in (3.75, 4.25) for var in (4.75, 5.25)]
    assert min(corners) < 9835 < max(corners)
    sizes = external_validation_size(lp, c_statistic=0.8, oe_width=1.0, net_benefit_threshold=0.08)
    assert max(sizes, key=lambda s: s.participants).criterion == "calibration_slope"


def test_c_statistic_mixture_is_calibrated_with_the_declared_prevalence_and_c():
    lp = LinearPredictor.from_c_statistic(0.1, 0.75)
    assert lp.prevalence == pytest.approx(0.1, abs=1e-10)
    rng = np.random.default_rng(1)
    x = rng.choice(lp.nodes, size=400_000, p=lp.weights) + rng.normal(0, 1e-9, 400_000)
    y = rng.random(len(x)) < 1 / (1 + np.exp(-x))
    from studylib.stats.roc import auroc
    assert auroc(y.astype(int), x).estimate == pytest.approx(0.75, abs=0.005)


def test_normal_lp_slope_size_matches_the_paper_section_3():
    """Section 3.2.4: LP ~ N(-1.75, 1.47²), slope width 0.2 (SE 0.051)."""
    got = n_calibration_slope(LinearPredictor.normal(-1.75, 1.47), 0.2)
    assert got.participants == 2406
    assert got.se == pytest.approx(0.2 / (2 * 1.959963984540054))


def test_classification_at_extremes():
    lp = LinearPredictor.normal(-1, 1)
    assert classification_at(lp, 1e-9) == pytest.approx((1.0, 0.0))
    sens, spec = classification_at(lp, 0.3)
    assert 0 < sens < 1 and 0 < spec < 1


def test_bad_input():
    with pytest.raises(ValueError, match="prevalence must be in"):
        n_oe(0, 0.2)
    with pytest.raises(ValueError, match="width must be > 0"):
        n_oe(0.1, 0)
    with pytest.raises(ValueError, match=r"C-statistic must be in \[0.5, 1\)"):
        n_c_statistic(1.0, 0.1, 0.1)


@pytest.mark.slow
def test_planned_slope_size_reaches_the_width_in_half_of_simulated_studies():
    """At the planned n, the slope interval is at most the target width in about half the studies (>= 40 %)."""
    lp = LinearPredictor.normal(-1.75, 1.47)
    plan = n_calibration_slope(lp, 0.3)
    rng = np.random.default_rng(20261201)
    hits = []
    for _ in range(400):
        x = rng.normal(-1.75, 1.47, plan.participants)
        y = (rng.random(plan.participants) < 1 / (1 + np.exp(-x))).astype(int)
        slope = logistic_recalibration(y, 1 / (1 + np.exp(-x)))[1]
        hits.append(slope.upper - slope.lower <= 0.3)
    assert 0.40 <= np.mean(hits) <= 0.75


@pytest.mark.slow
def test_planned_oe_and_c_sizes_reach_the_width_in_half_of_simulated_studies():
    """O/E with Riley's binomial SE of ln(O/E); the evaluation stage's Poisson-exact O/E interval
    (SE 1/sqrt(O)) is wider by about 1/sqrt(1 − φ), so a study judged on it needs n / (1 − φ)."""
    lp = LinearPredictor.from_c_statistic(0.2, 0.75)
    oe_plan, c_plan = n_oe(0.2, 0.2), n_c_statistic(0.75, 0.2, 0.1)
    rng = np.random.default_rng(7)
    from studylib.stats.roc import auroc
    oe_hits, c_hits = [], []
    for _ in range(300):
        for plan, hits in ((oe_plan, oe_hits), (c_plan, c_hits)):
            x = rng.choice(lp.nodes, size=plan.participants, p=lp.weights) + rng.normal(0, 1e-6, plan.participants)
            p = 1 / (1 + np.exp(-x))
            y = (rng.random(plan.participants) < p).astype(int)
            if plan is oe_plan:   # Riley's interval exp(ln O/E ± z sqrt((1 − φ̂)/O)); see the note below
                o, e = int(y.sum()), float(p.sum())
                half = 1.959963984540054 * np.sqrt((1 - o / len(y)) / o)
                width = o / e * (np.exp(half) - np.exp(-half))
            else:
                est = auroc(y, x)
                width = est.upper - est.lower
            hits.append(width <= (0.2 if plan is oe_plan else 0.1))
    assert 0.35 <= np.mean(oe_hits) <= 0.8
    assert 0.35 <= np.mean(c_hits) <= 0.8
