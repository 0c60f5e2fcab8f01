"""Power and sample size of the paired AUROC non-inferiority rule: closed-form properties and simulation."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats as sps

from studylib.stats.auroc_power import (
    auroc_difference_se, auroc_noninferiority_power, auroc_noninferiority_size, correlation_from_se,
)
from studylib.stats.control import hanley_mcneil_se
from studylib.stats.roc import delong_test


def test_power_at_the_margin_is_alpha_over_two():
    # true difference exactly -margin: the lower bound exceeds -margin with probability alpha/2
    assert auroc_noninferiority_power(0.78, 0.80, 0.02, 300, 300, correlation=0.5) == pytest.approx(0.025)


def test_uncorrelated_se_is_the_sum_of_hanley_mcneil_variances():
    se = auroc_difference_se(0.8, 0.75, 100, 200, correlation=0.0)
    assert se ** 2 == pytest.approx(hanley_mcneil_se(0.8, 100, 200) ** 2 + hanley_mcneil_se(0.75, 100, 200) ** 2)
    assert correlation_from_se(0.8, 0.75, 100, 200, se) == pytest.approx(0.0, abs=1e-12)


def test_size_is_the_smallest_reaching_the_power():
    plan = auroc_noninferiority_size(0.80, 0.784, 0.02, prevalence=0.3, correlation=0.8)
    assert plan.power >= 0.8
    odds = 0.7 / 0.3
    below = auroc_noninferiority_power(0.80, 0.784, 0.02, plan.positives - 1, np.ceil((plan.positives - 1) * odds),
                                       correlation=0.8)
    assert below < 0.8
    assert plan.negatives == int(np.ceil(plan.positives * odds - 1e-9))


def test_no_size_when_the_anticipated_difference_is_below_the_margin():
    plan = auroc_noninferiority_size(0.70, 0.75, 0.02, prevalence=0.3, correlation=0.5)
    assert not plan.reachable and plan.positives == -1


@pytest.mark.slow
def test_power_matches_simulated_delong_rule():
    """Binormal paired scores: the share of DeLong intervals whose lower bound exceeds -margin matches the power."""
    rng = np.random.default_rng(20261201)
    n_pos, n_neg, rho_scores = 150, 350, 0.7
    d_a, d_b = 1.19, 1.08                      # binormal AUROCs Phi(d / sqrt 2): 0.800, 0.777
    auc_a, auc_b = sps.norm.cdf(d_a / np.sqrt(2)), sps.norm.cdf(d_b / np.sqrt(2))
    cov = [[1, rho_scores], [rho_scores, 1]]
    passes, ses = [], []
    for _ in range(600):
        neg = rng.multivariate_normal([0, 0], cov, n_neg)
        pos = rng.multivariate_normal([d_a, d_b], cov, n_pos)
        y = np.r_[np.zeros(n_neg), np.ones(n_pos)].astype(int)
        test = delong_test(y, np.r_[neg[:, 0], pos[:, 0]], np.r_[neg[:, 1], pos[:, 1]])
        passes.append(test.lower > -0.02)
        ses.append(test.se)
    r = correlation_from_se(auc_a, auc_b, n_pos, n_neg, float(np.mean(ses)))
    predicted = auroc_noninferiority_power(auc_a, auc_b, 0.02, n_pos, n_neg, correlation=r)
    assert np.mean(passes) == pytest.approx(predicted, abs=0.06)
