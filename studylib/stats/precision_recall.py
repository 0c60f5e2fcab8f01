"""Precision-recall analysis: average precision (AUPRC) with a stratified bootstrap interval, PR curve."""

from __future__ import annotations

import numpy as np
import pandas as pd

from studylib.stats._estimate import Estimate
from studylib.stats._validate import check_alpha, warn_undefined
from studylib.stats.bootstrap import METHODS, bootstrap_ci
from studylib.stats.roc import RankStatistic, _class_size_reason, _tie_groups, _validated

__all__ = ["auprc", "precision_recall_curve"]


def _ap_from_counts(n_pos: np.ndarray, n_neg: np.ndarray) -> np.ndarray:
    """Average precision from per-group class counts (ascending score) along the last axis.

    ``AP = sum_g pos_g / m * precision_g`` where ``precision_g`` is the share of positives among
    the cases scoring at least the score of group g (suffix sums, as groups are ascending).
    NaN without positive cases.
    """
    n_pos = np.asarray(n_pos, dtype=np.int64)
    n_neg = np.asarray(n_neg, dtype=np.int64)
    pos_at_or_above = np.cumsum(n_pos[..., ::-1], axis=-1)[..., ::-1]
    all_at_or_above = pos_at_or_above + np.cumsum(n_neg[..., ::-1], axis=-1)[..., ::-1]
    m = pos_at_or_above[..., 0] if n_pos.shape[-1] else np.zeros(n_pos.shape[:-1], dtype=np.int64)
    with np.errstate(invalid="ignore", divide="ignore"):
        precision = np.divide(pos_at_or_above, all_at_or_above, out=np.zeros(n_pos.shape), where=all_at_or_above > 0)
        return np.where(m > 0, np.sum(n_pos * precision, axis=-1) / np.maximum(m, 1), np.nan)


def _ap_jackknife(n_pos: np.ndarray, n_neg: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Leave-one-out average precisions as (values, multiplicities), one per (group, class), O(G).

    With ``t_h = pos_h * P_h / A_h`` (P, A: positives / all cases scoring >= group h) and
    ``AP = sum t_h / m``: removing a positive of group g lowers P and A by 1 for every h <= g and
    pos_g by 1; removing a negative of group g lowers A by 1 for every h <= g. Terms above g are
    unchanged, so prefix and suffix sums give every leave-one-out value.
    """
    n_pos = n_pos.astype(float)
    n_neg = n_neg.astype(float)
    m = n_pos.sum()
    p = np.cumsum(n_pos[::-1])[::-1]
    a = p + np.cumsum(n_neg[::-1])[::-1]
    t = n_pos * p / a
    above = np.cumsum(t[::-1])[::-1] - t  # sum of t_h over h > g

    def ratio(num, den):
        return np.divide(num, den, out=np.zeros_like(num), where=den > 0)

    shifted = ratio(n_pos * (p - 1), a - 1)  # t_h after removing a case at or above h, a positive
    without_pos = (np.cumsum(shifted) - shifted + ratio((n_pos - 1) * (p - 1), a - 1) + above) / (m - 1)
    without_neg = (np.cumsum(ratio(n_pos * p, a - 1)) + above) / m
    return np.concatenate([without_pos, without_neg]), np.concatenate([n_pos, n_neg]).astype(np.int64)


def auprc(
    y,
    score,
    alpha: float = 0.05,
    *,
    n_resamples: int = 2000,
    seed: int | np.random.Generator | None = 0,
    method: str = "percentile",
) -> Estimate:
    """Area under the precision-recall curve (average precision) with a stratified bootstrap interval.

    Parameters
    ----------
    y : array-like of shape (n,)
        Binary outcome (0/1 or False/True).
    score : array-like of shape (n,)
        Model score, higher meaning more likely positive.
    alpha : float, default 0.05
        The interval has nominal coverage ``1 - alpha``.
    n_resamples : int, default 2000
        Bootstrap resamples.
    seed : int, numpy.random.Generator or None, default 0
        Randomness of the bootstrap. The default is a fixed seed so that a study gives the same
        interval on every run; pass another seed to check the Monte Carlo error.
    method : {"percentile", "bca"}, default "percentile"
        Bootstrap interval (see :func:`studylib.stats.bootstrap_ci`).

    Returns
    -------
    Estimate
        ``estimate`` is the average precision, ``lower``/``upper`` the bootstrap interval, ``se`` the
        bootstrap standard deviation, ``method`` ``"bootstrap-percentile"`` or ``"bootstrap-bca"``.

    Raises
    ------
    ValueError
        If the lengths differ, a value is missing or infinite, labels are not 0/1, ``alpha`` is not
        in (0, 1), or ``method`` / ``n_resamples`` are invalid.

    Notes
    -----
    Average precision is ``AP = sum_k (R_k - R_{k-1}) P_k`` over the distinct scores taken as
    thresholds in decreasing order (positive iff ``score >= threshold``), with ``P_k``, ``R_k`` the
    precision and recall at threshold k. It is the step-wise area, without interpolation, and equals
    scikit-learn's ``average_precision_score``. Tied scores form one threshold, so a tie group
    enters with its pooled precision. Its chance level is the prevalence, not 0.5.

    The interval is a bootstrap stratified by the outcome (numbers of positives and negatives kept
    fixed), computed by the rank fast path of :func:`studylib.stats.bootstrap_ci` (one sort).
    Coverage of bootstrap intervals for AP can fall below nominal with few positive cases
    (Boyd et al. 2013).

    Undefined cases: with fewer than 2 positive or 2 negative cases the result is an undefined
    Estimate (NaN, with the reason) and an ``UndefinedMetricWarning``.

    References
    ----------
    .. [1] Boyd K, Eng KH, Page CD (2013). Area under the precision-recall curve: point estimates
       and confidence intervals. In: Machine Learning and Knowledge Discovery in Databases (ECML
       PKDD 2013), Lecture Notes in Computer Science 8190:451-466. doi:10.1007/978-3-642-40994-3_29
    .. [2] Saito T, Rehmsmeier M (2015). The precision-recall plot is more informative than the ROC
       plot when evaluating binary classifiers on imbalanced datasets. PLOS ONE 10(3):e0118432.
       doi:10.1371/journal.pone.0118432
    .. [3] Efron B (1987). Better bootstrap confidence intervals. Journal of the American
       Statistical Association 82(397):171-185. doi:10.1080/01621459.1987.10478410

    Examples
    --------
    Positives at ranks 1 and 3 of 4: AP = (1/2)(1/1) + (1/2)(2/3).

    >>> from studylib import stats
    >>> round(stats.auprc([0, 0, 1, 1], [0.1, 0.6, 0.4, 0.9], n_resamples=200).estimate, 4)
    0.8333
    """
    check_alpha(alpha)
    if method not in METHODS:
        raise ValueError(f"method must be one of {list(METHODS)}; got {method!r}")
    labels, scores = _validated(y, score)
    return bootstrap_ci(
        auprc, labels, scores, n_resamples=n_resamples, alpha=alpha, method=method, stratify=labels, seed=seed
    )


auprc.rank_statistic = RankStatistic(  # type: ignore[attr-defined]
    "auprc",
    _ap_from_counts,
    _ap_jackknife,
    lambda m, n: _class_size_reason(m, n, "AUPRC with a bootstrap interval"),
)


def precision_recall_curve(y, score) -> pd.DataFrame:
    """The empirical precision-recall curve: one row per distinct threshold.

    Parameters
    ----------
    y : array-like of shape (n,)
        Binary outcome (0/1 or False/True).
    score : array-like of shape (n,)
        Model score, higher meaning more likely positive.

    Returns
    -------
    pandas.DataFrame
        Columns ``threshold``, ``precision``, ``recall`` (float), in decreasing order of threshold
        (increasing recall). The first row is ``threshold = inf`` with ``precision = 1`` and
        ``recall = 0``; each further row is a distinct score.

    Raises
    ------
    ValueError
        If the lengths differ, a value is missing or infinite, or labels are not 0/1.

    Notes
    -----
    Convention: a case is called positive iff ``score >= threshold``. Precision with no case called
    positive (the first row) is set to 1, as scikit-learn does; it is a plotting convention, not an
    estimate. The other rows are the points of scikit-learn's ``precision_recall_curve`` in reverse
    order. Do not integrate the curve with the trapezoidal rule: use :func:`auprc` (step-wise
    average precision), since linear interpolation in PR space is optimistic (Davis & Goadrich).

    Undefined cases: without positive cases recall is NaN (with an ``UndefinedMetricWarning``).

    References
    ----------
    .. [1] Davis J, Goadrich M (2006). The relationship between precision-recall and ROC curves.
       Proceedings of the 23rd International Conference on Machine Learning (ICML '06):233-240.
       doi:10.1145/1143844.1143874

    Examples
    --------
    >>> from studylib import stats
    >>> curve = stats.precision_recall_curve([0, 0, 1, 1], [0.1, 0.6, 0.4, 0.9])
    >>> curve.round(4).to_numpy().tolist()[:3]
    [[inf, 1.0, 0.0], [0.9, 1.0, 0.5], [0.6, 0.5, 0.5]]
    """
    labels, scores = _validated(y, score)
    tg = _tie_groups(labels, scores)
    m = tg.m
    tp = np.cumsum(tg.n_pos[::-1])
    called = tp + np.cumsum(tg.n_neg[::-1])
    precision = np.concatenate([[1.0], tp / np.maximum(called, 1)])
    if m == 0:
        warn_undefined("precision_recall_curve: no positive cases; recall undefined (NaN)")
        recall = np.full(precision.size, np.nan)
    else:
        recall = np.concatenate([[0.0], tp / m])
    thresholds = np.concatenate([[np.inf], tg.values[::-1]])
    return pd.DataFrame({"threshold": thresholds.astype(float), "precision": precision, "recall": recall})
