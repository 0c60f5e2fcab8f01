"""Confidence intervals for a single binomial proportion (Wilson, Clopper–Pearson, Agresti–Coull, Jeffreys)."""

from __future__ import annotations

import math

import numpy as np
from statsmodels.stats.proportion import proportion_confint

from studylib.stats._estimate import Estimate
from studylib.stats._validate import check_alpha

__all__ = ["PROPORTION_METHODS", "proportion_ci", "proportion"]

#: Our method names (the contract) mapped to the names statsmodels uses.
_STATSMODELS_NAME = {
    "wilson": "wilson",
    "clopper-pearson": "beta",
    "agresti-coull": "agresti_coull",
    "jeffreys": "jeffreys",
}
PROPORTION_METHODS = tuple(_STATSMODELS_NAME)


def check_proportion_method(method) -> str:
    """Return ``method`` if it is one of :data:`PROPORTION_METHODS`, else raise a ``ValueError``.

    Names must match exactly (no abbreviations, no case folding): a pre-registered analysis must say
    which interval it used.
    """
    if not isinstance(method, str) or method not in _STATSMODELS_NAME:
        valid = ", ".join(repr(m) for m in PROPORTION_METHODS)
        raise ValueError(f"method must be one of {valid}; got {method!r}")
    return method


def _as_count_array(value, name: str) -> np.ndarray:
    arr = np.asarray(value)
    if arr.dtype == bool or arr.dtype.kind not in "iuf":
        raise ValueError(f"{name} must be a non-negative integer count; got {value!r}")
    arr = arr.astype(float)
    bad = ~np.isfinite(arr) | (arr < 0) | (arr != np.floor(arr))
    if bad.any():
        found = arr[bad].ravel()[:5].tolist()
        raise ValueError(f"{name} must be a non-negative integer count; got {found}")
    return arr


def _intervals(x: np.ndarray, n: np.ndarray, alpha: float, method: str) -> tuple[np.ndarray, np.ndarray]:
    """Vectorised bounds for validated float arrays ``x`` and ``n`` (same shape, 0 <= x <= n)."""
    lower = np.full(x.shape, np.nan)
    upper = np.full(x.shape, np.nan)
    ok = n > 0
    if ok.any():
        xo, no = x[ok], n[ok]
        lo, hi = proportion_confint(xo, no, alpha=alpha, method=_STATSMODELS_NAME[method])
        lo, hi = np.asarray(lo, dtype=float), np.asarray(hi, dtype=float)
        # Exact at the boundaries for every method: the interval of x = 0 starts at 0 and that of
        # x = n ends at 1. For Wilson this only removes rounding (e.g. 1e-18); for Jeffreys it is the
        # modification recommended by Brown, Cai & DasGupta (2001, section 4.1.2), without which the
        # lower bound at x = 0 would exceed the estimate 0.
        lo = np.where(xo == 0, 0.0, lo)
        hi = np.where(xo == no, 1.0, hi)
        lower[ok] = np.clip(lo, 0.0, 1.0)
        upper[ok] = np.clip(hi, 0.0, 1.0)
    return lower, upper


def proportion_ci(x, n, alpha: float = 0.05, method: str = "wilson"):
    """Two-sided confidence interval for a binomial proportion ``x / n``.

    Parameters
    ----------
    x : int or array_like of int
        Number of successes, ``0 <= x <= n``.
    n : int or array_like of int
        Number of trials (broadcast against ``x``).
    alpha : float, default 0.05
        Significance level; the interval has nominal coverage ``1 - alpha``.
    method : {"wilson", "clopper-pearson", "agresti-coull", "jeffreys"}, default "wilson"
        Exact names only. ``"wilson"`` is the score interval without continuity correction; it is
        the default because its coverage is close to nominal on average even for small ``n`` and
        extreme proportions (Newcombe 1998; Brown, Cai & DasGupta 2001), unlike the Wald interval
        (statsmodels' default), and it is less conservative than the exact interval.

    Returns
    -------
    lower, upper : float or numpy.ndarray
        Floats for scalar inputs, arrays for array inputs. ``(nan, nan)`` where ``n == 0``.

    Raises
    ------
    ValueError
        Unknown method (the message lists the valid ones), counts that are negative, non-integer
        or with ``x > n``, or ``alpha`` outside (0, 1).

    Notes
    -----
    Bounds are computed by statsmodels ``proportion_confint`` and clipped to [0, 1]. At ``x = 0``
    the lower bound is exactly 0 and at ``x = n`` the upper bound is exactly 1 for every method.
    For Jeffreys this differs from statsmodels, which returns the Beta quantile there (a lower bound
    above the estimate 0 at ``x = 0``); we apply the boundary modification of Brown, Cai & DasGupta
    (2001). Clopper–Pearson is exact (coverage at least ``1 - alpha`` for every p) and therefore
    conservative; Wilson, Agresti–Coull and Jeffreys have coverage that oscillates around the
    nominal level. ``n = 0`` is legal and gives NaN bounds (no information), never an error.

    References
    ----------
    .. [1] Wilson EB. Probable inference, the law of succession, and statistical inference.
       J Am Stat Assoc. 1927;22(158):209-212. doi:10.1080/01621459.1927.10502953
    .. [2] Clopper CJ, Pearson ES. The use of confidence or fiducial limits illustrated in the case
       of the binomial. Biometrika. 1934;26(4):404-413. doi:10.1093/biomet/26.4.404
    .. [3] Agresti A, Coull BA. Approximate is better than "exact" for interval estimation of
       binomial proportions. Am Stat. 1998;52(2):119-126. doi:10.1080/00031305.1998.10480550
    .. [4] Brown LD, Cai TT, DasGupta A. Interval estimation for a binomial proportion. Stat Sci.
       2001;16(2):101-133. doi:10.1214/ss/1009213286 (Jeffreys interval and its boundary rule)
    .. [5] Newcombe RG. Two-sided confidence intervals for the single proportion: comparison of
       seven methods. Stat Med. 1998;17(8):857-872.
       doi:10.1002/(SICI)1097-0258(19980430)17:8<857::AID-SIM777>3.0.CO;2-E

    Examples
    --------
    Newcombe (1998), Table I, example (a): 81 successes out of 263.

    >>> lower, upper = proportion_ci(81, 263)
    >>> round(lower, 4), round(upper, 4)
    (0.2553, 0.3662)
    """
    alpha = check_alpha(alpha)
    method = check_proportion_method(method)
    xa = _as_count_array(x, "x")
    na = _as_count_array(n, "n")
    try:
        xa, na = np.broadcast_arrays(xa, na)
    except ValueError:
        raise ValueError(f"x and n must have the same shape; got {np.shape(x)} and {np.shape(n)}") from None
    over = xa > na
    if over.any():
        pairs = [f"{int(a)}/{int(b)}" for a, b in zip(xa[over].ravel()[:5], na[over].ravel()[:5])]
        raise ValueError(f"x must not exceed n; got x/n = {', '.join(pairs)}")
    lower, upper = _intervals(xa.astype(float), na.astype(float), alpha, method)
    if lower.ndim == 0:
        return float(lower), float(upper)
    return lower, upper


def proportion(x, n, alpha: float = 0.05, method: str = "wilson") -> Estimate:
    """The proportion ``x / n`` with its confidence interval, as an :class:`Estimate`.

    Parameters
    ----------
    x, n : int
        Successes and trials, ``0 <= x <= n``.
    alpha : float, default 0.05
        Significance level.
    method : {"wilson", "clopper-pearson", "agresti-coull", "jeffreys"}, default "wilson"
        Interval method; see :func:`proportion_ci`.

    Returns
    -------
    Estimate
        ``estimate = x / n``; ``se = sqrt(p (1 - p) / n)`` (the binomial standard error of the
        estimate, whatever the interval method); ``method`` is the interval method. For ``n = 0`` an
        undefined Estimate (all NaN) with reason ``"n = 0: no observations"``; no warning is
        emitted here (callers that know what the proportion means, e.g. sensitivity, warn).

    Notes
    -----
    ``x = 0`` gives estimate 0 with lower bound 0 and ``se = 0``; ``x = n`` gives estimate 1 with
    upper bound 1. See :func:`proportion_ci` for the methods and their references.

    References
    ----------
    .. [1] Wilson EB. Probable inference, the law of succession, and statistical inference.
       J Am Stat Assoc. 1927;22(158):209-212. doi:10.1080/01621459.1927.10502953

    Examples
    --------
    >>> est = proportion(81, 263)
    >>> round(est.estimate, 4), round(est.lower, 4), round(est.upper, 4)
    (0.308, 0.2553, 0.3662)
    """
    if np.ndim(x) or np.ndim(n):
        raise ValueError(f"proportion takes scalar counts; got shapes {np.shape(x)} and {np.shape(n)} "
                         "(use proportion_ci for arrays)")
    lower, upper = proportion_ci(x, n, alpha, method)
    x, n = float(x), float(n)
    if n == 0:
        return Estimate.undefined("n = 0: no observations", method)
    p = x / n
    return Estimate(p, lower, upper, math.sqrt(p * (1 - p) / n), method)
