"""Standardised mean differences (SMD): balance of a baseline variable between two groups.

Table 1 of the cohort stage compares the validation data with the development data by the absolute
SMD of every variable: Austin's difference of means over the pooled standard deviation for a
continuous variable, and Yang and Dalton's multivariate form for a categorical variable with any
number of levels (which for two levels is Austin's difference of proportions).
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd


def smd_continuous(x1, x2) -> float:
    """Absolute standardised mean difference of a continuous variable between two groups.

    ``|mean1 - mean2| / sqrt((sd1² + sd2²) / 2)`` with sample SDs (ddof 1), missing values ignored.

    Parameters
    ----------
    x1, x2 : array_like of float
        The values of the two groups (NaN is ignored).

    Returns
    -------
    float
        NaN when a group has fewer than two values; when both SDs are 0, 0 for equal means and
        infinity for different ones (see :func:`smd_from_moments`).

    References
    ----------
    .. [1] Austin PC. Balance diagnostics for comparing the distribution of baseline covariates between
       treatment groups in propensity-score matched samples. Stat Med. 2009;28(25):3083-3107.
       doi:10.1002/sim.3697

    Examples
    --------
    >>> float(smd_continuous([1, 2, 3], [2, 3, 4]))
    1.0
    """
    a = pd.Series(x1, dtype="float64").dropna().to_numpy()
    b = pd.Series(x2, dtype="float64").dropna().to_numpy()
    if len(a) < 2 or len(b) < 2:
        return math.nan
    return smd_from_moments(a.mean(), a.var(ddof=1), b.mean(), b.var(ddof=1))


def smd_from_moments(m1, v1, m2, v2) -> float:
    """Absolute standardised mean difference from the two groups' means and (sample) variances.

    ``|m1 - m2| / sqrt((v1 + v2) / 2)``: the count-based form of :func:`smd_continuous`, for callers
    that already hold the group summaries (Table 1 computes them in one group-by).

    Parameters
    ----------
    m1, v1, m2, v2 : float
        Mean and variance (ddof 1) of each group.

    Returns
    -------
    float
        With both variances 0: 0 when the means are equal, infinity when they differ.

    References
    ----------
    .. [1] Austin PC. Balance diagnostics for comparing the distribution of baseline covariates between
       treatment groups in propensity-score matched samples. Stat Med. 2009;28(25):3083-3107.
       doi:10.1002/sim.3697

    Examples
    --------
    >>> smd_from_moments(2.0, 1.0, 3.0, 1.0)
    1.0
    """
    pooled = math.sqrt((v1 + v2) / 2)
    if pooled == 0:
        return 0.0 if m1 == m2 else math.inf
    return abs(m1 - m2) / pooled


def smd_categorical(p1, p2) -> float:
    """Standardised mean difference of a categorical variable (k levels) between two groups.

    Yang and Dalton's multivariate form: with the proportions of levels 2..k as vectors ``p1`` and
    ``p2`` and ``S = (S1 + S2) / 2``, where ``Si`` is the multinomial covariance (``p(1 - p)`` on the
    diagonal, ``-p_j p_l`` off it), ``SMD = sqrt((p1 - p2)' S⁻¹ (p1 - p2))``. For two levels it is
    Austin's ``|p1 - p2| / sqrt((p1(1 - p1) + p2(1 - p2)) / 2)``. Levels absent from both groups are
    dropped first; NaN when ``S`` is singular (e.g. one level only).

    Parameters
    ----------
    p1, p2 : array_like of float
        Proportions of every level (each summing to 1) in the same level order.

    Returns
    -------
    float
        The SMD (not negative); it does not depend on the order of the levels.

    References
    ----------
    .. [1] Yang D, Dalton JE. A unified approach to measuring the effect size between two groups using
       SAS. SAS Global Forum 2012, paper 335-2012.
       https://support.sas.com/resources/papers/proceedings12/335-2012.pdf
    .. [2] Austin PC. Balance diagnostics for comparing the distribution of baseline covariates between
       treatment groups in propensity-score matched samples. Stat Med. 2009;28(25):3083-3107.
       doi:10.1002/sim.3697

    Examples
    --------
    >>> round(smd_categorical([0.5, 0.5], [0.3, 0.7]), 4)
    0.417
    """
    p1, p2 = np.asarray(p1, dtype=float), np.asarray(p2, dtype=float)
    present = (p1 > 0) | (p2 > 0)
    p1, p2 = p1[present][1:], p2[present][1:]
    if p1.size == 0:
        return math.nan
    covariance = sum(np.diag(p * (1 - p)) - np.outer(p, p) + np.diag(p * p) for p in (p1, p2)) / 2
    difference = p1 - p2
    try:
        value = float(difference @ np.linalg.solve(covariance, difference))
    except np.linalg.LinAlgError:
        return math.nan
    return math.sqrt(max(value, 0.0))
