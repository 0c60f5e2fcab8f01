"""Eligibility: whether a rule on a metric can be judged, from the counts that metric uses.

A verdict rests on the cases its statistic is computed from, so the plan's minimum numbers of
positives and negatives apply to those cases only:

==========================================================  =========================================
metric                                                      counts it uses (and the minimum applied)
==========================================================  =========================================
sensitivity                                                 positives (``min_positives``)
specificity                                                 negatives (``min_negatives``)
ppv                                                         flagged, score >= threshold (``min_positives``)
npv                                                         unflagged, score < threshold (``min_negatives``)
prevalence                                                  everyone (``min_positives + min_negatives``)
auroc, auprc, calibration, Brier, O/E, accuracy, LR+, LR−,  both classes (``min_positives`` and
and every candidate − baseline comparison                   ``min_negatives``)
==========================================================  =========================================

The minimum of a predictive value applies to its denominator (those flagged, or not flagged), for
which the plan's minimum of the class it predicts stands in. A count used by the metric that is below
the small-cell threshold cannot be judged without disclosing it. Counts named in a reason are
small-cell suppressed (:mod:`studylib.judge.suppression`).

So a subgroup of 43 positives (all flagged) and 8 negatives is judged on sensitivity (43 >= 20) but not
on specificity or AUROC.
"""

from __future__ import annotations

from dataclasses import dataclass

from studylib import formatting
from studylib.judge import suppression

#: what each metric's estimate is computed from (metrics not listed use both classes)
USES = {"sensitivity": "positives", "specificity": "negatives", "ppv": "flagged", "npv": "unflagged",
        "prevalence": "everyone"}


@dataclass(frozen=True)
class Counts:
    """The cases a verdict may rest on: positives, negatives, and those flagged (score >= threshold)."""

    positives: int
    negatives: int
    flagged: int
    unflagged: int

    @property
    def n(self) -> int:
        return self.positives + self.negatives


def uses(metric: str) -> str:
    """``"positives"``, ``"negatives"``, ``"flagged"``, ``"unflagged"``, ``"everyone"`` or ``"both"``."""
    return USES.get(metric, "both")


def reason(metric: str, counts: Counts, *, min_positives: int, min_negatives: int, threshold: int = 0,
           versus: bool = False) -> str:
    """Why a rule on ``metric`` cannot be judged on these counts; empty when it can.

    Parameters
    ----------
    metric : str
        The metric the rule judges.
    counts : Counts
        The cases of the cohort or subgroup.
    min_positives, min_negatives : int
        The plan's minima.
    threshold : int, default 0
        The small-cell threshold (0: no small-cell rule).
    versus : bool, default False
        The rule judges candidate − baseline: the paired comparison is judged on both classes whatever
        the metric (non-inferiority needs both).

    Returns
    -------
    str
        The reason, naming the counts (small-cell suppressed) and the minimum; ``""`` if judgeable.
    """
    def shown(count: int) -> str:
        return suppression.shown_count(count, threshold) if threshold else formatting.count(count)

    kind = "both" if versus else uses(metric)
    if counts.n == 0:
        return "no patients"
    if kind == "positives":
        checks = [("positives", counts.positives, min_positives)]
    elif kind == "negatives":
        checks = [("negatives", counts.negatives, min_negatives)]
    elif kind == "flagged":
        checks = [("flagged patients (score >= threshold)", counts.flagged, min_positives)]
    elif kind == "unflagged":
        checks = [("unflagged patients (score < threshold)", counts.unflagged, min_negatives)]
    elif kind == "everyone":
        checks = [("patients", counts.n, min_positives + min_negatives)]
    else:
        checks = [("positives", counts.positives, min_positives), ("negatives", counts.negatives, min_negatives)]
    short = [(name, count, need) for name, count, need in checks if count < need]
    if short:
        found = " and ".join(f"{shown(count)} {name}" for name, count, _ in checks)
        need = " and ".join(f"{need} {name.split(' (')[0]}" for name, _, need in checks)
        what = "candidate − baseline" if versus else metric
        return f"{found}; {what} is judged on at least {need} (the plan's minimum)"
    if threshold and any(suppression.is_small(count, threshold) for _, count, _ in checks):
        return (f"fewer than {threshold} {' or '.join(name for name, _, _ in checks)} (the small-cell threshold): "
                "it cannot be judged without disclosing the count")
    return ""
