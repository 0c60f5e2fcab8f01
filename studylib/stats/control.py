"""Statistics of monitoring windows: Shewhart control limits of performance metrics, the Hanley–McNeil
standard error of an AUROC from class sizes, and a mean with its interval from running sums (the one
Wald interval of a mean, also behind every Brier score interval)."""

from __future__ import annotations

import math

from scipy.special import ndtri

from studylib.stats._estimate import Estimate

__all__ = ["CONTROL_SIGMA", "hanley_mcneil_se", "control_limits", "mean_from_sums"]

#: Shewhart limits at this many standard errors
CONTROL_SIGMA = 3.0


def hanley_mcneil_se(auc: float, n_pos: int, n_neg: int) -> float:
    """Standard error of an AUROC of ``auc`` with ``n_pos`` positives and ``n_neg`` negatives.

    Parameters
    ----------
    auc : float
        The area under the ROC curve (the reference value of a control chart).
    n_pos, n_neg : int
        Numbers of positives (abnormal) and negatives (normal).

    Returns
    -------
    float
        ``sqrt([A(1-A) + (n1-1)(Q1-A^2) + (n0-1)(Q2-A^2)] / (n1 n0))`` with ``n1 = n_pos``,
        ``n0 = n_neg`` and Hanley and McNeil's approximations ``Q1 = A/(2-A)``, ``Q2 = 2A^2/(1+A)``;
        NaN when a class is empty or ``auc`` is not finite.

    Notes
    -----
    ``Q1`` (two positives both ranked above one negative) and ``Q2`` (one positive above two
    negatives) are the values under negative-exponential score distributions; Hanley and McNeil
    show they are close for other shapes, so the standard error needs only ``A`` and the class sizes,
    which is what a control limit of a future window needs. At ``A = 0.5`` they are exactly 1/3 and
    the variance is ``(n1 + n0 + 1) / (12 n1 n0)``, the null variance of the Mann–Whitney statistic
    divided by ``n1 n0``.

    References
    ----------
    .. [1] Hanley JA, McNeil BJ. The meaning and use of the area under a receiver operating
       characteristic (ROC) curve. Radiology. 1982;143(1):29-36. doi:10.1148/radiology.143.1.7063747

    Examples
    --------
    ``A = 0.9``, 50 + 50 cases: ``Q1 = 9/11``, ``Q2 = 81/95``,
    ``se^2 = (0.09 + 49 · 9/1100 + 49 · 81/1900) / 2500``.

    >>> round(hanley_mcneil_se(0.9, 50, 50), 4)
    0.0321
    """
    if n_pos <= 0 or n_neg <= 0 or not math.isfinite(auc):
        return math.nan
    q1, q2 = auc / (2 - auc), 2 * auc * auc / (1 + auc)
    var = (auc * (1 - auc) + (n_pos - 1) * (q1 - auc * auc) + (n_neg - 1) * (q2 - auc * auc)) / (n_pos * n_neg)
    return math.sqrt(max(var, 0.0))


def control_limits(metric: str, center: float, n_pos: int, n_neg: int, *, sigma: float = CONTROL_SIGMA
                   ) -> tuple[float, float]:
    """Shewhart control limits of one window around the reference value of a performance metric.

    Parameters
    ----------
    metric : {"auroc", "sensitivity", "specificity"}
        The metric charted.
    center : float
        The reference window's value (the centre line).
    n_pos, n_neg : int
        Positives and negatives of the monitoring window.
    sigma : float, default 3
        Width of the limits in standard errors.

    Returns
    -------
    (lower, upper) : tuple of float
        ``center ± sigma · se``, clipped to [0, 1]; NaN when the window has no positives (or
        negatives) for the metric.

    Raises
    ------
    ValueError
        ``metric`` is not one of the three.

    Notes
    -----
    *Which chart and why.* A Shewhart chart with limits that depend on each window's size: a p-chart
    for sensitivity (``se = sqrt(p0 (1 - p0) / n_pos)``) and specificity (``n_neg``), and for AUROC
    the Hanley–McNeil standard error at the reference AUROC with the window's class sizes
    (:func:`hanley_mcneil_se`). Monitoring windows are few (6–24) and unequal in size, and the chart is
    read by reviewers window by window: a point outside 3-sigma limits is a signal in that window that
    does not depend on a tuning constant (CUSUM needs a pre-declared reference shift k and decision
    interval h, and accumulates evidence across windows, so it detects small persistent shifts sooner
    but its alarms are harder to attribute to a window; it suits many small windows). 3 sigma keeps
    the false-alarm rate near 0.27 % per point, about 2 % over 8 windows of one metric. The limits
    treat the reference value as known; its own uncertainty is shown by its interval in the tables.

    References
    ----------
    .. [1] Shewhart WA. Economic Control of Quality of Manufactured Product. New York: Van Nostrand;
       1931. (no DOI)
    .. [2] Montgomery DC. Introduction to Statistical Quality Control. 8th ed. Hoboken (NJ): Wiley;
       2019. Chapter 7 (control charts for attributes). ISBN 978-1-119-39930-8; no DOI.
    .. [3] Hanley JA, McNeil BJ. The meaning and use of the area under a receiver operating
       characteristic (ROC) curve. Radiology. 1982;143(1):29-36. doi:10.1148/radiology.143.1.7063747

    Examples
    --------
    >>> [round(v, 3) for v in control_limits("sensitivity", 0.8, 100, 900)]
    [0.68, 0.92]
    """
    if metric == "auroc":
        se = hanley_mcneil_se(center, n_pos, n_neg)
    elif metric in ("sensitivity", "specificity"):
        n = n_pos if metric == "sensitivity" else n_neg
        se = math.sqrt(center * (1 - center) / n) if n > 0 and math.isfinite(center) else math.nan
    else:
        raise ValueError(f"metric must be auroc, sensitivity or specificity; got {metric!r}")
    if not math.isfinite(se):
        return math.nan, math.nan
    return max(0.0, center - sigma * se), min(1.0, center + sigma * se)


def mean_from_sums(n: int, total: float, squares: float, *, alpha: float = 0.05,
                   bounds: tuple[float, float] | None = None, method: str = "wald-mean",
                   empty: str = "n = 0: no values") -> Estimate:
    """Mean of ``n`` values with its Wald (normal-approximation) interval, from their sum and sum of squares.

    The one implementation of the interval of a mean in :mod:`studylib.stats`: the drift review's mean
    score per window (sums from a database), the Brier score of the evaluation stage
    (:func:`studylib.stats.brier.brier_score`), the paired Brier difference
    (:func:`studylib.stats.brier.brier_difference`) and the subgroups' Brier score from counts
    (:func:`studylib.stats.calibration.brier_from_counts`).

    Parameters
    ----------
    n : int
        Number of values.
    total, squares : float
        ``sum(x)`` and ``sum(x^2)``.
    alpha : float, default 0.05
        1 - confidence level.
    bounds : (float, float), optional
        The range of the mean (e.g. ``(0, 1)`` for a Brier score); the interval is clipped to it.
    method : str, default "wald-mean"
        The ``method`` of the result (e.g. ``"paired-wald-mean"`` for a mean of paired differences).
    empty : str, default "n = 0: no values"
        The reason given when ``n = 0``.

    Returns
    -------
    Estimate
        ``mean ± z_{1-alpha/2} · s / sqrt(n)`` (clipped to ``bounds``) with the sample variance
        ``s^2 = max(squares - n · mean^2, 0) / (n - 1)`` and ``se = s / sqrt(n)``; undefined for
        ``n = 0`` (reason ``empty``), the mean without an interval for ``n = 1``.

    Notes
    -----
    The sampling distribution of a mean of independent values is approximately normal (central limit
    theorem), so the interval is the large-sample Wald interval; it can be too narrow for a handful of
    values or for a Brier score with very few events (Bradley et al. 2008). The one-pass variance
    ``(sum x^2 - n mean^2) / (n - 1)`` loses precision only when the mean is large against the
    spread; for values in [-1, 1] it agrees with the two-pass variance to about 1e-12 relative.

    References
    ----------
    .. [1] Bradley AA, Schwartz SS, Hashino T. Sampling uncertainty and confidence intervals for the
       Brier score and Brier skill score. Weather Forecast. 2008;23(5):992-1006.
       doi:10.1175/2007WAF2007049.1
    .. [2] Welford BP. Note on a method for calculating corrected sums of squares and products.
       Technometrics. 1962;4(3):419-420. doi:10.1080/00401706.1962.10490022 (precision of one-pass variances)

    Examples
    --------
    Values 0.1, 0.2, 0.3: mean 0.2, ``s = 0.1``, ``se = 0.1 / sqrt(3)``.

    >>> e = mean_from_sums(3, 0.6, 0.14)
    >>> round(e.estimate, 6), round(e.se, 6), e.method
    (0.2, 0.057735, 'wald-mean')
    """
    if n == 0:
        return Estimate.undefined(empty, method)
    mean = total / n
    if n < 2:
        return Estimate(mean, math.nan, math.nan, math.nan, method, "one value: no interval")
    var = max(squares - n * mean * mean, 0.0) / (n - 1)
    se = math.sqrt(var / n)
    half = float(ndtri(1 - alpha / 2)) * se
    lower, upper = mean - half, mean + half
    if bounds is not None:
        lower, upper = max(bounds[0], lower), min(bounds[1], upper)
    return Estimate(mean, lower, upper, se, method)
