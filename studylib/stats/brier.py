"""The Brier score with its interval, and the paired difference of two models' Brier scores.

Both are means of independent per-patient terms (squared errors, or differences of squared errors on
the same patients), so both use the Wald interval of a mean, computed once in
:func:`studylib.stats.control.mean_from_sums` (as are the subgroups' Brier score from counts and the
drift review's mean score).
The point estimate of the Brier score is also part of :func:`studylib.stats.calibration`.
"""

from __future__ import annotations

import math

import numpy as np
from scipy.special import ndtr

from studylib.stats._estimate import Estimate
from studylib.stats.control import mean_from_sums

__all__ = ["brier_score", "brier_difference", "brier_difference_p_value"]


def _mean_interval(values: np.ndarray, alpha: float, bounds: tuple[float, float], method: str) -> Estimate:
    """The Wald interval of the mean of ``values`` (:func:`studylib.stats.control.mean_from_sums`)."""
    return mean_from_sums(values.size, float(values.sum()), float(np.dot(values, values)), alpha=alpha,
                          bounds=bounds, method=method, empty="n = 0: no patients")


def brier_score(y, prob, *, alpha: float = 0.05) -> Estimate:
    """Brier score ``mean((prob - y)^2)`` with a normal-approximation interval.

    Parameters
    ----------
    y : array_like of {0, 1}
        Observed outcomes.
    prob : array_like of float in [0, 1]
        Predicted probabilities.
    alpha : float, default 0.05
        Significance level.

    Returns
    -------
    Estimate
        ``estimate ± z · sd((prob - y)^2) / sqrt(n)`` clipped to [0, 1], ``sd`` with denominator
        ``n - 1``; ``method`` ``"wald-mean"``. Undefined for ``n = 0``; no interval for ``n = 1``.

    Notes
    -----
    The Brier score is the mean of independent squared errors, so by the central limit theorem its
    sampling distribution is normal with the standard error of a mean (Bradley et al. 2008). It costs
    one pass over the data (a bootstrap of the same mean costs ``n_bootstrap`` passes and gives the
    same interval to within its Monte Carlo error for the sample sizes of a validation study). With
    very few observations or events the interval can be too narrow.

    References
    ----------
    .. [1] Brier GW. Verification of forecasts expressed in terms of probability. Mon Weather Rev.
       1950;78(1):1-3. doi:10.1175/1520-0493(1950)078<0001:VOFEIT>2.0.CO;2
    .. [2] Bradley AA, Schwartz SS, Hashino T. Sampling uncertainty and confidence intervals for the
       Brier score and Brier skill score. Weather Forecast. 2008;23(5):992-1006.
       doi:10.1175/2007WAF2007049.1

    Examples
    --------
    >>> e = brier_score([0, 1, 0, 1], [0.1, 0.9, 0.3, 0.7])
    >>> round(e.estimate, 4)
    0.05
    """
    y = np.asarray(y, dtype=float)
    prob = np.asarray(prob, dtype=float)
    return _mean_interval((prob - y) ** 2, alpha, (0.0, 1.0), "wald-mean")


def brier_difference(y, prob_a, prob_b, *, alpha: float = 0.05) -> Estimate:
    """Paired difference of Brier scores ``Brier(a) - Brier(b)`` on the same patients, with its interval.

    Parameters
    ----------
    y : array_like of {0, 1}
        Observed outcomes.
    prob_a, prob_b : array_like of float in [0, 1]
        The two models' predicted probabilities for the same patients, in the same order.
    alpha : float, default 0.05
        Significance level.

    Returns
    -------
    Estimate
        Mean of the per-patient differences ``d = (a - y)^2 - (b - y)^2`` with ``mean ± z · sd(d) /
        sqrt(n)``, clipped to [-1, 1]; ``method`` ``"paired-wald-mean"``. Negative: ``a`` is better.

    Notes
    -----
    The paired per-patient differences keep the correlation between the two models' errors, as in
    Redelmeier et al.'s paired comparison of Brier scores; a normal approximation to the mean of the
    differences is used (their test statistic is the same z; see :func:`brier_difference_p_value`).

    References
    ----------
    .. [1] Redelmeier DA, Bloch DA, Hickam DH. Assessing predictive accuracy: how to compare Brier
       scores. J Clin Epidemiol. 1991;44(11):1141-1146. doi:10.1016/0895-4356(91)90146-Z

    Examples
    --------
    >>> round(brier_difference([0, 1], [0.2, 0.8], [0.4, 0.6]).estimate, 4)
    -0.12
    """
    y = np.asarray(y, dtype=float)
    a = np.asarray(prob_a, dtype=float)
    b = np.asarray(prob_b, dtype=float)
    return _mean_interval((a - y) ** 2 - (b - y) ** 2, alpha, (-1.0, 1.0), "paired-wald-mean")


def brier_difference_p_value(difference: Estimate) -> float:
    """Two-sided p-value of "no difference" for a paired Brier difference (:func:`brier_difference`).

    ``2 · Φ(-|z|)`` with ``z = estimate / se``, the paired z test of the mean per-patient difference.

    Parameters
    ----------
    difference : Estimate
        The result of :func:`brier_difference`.

    Returns
    -------
    float
        NaN when the difference is undefined or its standard error is 0 (identical squared errors).

    References
    ----------
    .. [1] Redelmeier DA, Bloch DA, Hickam DH. Assessing predictive accuracy: how to compare Brier
       scores. J Clin Epidemiol. 1991;44(11):1141-1146. doi:10.1016/0895-4356(91)90146-Z

    Examples
    --------
    >>> round(brier_difference_p_value(Estimate(-0.02, -0.0396, -0.0004, 0.01)), 4)
    0.0455
    """
    z = difference.estimate / difference.se if difference.defined and difference.se > 0 else math.nan
    return float(2 * ndtr(-abs(z))) if math.isfinite(z) else math.nan
