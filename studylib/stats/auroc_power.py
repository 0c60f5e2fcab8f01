"""Power and sample size of a paired AUROC non-inferiority comparison (candidate − baseline on the same patients).

The rule judged is the one of a ``versus: baseline`` criterion: the lower bound of the two-sided
``1 − alpha`` interval of ``AUROC_candidate − AUROC_baseline`` must exceed ``−margin``. With each AUROC's
variance from Hanley and McNeil (1982) and the correlation ``r`` of the two AUROCs (Hanley and McNeil
1983), ``Var(diff) = V₁ + V₂ − 2 r √(V₁ V₂)`` and the power at a true difference ``Δ`` is
``Φ((Δ + margin) / SE − z₁₋α/₂)``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from scipy import special

from studylib.stats.control import hanley_mcneil_se

__all__ = ["NonInferiorityPlan", "auroc_difference_se", "auroc_noninferiority_power", "auroc_noninferiority_size",
           "correlation_from_se"]


def auroc_difference_se(auc_candidate: float, auc_baseline: float, n_positive: float, n_negative: float, *,
                        correlation: float) -> float:
    """Anticipated SE of ``AUROC_candidate − AUROC_baseline`` with the given class sizes and AUROC correlation.

    References
    ----------
    .. [1] Hanley JA, McNeil BJ. A method of comparing the areas under receiver operating characteristic curves
       derived from the same cases. Radiology. 1983;148(3):839-843. doi:10.1148/radiology.148.3.6878708
    """
    if not -1 <= correlation <= 1:
        raise ValueError(f"correlation must be in [-1, 1]; got {correlation}")
    v1 = hanley_mcneil_se(auc_candidate, n_positive, n_negative) ** 2
    v2 = hanley_mcneil_se(auc_baseline, n_positive, n_negative) ** 2
    return math.sqrt(max(v1 + v2 - 2 * correlation * math.sqrt(v1 * v2), 0.0))


def correlation_from_se(auc_candidate: float, auc_baseline: float, n_positive: int, n_negative: int,
                        se_difference: float) -> float:
    """The AUROC correlation that reproduces an observed SE of the difference (e.g. DeLong's, from a pilot).

    Solves ``se² = V₁ + V₂ − 2 r √(V₁ V₂)`` for ``r`` with the Hanley–McNeil variances at the observed class
    sizes; clipped to [−1, 1]. This carries a pilot's (or the overall cohort's) pairing into a planned size.
    """
    v1 = hanley_mcneil_se(auc_candidate, n_positive, n_negative) ** 2
    v2 = hanley_mcneil_se(auc_baseline, n_positive, n_negative) ** 2
    if not (v1 > 0 and v2 > 0 and math.isfinite(se_difference)):
        return math.nan
    return min(1.0, max(-1.0, (v1 + v2 - se_difference ** 2) / (2 * math.sqrt(v1 * v2))))


def auroc_noninferiority_power(auc_candidate: float, auc_baseline: float, margin: float, n_positive: float,
                               n_negative: float, *, correlation: float, alpha: float = 0.05) -> float:
    """Probability that the lower ``1 − alpha`` bound of candidate − baseline AUROC exceeds ``−margin``.

    ``Φ((Δ + margin) / SE − z₁₋α/₂)`` with ``Δ = auc_candidate − auc_baseline`` the anticipated true difference
    and SE from :func:`auroc_difference_se` (normal approximation, as the DeLong interval that judges the rule).

    References
    ----------
    .. [1] Hanley JA, McNeil BJ. A method of comparing the areas under receiver operating characteristic curves
       derived from the same cases. Radiology. 1983;148(3):839-843. doi:10.1148/radiology.148.3.6878708
    .. [2] Blackwelder WC. "Proving the null hypothesis" in clinical trials. Control Clin Trials.
       1982;3(4):345-353. doi:10.1016/0197-2456(82)90024-1

    Examples
    --------
    >>> round(auroc_noninferiority_power(0.80, 0.80, 0.05, 200, 200, correlation=0.6), 3)
    0.746
    """
    if not margin >= 0:
        raise ValueError(f"margin must be >= 0; got {margin}")
    se = auroc_difference_se(auc_candidate, auc_baseline, n_positive, n_negative, correlation=correlation)
    z = float(special.ndtri(1 - alpha / 2))
    delta = auc_candidate - auc_baseline + margin
    if se == 0:
        return 1.0 if delta > 0 else 0.0
    return float(special.ndtr(delta / se - z))


@dataclass(frozen=True)
class NonInferiorityPlan:
    """Class sizes that give the target power to a paired AUROC non-inferiority rule.

    Attributes
    ----------
    positives, negatives : int
        Needed positives and negatives (negatives = positives × (1 − prevalence) / prevalence, rounded up);
        -1 when no size reaches the power (the anticipated difference is at or below −margin).
    power : float
        The power reached at that size.
    """

    positives: int
    negatives: int
    power: float

    @property
    def reachable(self) -> bool:
        return self.positives >= 0


def auroc_noninferiority_size(auc_candidate: float, auc_baseline: float, margin: float, *, prevalence: float,
                              correlation: float, power: float = 0.80, alpha: float = 0.05,
                              max_positives: int = 10_000_000) -> NonInferiorityPlan:
    """The smallest number of positives (with negatives in proportion) whose power reaches ``power``.

    Power increases with the size when ``Δ + margin > 0``; otherwise no size reaches it (``positives = -1``).
    """
    if not 0 < prevalence < 1:
        raise ValueError(f"prevalence must be in (0, 1); got {prevalence}")
    if not 0 < power < 1:
        raise ValueError(f"power must be in (0, 1); got {power}")
    odds = (1 - prevalence) / prevalence

    def at(positives: int) -> float:
        return auroc_noninferiority_power(auc_candidate, auc_baseline, margin, positives,
                                          math.ceil(positives * odds - 1e-9), correlation=correlation, alpha=alpha)

    if auc_candidate - auc_baseline + margin <= 0 or at(max_positives) < power:
        return NonInferiorityPlan(-1, -1, at(max_positives))
    low, high = 1, 2
    while at(high) < power:
        low, high = high, high * 2
    while high - low > 1:
        mid = (low + high) // 2
        low, high = (mid, high) if at(mid) < power else (low, mid)
    return NonInferiorityPlan(high, math.ceil(high * odds - 1e-9), at(high))
