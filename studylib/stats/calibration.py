"""Calibration of predicted probabilities: CITL, slope, Brier, O/E, ICI (E-statistics), Spiegelhalter."""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import numpy as np
import pandas as pd
from scipy import stats as sps
from scipy.special import expit, ndtri
from statsmodels.nonparametric.smoothers_lowess import lowess

from studylib.stats._estimate import Estimate
from studylib.stats._validate import as_labels, as_scores, check_alpha, same_length, warn_undefined
from studylib.stats.control import mean_from_sums
from studylib.stats.proportion import proportion_ci

__all__ = ["Calibration", "calibration", "calibration_curve", "logit", "lowess_calibration",
           "logistic_recalibration", "oe_ratio", "Recalibration", "recalibration_from_counts",
           "brier_from_counts", "OE_METHODS", "EXCLUDED_FROM_FITS"]

#: Why the logistic calibration fits leave out some rows (rms ``val.prob`` does the same, with a warning).
EXCLUDED_FROM_FITS = "predicted probability exactly 0 or 1 (infinite logit): left out of the CITL and slope fits"
#: Smoother settings of rms::val.prob (R's lowess defaults with iter = 0).
LOWESS_FRAC = 2 / 3
LOWESS_DELTA_FRACTION = 0.01

_MAX_ITER = 100
_TOL = 1e-10


@dataclass(frozen=True)
class Calibration:
    """Calibration of predicted probabilities against binary outcomes.

    Attributes
    ----------
    n, events : int
        Number of observations and of observed events (``y == 1``).
    citl : Estimate
        Calibration-in-the-large: intercept ``a`` of ``logit P(y=1) = a + logit(prob)`` (offset);
        0 is ideal, > 0 means under-prediction. Wald interval.
    slope : Estimate
        Calibration slope: ``b`` of ``logit P(y=1) = a + b logit(prob)``; 1 is ideal, < 1 means
        predictions too extreme (overfitting). Wald interval.
    brier : float
        Mean squared error of the probabilities.
    scaled_brier : float
        ``1 - brier / (prevalence (1 - prevalence))``; NaN when only one class is present.
    oe_ratio : Estimate
        Observed / expected events with the interval of :func:`oe_ratio` (``method`` names it).
    e50, e90, emax, eavg : float
        Median, 90th percentile, maximum and mean of ``|prob - smoothed observed|`` (ICI = eavg).
    z, p_value : float
        Spiegelhalter's z statistic and its two-sided p-value.
    excluded_from_fits : int
        Rows whose probability is exactly 0 or 1, left out of the CITL and slope fits (their logit is
        infinite); every other measure uses all ``n`` rows.
    """

    n: int
    events: int
    citl: Estimate
    slope: Estimate
    brier: float
    scaled_brier: float
    oe_ratio: Estimate
    e50: float
    e90: float
    emax: float
    eavg: float
    z: float
    p_value: float
    excluded_from_fits: int = 0

    @property
    def ici(self) -> float:
        """Integrated Calibration Index (Austin & Steyerberg 2019), the same number as ``eavg``."""
        return self.eavg

    def to_dict(self) -> dict:
        """Plain nested dict for JSON results (Estimates become dicts)."""
        return asdict(self)


def _validate(y, prob) -> tuple[np.ndarray, np.ndarray]:
    y = as_labels(y, "y")
    prob = as_scores(prob, "prob", probability=True)
    same_length(y=y, prob=prob)
    return y, prob


def logit(prob: np.ndarray) -> np.ndarray:
    """``log(prob / (1 - prob))``: ``-inf`` at 0 and ``+inf`` at 1 (R's ``qlogis``), without a warning.

    The logistic calibration fits leave the infinite values out (:data:`EXCLUDED_FROM_FITS`).
    """
    p = np.asarray(prob, dtype=float)
    with np.errstate(divide="ignore"):
        return np.log(p) - np.log1p(-p)


def _loglik(y: np.ndarray, eta: np.ndarray) -> float:
    # sum(y * eta - log(1 + exp(eta))), stable for large |eta|
    return float(np.dot(y, eta) - np.logaddexp(0.0, eta).sum())


_CITL_NOT_CONVERGED = "the calibration-in-the-large model did not converge"
_SLOPE_NOT_CONVERGED = "the calibration-slope model did not converge (prob may separate the classes)"
_SINGLE_VALUE = "prob has a single distinct value: the slope is not identifiable"
_SEPARATED = ("the calibration-slope model did not converge: prob separates the classes (every event at or "
              "above every non-event, or below), so the slope has no finite estimate")


def _halve(loglik_at, ll: float, step):
    """Halve a Newton step until the log-likelihood does not decrease (at most 30 times).

    ``loglik_at(step)`` is the log-likelihood after the step, ``ll`` the one before it. Returns the
    step taken and the log-likelihood at it; shared by the per-row and the per-count fits.
    """
    for _halving in range(30):
        new_ll = loglik_at(step)
        if new_ll >= ll - 1e-12 * abs(ll):
            break
        step = step / 2
    return step, new_ll


def fit_citl(y: np.ndarray, offset: np.ndarray) -> tuple[float, float, str]:
    """Intercept of ``logit P(y=1) = a + offset`` by Newton–Raphson; returns ``(a, se, reason)``.

    ``y`` is a float array of 0/1. ``reason`` is non-empty (and ``a``, ``se`` NaN) when the maximum
    likelihood estimate does not exist (one class) or the iteration did not converge.
    """
    events = float(y.sum())
    if events == 0 or events == y.size:
        return math.nan, math.nan, "y has a single class: the maximum likelihood intercept is infinite"
    a = 0.0
    ll = _loglik(y, offset)
    for _ in range(_MAX_ITER):
        mu = expit(a + offset)
        info = float(np.dot(mu, 1 - mu))
        if not info > 0:
            break
        step = float(events - mu.sum()) / info
        # step-halving keeps the log-likelihood non-decreasing
        step, new_ll = _halve(lambda s: _loglik(y, a + s + offset), ll, step)
        a += step
        ll = new_ll
        if abs(step) < _TOL:
            mu = expit(a + offset)
            return a, 1 / math.sqrt(float(np.dot(mu, 1 - mu))), ""
    return math.nan, math.nan, _CITL_NOT_CONVERGED


def _separated(event_x: np.ndarray, nonevent_x: np.ndarray) -> bool:
    """Whether one covariate separates the classes (completely or quasi-completely): then the logistic
    slope's maximum-likelihood estimate does not exist (Albert & Anderson 1984), and Newton's iterates
    only grow until their steps look small relative to them."""
    if event_x.size == 0 or nonevent_x.size == 0:
        return False
    return bool(event_x.min() >= nonevent_x.max() or event_x.max() <= nonevent_x.min())


def fit_slope(y: np.ndarray, x: np.ndarray) -> tuple[np.ndarray, np.ndarray, str]:
    """Logistic regression of ``y`` on ``[1, x]`` by Newton–Raphson (IRLS on two parameters).

    Returns ``(coef, cov, reason)`` with ``coef = [intercept, slope]`` and its inverse-information
    covariance; NaN and a reason when the estimate does not exist (one class, ``x`` constant,
    separation) or the iteration did not converge.
    """
    nan2 = np.full(2, np.nan)
    nan22 = np.full((2, 2), np.nan)
    events = float(y.sum())
    if events == 0 or events == y.size:
        return nan2, nan22, "y has a single class: the logistic model has no finite estimate"
    if np.ptp(x) == 0:
        return nan2, nan22, _SINGLE_VALUE
    if _separated(x[y == 1], x[y == 0]):
        return nan2, nan22, _SEPARATED
    beta = np.array([0.0, 1.0])  # start at perfect calibration
    ll = _loglik(y, beta[0] + beta[1] * x)
    for _ in range(_MAX_ITER):
        mu = expit(beta[0] + beta[1] * x)
        w = mu * (1 - mu)
        r = y - mu
        wx = w * x
        hess = np.array([[w.sum(), wx.sum()], [wx.sum(), np.dot(wx, x)]])
        grad = np.array([r.sum(), np.dot(r, x)])
        try:
            step = np.linalg.solve(hess, grad)
        except np.linalg.LinAlgError:
            break
        if not np.all(np.isfinite(step)):
            break
        step, new_ll = _halve(lambda s: _loglik(y, (beta[0] + s[0]) + (beta[1] + s[1]) * x), ll, step)
        beta = beta + step
        ll = new_ll
        if np.max(np.abs(step)) < _TOL * max(1.0, np.max(np.abs(beta))):
            mu = expit(beta[0] + beta[1] * x)
            w = mu * (1 - mu)
            wx = w * x
            hess = np.array([[w.sum(), wx.sum()], [wx.sum(), np.dot(wx, x)]])
            try:
                cov = np.linalg.inv(hess)
            except np.linalg.LinAlgError:
                break
            return beta, cov, ""
    return nan2, nan22, _SLOPE_NOT_CONVERGED


# --------------------------------------------------------------------------------------------------
# From counts per distinct predicted value (the subgroup fast path)
# --------------------------------------------------------------------------------------------------

#: A Newton step this small on a concave log-likelihood is taken without a line search.
_SAFE_STEP = 0.1


def _dot(a: np.ndarray, b: np.ndarray) -> float:
    """Sum of products without BLAS (a BLAS call costs more than it saves on a busy 2-core machine)."""
    return float(np.multiply(a, b).sum())


def _expit_clipped(x: np.ndarray) -> np.ndarray:
    """1 / (1 + e^-x) for finite x (overflow to 0 is harmless), faster than scipy's expit."""
    with np.errstate(over="ignore"):
        return 1.0 / (1.0 + np.exp(-x))


def _loglik_counts(k: np.ndarray, t: np.ndarray, eta: np.ndarray) -> float:
    """Binomial log-likelihood of ``k`` events in ``t`` trials at logits ``eta`` (up to a constant)."""
    softplus = np.maximum(eta, 0.0) + np.log1p(np.exp(-np.abs(eta)))  # log(1 + e^eta), stable
    return float(_dot(k, eta) - _dot(t, softplus))


def fit_citl_counts(k: np.ndarray, t: np.ndarray, offset: np.ndarray) -> tuple[float, float, str]:
    """:func:`fit_citl` on binomial counts: ``k`` events of ``t`` at each distinct ``offset``.

    The same likelihood as per row (rows with equal predictions pooled), so the same estimate as
    :func:`fit_citl` on the rows (to the convergence tolerance; tested). Newton–Raphson, with a
    step-halving line search only for steps larger than 0.1 (the log-likelihood is concave).
    Returns ``(a, se, reason)``.
    """
    a = 0.0
    events = float(k.sum())
    for _ in range(_MAX_ITER):
        mu = _expit_clipped(a + offset)
        info = float(_dot(t, mu * (1 - mu)))
        if not info > 0:
            break
        step = (events - float(_dot(t, mu))) / info
        if abs(step) > _SAFE_STEP:  # far from the optimum: step-halving keeps the log-likelihood non-decreasing
            step, _ = _halve(lambda s: _loglik_counts(k, t, a + s + offset), _loglik_counts(k, t, a + offset), step)
        a += step
        if abs(step) < _TOL:
            mu = _expit_clipped(a + offset)
            return a, 1 / math.sqrt(float(_dot(t, mu * (1 - mu)))), ""
    return math.nan, math.nan, _CITL_NOT_CONVERGED


def fit_slope_counts(k: np.ndarray, t: np.ndarray, x: np.ndarray) -> tuple[float, float, str]:
    """:func:`fit_slope` on binomial counts: the slope ``b`` of ``logit P = a + b x`` and its se.

    ``k`` events of ``t`` at each distinct ``x`` (ascending, distinct). Same likelihood and estimate
    as :func:`fit_slope` on the rows (tested); returns ``(b, se, reason)``.
    """
    if x.size < 2:
        return math.nan, math.nan, _SINGLE_VALUE
    if _separated(x[k > 0], x[t - k > 0]):
        return math.nan, math.nan, _SEPARATED
    beta = np.array([0.0, 1.0])
    for _ in range(_MAX_ITER):
        mu = _expit_clipped(beta[0] + beta[1] * x)
        w = t * mu * (1 - mu)
        r = k - t * mu
        wx = w * x
        hess = np.array([[w.sum(), wx.sum()], [wx.sum(), _dot(wx, x)]])
        try:
            step = np.linalg.solve(hess, np.array([r.sum(), _dot(r, x)]))
        except np.linalg.LinAlgError:
            break
        if not np.all(np.isfinite(step)):
            break
        if np.max(np.abs(step)) > _SAFE_STEP:
            step, _ = _halve(lambda s: _loglik_counts(k, t, (beta[0] + s[0]) + (beta[1] + s[1]) * x),
                             _loglik_counts(k, t, beta[0] + beta[1] * x), step)
        beta = beta + step
        if np.max(np.abs(step)) < _TOL * max(1.0, float(np.max(np.abs(beta)))):
            mu = _expit_clipped(beta[0] + beta[1] * x)
            w = t * mu * (1 - mu)
            wx = w * x
            hess = np.array([[w.sum(), wx.sum()], [wx.sum(), _dot(wx, x)]])
            try:
                cov = np.linalg.inv(hess)
            except np.linalg.LinAlgError:
                break
            return float(beta[1]), math.sqrt(float(cov[1, 1])), ""
    return math.nan, math.nan, _SLOPE_NOT_CONVERGED


@dataclass(frozen=True)
class Recalibration:
    """Calibration-in-the-large and calibration slope (the logistic recalibration of :func:`calibration`)."""

    citl: Estimate
    slope: Estimate


def _wald_estimate(value: float, se: float, z: float, method: str, clip: tuple[float, float] | None = None) -> Estimate:
    lower, upper = value - z * se, value + z * se
    if clip is not None:
        lower, upper = max(clip[0], lower), min(clip[1], upper)
    return Estimate(value, lower, upper, se, method)


def recalibration_from_counts(logit, n_pos, n_neg, *, alpha: float = 0.05) -> Recalibration:
    """CITL and calibration slope from the events and non-events at each distinct predicted value.

    Parameters
    ----------
    logit : numpy.ndarray, shape (G,)
        :func:`logit` of the distinct predicted probabilities, ascending; infinite entries
        (probabilities 0 and 1) and their counts are left out of the fits, as in :func:`calibration`.
    n_pos, n_neg : numpy.ndarray of int, shape (G,)
        Events and non-events at each of them.
    alpha : float, default 0.05
        Significance level of the Wald intervals.

    Returns
    -------
    Recalibration
        ``citl`` and ``slope`` as :func:`calibration` gives them on the rows (Wald intervals,
        ``method`` ``"wald"``); undefined Estimates with the reason (``"citl: ..."``, ``"slope: ..."``)
        when a class is absent, the slope is not identifiable, or a fit does not converge. No warning.

    Notes
    -----
    The binomial likelihood of the pooled counts equals the per-row likelihood, so the estimates and
    their observed-information standard errors equal :func:`calibration`'s to the convergence
    tolerance (1e-10 on the step), at a cost in the number of distinct predictions rather than rows.

    References
    ----------
    .. [1] Cox DR. Two further applications of a model for binary regression. Biometrika.
       1958;45(3-4):562-565. doi:10.1093/biomet/45.3-4.562
    .. [2] Van Calster B, McLernon DJ, van Smeden M, Wynants L, Steyerberg EW. Calibration: the
       Achilles heel of predictive analytics. BMC Med. 2019;17:230. doi:10.1186/s12916-019-1466-7

    Examples
    --------
    The example of :func:`calibration`: 1 of 4 events at 0.25, 3 of 4 at 0.75.

    >>> fit = recalibration_from_counts(logit(np.array([0.25, 0.75])), np.array([1, 3]), np.array([3, 1]))
    >>> round(fit.citl.estimate, 6), round(fit.slope.estimate, 6)
    (0.0, 1.0)
    """
    alpha = check_alpha(alpha)
    z = float(ndtri(1 - alpha / 2))
    x = np.asarray(logit, dtype=float)
    finite = np.isfinite(x)  # probabilities 0 and 1 are left out, as calibration() does
    x, n_pos, n_neg = x[finite], np.asarray(n_pos)[finite], np.asarray(n_neg)[finite]
    if int(n_pos.sum()) == 0 or int(n_neg.sum()) == 0:
        why = "y has a single class: the maximum likelihood estimate is infinite"
        return Recalibration(Estimate.undefined(f"citl: {why}", "wald"), Estimate.undefined(f"slope: {why}", "wald"))
    k, t = n_pos.astype(float), (n_pos + n_neg).astype(float)
    a, a_se, why = fit_citl_counts(k, t, x)
    citl = Estimate.undefined(f"citl: {why}", "wald") if why else _wald_estimate(a, a_se, z, "wald")
    b, b_se, why = fit_slope_counts(k, t, x)
    slope = Estimate.undefined(f"slope: {why}", "wald") if why else _wald_estimate(b, b_se, z, "wald")
    return Recalibration(citl, slope)


def brier_from_counts(prob, n_pos, n_neg, *, alpha: float = 0.05) -> Estimate:
    """Brier score with its Wald interval from the events and non-events at each distinct prediction.

    Parameters
    ----------
    prob : numpy.ndarray, shape (G,)
        The distinct predicted probabilities.
    n_pos, n_neg : numpy.ndarray of int, shape (G,)
        Events and non-events at each of them.
    alpha : float, default 0.05
        Significance level of the interval.

    Returns
    -------
    Estimate
        ``mean((prob − y)^2)`` over the cases, ``se`` the standard error of a mean of the squared
        errors (sample variance, denominator n − 1), interval ``brier ± z · se`` clipped to [0, 1],
        ``method`` ``"wald-mean"``: exactly :func:`studylib.stats.brier.brier_score` on the rows
        (both are :func:`studylib.stats.control.mean_from_sums`; tested). Undefined for no case, no
        interval for one.

    Notes
    -----
    The Wald interval of a mean (Bradley et al. 2008) needs no resampling, so it serves many
    subgroups at once, from the sums of the squared errors and of their squares over the counts.

    References
    ----------
    .. [1] Brier GW. Verification of forecasts expressed in terms of probability. Mon Weather Rev.
       1950;78(1):1-3. doi:10.1175/1520-0493(1950)078<0001:VOFEIT>2.0.CO;2
    .. [2] Bradley AA, Schwartz SS, Hashino T. Sampling uncertainty and confidence intervals for the
       Brier score and Brier skill score. Weather Forecast. 2008;23(5):992-1006.
       doi:10.1175/2007WAF2007049.1

    Examples
    --------
    >>> est = brier_from_counts(np.array([0.25, 0.75]), np.array([1, 3]), np.array([3, 1]))
    >>> est.estimate, est.method
    (0.1875, 'wald-mean')
    """
    alpha = check_alpha(alpha)
    values = np.asarray(prob, dtype=float)
    n_pos, n_neg = np.asarray(n_pos), np.asarray(n_neg)
    size = int(n_pos.sum()) + int(n_neg.sum())
    e2_pos, e2_neg = (1 - values) ** 2, values ** 2
    total = _dot(n_pos, e2_pos) + _dot(n_neg, e2_neg)
    squares = _dot(n_pos, e2_pos ** 2) + _dot(n_neg, e2_neg ** 2)
    return mean_from_sums(size, total, squares, alpha=alpha, bounds=(0.0, 1.0), empty="n = 0: no patients")


def lowess_calibration(y: np.ndarray, prob: np.ndarray) -> np.ndarray:
    """Smoothed observed probability at each ``prob``, as rms ``val.prob`` computes it.

    Lowess of ``y`` on ``prob`` (not on the logit) with ``frac = 2/3``, no robustness iterations
    (``iter = 0``) and ``delta = 0.01 * (max(prob) - min(prob))``, evaluated at every observation
    (equivalent to R's ``approx(lowess(p, y, iter = 0), xout = p, ties = mean)``; tied ``prob``
    get the same fitted value). Computed by statsmodels' exact lowess, about 1 s at 10^6 rows, so no
    approximation is used. Heavy ties: where one value of ``prob`` holds at least ``frac · n``
    observations the local window has zero width; there statsmodels returns 0 and R's ``clowess``
    the mean ``y`` of the tied points, which we use (points within ``delta`` of such a value keep
    statsmodels' interpolation). When every ``prob`` is equal the smooth is the mean of ``y``.
    """
    if prob.size == 0:
        return np.empty(0)
    yf = y.astype(float)
    span = float(np.ptp(prob))
    if span == 0:
        return np.full(prob.shape, yf.mean())
    with np.errstate(invalid="ignore", divide="ignore"):
        fitted = lowess(yf, prob, frac=LOWESS_FRAC, it=0, delta=LOWESS_DELTA_FRACTION * span,
                        return_sorted=False, missing="none")
    # A value of prob shared by at least k = int(frac n) observations has a window of zero width;
    # statsmodels then returns 0 there, R's clowess gives the tied points weight 1 (their mean).
    k = int(LOWESS_FRAC * prob.size + 1e-10)
    values, inverse, counts = np.unique(prob, return_inverse=True, return_counts=True)
    if counts.max() >= max(k, 1):
        for v in np.flatnonzero(counts >= k):
            at = inverse == v
            fitted[at] = yf[at].mean()
    return fitted


#: intervals of the O/E ratio: the log-scale delta method with the Bernoulli variance (default), or the
#: exact Poisson interval of the observed count (for rare events)
OE_METHODS = ("delta-log", "poisson-exact")


def oe_ratio(events: int, expected: float, alpha: float = 0.05, *, variance: float | None = None,
             method: str = "delta-log") -> Estimate:
    """Observed / expected events ``O / E`` with its interval.

    Parameters
    ----------
    events : int
        Observed events ``O = sum(y)``.
    expected : float
        Expected events ``E = sum(prob)``.
    alpha : float, default 0.05
        Significance level of the interval.
    variance : float, optional
        ``sum(prob (1 - prob))``, the variance of ``O`` when the probabilities are right; required by
        ``"delta-log"``.
    method : {"delta-log", "poisson-exact"}, default "delta-log"
        ``"delta-log"``: ``exp(ln(O/E) ± z · se)`` with ``se = sqrt(sum p (1 - p)) / O``, the
        standard error of ``ln(O/E)`` by the delta method (Debray et al. 2017; Riley et al. 2024).
        ``"poisson-exact"``: ``[chi2(alpha/2; 2 O) / 2, chi2(1 - alpha/2; 2 O + 2) / 2] / E``
        (Garwood 1936), ``se = sqrt(O) / E``.

    Returns
    -------
    Estimate
        ``method`` names the interval used. Undefined when no event is expected (``E = 0``).

    Notes
    -----
    The exact Poisson interval assumes ``Var(O) = E``; with calibrated risks ``Var(O) = sum p (1 -
    p) < E``, so it over-covers (simulated: about 97 % at mean risk 0.13, over 99 % at 0.5, 100 % at
    0.83), while the delta-log interval covers close to the nominal 95 % there
    (``tests/stats/test_coverage_oe.py``, slow). The exact Poisson interval remains for rare events
    (where ``Var(O) ≈ E`` and ``O`` is small) as a declared plan choice (``analysis.oe_interval``).
    The log scale has no interval at ``O = 0`` (and none at ``sum p (1 - p) = 0``, every ``p`` 0 or
    1): there the exact Poisson interval is returned, with ``method`` ``"poisson-exact"``. With very few
    events the delta-log interval is wide and its coverage unreliable (the demo's 2002 drift window,
    one event: 0.015 to 7.3, against the exact Poisson 0.008 to 1.8); small windows and rare outcomes
    should declare ``"poisson-exact"``.

    References
    ----------
    .. [1] Debray TPA, Damen JAAG, Snell KIE, et al. A guide to systematic review and meta-analysis
       of prediction model performance. BMJ. 2017;356:i6460. doi:10.1136/bmj.i6460
    .. [2] Riley RD, Snell KIE, Archer L, et al. Evaluation of clinical prediction models (part 3):
       calculating the sample size required for an external validation study. BMJ.
       2024;384:e074821. doi:10.1136/bmj-2023-074821
    .. [3] Garwood F (1936). Fiducial limits for the Poisson distribution. Biometrika 28(3-4):437-442.
       doi:10.1093/biomet/28.3-4.437

    Examples
    --------
    Ten events expected and observed from 40 risks of 0.25: ``se = sqrt(40 · 0.1875) / 10``.

    >>> e = oe_ratio(10, 10.0, variance=7.5)
    >>> round(e.estimate, 3), round(e.lower, 3), round(e.upper, 3), e.method
    (1.0, 0.585, 1.71, 'delta-log')
    >>> round(oe_ratio(10, 10.0, method="poisson-exact").lower, 3)
    0.48
    """
    if method not in OE_METHODS:
        raise ValueError(f"method must be one of {', '.join(map(repr, OE_METHODS))}; got {method!r}")
    if not expected > 0:
        return Estimate.undefined("oe_ratio: no expected events (every prob is 0)", method)
    if method == "delta-log":
        if variance is None:
            raise ValueError("oe_ratio: method 'delta-log' needs variance = sum(prob * (1 - prob))")
        if events > 0 and variance > 0:
            se_log = math.sqrt(variance) / events
            half = float(ndtri(1 - alpha / 2)) * se_log
            ratio = events / expected
            return Estimate(ratio, ratio * math.exp(-half), ratio * math.exp(half), ratio * se_log, "delta-log")
    lo = sps.chi2.ppf(alpha / 2, 2 * events) / 2 if events > 0 else 0.0
    hi = sps.chi2.ppf(1 - alpha / 2, 2 * events + 2) / 2
    return Estimate(events / expected, float(lo) / expected, float(hi) / expected, math.sqrt(events) / expected,
                    "poisson-exact")


def _recalibration(y: np.ndarray, prob: np.ndarray, alpha: float) -> tuple[Estimate, Estimate]:
    """CITL and slope with Wald intervals from validated arrays (``y`` as float 0/1), fitted on the
    rows whose probability is strictly between 0 and 1 (rms ``val.prob``)."""
    z_crit = float(ndtri(1 - alpha / 2))
    lp = logit(prob)
    finite = np.isfinite(lp)
    if not finite.all():
        y, lp = y[finite], lp[finite]
        if y.size == 0:
            reason = "every prob is 0 or 1: no finite logit to fit"
            return Estimate.undefined(f"citl: {reason}", "wald"), Estimate.undefined(f"slope: {reason}", "wald")
    a, a_se, why = fit_citl(y, lp)
    if why:
        citl = Estimate.undefined(f"citl: {why}", "wald")
    else:
        citl = Estimate(a, a - z_crit * a_se, a + z_crit * a_se, a_se, "wald")
    coef, cov, why = fit_slope(y, lp)
    if why:
        slope = Estimate.undefined(f"slope: {why}", "wald")
    else:
        b, b_se = float(coef[1]), math.sqrt(float(cov[1, 1]))
        slope = Estimate(b, b - z_crit * b_se, b + z_crit * b_se, b_se, "wald")
    return citl, slope


def logistic_recalibration(y, prob, alpha: float = 0.05) -> tuple[Estimate, Estimate]:
    """Calibration-in-the-large and calibration slope with Wald intervals (no lowess, no Brier).

    The ``citl`` and ``slope`` of :func:`calibration`, computed the same way (its Newton–Raphson fits
    on the finite logits), without the lowess E-statistics, whose cost grows faster than linearly with
    ``n``: what a monitoring window of any size needs. With :func:`oe_ratio` it gives every
    calibration estimate of the drift review.

    Parameters
    ----------
    y : array_like of {0, 1} or bool
        Observed outcomes.
    prob : array_like of float in [0, 1]
        Predicted probabilities of ``y == 1``.
    alpha : float, default 0.05
        Significance level of the intervals.

    Returns
    -------
    (citl, slope) : tuple of Estimate
        Undefined with the reason when the maximum likelihood estimate does not exist (one class,
        constant ``prob``, separation) or did not converge; no warning (the caller reports reasons).

    Raises
    ------
    ValueError
        Lengths differ, labels not binary, missing values, or probabilities outside [0, 1].

    References
    ----------
    .. [1] Cox DR. Two further applications of a model for binary regression. Biometrika.
       1958;45(3-4):562-565. doi:10.1093/biomet/45.3-4.562
    .. [2] Van Calster B, McLernon DJ, van Smeden M, Wynants L, Steyerberg EW. Calibration: the
       Achilles heel of predictive analytics. BMC Med. 2019;17:230. doi:10.1186/s12916-019-1466-7

    Examples
    --------
    >>> citl, slope = logistic_recalibration([0, 0, 0, 1, 0, 1, 1, 1], [0.25] * 4 + [0.75] * 4)
    >>> round(citl.estimate, 6), round(slope.estimate, 6)
    (0.0, 1.0)
    """
    alpha = check_alpha(alpha)
    y, prob = _validate(y, prob)
    if y.size == 0:
        reason = "n = 0: no observations"
        return Estimate.undefined(f"citl: {reason}", "wald"), Estimate.undefined(f"slope: {reason}", "wald")
    return _recalibration(y.astype(float), prob, alpha)


def _undefined_calibration(n: int, events: int, reason: str) -> Calibration:
    und = Estimate.undefined(reason, "wald")
    return Calibration(n, events, und, und, math.nan, math.nan, Estimate.undefined(reason),
                       math.nan, math.nan, math.nan, math.nan, math.nan, math.nan)


def calibration(y, prob, alpha: float = 0.05, *, oe_method: str = "delta-log") -> Calibration:
    """Calibration of predicted probabilities: CITL, slope, Brier, O/E, E-statistics, Spiegelhalter.

    Parameters
    ----------
    y : array_like of {0, 1} or bool
        Observed outcomes.
    prob : array_like of float in [0, 1]
        Predicted probabilities of ``y == 1``.
    alpha : float, default 0.05
        Significance level of the intervals.
    oe_method : {"delta-log", "poisson-exact"}, default "delta-log"
        Interval of the O/E ratio (:func:`oe_ratio`).

    Returns
    -------
    Calibration
        Frozen result; see its attributes.

    Raises
    ------
    ValueError
        Lengths differ, labels not binary, missing values, or probabilities outside [0, 1].

    Warns
    -----
    UndefinedMetricWarning
        Once per call, listing what is undefined (e.g. CITL and slope when ``y`` has one class).

    Notes
    -----
    *Logistic recalibration models.* ``citl`` is the intercept of a logistic model of ``y`` with
    ``logit(prob)`` as offset; ``slope`` the coefficient of ``logit(prob)`` in a logistic model of
    ``y`` on ``1 + logit(prob)`` (Cox 1958). Both are fitted by our own Newton–Raphson with
    step-halving (tolerance 1e-10), which agrees with statsmodels ``GLM(Binomial, offset=...)``
    to 1e-6 (tested); intervals are Wald, ``estimate ± z · se`` with ``se`` from the observed
    information. Rows whose probability is exactly 0 or 1 have an infinite logit: they are left out
    of both fits and counted in ``excluded_from_fits`` (as rms ``val.prob`` does, with its warning
    "observations deleted from logistic calibration due to probs. of 0 or 1"); Brier, O/E,
    E-statistics and Spiegelhalter use every row. Clipping them to a tiny probability instead would
    let one such row dominate the slope (one event at p = 0 among 2,000 rows moves it from 1.05 to
    0.89), so the study reports the count rather than refuse the input.
    With one class in ``y`` (or a separating ``prob``) the maximum likelihood estimates are
    infinite: undefined Estimates with the reason.

    *Brier.* ``mean((prob - y)^2)``; ``scaled_brier = 1 - brier / (q (1 - q))`` with ``q`` the
    observed prevalence (the Brier score of predicting the prevalence for everyone); 1 is perfect,
    0 no better than the prevalence.

    *O/E.* Observed events ``O = sum(y)`` over expected ``E = sum(prob)`` (:func:`oe_ratio`). Default
    interval: ``exp(ln(O/E) ± z · sqrt(sum p (1 - p)) / O)`` (delta method, Bernoulli variance of
    ``O``; Debray et al. 2017); ``oe_method="poisson-exact"`` gives the exact Poisson (Garwood) limits
    of ``O`` divided by ``E``, the choice for rare events. ``O = 0`` gives estimate 0 with the exact
    Poisson interval (lower bound 0); ``E = 0`` (all ``prob`` 0) is undefined.

    *E-statistics (ICI).* As rms ``val.prob`` computes them (Austin & Steyerberg 2019): lowess of
    ``y`` on ``prob`` with ``iter = 0``, ``frac = 2/3`` and ``delta`` = 1% of the range of ``prob``,
    linearly interpolated at each ``prob`` (i.e. the fitted value at each observation); then
    ``E50``, ``E90`` (numpy's default, R type-7, quantile), ``Emax`` and ``Eavg`` (the ICI) of
    ``|prob - smoothed|``. Exact lowess (statsmodels), no subsampling: ~1 s at 10^6 rows.

    *Spiegelhalter.* ``z = sum((y - p)(1 - 2p)) / sqrt(sum((1 - 2p)^2 p (1 - p)))``, two-sided
    normal p-value; NaN when the denominator is 0 (every ``p`` in {0, 0.5, 1}). A small p-value
    is evidence of miscalibration; a large one is only the absence of that evidence (the test has
    little power in small samples), never evidence of calibration.

    ``n = 0`` returns every quantity undefined (NaN) with a warning, never an error.

    References
    ----------
    .. [1] Cox DR. Two further applications of a model for binary regression. Biometrika.
       1958;45(3-4):562-565. doi:10.1093/biomet/45.3-4.562
    .. [2] Van Calster B, McLernon DJ, van Smeden M, Wynants L, Steyerberg EW. Calibration: the
       Achilles heel of predictive analytics. BMC Med. 2019;17:230. doi:10.1186/s12916-019-1466-7
    .. [3] Brier GW. Verification of forecasts expressed in terms of probability. Mon Weather Rev.
       1950;78(1):1-3. doi:10.1175/1520-0493(1950)078<0001:VOFEIT>2.0.CO;2
    .. [4] Steyerberg EW, Vickers AJ, Cook NR, et al. Assessing the performance of prediction
       models: a framework for traditional and novel measures. Epidemiology. 2010;21(1):128-138.
       doi:10.1097/EDE.0b013e3181c30fb2 (scaled Brier score)
    .. [5] Debray TPA, Damen JAAG, Snell KIE, et al. A guide to systematic review and meta-analysis
       of prediction model performance. BMJ. 2017;356:i6460. doi:10.1136/bmj.i6460 (O/E interval;
       Garwood 1936 for the exact Poisson option, see :func:`oe_ratio`)
    .. [6] Austin PC, Steyerberg EW. The Integrated Calibration Index (ICI) and related metrics for
       quantifying the calibration of logistic regression models. Stat Med. 2019;38(21):4051-4065.
       doi:10.1002/sim.8281
    .. [7] Cleveland WS. Robust locally weighted regression and smoothing scatterplots. J Am Stat
       Assoc. 1979;74(368):829-836. doi:10.1080/01621459.1979.10481038
    .. [8] Spiegelhalter DJ. Probabilistic prediction in patient management and clinical trials.
       Stat Med. 1986;5(5):421-433. doi:10.1002/sim.4780050506

    Examples
    --------
    Two risk groups whose event rates equal their predictions (1 of 4 at 0.25, 3 of 4 at 0.75):
    CITL 0, slope 1, O/E 1, Brier ``(6 · 0.0625 + 2 · 0.5625) / 8 = 0.1875``.

    >>> cal = calibration([0, 0, 0, 1, 0, 1, 1, 1], [0.25] * 4 + [0.75] * 4)
    >>> round(cal.citl.estimate, 6), round(cal.slope.estimate, 6), cal.oe_ratio.estimate, cal.brier
    (0.0, 1.0, 1.0, 0.1875)
    """
    alpha = check_alpha(alpha)
    if oe_method not in OE_METHODS:
        raise ValueError(f"oe_method must be one of {', '.join(map(repr, OE_METHODS))}; got {oe_method!r}")
    y, prob = _validate(y, prob)
    n = int(y.size)
    events = int(np.count_nonzero(y))
    if n == 0:
        reason = "n = 0: no observations"
        warn_undefined(f"calibration: {reason}; every calibration measure is undefined")
        return _undefined_calibration(0, 0, reason)

    yf = y.astype(float)
    citl, slope = _recalibration(yf, prob, alpha)
    reasons = [e.reason for e in (citl, slope) if e.reason]

    resid = prob - yf
    brier = float(np.dot(resid, resid) / n)
    prevalence = events / n
    null_brier = prevalence * (1 - prevalence)
    if null_brier > 0:
        scaled_brier = 1 - brier / null_brier
    else:
        scaled_brier = math.nan
        reasons.append("scaled_brier: y has a single class (Brier score of the prevalence is 0)")

    oe = oe_ratio(events, float(prob.sum()), alpha, variance=float(np.dot(prob, 1 - prob)), method=oe_method)
    if not oe.defined:
        reasons.append(oe.reason)

    smoothed = lowess_calibration(y, prob)
    abs_err = np.abs(prob - smoothed)
    e50, e90 = (float(v) for v in np.quantile(abs_err, [0.5, 0.9]))
    emax, eavg = float(abs_err.max()), float(abs_err.mean())

    weight = 1 - 2 * prob
    var = float(np.dot(weight * weight, prob * (1 - prob)))
    if var > 0:
        z = float(np.dot(yf - prob, weight)) / math.sqrt(var)
        p_value = float(2 * sps.norm.sf(abs(z)))
    else:
        z = p_value = math.nan
        reasons.append("spiegelhalter: variance is 0 (every prob is 0, 0.5 or 1)")

    excluded = int(np.count_nonzero((prob == 0) | (prob == 1)))
    if reasons:
        warn_undefined(f"calibration (n = {n}, events = {events}): undefined " + "; ".join(reasons))
    if excluded:
        warn_undefined(f"calibration: {excluded} row(s) with a {EXCLUDED_FROM_FITS}")
    return Calibration(n, events, citl, slope, brier, scaled_brier, oe, e50, e90, emax, eavg, z, p_value, excluded)


_CURVE_COLUMNS = ["predicted", "observed", "lower", "upper", "n"]


def _smoother_se_factor(xs: np.ndarray, grid: np.ndarray, frac: float) -> np.ndarray:
    """``sqrt(sum_i l_i(x0)^2)`` of the local-linear tricube smoother at each grid point ``x0``.

    ``l_i(x0)`` are the equivalent-kernel weights of a local linear fit over the ``k = int(frac n)``
    nearest neighbours with tricube weights (the lowess fit without delta shortcut), so the
    pointwise variance of the fit is ``sum_i l_i^2 var(y_i)``.
    """
    n = xs.size
    k = max(int(frac * n + 1e-10), 1)
    out = np.empty(grid.size)
    for j, x0 in enumerate(grid):
        d = np.abs(xs - x0)
        h = np.partition(d, k - 1)[k - 1]
        if h <= 0:  # all k nearest points tie with x0: local mean of the tied points
            m = np.count_nonzero(d == 0)
            out[j] = 1 / math.sqrt(m)
            continue
        lo = np.searchsorted(xs, x0 - h, side="left")
        hi = np.searchsorted(xs, x0 + h, side="right")
        dx = xs[lo:hi] - x0
        u = np.abs(dx) / h
        w = np.where(u < 1, (1 - u**3) ** 3, 0.0)
        s0, s1, s2 = w.sum(), np.dot(w, dx), np.dot(w, dx * dx)
        det = s0 * s2 - s1 * s1
        if det <= 1e-300 * max(s0 * s2, 1e-300):
            l = w / s0  # local constant when the window has a single distinct x
        else:
            l = w * (s2 - dx * s1) / det
        out[j] = math.sqrt(float(np.dot(l, l)))
    return out


def calibration_curve(y, prob, method: str = "lowess", n_bins: int = 10, alpha: float = 0.05, *,
                      n_points: int = 50) -> pd.DataFrame:
    """Observed against predicted probability, for a calibration plot.

    Parameters
    ----------
    y : array_like of {0, 1} or bool
        Observed outcomes.
    prob : array_like of float in [0, 1]
        Predicted probabilities.
    method : {"lowess", "quantile-bins"}, default "lowess"
        ``"lowess"``: the smoother of :func:`calibration` (rms ``val.prob`` settings) evaluated on
        ``n_points`` equally spaced predicted values between ``min(prob)`` and ``max(prob)``.
        ``"quantile-bins"``: ``n_bins`` groups at the quantiles of ``prob``.
    n_bins : int, default 10
        Number of quantile bins (``"quantile-bins"`` only).
    alpha : float, default 0.05
        Significance level of the band.
    n_points : int, default 50
        Number of grid points (``"lowess"`` only).

    Returns
    -------
    pandas.DataFrame
        Columns ``predicted, observed, lower, upper, n``, one row per bin or grid point, sorted by
        ``predicted``. Empty (with these columns) when ``n = 0``.

    Notes
    -----
    *Quantile bins.* Edges are the type-7 quantiles of ``prob`` at ``0, 1/n_bins, ..., 1`` with
    duplicate edges removed, intervals right-closed (the first also contains the minimum), so tied
    probabilities always share a bin and fewer than ``n_bins`` rows can result. ``predicted`` is the
    mean ``prob`` of the bin, ``observed`` its event proportion, ``lower``/``upper`` the Wilson
    interval, ``n`` its size.

    *Lowess band (an approximation).* ``observed`` is the lowess curve (not clipped to [0, 1]).
    The band is a pointwise Wald band ``observed ± z · se`` clipped to [0, 1], with
    ``se = sqrt(p (1 - p) · sum_i l_i^2)``, where ``l_i`` are the equivalent-kernel weights of the
    local linear tricube fit at that point and ``p`` the curve clipped to [0, 1] — the variance of
    a linear smoother (Cleveland & Devlin 1988) assuming a locally constant Bernoulli variance. It
    ignores smoothing bias and the ``delta`` interpolation and is not a simultaneous band; for a
    bootstrap band resample rows and call this function again. ``n`` is the number of observations
    whose ``prob`` falls in the grid cell around the point (cells split halfway between points).

    References
    ----------
    .. [1] Austin PC, Steyerberg EW. Graphical assessment of internal and external calibration of
       logistic regression models by using loess smoothers. Stat Med. 2014;33(3):517-535.
       doi:10.1002/sim.5941
    .. [2] Cleveland WS, Devlin SJ. Locally weighted regression: an approach to regression analysis
       by local fitting. J Am Stat Assoc. 1988;83(403):596-610. doi:10.1080/01621459.1988.10478639
    .. [3] Wilson EB. Probable inference, the law of succession, and statistical inference.
       J Am Stat Assoc. 1927;22(158):209-212. doi:10.1080/01621459.1927.10502953

    Examples
    --------
    >>> df = calibration_curve([0, 0, 1, 1], [0.2, 0.2, 0.8, 0.8], method="quantile-bins", n_bins=2)
    >>> df[["predicted", "observed", "n"]].values.tolist()
    [[0.2, 0.0, 2.0], [0.8, 1.0, 2.0]]
    """
    alpha = check_alpha(alpha)
    if method not in ("lowess", "quantile-bins"):
        raise ValueError(f"method must be one of 'lowess', 'quantile-bins'; got {method!r}")
    for name, value in (("n_bins", n_bins), ("n_points", n_points)):
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
            raise ValueError(f"{name} must be a positive integer; got {value!r}")
    y, prob = _validate(y, prob)
    if y.size == 0:
        warn_undefined("calibration_curve: n = 0, no observations; returning an empty table")
        return pd.DataFrame({c: pd.Series(dtype=float) for c in _CURVE_COLUMNS}).astype({"n": int})

    if method == "quantile-bins":
        edges = np.unique(np.quantile(prob, np.linspace(0, 1, n_bins + 1)))
        idx = np.searchsorted(edges[1:-1], prob, side="left")  # right-closed bins
        nb = len(edges) - 1 if len(edges) > 1 else 1
        counts = np.bincount(idx, minlength=nb)
        sum_p = np.bincount(idx, weights=prob, minlength=nb)
        events = np.bincount(idx, weights=y.astype(float), minlength=nb)
        keep = counts > 0
        counts, sum_p, events = counts[keep], sum_p[keep], events[keep]
        lower, upper = proportion_ci(events, counts, alpha, "wilson")
        return pd.DataFrame({"predicted": sum_p / counts, "observed": events / counts,
                             "lower": np.asarray(lower, dtype=float), "upper": np.asarray(upper, dtype=float),
                             "n": counts.astype(int)})

    order = np.argsort(prob, kind="stable")
    xs = prob[order]
    smoothed = lowess_calibration(y[order], xs)
    lo_x, hi_x = float(xs[0]), float(xs[-1])
    grid = np.linspace(lo_x, hi_x, n_points) if hi_x > lo_x else np.array([lo_x])
    # np.interp needs strictly increasing x; tied prob share one fitted value
    ux, first = np.unique(xs, return_index=True)
    observed = np.interp(grid, ux, smoothed[first])
    p = np.clip(observed, 0.0, 1.0)
    se = np.sqrt(p * (1 - p)) * _smoother_se_factor(xs, grid, LOWESS_FRAC)
    z = float(ndtri(1 - alpha / 2))
    cells = np.concatenate(([-np.inf], (grid[1:] + grid[:-1]) / 2, [np.inf]))
    n_cell = np.diff(np.searchsorted(xs, cells, side="left"))
    return pd.DataFrame({"predicted": grid, "observed": observed,
                         "lower": np.clip(observed - z * se, 0, 1), "upper": np.clip(observed + z * se, 0, 1),
                         "n": n_cell.astype(int)})
