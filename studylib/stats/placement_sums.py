"""AUROC and the paired DeLong test from sums of placement values (the form engines compute).

A cluster engine returns, per window, the number of labelled positives ``m`` and negatives ``n`` and,
for each of two models A and B, the sums over the positives (and over the negatives) of each case's
*placement* and of the products of placements (:func:`studylib.data.reduce.paired_sums`). The
placement of a positive is the share of negatives scored below it plus half the share tied with it
(DeLong's V10); of a negative, the share of positives above it plus half the tied share (V01). They
arrive in integer half units ``z = 2 * below + tied``, so that ``V10 = z / (2n)`` and ``V01 = z / (2m)``,
and all arithmetic below is exact on integers (:class:`fractions.Fraction`) until the last step:
the same sums give the same bits on every engine.

With ``S10`` the sample covariance matrix of (V10_A, V10_B) over the positives and ``S01`` of
(V01_A, V01_B) over the negatives (denominator ``m - 1`` and ``n - 1``),
``Var(AUC_A) = S10[a,a] / m + S01[a,a] / n`` and
``Var(AUC_A - AUC_B) = (S10[a,a] + S10[b,b] - 2 S10[a,b]) / m + (same for S01) / n``,
DeLong et al. (1988), which :func:`studylib.stats.auroc` and :func:`studylib.stats.delong_test`
compute from the rows.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from fractions import Fraction

from studylib.stats._estimate import Estimate
from studylib.stats._validate import check_alpha
from studylib.stats.roc import DeLongTest, _auroc_interval, _class_size_reason, _paired_test


@dataclass(frozen=True)
class PlacementSums:
    """Sums of half-unit placements of models A and B over the cases of one class.

    ``cases``: cases of the class; ``sum_a = Σ z_A``, ``sum_aa = Σ z_A²``, ``sum_ab = Σ z_A z_B``, ...
    """

    cases: int
    sum_a: int
    sum_b: int
    sum_aa: int
    sum_bb: int
    sum_ab: int

    @classmethod
    def empty(cls) -> "PlacementSums":
        return cls(0, 0, 0, 0, 0, 0)

    def covariance(self, u: str, v: str) -> Fraction:
        """Sample covariance (denominator cases - 1) of the half-unit placements of models u and v."""
        k = self.cases
        total = getattr(self, f"sum_{''.join(sorted(u + v))}")
        return Fraction(k * total - getattr(self, f"sum_{u}") * getattr(self, f"sum_{v}"), k * (k - 1))


@dataclass(frozen=True)
class PairedAUROC:
    """Both models' AUROCs with DeLong intervals and their paired difference (A − B)."""

    a: Estimate
    b: Estimate
    difference: DeLongTest


def _variance(positives: PlacementSums, negatives: PlacementSums, weights: dict[tuple[str, str], int]) -> float:
    m, n = positives.cases, negatives.cases
    s10 = sum(w * positives.covariance(u, v) for (u, v), w in weights.items()) / (4 * n * n)
    s01 = sum(w * negatives.covariance(u, v) for (u, v), w in weights.items()) / (4 * m * m)
    return float(s10 / m + s01 / n)


def paired_auroc_from_sums(positives: PlacementSums, negatives: PlacementSums, *, alpha: float = 0.05) -> PairedAUROC:
    """AUROC of each model and the paired DeLong test of their difference, from placement sums.

    Parameters
    ----------
    positives, negatives : PlacementSums
        Sums over the labelled positives (placements among the negatives) and over the negatives.
    alpha : float, default 0.05
        Intervals have nominal coverage ``1 - alpha`` (two-sided Wald, AUROC bounds clipped to [0, 1]).

    Returns
    -------
    PairedAUROC
        Equal to :func:`studylib.stats.auroc` of each model and :func:`studylib.stats.delong_test` on
        the same cases (up to floating-point rounding of the row-level computation). Fewer than 2
        cases in a class: everything undefined, with the reason. Zero variances are handled as the row
        functions do (the same code): an AUROC gets Newcombe's score interval; a zero variance of the
        difference (identical rankings) gives the difference with NaN interval and p-value.

    References
    ----------
    .. [1] DeLong ER, DeLong DM, Clarke-Pearson DL (1988). Comparing the areas under two or more
       correlated receiver operating characteristic curves: a nonparametric approach.
       Biometrics 44(3):837-845. doi:10.2307/2531595
    .. [2] Sun X, Xu W (2014). Fast implementation of DeLong's algorithm for comparing the areas
       under correlated receiver operating characteristic curves. IEEE Signal Processing Letters
       21(11):1389-1393. doi:10.1109/LSP.2014.2337313
    """
    alpha = check_alpha(alpha)
    nan = math.nan
    m, n = positives.cases, negatives.cases
    reason = _class_size_reason(m, n, "AUROC with a DeLong interval")
    if reason:
        undefined = Estimate.undefined(reason, "delong")
        return PairedAUROC(undefined, undefined, DeLongTest(nan, nan, nan, nan, nan, nan, nan, nan, reason=reason))
    estimates = {}
    for model in ("a", "b"):
        auc = float(Fraction(getattr(positives, f"sum_{model}"), 2 * m * n))
        estimates[model] = _auroc_interval(auc, _variance(positives, negatives, {(model, model): 1}), m, n, alpha)
    var = _variance(positives, negatives, {("a", "a"): 1, ("b", "b"): 1, ("a", "b"): -2})
    return PairedAUROC(estimates["a"], estimates["b"],
                       _paired_test(estimates["a"].estimate, estimates["b"].estimate, var, alpha))
