"""Heterogeneity across independent groups: equal proportions (k × 2 table) and equal estimates (Cochran's Q)."""

from __future__ import annotations

import numpy as np
from scipy.stats import chi2 as chi2_distribution

__all__ = ["contingency_test", "cochran_q"]


def contingency_test(successes, totals, *, test: str = "chi2") -> tuple[float, int, float]:
    """Test of equal proportions across k groups (a k × 2 table): Pearson's chi-square or the G-test.

    Parameters
    ----------
    successes, totals : array-like of int, shape (k,)
        Successes and trials of each group (e.g. true positives and positives of each subgroup).
    test : {"chi2", "g-test"}, default "chi2"
        Pearson's chi-square statistic or the likelihood-ratio G statistic, both without continuity
        correction.

    Returns
    -------
    tuple
        ``(statistic, df, p_value)`` with ``df = k − 1`` and the p-value of the chi-square
        distribution with ``df`` degrees of freedom.

    Raises
    ------
    ValueError
        If ``test`` is not ``"chi2"`` or ``"g-test"``.

    Notes
    -----
    Expected counts are ``row total × column total / grand total``. When every group has the same
    proportion 0 or 1 (a column of the table is empty), or there is a single group, the statistic
    is 0 and p = 1. Equals ``scipy.stats.chi2_contingency(table, correction=False)`` (with
    ``lambda_="log-likelihood"`` for the G-test; tested).

    References
    ----------
    .. [1] Pearson K. On the criterion that a given system of deviations from the probable in the case
       of a correlated system of variables is such that it can be reasonably supposed to have arisen
       from random sampling. Philos Mag. 1900;50(302):157-175. doi:10.1080/14786440009463897
    .. [2] Sokal RR, Rohlf FJ. Biometry. 4th ed. New York: W. H. Freeman; 2012. Chapter 17 (G-test).

    Examples
    --------
    10 of 50 against 20 of 50: chi-square 4.76 on 1 df.

    >>> statistic, df, p = contingency_test([10, 20], [50, 50])
    >>> round(statistic, 4), df, round(p, 4)
    (4.7619, 1, 0.0291)
    """
    x = np.asarray(successes, dtype=float)
    n = np.asarray(totals, dtype=float)
    observed = np.column_stack([x, n - x])
    df = observed.shape[0] - 1
    col = observed.sum(axis=0)
    if df < 1 or np.any(col == 0):
        return 0.0, max(df, 0), 1.0
    expected = np.outer(n, col) / n.sum()
    if test == "chi2":
        statistic = float(np.sum((observed - expected) ** 2 / expected))
    elif test == "g-test":
        with np.errstate(divide="ignore", invalid="ignore"):
            terms = np.where(observed > 0, observed * np.log(observed / expected), 0.0)
        statistic = float(2 * terms.sum())
    else:
        raise ValueError(f"test must be 'chi2' or 'g-test'; got {test!r}")
    return statistic, df, float(chi2_distribution.sf(statistic, df))


def cochran_q(estimates, ses) -> tuple[float, int, float]:
    """Wald test that k independent estimates are equal: Cochran's Q with ``df = k − 1``.

    Parameters
    ----------
    estimates, ses : array-like of float, shape (k,)
        The estimates of independent groups and their standard errors (all > 0).

    Returns
    -------
    tuple
        ``(Q, df, p_value)``; with fewer than 2 estimates ``(0.0, 0, 1.0)``.

    Notes
    -----
    ``Q = sum w_i (theta_i − theta_w)^2`` with ``w_i = 1 / se_i^2`` and ``theta_w`` the inverse-variance
    weighted mean; under equality Q is approximately chi-square with k − 1 degrees of freedom. The
    same Q as statsmodels' ``combine_effects`` (tested).

    References
    ----------
    .. [1] Cochran WG. The combination of estimates from different experiments. Biometrics.
       1954;10(1):101-129. doi:10.2307/3001666

    Examples
    --------
    >>> q, df, p = cochran_q([0.80, 0.70], [0.02, 0.03])
    >>> round(q, 3), df, round(p, 4)
    (7.692, 1, 0.0055)
    """
    theta = np.asarray(estimates, dtype=float)
    w = 1.0 / np.asarray(ses, dtype=float) ** 2
    df = theta.size - 1
    if df < 1:
        return 0.0, 0, 1.0
    mean = float(np.sum(w * theta) / np.sum(w))
    q = float(np.sum(w * (theta - mean) ** 2))
    return q, df, float(chi2_distribution.sf(q, df))
