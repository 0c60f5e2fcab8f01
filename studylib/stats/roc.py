"""ROC analysis: AUROC with its DeLong interval, the paired DeLong test, and the ROC curve.

Every function here works from one sort of the scores. The sorted scores are cut into *tie groups*
(runs of equal scores); the number of positive and negative cases in each group determines the AUROC,
the DeLong structural components (Sun & Xu's midrank formulation) and the ROC curve, so that nothing
is quadratic in the number of cases. :mod:`studylib.stats.bootstrap` reuses the same tie groups to
resample the AUROC without sorting again (see :func:`studylib.stats.bootstrap_ci`).
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from functools import cached_property
from typing import Callable

import numpy as np
import pandas as pd
from scipy.special import ndtr, ndtri

from studylib.stats._estimate import Estimate
from studylib.stats._validate import as_labels, as_scores, check_alpha, same_length, warn_undefined

__all__ = ["auroc", "delong_test", "DeLongTest", "roc_curve", "RankedScore", "SubsetCounts", "auroc_from_counts",
           "auroc_logit_interval", "paired_auroc_difference"]


# --------------------------------------------------------------------------------------------------
# Tie groups: the one sort everything else is computed from
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _TieGroups:
    """Scores cut into runs of equal values, in ascending order of score.

    ``values[g]`` is the score of group ``g``; ``n_pos[g]`` / ``n_neg[g]`` count the positive /
    negative cases with that score (int64). ``gid`` (only when requested) maps each observation, in
    the caller's order, to its group.
    """

    values: np.ndarray
    n_pos: np.ndarray
    n_neg: np.ndarray
    gid: np.ndarray | None = None

    @property
    def m(self) -> int:
        """Number of positive cases."""
        return int(self.n_pos.sum())

    @property
    def n(self) -> int:
        """Number of negative cases."""
        return int(self.n_neg.sum())


def _tie_groups(y: np.ndarray, score: np.ndarray, *, with_gid: bool = False) -> _TieGroups:
    """Sort ``score`` once (stable) and count positives and negatives per tie group; O(n log n)."""
    size = score.shape[0]
    if size == 0:
        empty = np.zeros(0, dtype=np.int64)
        return _TieGroups(np.zeros(0), empty, empty, np.zeros(0, dtype=np.intp) if with_gid else None)
    order = np.argsort(score, kind="stable")
    ordered = score[order]
    new = np.empty(size, dtype=bool)
    new[0] = True
    np.not_equal(ordered[1:], ordered[:-1], out=new[1:])
    starts = np.flatnonzero(new)
    ends = np.append(starts[1:], size)
    cum_pos = np.cumsum(y[order], dtype=np.int64)
    n_pos = np.diff(cum_pos[ends - 1], prepend=0)
    n_neg = (ends - starts).astype(np.int64) - n_pos
    gid = None
    if with_gid:
        gid = np.empty(size, dtype=np.intp)
        gid[order] = np.cumsum(new, dtype=np.intp) - 1
    return _TieGroups(ordered[starts], n_pos, n_neg, gid)


def _class_size_reason(m: int, n: int, what: str) -> str:
    """The reason a statistic needing at least two cases of each class is undefined, or ''."""
    problems = []
    if m < 2:
        problems.append(f"{m} positive case{'s' if m != 1 else ''}")
    if n < 2:
        problems.append(f"{n} negative case{'s' if n != 1 else ''}")
    if not problems:
        return ""
    return f"{what} needs at least 2 positive and 2 negative cases; found " + " and ".join(problems)


# --------------------------------------------------------------------------------------------------
# AUROC and DeLong structural components from tie-group counts
# --------------------------------------------------------------------------------------------------


def _auc_from_counts(n_pos: np.ndarray, n_neg: np.ndarray) -> np.ndarray:
    """AUROC from per-group class counts (ascending score) along the last axis; NaN without a class.

    The numerator ``sum_g pos_g * (2 * neg_below_g + neg_g)`` is an exact integer, so the result is
    the exact Mann-Whitney proportion rounded once.
    """
    n_pos = np.asarray(n_pos, dtype=np.int64)
    n_neg = np.asarray(n_neg, dtype=np.int64)
    cum_neg = np.cumsum(n_neg, axis=-1)
    twice_wins = np.sum(n_pos * (2 * cum_neg - n_neg), axis=-1)
    pairs = np.sum(n_pos, axis=-1) * np.sum(n_neg, axis=-1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(pairs > 0, twice_wins / (2.0 * np.maximum(pairs, 1)), np.nan)


def _auc_jackknife(n_pos: np.ndarray, n_neg: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Leave-one-out AUROCs as (values, multiplicities): one value per (group, class) in closed form.

    Leaving out a positive of group g removes its ``neg_below + neg_tied / 2`` wins from the
    ``m * n`` pairs; leaving out a negative removes ``pos_above + pos_tied / 2``.
    """
    m, n = int(n_pos.sum()), int(n_neg.sum())
    neg_below = np.cumsum(n_neg) - n_neg
    pos_above = m - np.cumsum(n_pos)
    wins = float(np.sum(n_pos * (2 * neg_below + n_neg))) / 2.0
    without_pos = (wins - (neg_below + 0.5 * n_neg)) / ((m - 1) * n)
    without_neg = (wins - (pos_above + 0.5 * n_pos)) / (m * (n - 1))
    return np.concatenate([without_pos, without_neg]), np.concatenate([n_pos, n_neg])


def _delong_components(n_pos: np.ndarray, n_neg: np.ndarray) -> tuple[float, np.ndarray, np.ndarray, float]:
    """AUROC, structural components per group (V10 for positives, V01 for negatives), DeLong variance.

    Sun & Xu (2014): with T_z the midrank in the pooled sample and T_x the midrank among the
    positives, ``V10 = (T_z - T_x) / n``, which is the share of negatives below a positive plus half
    the share tied with it; symmetrically ``V01`` is the share of positives above a negative plus
    half the share tied. Both are constant within a tie group, so they are computed per group from
    the class counts per tie group (ascending score).
    """
    m, n = int(n_pos.sum()), int(n_neg.sum())
    auc = float(_auc_from_counts(n_pos, n_neg))
    neg_below = np.cumsum(n_neg) - n_neg
    pos_above = m - np.cumsum(n_pos)
    v10 = (neg_below + 0.5 * n_neg) / n
    v01 = (pos_above + 0.5 * n_pos) / m
    s10 = float(np.sum(n_pos * (v10 - auc) ** 2)) / (m - 1)
    s01 = float(np.sum(n_neg * (v01 - auc) ** 2)) / (n - 1)
    return auc, v10, v01, s10 / m + s01 / n


def newcombe_score_interval(auc: float, m: int, n: int, alpha: float = 0.05) -> tuple[float, float]:
    """Newcombe's score-type interval of an AUROC (his Method 5): boundary-respecting, never of zero width.

    Parameters
    ----------
    auc : float
        The AUROC (Mann–Whitney proportion), in [0, 1].
    m, n : int
        Positive and negative cases (each >= 1).
    alpha : float, default 0.05
        The interval has nominal coverage ``1 - alpha``.

    Returns
    -------
    tuple of float
        ``(lower, upper)``: every ``theta`` in [0, 1] with ``(auc - theta)^2 <= z^2 V(theta)``, where
        ``V(theta) = theta (1 - theta) [1 + N* (1 - theta)/(2 - theta) + N* theta/(1 + theta)] / (m n)``
        is Hanley & McNeil's variance with ``m - 1`` and ``n - 1`` replaced by ``N* = (m + n)/2 - 1``.

    Notes
    -----
    Unlike the Wald interval on DeLong's variance, which collapses to a point when that variance is 0
    (perfect separation: AUROC 1.0 (1.0–1.0) with 3 positives and 3 negatives; a constant score: 0.5
    (0.5–0.5)), the score interval uses the variance at the candidate value ``theta``, so it keeps a
    width that reflects the number of cases: AUROC 1 with 3 and 3 cases gives 0.501–1. Newcombe found
    its coverage close to nominal across sample sizes and AUROCs up to 1. Checked against R (base
    ``uniroot`` on the same equation; ``tests/reference/newcombe_auroc.py``).

    References
    ----------
    .. [1] Newcombe RG (2006). Confidence intervals for an effect size measure based on the
       Mann-Whitney statistic. Part 2: asymptotic methods and evaluation. Statistics in Medicine
       25(4):559-573. doi:10.1002/sim.2324
    .. [2] Hanley JA, McNeil BJ (1982). The meaning and use of the area under a receiver operating
       characteristic (ROC) curve. Radiology 143(1):29-36. doi:10.1148/radiology.143.1.7063747

    Examples
    --------
    >>> low, high = newcombe_score_interval(1.0, 3, 3)
    >>> round(low, 4), high
    (0.501, 1.0)
    """
    from scipy.optimize import brentq

    z = float(ndtri(1 - alpha / 2))
    star = (m + n) / 2 - 1

    def spread(theta: float) -> float:
        v = theta * (1 - theta) * (1 + star * (1 - theta) / (2 - theta) + star * theta / (1 + theta)) / (m * n)
        return z * math.sqrt(max(v, 0.0))

    tiny = 1e-12
    lower = 0.0 if auc <= 0 else brentq(lambda t: auc - t - spread(t), 0.0, auc - tiny if auc >= 1 else auc,
                                         xtol=1e-14)
    upper = 1.0 if auc >= 1 else brentq(lambda t: auc - t + spread(t), auc + tiny if auc <= 0 else auc, 1.0,
                                        xtol=1e-14)
    return float(lower), float(upper)


def auroc_logit_interval(auc: float, se: float, alpha: float = 0.05) -> tuple[float, float]:
    """The Wald interval of an AUROC formed on the logit scale and transformed back.

    Parameters
    ----------
    auc : float
        The AUROC, strictly between 0 and 1.
    se : float
        Its standard error (DeLong's), > 0.
    alpha : float, default 0.05
        The interval has nominal coverage ``1 - alpha``.

    Returns
    -------
    tuple of float
        ``(lower, upper) = expit(logit(auc) ∓ z se / (auc (1 − auc)))``: the delta-method standard error
        of ``logit(auc)``; inside (0, 1) and asymmetric, longer towards 0.5.

    Notes
    -----
    With few events the Wald interval ``auc ± z se`` undercovers, worst where the estimate is high by
    chance: DeLong's variance shrinks as the estimate nears 1, so the interval is narrowest exactly where
    the estimate is furthest off. On the logit scale that dependence is largely removed. Qin & Hotilovac
    found the logit interval's coverage close to nominal down to small samples where the Wald interval's
    was not. In studylib it serves :func:`studylib.judge.triggers.relative_to_reference`. There, 15
    events and 65 non-events against a large reference gave 3.2 % false alarms with the two-sample Wald
    test at a nominal 0.5 %, and 0.8 % with the MOVER interval built from logit intervals
    (``tests/judge/test_triggers_null.py``).

    References
    ----------
    .. [1] Pepe MS (2003). The Statistical Evaluation of Medical Tests for Classification and
       Prediction. Oxford University Press, section 5.2.2 (confidence intervals for the AUC on the
       logit scale).
    .. [2] Qin G, Hotilovac L (2008). Comparison of non-parametric confidence intervals for the area
       under the ROC curve of a continuous-scale diagnostic test. Statistical Methods in Medical
       Research 17(2):207-221. doi:10.1177/0962280207087173

    Examples
    --------
    >>> low, high = auroc_logit_interval(0.88, 0.045)
    >>> round(low, 3), round(high, 3)
    (0.761, 0.944)
    """
    if not (0 < auc < 1) or not se > 0:
        raise ValueError(f"the logit interval needs 0 < auc < 1 and se > 0; got auc={auc!r}, se={se!r}")
    alpha = check_alpha(alpha)
    center = math.log(auc / (1 - auc))
    spread = float(ndtri(1 - alpha / 2)) * se / (auc * (1 - auc))
    return 1 / (1 + math.exp(-(center - spread))), 1 / (1 + math.exp(-(center + spread)))


def _auroc_estimate(n_pos: np.ndarray, n_neg: np.ndarray, alpha: float, components=None) -> Estimate:
    """AUROC with its DeLong Wald interval from tie-group counts (no warning); shared by :func:`auroc`
    and :func:`auroc_from_counts`. ``components``: :func:`_delong_components` of the counts, if known.
    Where the DeLong variance is 0 the interval is :func:`newcombe_score_interval` (``se`` stays 0)."""
    m, n = int(n_pos.sum()), int(n_neg.sum())
    reason = _class_size_reason(m, n, "AUROC with a DeLong interval")
    if reason:
        return Estimate.undefined(reason, "delong")
    auc, _, _, var = _delong_components(n_pos, n_neg) if components is None else components
    return _auroc_interval(auc, var, m, n, alpha)


def _auroc_interval(auc: float, var: float, m: int, n: int, alpha: float) -> Estimate:
    """AUROC ``auc`` of ``m`` positives and ``n`` negatives with DeLong variance ``var``: the Wald interval, or
    :func:`newcombe_score_interval` where the variance is 0 (``se`` stays 0). Shared by every AUROC path
    (rows, tie-group counts, placement sums)."""
    if var <= 1e-20:  # 0 up to rounding (se <= 1e-10): perfect separation, a constant score
        lower, upper = newcombe_score_interval(auc, m, n, alpha)
        return Estimate(auc, lower, upper, 0.0, NEWCOMBE_METHOD)
    se = math.sqrt(max(var, 0.0))
    half = float(ndtri(1 - alpha / 2)) * se
    return Estimate(auc, max(0.0, auc - half), min(1.0, auc + half), se, "delong")


#: ``method`` of an AUROC whose interval is Newcombe's score interval (the DeLong variance was 0)
NEWCOMBE_METHOD = "newcombe-score (DeLong variance 0)"


def _validated(y, score, score_name: str = "score") -> tuple[np.ndarray, np.ndarray]:
    labels = as_labels(y)
    scores = as_scores(score, score_name)
    same_length(y=labels, **{score_name: scores})
    return labels, scores


def auroc(y, score, alpha: float = 0.05) -> Estimate:
    """Area under the ROC curve with the DeLong standard error and a normal (Wald) interval.

    Parameters
    ----------
    y : array-like of shape (n,)
        Binary outcome: 1/True for a positive case, 0/False for a negative case.
    score : array-like of shape (n,)
        Model score, higher meaning more likely positive. Any finite real numbers.
    alpha : float, default 0.05
        The interval has nominal coverage ``1 - alpha``.

    Returns
    -------
    Estimate
        ``estimate`` is the AUROC, ``se`` its DeLong standard error, ``lower``/``upper`` the bounds
        of ``estimate +/- z_{1-alpha/2} * se`` clipped to [0, 1], ``method`` is ``"delong"``.

    Raises
    ------
    ValueError
        If the lengths differ, a value is missing or infinite (the message gives count and
        positions), labels are not 0/1, or ``alpha`` is not in (0, 1).

    Notes
    -----
    The AUROC is the probability that a random positive case scores higher than a random negative
    case, ties counted as 1/2 (the Mann-Whitney statistic divided by ``m * n``); it equals
    scikit-learn's ``roc_auc_score`` and pROC's ``auc``. The numerator is computed in exact integer
    arithmetic.

    The variance is DeLong's: ``S10 / m + S01 / n`` with ``S10``, ``S01`` the sample variances
    (denominator ``m - 1``, ``n - 1``) of the structural components of the ``m`` positive and ``n``
    negative cases, computed from midranks after a single sort in O(n log n) time (Sun & Xu 2014).
    pROC's ``ci.auc(..., method = "delong")`` gives the same interval.

    Undefined cases: with fewer than 2 positive or 2 negative cases the result is an undefined
    Estimate (NaN, with the reason) and an ``UndefinedMetricWarning``; nothing is raised.
    Zero variance: with perfect separation (AUROC 0 or 1), or a constant score (0.5), the DeLong
    variance is 0 and the Wald interval would collapse to the point (1.0 (1.0–1.0) on 3 positives and
    3 negatives, which would "show" any lower bound). The interval is then Newcombe's score-type
    interval (:func:`newcombe_score_interval`; 0.501–1 for 3 and 3), ``se`` stays 0 and ``method`` says
    so (:data:`NEWCOMBE_METHOD`). A bootstrap would not help: every resample separates too.

    References
    ----------
    .. [1] DeLong ER, DeLong DM, Clarke-Pearson DL (1988). Comparing the areas under two or more
       correlated receiver operating characteristic curves: a nonparametric approach.
       Biometrics 44(3):837-845. doi:10.2307/2531595
    .. [2] Sun X, Xu W (2014). Fast implementation of DeLong's algorithm for comparing the areas
       under correlated receiver operating characteristic curves. IEEE Signal Processing Letters
       21(11):1389-1393. doi:10.1109/LSP.2014.2337313
    .. [3] Hanley JA, McNeil BJ (1982). The meaning and use of the area under a receiver operating
       characteristic (ROC) curve. Radiology 143(1):29-36. doi:10.1148/radiology.143.1.7063747

    Examples
    --------
    Three of the four positive-negative pairs are ordered correctly:

    >>> from studylib import stats
    >>> est = stats.auroc([0, 0, 1, 1], [0.1, 0.6, 0.4, 0.9])
    >>> est.estimate
    0.75
    >>> round(est.se, 4)
    0.3536
    """
    alpha = check_alpha(alpha)
    labels, scores = _validated(y, score)
    tg = _tie_groups(labels, scores)
    estimate = _auroc_estimate(tg.n_pos, tg.n_neg, alpha)
    if estimate.reason:
        warn_undefined(f"auroc: {estimate.reason}")
    return estimate


# --------------------------------------------------------------------------------------------------
# Paired DeLong test
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class DeLongTest:
    """Result of the paired DeLong test of two AUROCs on the same cases.

    Attributes
    ----------
    auc_a, auc_b : float
        AUROC of each score.
    diff : float
        ``auc_a - auc_b``.
    se : float
        DeLong standard error of ``diff`` (accounts for the correlation of the two scores).
    lower, upper : float
        ``diff +/- z_{1-alpha/2} * se``, clipped to [-1, 1].
    z : float
        ``diff / se``.
    p_value : float
        Two-sided p-value of H0: equal AUROCs, ``2 * (1 - Phi(|z|))``.
    method : str
        ``"delong-paired"``.
    reason : str
        Why some fields are NaN; empty when everything is defined.
    """

    auc_a: float
    auc_b: float
    diff: float
    se: float
    lower: float
    upper: float
    z: float
    p_value: float
    method: str = "delong-paired"
    reason: str = ""

    @property
    def defined(self) -> bool:
        """True when the difference, its interval, z and p are finite numbers."""
        return all(math.isfinite(v) for v in (self.diff, self.lower, self.upper, self.z, self.p_value))

    def to_dict(self) -> dict:
        """Plain dict for JSON results (NaN stays NaN; the JSON writer maps it to null)."""
        return asdict(self)


def delong_test(y, score_a, score_b, alpha: float = 0.05) -> DeLongTest:
    """Paired DeLong test comparing the AUROCs of two scores measured on the same cases.

    Parameters
    ----------
    y : array-like of shape (n,)
        Binary outcome (0/1 or False/True).
    score_a, score_b : array-like of shape (n,)
        The two scores for the same cases, in the same order; higher means more likely positive.
    alpha : float, default 0.05
        The interval of the difference has nominal coverage ``1 - alpha``.

    Returns
    -------
    DeLongTest
        ``auc_a``, ``auc_b``, ``diff = auc_a - auc_b``, its ``se``, ``lower``, ``upper``, ``z`` and
        the two-sided ``p_value``.

    Raises
    ------
    ValueError
        If the lengths differ, a value is missing or infinite, labels are not 0/1, or ``alpha`` is
        not in (0, 1).

    Notes
    -----
    ``Var(diff) = Var(V10_a - V10_b) / m + Var(V01_a - V01_b) / n`` where V10, V01 are the DeLong
    structural components of each score (Sun & Xu's midranks, one sort per score), i.e. the
    contrast ``L S L'`` of DeLong et al. (1988) with ``L = (1, -1)``. The statistic is the same as
    pROC's ``roc.test(roc1, roc2, method = "delong", paired = TRUE)``. Ties count 1/2.

    Undefined cases: with fewer than 2 positive or 2 negative cases every field is NaN. When the
    two scores rank the cases identically (e.g. one is a monotone transform of the other) the
    variance of the difference is exactly 0 (as when both separate the classes perfectly): the
    AUROCs and ``diff`` are reported, ``se`` is 0 and ``lower``, ``upper``, ``z``, ``p_value`` are
    NaN. Both give the reason and an ``UndefinedMetricWarning``.

    References
    ----------
    .. [1] DeLong ER, DeLong DM, Clarke-Pearson DL (1988). Comparing the areas under two or more
       correlated receiver operating characteristic curves: a nonparametric approach.
       Biometrics 44(3):837-845. doi:10.2307/2531595
    .. [2] Sun X, Xu W (2014). Fast implementation of DeLong's algorithm for comparing the areas
       under correlated receiver operating characteristic curves. IEEE Signal Processing Letters
       21(11):1389-1393. doi:10.1109/LSP.2014.2337313
    .. [3] Robin X, Turck N, Hainard A, et al. (2011). pROC: an open-source package for R and S+
       to analyze and compare ROC curves. BMC Bioinformatics 12:77. doi:10.1186/1471-2105-12-77

    Examples
    --------
    >>> from studylib import stats
    >>> y = [0, 0, 0, 1, 1, 1]
    >>> res = stats.delong_test(y, [1, 2, 3, 4, 5, 6], [1, 5, 3, 4, 2, 6])
    >>> round(res.diff, 4), round(res.z, 4)
    (0.3333, 1.2247)
    """
    alpha = check_alpha(alpha)
    labels = as_labels(y)
    a = as_scores(score_a, "score_a")
    b = as_scores(score_b, "score_b")
    same_length(y=labels, score_a=a, score_b=b)
    nan = math.nan
    tg_a = _tie_groups(labels, a, with_gid=True)
    reason = _class_size_reason(tg_a.m, tg_a.n, "The paired DeLong test")
    if reason:
        warn_undefined(f"delong_test: {reason}")
        return DeLongTest(nan, nan, nan, nan, nan, nan, nan, nan, reason=reason)
    tg_b = _tie_groups(labels, b, with_gid=True)
    auc_a, v10_a, v01_a, _ = _delong_components(tg_a.n_pos, tg_a.n_neg)
    auc_b, v10_b, v01_b, _ = _delong_components(tg_b.n_pos, tg_b.n_neg)
    m, n = tg_a.m, tg_a.n
    gid_a_pos, gid_a_neg = tg_a.gid[labels], tg_a.gid[~labels]
    gid_b_pos, gid_b_neg = tg_b.gid[labels], tg_b.gid[~labels]
    d10 = v10_a[gid_a_pos] - v10_b[gid_b_pos]
    d01 = v01_a[gid_a_neg] - v01_b[gid_b_neg]
    var = float(np.var(d10, ddof=1)) / m + float(np.var(d01, ddof=1)) / n
    result = _paired_test(auc_a, auc_b, var, alpha)
    if result.reason:
        warn_undefined(f"delong_test: {result.reason}")
    return result


def _paired_test(auc_a: float, auc_b: float, var: float, alpha: float) -> DeLongTest:
    """The paired DeLong test from both AUROCs and the variance of their difference (rows or placement sums);
    a variance of 0 gives the difference without a test, with the reason."""
    nan = math.nan
    diff = auc_a - auc_b
    se = math.sqrt(max(var, 0.0))
    if se == 0.0:
        reason = (
            "the DeLong variance of the difference is 0 (the two scores have the same structural "
            "components, e.g. they rank the cases identically or both separate the classes perfectly), "
            "so no test is possible"
        )
        return DeLongTest(auc_a, auc_b, diff, 0.0, nan, nan, nan, nan, reason=reason)
    z = diff / se
    half = float(ndtri(1 - alpha / 2)) * se
    p_value = float(2.0 * ndtr(-abs(z)))
    return DeLongTest(auc_a, auc_b, diff, se, max(-1.0, diff - half), min(1.0, diff + half), z, p_value)


# --------------------------------------------------------------------------------------------------
# Many subsets of one cohort: sort once, count per subset (the subgroup fast path)
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class SubsetCounts:
    """Positive and negative cases per tie group of a subset of a :class:`RankedScore`.

    Attributes
    ----------
    groups : numpy.ndarray
        The tie groups present in the subset (indices into ``RankedScore.values``), ascending.
    values : numpy.ndarray
        Their scores (``RankedScore.values[groups]``), ascending.
    n_pos, n_neg : numpy.ndarray
        Positive and negative cases of the subset in each of these groups (int64).
    """

    groups: np.ndarray
    values: np.ndarray
    n_pos: np.ndarray
    n_neg: np.ndarray

    @property
    def m(self) -> int:
        """Number of positive cases in the subset."""
        return int(self.n_pos.sum())

    @property
    def n(self) -> int:
        """Number of negative cases in the subset."""
        return int(self.n_neg.sum())

    @cached_property
    def _delong(self) -> tuple[float, np.ndarray, np.ndarray, float]:
        """DeLong components of the subset, computed once for :meth:`auroc` and :func:`paired_auroc_difference`."""
        return _delong_components(self.n_pos, self.n_neg)

    def auroc(self, *, alpha: float = 0.05) -> Estimate:
        """:func:`auroc_from_counts` of the subset, sharing its DeLong components with
        :func:`paired_auroc_difference` (``counts_a=``)."""
        alpha = check_alpha(alpha)
        defined = self.m >= 2 and self.n >= 2  # else the components are undefined (and not needed)
        return _auroc_estimate(self.n_pos, self.n_neg, alpha, self._delong if defined else None)


@dataclass(frozen=True, eq=False)
class RankedScore:
    """A score sorted once, so that the ROC statistics of many subsets need no further sort.

    Attributes
    ----------
    y : numpy.ndarray
        The outcome of every case (bool).
    values : numpy.ndarray
        The distinct scores, ascending (the tie groups).
    gid : numpy.ndarray
        The tie group of every case (index into ``values``).

    Notes
    -----
    A subset of the cases (a subgroup) is then a set of row positions whose positives and negatives
    per tie group are counted by one ``bincount`` (:meth:`counts`); :func:`auroc_from_counts` and
    :func:`paired_auroc_difference` work from those counts. About 40 subgroups of 10^6 cases take
    well under a second, against one sort per subgroup for :func:`auroc` on the filtered rows, with
    identical results (tested).

    Examples
    --------
    >>> ranked = RankedScore.of([0, 0, 1, 1], [0.1, 0.6, 0.4, 0.9])
    >>> counts = ranked.counts(np.arange(4))
    >>> counts.n_pos.tolist(), counts.n_neg.tolist()
    ([0, 1, 0, 1], [1, 0, 1, 0])
    """

    y: np.ndarray
    values: np.ndarray
    gid: np.ndarray

    @classmethod
    def of(cls, y, score) -> "RankedScore":
        """Sort ``score`` once; ``y`` are the binary outcomes of the same cases.

        Raises
        ------
        ValueError
            If the lengths differ, a value is missing or infinite, or labels are not 0/1.
        """
        labels, scores = _validated(y, score)
        values, gid = np.unique(scores, return_inverse=True)
        return cls(labels, values, gid.astype(np.intp))

    def counts(self, rows: np.ndarray) -> SubsetCounts:
        """Positives and negatives per tie group among the cases at positions ``rows``."""
        g = self.gid[rows]
        total = np.bincount(g, minlength=self.values.size)
        pos = np.bincount(g[self.y[rows]], minlength=self.values.size)
        present = np.flatnonzero(total)
        return SubsetCounts(present, self.values[present], pos[present], total[present] - pos[present])


def auroc_from_counts(n_pos, n_neg, *, alpha: float = 0.05) -> Estimate:
    """AUROC with its DeLong interval from the class counts per tie group: :func:`auroc` without a sort.

    Parameters
    ----------
    n_pos, n_neg : array-like of int, shape (G,)
        Positive and negative cases in each tie group (run of equal scores), groups in ascending
        order of score, e.g. :attr:`SubsetCounts.n_pos` / ``n_neg``.
    alpha : float, default 0.05
        The interval has nominal coverage ``1 - alpha``.

    Returns
    -------
    Estimate
        The same Estimate as :func:`auroc` on the cases these counts describe: Mann-Whitney AUROC
        (ties 1/2), DeLong standard error (Sun & Xu's midranks), Wald interval clipped to [0, 1],
        ``method`` ``"delong"``.

    Raises
    ------
    ValueError
        If the counts are not two one-dimensional arrays of equal length of non-negative integers,
        or ``alpha`` is not in (0, 1).

    Notes
    -----
    Undefined with fewer than 2 positive or 2 negative cases: an undefined Estimate with the reason,
    *without* the ``UndefinedMetricWarning`` of :func:`auroc` (this path serves many subgroups at
    once, and the reason travels with the Estimate).

    References
    ----------
    .. [1] DeLong ER, DeLong DM, Clarke-Pearson DL (1988). Comparing the areas under two or more
       correlated receiver operating characteristic curves: a nonparametric approach.
       Biometrics 44(3):837-845. doi:10.2307/2531595
    .. [2] Sun X, Xu W (2014). Fast implementation of DeLong's algorithm for comparing the areas
       under correlated receiver operating characteristic curves. IEEE Signal Processing Letters
       21(11):1389-1393. doi:10.1109/LSP.2014.2337313

    Examples
    --------
    The cases of :func:`auroc`'s example: in ascending order of score (0.1, 0.4, 0.6, 0.9) a
    negative, a positive, a negative and a positive case:

    >>> est = auroc_from_counts([0, 1, 0, 1], [1, 0, 1, 0])
    >>> est.estimate, round(est.se, 4)
    (0.75, 0.3536)
    """
    alpha = check_alpha(alpha)
    pos, neg = _as_counts(n_pos, "n_pos"), _as_counts(n_neg, "n_neg")
    if pos.shape != neg.shape:
        raise ValueError(f"n_pos and n_neg must have the same length; n_pos has {pos.size}, n_neg has {neg.size}")
    return _auroc_estimate(pos, neg, alpha)


def _as_counts(counts, name: str) -> np.ndarray:
    arr = np.asarray(counts)
    if arr.ndim != 1:
        raise ValueError(f"{name} must be one-dimensional; got shape {arr.shape}")
    if arr.size and (arr.dtype.kind not in "iu" or arr.min() < 0):
        raise ValueError(f"{name} must hold non-negative integer counts per tie group; got dtype {arr.dtype}"
                         + (f", minimum {arr.min()}" if arr.dtype.kind in "iuf" else ""))
    return arr.astype(np.int64, copy=False)


def paired_auroc_difference(a: RankedScore, b: RankedScore, rows: np.ndarray, *, alpha: float = 0.05,
                            counts_a: SubsetCounts | None = None) -> Estimate:
    """AUROC of score ``a`` − AUROC of score ``b`` on the cases at ``rows``, paired DeLong interval.

    The difference of :func:`delong_test` on the subset ``rows``, from two :class:`RankedScore`
    without sorting again.

    Parameters
    ----------
    a, b : RankedScore
        The two scores of the same cases (the same outcomes ``y``).
    rows : numpy.ndarray of int
        Positions of the subset's cases.
    alpha : float, default 0.05
        The interval has nominal coverage ``1 - alpha``.
    counts_a : SubsetCounts, optional
        ``a.counts(rows)`` when the caller has it already.

    Returns
    -------
    Estimate
        ``estimate`` = ``diff``, ``se``, ``lower``/``upper`` of :func:`delong_test` (Wald interval
        clipped to [-1, 1]), ``method`` ``"delong-paired"``.

    Raises
    ------
    ValueError
        If ``a`` and ``b`` do not hold the same outcomes.

    Notes
    -----
    ``Var(diff) = Var(V10_a - V10_b) / m + Var(V01_a - V01_b) / n`` over the subset's positive and
    negative cases (DeLong et al. 1988, contrast ``L = (1, -1)``), with the structural components of
    each score from its tie-group counts in the subset. Undefined (NaN, with the reason, no warning)
    with fewer than 2 cases of a class. When the variance of the difference is 0 (the two scores rank
    the cases identically) the difference is returned with ``se`` 0 and a NaN interval.

    References
    ----------
    .. [1] DeLong ER, DeLong DM, Clarke-Pearson DL (1988). Comparing the areas under two or more
       correlated receiver operating characteristic curves: a nonparametric approach.
       Biometrics 44(3):837-845. doi:10.2307/2531595
    .. [2] Sun X, Xu W (2014). Fast implementation of DeLong's algorithm for comparing the areas
       under correlated receiver operating characteristic curves. IEEE Signal Processing Letters
       21(11):1389-1393. doi:10.1109/LSP.2014.2337313

    Examples
    --------
    The example of :func:`delong_test`:

    >>> y = [0, 0, 0, 1, 1, 1]
    >>> a, b = RankedScore.of(y, [1, 2, 3, 4, 5, 6]), RankedScore.of(y, [1, 5, 3, 4, 2, 6])
    >>> round(paired_auroc_difference(a, b, np.arange(6)).estimate, 4)
    0.3333
    """
    alpha = check_alpha(alpha)
    if a.y is not b.y and not np.array_equal(a.y, b.y):
        raise ValueError("paired_auroc_difference: the two ranked scores must hold the same outcomes y")
    ca = a.counts(rows) if counts_a is None else counts_a
    m, n = ca.m, ca.n
    reason = _class_size_reason(m, n, "The paired DeLong test")
    if reason:
        return Estimate.undefined(reason, "delong-paired")
    cb = b.counts(rows)
    auc_a, v10_a, v01_a, _ = ca._delong
    auc_b, v10_b, v01_b, _ = cb._delong
    local_a = np.empty(a.values.size, dtype=np.intp)
    local_a[ca.groups] = np.arange(ca.groups.size)
    local_b = np.empty(b.values.size, dtype=np.intp)
    local_b[cb.groups] = np.arange(cb.groups.size)
    yy = a.y[rows]
    ga, gb = local_a[a.gid[rows]], local_b[b.gid[rows]]
    d10 = v10_a[ga[yy]] - v10_b[gb[yy]]
    d01 = v01_a[ga[~yy]] - v01_b[gb[~yy]]
    diff = auc_a - auc_b
    var = float(np.var(d10, ddof=1)) / m + float(np.var(d01, ddof=1)) / n
    se = math.sqrt(max(var, 0.0))
    if se == 0.0:
        return Estimate(diff, math.nan, math.nan, 0.0, "delong-paired",
                        "the DeLong variance of the difference is 0 (the two scores rank the cases identically)")
    half = float(ndtri(1 - alpha / 2)) * se
    return Estimate(diff, max(-1.0, diff - half), min(1.0, diff + half), se, "delong-paired")


# --------------------------------------------------------------------------------------------------
# ROC curve
# --------------------------------------------------------------------------------------------------


def roc_curve(y, score, *, drop_intermediate: bool = False) -> pd.DataFrame:
    """The empirical ROC curve: one row per distinct threshold, for plotting and operating points.

    Parameters
    ----------
    y : array-like of shape (n,)
        Binary outcome (0/1 or False/True).
    score : array-like of shape (n,)
        Model score, higher meaning more likely positive.
    drop_intermediate : bool, default False
        Drop thresholds whose point lies on a straight segment between its neighbours (the
        curve's shape and area are unchanged; as scikit-learn's option of the same name).

    Returns
    -------
    pandas.DataFrame
        Columns ``threshold``, ``fpr``, ``tpr`` (float), in decreasing order of threshold. The first
        row is ``threshold = inf`` with ``fpr = tpr = 0``; each further row is a distinct score.

    Raises
    ------
    ValueError
        If the lengths differ, a value is missing or infinite, or labels are not 0/1.

    Notes
    -----
    Convention: a case is called positive iff ``score >= threshold``; so ``tpr`` is the share of
    positive cases and ``fpr`` the share of negative cases with ``score >= threshold``. Tied scores
    move the curve diagonally, which is what makes its trapezoidal area equal :func:`auroc`.
    The same points as scikit-learn's ``roc_curve`` (with the same ``drop_intermediate``).

    Undefined cases: without positive cases ``tpr`` is NaN, without negative cases ``fpr`` is NaN
    (with an ``UndefinedMetricWarning``); the thresholds are still listed.

    References
    ----------
    .. [1] Fawcett T (2006). An introduction to ROC analysis. Pattern Recognition Letters
       27(8):861-874. doi:10.1016/j.patrec.2005.10.010

    Examples
    --------
    >>> from studylib import stats
    >>> curve = stats.roc_curve([0, 0, 1, 1], [0.1, 0.6, 0.4, 0.9])
    >>> curve.to_numpy().tolist()[:3]
    [[inf, 0.0, 0.0], [0.9, 0.0, 0.5], [0.6, 0.5, 0.5]]
    """
    labels, scores = _validated(y, score)
    tg = _tie_groups(labels, scores)
    m, n = tg.m, tg.n
    tp = np.concatenate([[0], np.cumsum(tg.n_pos[::-1])])
    fp = np.concatenate([[0], np.cumsum(tg.n_neg[::-1])])
    thresholds = np.concatenate([[np.inf], tg.values[::-1]])
    if drop_intermediate and tp.size > 3:
        # a point is intermediate when the curve does not turn there (second differences are 0);
        # as in scikit-learn the origin and the first and last thresholds are always kept
        keep = np.ones(tp.size, dtype=bool)
        keep[2:-1] = (np.diff(tp[1:], 2) != 0) | (np.diff(fp[1:], 2) != 0)
        tp, fp, thresholds = tp[keep], fp[keep], thresholds[keep]
    missing = [name for name, count in (("positive", m), ("negative", n)) if count == 0]
    if missing:
        warn_undefined(
            f"roc_curve: no {' and no '.join(missing)} cases; "
            + " and ".join({"positive": "tpr", "negative": "fpr"}[k] for k in missing)
            + " undefined (NaN)"
        )
    with np.errstate(invalid="ignore", divide="ignore"):
        tpr = tp / m if m else np.full(tp.size, np.nan)
        fpr = fp / n if n else np.full(fp.size, np.nan)
    return pd.DataFrame({"threshold": thresholds.astype(float), "fpr": fpr.astype(float), "tpr": tpr.astype(float)})


# --------------------------------------------------------------------------------------------------
# Marker read by bootstrap_ci: statistics computed from tie-group counts
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RankStatistic:
    """How :func:`studylib.stats.bootstrap_ci` resamples a statistic of ``(y, score)`` without sorting.

    A function carrying ``rank_statistic = RankStatistic(...)`` as an attribute depends on the data
    only through the numbers of positive and negative cases in each tie group of the score.

    Attributes
    ----------
    name : str
        Name of the statistic (e.g. ``"auroc"``).
    from_counts : callable
        ``from_counts(n_pos, n_neg) -> values``: int64 arrays of shape (..., G), groups in ascending
        order of score, reduced along the last axis; NaN where the statistic is undefined.
    jackknife : callable
        ``jackknife(n_pos, n_neg) -> (values, weights)``: the leave-one-out values, each with the
        number of observations it stands for (for the BCa acceleration).
    minimum : callable
        ``minimum(m, n) -> reason``: why the statistic is undefined for ``m`` positives and ``n``
        negatives, or ``""``.
    """

    name: str
    from_counts: Callable[[np.ndarray, np.ndarray], np.ndarray]
    jackknife: Callable[[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]
    minimum: Callable[[int, int], str]


auroc.rank_statistic = RankStatistic(  # type: ignore[attr-defined]
    "auroc",
    _auc_from_counts,
    _auc_jackknife,
    lambda m, n: _class_size_reason(m, n, "AUROC"),
)
