"""Seeded, vectorised bootstrap confidence intervals (percentile and BCa), with a fast path for AUROC.

Resamples are drawn in chunks of whole resamples (at most about four million indices at a time,
so memory stays bounded), from one :class:`numpy.random.Generator`; the same seed gives the same
resamples, and so the same interval, on every run and on every platform numpy supports.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator

import numpy as np
import pandas as pd
from scipy.special import ndtr, ndtri

from studylib.stats._estimate import Estimate
from studylib.stats._validate import as_labels, as_scores, check_alpha, same_length, warn_undefined
from studylib.stats.roc import RankStatistic, _tie_groups

__all__ = ["bootstrap_ci"]

METHODS = ("percentile", "bca")
_CHUNK_ELEMENTS = 1 << 22  # indices held at once: 4 Mi (32 MiB as int64)


# --------------------------------------------------------------------------------------------------
# Resampling
# --------------------------------------------------------------------------------------------------


def _strata(stratify, n: int) -> list[np.ndarray] | None:
    """Row positions of each stratum (strata sorted by value), or None for no stratification."""
    if stratify is None:
        return None
    values = np.asarray(stratify)
    if values.ndim != 1:
        raise ValueError(f"stratify must be one-dimensional; got shape {values.shape}")
    same_length(data=np.empty(n), stratify=values)
    codes, _ = pd.factorize(values, sort=True)
    missing = codes < 0
    if missing.any():
        shown = ", ".join(str(i) for i in np.flatnonzero(missing)[:5])
        raise ValueError(
            f"stratify has {int(missing.sum())} missing value(s) at positions {shown}; "
            "give every row a stratum (e.g. the outcome y)"
        )
    order = np.argsort(codes, kind="stable")
    bounds = np.cumsum(np.bincount(codes))[:-1]
    return np.split(order, bounds)


def _chunk_size(n: int) -> int:
    return max(1, _CHUNK_ELEMENTS // max(n, 1))


def _resample_chunks(
    n: int, n_resamples: int, strata: list[np.ndarray] | None, rng: np.random.Generator
) -> Iterator[tuple[int, list[np.ndarray]]]:
    """Yield ``(first resample, draws)`` chunk by chunk.

    ``draws[k]`` has shape (chunk, size of stratum k) and holds positions *within* stratum k drawn
    uniformly with replacement; without strata there is one stratum, the whole sample. The full
    row indices of a chunk are :func:`_rows` of the draws. The draws depend only on ``n``, the
    strata sizes, ``n_resamples`` and the state of ``rng``.
    """
    sizes = [n] if strata is None else [members.size for members in strata]
    step = _chunk_size(n)
    for start in range(0, n_resamples, step):
        k = min(step, n_resamples - start)
        yield start, [rng.integers(0, size, size=(k, size)) for size in sizes]


def _rows(draws: list[np.ndarray], strata: list[np.ndarray] | None) -> np.ndarray:
    """Row indices, shape (chunk, n), of the resamples given by ``draws`` (strata side by side)."""
    if strata is None:
        return draws[0]
    return np.concatenate([members[d] for members, d in zip(strata, draws)], axis=1)


# --------------------------------------------------------------------------------------------------
# Replicates: the fast path for rank statistics and the general path
# --------------------------------------------------------------------------------------------------


def _as_value(result) -> tuple[float, str]:
    """A statistic may return a number or an :class:`Estimate` (its point estimate is used)."""
    if isinstance(result, Estimate):
        return float(result.estimate), result.reason
    return float(result), ""


def _rank_replicates(rank: RankStatistic, arrays, n_resamples, strata_arg, rng):
    if len(arrays) != 2:
        raise ValueError(f"bootstrap of {rank.name} takes two arrays (y, score); got {len(arrays)}")
    y = as_labels(arrays[0])
    score = as_scores(arrays[1])
    n = same_length(y=y, score=score)
    strata = _strata(strata_arg, n)
    tg = _tie_groups(y, score, with_gid=True)
    reason = rank.minimum(tg.m, tg.n)
    if reason:
        return math.nan, None, reason, None
    theta_hat = float(rank.from_counts(tg.n_pos, tg.n_neg))
    n_groups = tg.values.size
    # key = tie group + G * class: one bincount per resample gives the class counts of every group,
    # negatives in the first G bins and positives in the next G (contiguous rows for the cumsums)
    key = tg.gid + n_groups * y
    key_by_stratum = [key] if strata is None else [key[members] for members in strata]
    theta = np.empty(n_resamples)
    for start, draws in _resample_chunks(n, n_resamples, strata, rng):
        k = draws[0].shape[0]
        keys = np.concatenate([kk[d] for kk, d in zip(key_by_stratum, draws)], axis=1)
        keys += (np.arange(k, dtype=keys.dtype) * (2 * n_groups))[:, None]
        counts = np.bincount(keys.ravel(), minlength=k * 2 * n_groups).reshape(k, 2, n_groups)
        theta[start : start + k] = rank.from_counts(counts[:, 1], counts[:, 0])
    return theta_hat, theta, "", lambda: rank.jackknife(tg.n_pos, tg.n_neg)


def _general_replicates(statistic, arrays, n_resamples, strata_arg, rng, vectorized):
    if not arrays:
        raise ValueError("bootstrap_ci needs at least one data array after the statistic")
    data = [np.asarray(a) for a in arrays]
    for i, a in enumerate(data):
        if a.ndim == 0:
            raise ValueError(f"arrays[{i}] must be an array with one row per observation; got a scalar")
    n = same_length(**{f"arrays[{i}]": a for i, a in enumerate(data)})
    strata = _strata(strata_arg, n)
    if n == 0:
        return math.nan, None, "no observations", None
    theta_hat, reason = _as_value(statistic(*data))
    if not math.isfinite(theta_hat):
        return math.nan, None, reason or "the statistic is not finite on the original data", None
    theta = np.empty(n_resamples)
    for start, draws in _resample_chunks(n, n_resamples, strata, rng):
        rows = _rows(draws, strata)
        if vectorized:
            values = np.asarray(statistic(*[a[rows] for a in data]), dtype=float)
            if values.shape != (rows.shape[0],):
                raise ValueError(
                    f"a vectorized statistic must return one value per resample, shape ({rows.shape[0]},); "
                    f"got shape {values.shape}"
                )
            theta[start : start + rows.shape[0]] = values
        else:
            for j, r in enumerate(rows):
                theta[start + j] = _as_value(statistic(*[a[r] for a in data]))[0]

    def jackknife():
        if n < 2:
            return np.full(n, np.nan), np.ones(n)
        values = np.empty(n)
        base = np.arange(n - 1)
        step = _chunk_size(n)
        for first in range(0, n, step):
            drop = np.arange(first, min(n, first + step))
            rows = base[None, :] + (base[None, :] >= drop[:, None])
            if vectorized:
                values[drop] = np.asarray(statistic(*[a[rows] for a in data]), dtype=float)
            else:
                for j, r in zip(drop, rows):
                    values[j] = _as_value(statistic(*[a[r] for a in data]))[0]
        return values, np.ones(n)

    return theta_hat, theta, "", jackknife


# --------------------------------------------------------------------------------------------------
# Intervals
# --------------------------------------------------------------------------------------------------


def _bca_levels(theta: np.ndarray, theta_hat: float, jack: tuple[np.ndarray, np.ndarray], alpha: float):
    """BCa quantile levels (Efron 1987), or a reason why they are undefined."""
    below = np.count_nonzero(theta < theta_hat) + 0.5 * np.count_nonzero(theta == theta_hat)
    share = below / theta.size
    if share <= 0.0 or share >= 1.0:
        return None, (
            "BCa bias correction is infinite: every bootstrap replicate lies on one side of the estimate; "
            "use method='percentile'"
        )
    z0 = float(ndtri(share))
    values, weights = jack
    keep = weights > 0
    values, weights = values[keep], weights[keep].astype(float)
    if not np.all(np.isfinite(values)):
        return None, "BCa acceleration undefined: the statistic is not finite on some leave-one-out sample"
    d = np.sum(weights * values) / np.sum(weights) - values
    ss = float(np.sum(weights * d**2))
    accel = float(np.sum(weights * d**3)) / (6.0 * ss**1.5) if ss > 0 else 0.0
    levels = []
    for q in (alpha / 2, 1 - alpha / 2):
        zq = float(ndtri(q))
        levels.append(float(ndtr(z0 + (z0 + zq) / (1 - accel * (z0 + zq)))))
    return levels, ""


def bootstrap_ci(
    statistic: Callable,
    *arrays,
    n_resamples: int = 2000,
    alpha: float = 0.05,
    method: str = "percentile",
    stratify=None,
    seed: int | np.random.Generator | None = None,
    vectorized: bool = False,
) -> Estimate:
    """Bootstrap confidence interval of any statistic of one or more paired arrays.

    Parameters
    ----------
    statistic : callable
        ``statistic(*arrays) -> float`` (or an :class:`Estimate`, whose ``estimate`` is used).
        Rows of all arrays are resampled together, so paired data stay paired.
        :func:`studylib.stats.auroc` and :func:`studylib.stats.auprc` take a fast path (Notes).
    *arrays : array-like
        The data, one row per observation (first axis); all of the same length.
    n_resamples : int, default 2000
        Number of bootstrap resamples (at least 2).
    alpha : float, default 0.05
        The interval has nominal coverage ``1 - alpha``.
    method : {"percentile", "bca"}, default "percentile"
        Percentile interval, or bias-corrected and accelerated (BCa) interval.
    stratify : array-like of shape (n,), optional
        Resample within each stratum (e.g. ``stratify=y`` keeps the numbers of positive and
        negative cases fixed, so no resample lacks a class).
    seed : int, numpy.random.Generator or None, default None
        Source of randomness. The same int gives identical results on every run; a Generator is
        consumed (advanced); ``None`` draws fresh entropy (not reproducible - pass a seed in studies).
    vectorized : bool, default False
        If True, ``statistic`` receives arrays with an extra leading axis (shape
        ``(k, n, ...)``, one row per resample) and must return ``k`` values.

    Returns
    -------
    Estimate
        ``estimate`` is the statistic on the original data, ``lower``/``upper`` the interval,
        ``se`` the standard deviation of the bootstrap replicates (ddof 1), ``method``
        ``"bootstrap-percentile"`` or ``"bootstrap-bca"``.

    Raises
    ------
    ValueError
        For an unknown ``method``, ``n_resamples < 2``, ``alpha`` outside (0, 1), arrays of
        different lengths, ``stratify`` with missing values, and (for the fast path) invalid labels
        or scores.

    Notes
    -----
    Resampling: resample ``b`` draws, within each stratum, as many rows as the stratum holds,
    uniformly with replacement; rows of the arrays are taken jointly. Draws come from
    ``numpy.random.default_rng(seed)`` in chunks of whole resamples, so the replicates are
    reproducible for a given seed, data and studylib version.

    Percentile interval: the ``alpha/2`` and ``1 - alpha/2`` quantiles of the replicates (linear
    interpolation). It need not contain the estimate when the bootstrap distribution is skewed.

    BCa interval (Efron 1987): quantiles at ``Phi(z0 + (z0 + z_q) / (1 - a (z0 + z_q)))`` with the
    bias correction ``z0 = Phi^-1(share of replicates below the estimate, ties counted 1/2)`` and
    the acceleration ``a = sum d^3 / (6 (sum d^2)^1.5)`` from the jackknife deviations ``d`` (leave
    one observation out of the whole sample). The jackknife costs ``n`` more evaluations of a
    general statistic (batched when ``vectorized``); for the fast path it is exact and O(n).

    Fast path for rank statistics: a statistic carrying a ``rank_statistic`` attribute (a
    :class:`studylib.stats.roc.RankStatistic`; :func:`auroc` and :func:`auprc` do) depends only on
    how many positive and negative cases fall in each tie group of the score. The scores are
    sorted once; each resample is reduced to multiplicity counts per (tie group, class) with
    ``numpy.bincount``, and the statistic is computed from cumulative sums of those counts - no
    sorting per resample. AUROC numerators are exact integers, so the replicates equal
    ``roc_auc_score`` on the same resampled rows. The arrays must then be ``(y, score)``.

    Undefined cases: if the statistic is not finite on the original data, on any resample (e.g.
    a resample without positive cases - use ``stratify=y``), or the BCa correction is infinite,
    the result is an undefined Estimate with the reason and an ``UndefinedMetricWarning``.

    References
    ----------
    .. [1] Efron B (1979). Bootstrap methods: another look at the jackknife. The Annals of
       Statistics 7(1):1-26. doi:10.1214/aos/1176344552
    .. [2] Efron B (1987). Better bootstrap confidence intervals. Journal of the American
       Statistical Association 82(397):171-185. doi:10.1080/01621459.1987.10478410

    Examples
    --------
    The bootstrap interval of a mean with a fixed seed:

    >>> import numpy as np
    >>> from studylib import stats
    >>> x = np.arange(10.0)
    >>> est = stats.bootstrap_ci(np.mean, x, n_resamples=1000, seed=1)
    >>> est.estimate
    4.5
    >>> est.lower < 4.5 < est.upper
    True
    """
    if not callable(statistic):
        raise ValueError(f"statistic must be a callable such as stats.auroc; got {type(statistic).__name__}")
    if method not in METHODS:
        raise ValueError(f"method must be one of {list(METHODS)}; got {method!r}")
    if isinstance(n_resamples, bool) or not isinstance(n_resamples, (int, np.integer)) or n_resamples < 2:
        raise ValueError(f"n_resamples must be an integer >= 2; got {n_resamples!r}")
    alpha = check_alpha(alpha)
    try:
        rng = np.random.default_rng(seed)
    except (TypeError, ValueError) as err:
        raise ValueError(f"seed must be an int >= 0, a numpy.random.Generator or None; got {seed!r}") from err
    label = f"bootstrap-{method}"
    n_resamples = int(n_resamples)

    rank = getattr(statistic, "rank_statistic", None)
    if isinstance(rank, RankStatistic):
        theta_hat, theta, reason, jackknife = _rank_replicates(rank, arrays, n_resamples, stratify, rng)
    else:
        theta_hat, theta, reason, jackknife = _general_replicates(
            statistic, arrays, n_resamples, stratify, rng, vectorized
        )
    if not reason and not np.all(np.isfinite(theta)):
        bad = int(np.count_nonzero(~np.isfinite(theta)))
        reason = (
            f"the statistic is undefined on {bad} of {n_resamples} resamples "
            "(e.g. a resample without one class); stratify by the outcome (stratify=y)"
        )
    if reason:
        warn_undefined(f"bootstrap_ci: {reason}")
        return Estimate.undefined(reason, label)

    se = float(np.std(theta, ddof=1))
    if method == "percentile":
        levels = [alpha / 2, 1 - alpha / 2]
    else:
        levels, reason = _bca_levels(theta, theta_hat, jackknife(), alpha)
        if reason:
            warn_undefined(f"bootstrap_ci: {reason}")
            return Estimate(theta_hat, math.nan, math.nan, se, label, reason)
    lower, upper = np.quantile(theta, levels)
    return Estimate(theta_hat, float(lower), float(upper), se, label)
