"""The 2×2 table at an operating threshold and the metrics derived from it."""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import numpy as np
from scipy.special import ndtri

from studylib.stats._estimate import Estimate
from studylib.stats._validate import as_labels, as_scores, check_alpha, same_length, warn_undefined
from studylib.stats.proportion import check_proportion_method, proportion

__all__ = ["BinaryMetrics", "binary_metrics", "likelihood_ratios"]

_LR_METHOD = "simel-log"


@dataclass(frozen=True)
class BinaryMetrics:
    """Confusion counts at a threshold and the metrics derived from them.

    Attributes
    ----------
    tp, fp, tn, fn : int
        Cells of the 2×2 table; predicted positive iff ``score >= threshold``.
    sensitivity, specificity, ppv, npv, accuracy : Estimate
        Proportions with the interval of the chosen method.
    lr_pos, lr_neg : Estimate
        Positive and negative likelihood ratios with the log-method interval of Simel et al.
    youden_j : float
        ``sensitivity + specificity - 1`` (NaN when either is undefined).
    f1 : float
        ``2 tp / (2 tp + fp + fn)`` (NaN when the denominator is 0).
    prevalence : Estimate
        Sample prevalence ``(tp + fn) / n`` with the interval of the chosen method.
    threshold : float
        The operating threshold used.
    n : int
        Number of observations.
    """

    tp: int
    fp: int
    tn: int
    fn: int
    sensitivity: Estimate
    specificity: Estimate
    ppv: Estimate
    npv: Estimate
    accuracy: Estimate
    lr_pos: Estimate
    lr_neg: Estimate
    youden_j: float
    f1: float
    prevalence: Estimate
    threshold: float
    n: int

    def to_dict(self) -> dict:
        """Plain nested dict for JSON results (Estimates become dicts)."""
        return asdict(self)


def _log_ratio(num_x: int, num_n: int, den_x: int, den_n: int, z: float, name: str) -> tuple[Estimate, str]:
    """Ratio of two proportions ``(num_x/num_n) / (den_x/den_n)`` with the log-method interval.

    Returns the Estimate and a reason string (empty when fully defined).
    """
    if num_n == 0 or den_n == 0:
        # num_n counts the positive cases and den_n the negative cases, for LR+ and LR- alike.
        reason = f"{name}: no {'positive' if num_n == 0 else 'negative'} cases"
        return Estimate.undefined(reason, _LR_METHOD), reason
    if den_x == 0:
        cell = "fp = 0" if name == "lr_pos" else "tn = 0"
        reason = f"{name}: {cell}, the ratio is infinite"
        return Estimate.undefined(reason, _LR_METHOD), reason
    ratio = (num_x / num_n) / (den_x / den_n)
    if num_x == 0:
        cell = "tp = 0" if name == "lr_pos" else "fn = 0"
        reason = f"{name}: {cell}, the ratio is 0 and its log-method interval is undefined"
        return Estimate(ratio, math.nan, math.nan, math.nan, _LR_METHOD, reason), reason
    se = math.sqrt(1 / num_x - 1 / num_n + 1 / den_x - 1 / den_n)
    log_ratio = math.log(ratio)
    return Estimate(ratio, math.exp(log_ratio - z * se), math.exp(log_ratio + z * se), se, _LR_METHOD), ""


def likelihood_ratios(tp: int, fp: int, tn: int, fn: int, alpha: float = 0.05) -> tuple[Estimate, Estimate]:
    """Positive and negative likelihood ratios from a 2×2 table, with log-method intervals.

    Parameters
    ----------
    tp, fp, tn, fn : int
        Cells of the 2×2 table.
    alpha : float, default 0.05
        Significance level.

    Returns
    -------
    lr_pos, lr_neg : Estimate
        ``LR+ = sens / (1 - spec)`` and ``LR- = (1 - sens) / spec``. ``se`` is the standard error of
        the log ratio.

    Notes
    -----
    The interval is ``exp(log(LR) ± z · se)`` with
    ``se(log LR+) = sqrt(1/tp - 1/(tp+fn) + 1/fp - 1/(fp+tn))`` and
    ``se(log LR-) = sqrt(1/fn - 1/(tp+fn) + 1/tn - 1/(fp+tn))`` (Simel, Samsa & Matchar 1991).
    No continuity correction is applied. When ``fp = 0`` (``LR+``) or ``tn = 0`` (``LR-``) the ratio is
    infinite and the Estimate is undefined; when ``tp = 0`` (``LR+``) or ``fn = 0`` (``LR-``) the
    ratio is 0 and only the interval is undefined (NaN bounds, reason given). No warning is emitted
    here; :func:`binary_metrics` warns.

    References
    ----------
    .. [1] Simel DL, Samsa GP, Matchar DB. Likelihood ratios with confidence: sample size estimation
       for diagnostic test studies. J Clin Epidemiol. 1991;44(8):763-770.
       doi:10.1016/0895-4356(91)90128-V

    Examples
    --------
    >>> lr_pos, lr_neg = likelihood_ratios(tp=90, fp=20, tn=80, fn=10)
    >>> round(lr_pos.estimate, 2), round(lr_neg.estimate, 4)
    (4.5, 0.125)
    """
    alpha = check_alpha(alpha)
    for name, value in (("tp", tp), ("fp", fp), ("tn", tn), ("fn", fn)):
        if isinstance(value, bool) or not float(value).is_integer() or value < 0:
            raise ValueError(f"{name} must be a non-negative integer count; got {value!r}")
    tp, fp, tn, fn = int(tp), int(fp), int(tn), int(fn)
    z = float(ndtri(1 - alpha / 2))
    lr_pos, _ = _log_ratio(tp, tp + fn, fp, fp + tn, z, "lr_pos")
    lr_neg, _ = _log_ratio(fn, tp + fn, tn, fp + tn, z, "lr_neg")
    return lr_pos, lr_neg


def binary_metrics(y, score, threshold, alpha: float = 0.05, method: str = "wilson") -> BinaryMetrics:
    """Sensitivity, specificity, predictive values and likelihood ratios at one threshold.

    Parameters
    ----------
    y : array_like of {0, 1} or bool
        True labels; 1 is the condition of interest (a "positive").
    score : array_like of float
        Model scores (any finite scale; not required to be probabilities).
    threshold : float
        Operating threshold: an observation is predicted positive iff ``score >= threshold``.
    alpha : float, default 0.05
        Significance level of every interval.
    method : {"wilson", "clopper-pearson", "agresti-coull", "jeffreys"}, default "wilson"
        Interval for the proportions (sensitivity, specificity, PPV, NPV, accuracy, prevalence); see
        :func:`studylib.stats.proportion_ci`.

    Returns
    -------
    BinaryMetrics
        Frozen result with the 2×2 counts and the metrics (see its attributes).

    Raises
    ------
    ValueError
        Lengths differ, labels not binary, missing or infinite scores, non-finite threshold, bad
        alpha or unknown method.

    Warns
    -----
    UndefinedMetricWarning
        Once per call, listing every metric that is undefined for these data (for example
        sensitivity when there is no positive case). Such metrics are undefined Estimates (NaN)
        whose ``reason`` says why, never a silent 0.

    Notes
    -----
    Threshold rule: predicted positive iff ``score >= threshold``, so a score tied with the
    threshold counts as positive (as sklearn's ``roc_curve``). Definitions: sensitivity
    ``tp/(tp+fn)``, specificity ``tn/(tn+fp)``, PPV ``tp/(tp+fp)``, NPV ``tn/(tn+fn)``, accuracy
    ``(tp+tn)/n``. PPV and NPV are those of the sample prevalence; they do not transfer to a
    population with another prevalence. Proportion intervals at ``x = 0`` start at 0 and at ``x = n``
    end at 1. One-class inputs are legal: the metrics of the missing class are undefined. Counts are
    taken with boolean operations and ``np.count_nonzero`` (about 10 ms for 10^6 rows).

    References
    ----------
    .. [1] Wilson EB. Probable inference, the law of succession, and statistical inference.
       J Am Stat Assoc. 1927;22(158):209-212. doi:10.1080/01621459.1927.10502953
    .. [2] Simel DL, Samsa GP, Matchar DB. Likelihood ratios with confidence: sample size estimation
       for diagnostic test studies. J Clin Epidemiol. 1991;44(8):763-770.
       doi:10.1016/0895-4356(91)90128-V
    .. [3] Youden WJ. Index for rating diagnostic tests. Cancer. 1950;3(1):32-35.
       doi:10.1002/1097-0142(1950)3:1<32::AID-CNCR2820030106>3.0.CO;2-3

    Examples
    --------
    >>> m = binary_metrics([1, 1, 1, 0, 0, 0, 0], [0.9, 0.5, 0.2, 0.5, 0.3, 0.1, 0.0], threshold=0.5)
    >>> m.tp, m.fp, m.tn, m.fn
    (2, 1, 3, 1)
    >>> round(m.sensitivity.estimate, 4), round(m.specificity.estimate, 4)
    (0.6667, 0.75)
    """
    alpha = check_alpha(alpha)
    method = check_proportion_method(method)
    y = as_labels(y, "y")
    score = as_scores(score, "score")
    n = same_length(y=y, score=score)
    try:
        threshold = float(threshold)
    except (TypeError, ValueError):
        raise ValueError(f"threshold must be a finite number; got {threshold!r}") from None
    if not math.isfinite(threshold):
        raise ValueError(f"threshold must be a finite number; got {threshold}")

    predicted = score >= threshold
    n_pos = int(np.count_nonzero(y))
    n_pred = int(np.count_nonzero(predicted))
    tp = int(np.count_nonzero(predicted & y))
    fp = n_pred - tp
    fn = n_pos - tp
    tn = n - n_pos - fp

    reasons: list[str] = []

    def prop(x: int, total: int, name: str, what: str) -> Estimate:
        if total == 0:
            reason = f"{name}: {what}"
            reasons.append(reason)
            return Estimate.undefined(reason, method)
        return proportion(x, total, alpha, method)

    sens = prop(tp, tp + fn, "sensitivity", "no positive cases (tp + fn = 0)")
    spec = prop(tn, tn + fp, "specificity", "no negative cases (tn + fp = 0)")
    ppv = prop(tp, tp + fp, "ppv", "no predicted positives (tp + fp = 0)")
    npv = prop(tn, tn + fn, "npv", "no predicted negatives (tn + fn = 0)")
    acc = prop(tp + tn, n, "accuracy", "no observations (n = 0)")
    prev = prop(tp + fn, n, "prevalence", "no observations (n = 0)")

    z = float(ndtri(1 - alpha / 2))
    lr_pos, why_pos = _log_ratio(tp, tp + fn, fp, fp + tn, z, "lr_pos")
    lr_neg, why_neg = _log_ratio(fn, tp + fn, tn, fp + tn, z, "lr_neg")
    reasons += [r for r in (why_pos, why_neg) if r]

    youden = sens.estimate + spec.estimate - 1 if (sens.defined and spec.defined) else math.nan
    if 2 * tp + fp + fn > 0:
        f1 = 2 * tp / (2 * tp + fp + fn)
    else:
        f1 = math.nan
        reasons.append("f1: no positive cases and no predicted positives (2 tp + fp + fn = 0)")

    if reasons:
        warn_undefined(f"binary_metrics at threshold {threshold} (n = {n}): undefined " + "; ".join(reasons))
    return BinaryMetrics(
        tp=tp, fp=fp, tn=tn, fn=fn,
        sensitivity=sens, specificity=spec, ppv=ppv, npv=npv, accuracy=acc,
        lr_pos=lr_pos, lr_neg=lr_neg, youden_j=youden, f1=f1, prevalence=prev,
        threshold=threshold, n=n,
    )
