"""The sample-size hint of an INSUFFICIENT_EVIDENCE gate: what its own metric and rule would need.

Each metric is sized by its own formula and counts only the cases it uses (planning values are those of
the overall cohort, stated in the sentence):

- sensitivity: positives only, Buderer at the overall sensitivity for the plan's ``interval_width``;
  specificity: negatives only, likewise; ppv / npv: Buderer on the patients the model flags / does not flag;
- AUROC against a value: the C-statistic precision (Newcombe) whose interval keeps the bound at the
  required value when the subgroup performs as the overall cohort (half-width = |overall − required|);
- AUROC non-inferiority (``versus: baseline``): power 80 % at the margin, with the overall AUROCs and
  the AUROC correlation that reproduces the overall DeLong SE (Hanley–McNeil);
- calibration slope: Riley's slope criterion on the calibrated LP implied by the overall prevalence and
  AUROC; calibration-in-the-large: Riley's O/E criterion; both with the half-width the rule leaves at the
  overall value.

Every count is at least the plan's minimum for the class the metric uses. A subgroup class below the
small-cell threshold is counted as none, so the hint does not disclose it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from scipy.special import ndtri

from studylib import formatting
from studylib.plan import SubgroupGate
from studylib.stats.auroc_power import auroc_noninferiority_size, correlation_from_se
from studylib.stats.sample_size import sample_size
from studylib.stats.validation_size import LinearPredictor, n_c_statistic, n_calibration_slope

#: power a non-inferiority hint aims at
HINT_POWER = 0.80


@dataclass(frozen=True)
class Planning:
    """Planning values taken from the overall cohort (NaN when undefined there)."""

    prevalence: float
    sensitivity: float
    specificity: float
    ppv: float
    npv: float
    flagged: float          # share of patients the model flags (positive iff score >= threshold)
    auroc: float
    auroc_baseline: float
    auroc_difference_se: float
    calibration_slope: float
    calibration_in_the_large: float
    positives: int
    negatives: int


@dataclass(frozen=True)
class Counts:
    """The subgroup's counts as the hint may use them (classes below the small-cell threshold as none)."""

    positives: int
    negatives: int
    prevalence: float       # the subgroup's, or the overall one when a class is small
    basis: str              # "this subgroup's" or "the overall"


def _fine(*values: float) -> bool:
    return all(v == v and math.isfinite(v) for v in values)


def _half_width(gate: SubgroupGate, anticipated: float) -> float:
    """The half-width of the interval that lets the rule be met when the subgroup equals ``anticipated``.

    A relative gate (``relative_to``) allows its margin: the subgroup's bound may lie ``max_below`` under (or
    ``max_above`` over) the reference, so at the overall value the half-width is the margin (for
    ``relative_to: reference`` this ignores the reference level's own uncertainty: a lower bound on the size).
    """
    if gate.relative_to is not None:
        return gate.max_below if gate.max_below is not None else gate.max_above
    if gate.interval_within is not None:
        low, high = gate.interval_within
        return min(anticipated - low, high - anticipated)
    if gate.at_least is not None:
        return anticipated - gate.at_least
    if gate.at_most is not None:
        return gate.at_most - anticipated
    return math.nan


def _patients(more_pos: int, more_neg: int, prevalence: float) -> str:
    if not (_fine(prevalence) and 0 < prevalence < 1):
        return ""
    more = math.ceil(max(more_pos / prevalence, more_neg / (1 - prevalence)) - 1e-9)
    return f"about {formatting.count(more)} more patients"


def gate_hint(gate: SubgroupGate, counts: Counts, planning: Planning, *, alpha: float, interval_width: float,
              min_positives: int, min_negatives: int) -> str:
    """One sentence: what this gate's metric and rule need in this subgroup, with the assumptions."""
    count, number = formatting.count, formatting.number
    level = formatting.confidence_level(alpha)
    z = float(ndtri(1 - alpha / 2))
    metric = gate.metric
    need_pos = need_neg = 0
    basis = f"{counts.basis} prevalence"
    if gate.versus == "baseline":
        a, b = planning.auroc, planning.auroc_baseline
        r = (correlation_from_se(a, b, planning.positives, planning.negatives, planning.auroc_difference_se)
             if _fine(a, b, planning.auroc_difference_se) else math.nan)
        if not _fine(r, counts.prevalence) or not 0 < counts.prevalence < 1:
            return "No sample size can be given: the overall AUROCs or their correlation are undefined."
        plan = auroc_noninferiority_size(a, b, gate.non_inferiority_margin, prevalence=counts.prevalence,
                                         correlation=r, power=HINT_POWER, alpha=alpha)
        if not plan.reachable:
            return (f"No sample size reaches {formatting.percent(HINT_POWER, 0)} power: the overall difference {number(a - b, tiny=0)} "
                    f"is not above −{gate.non_inferiority_margin:g}.")
        need_pos, need_neg = max(min_positives, plan.positives), max(min_negatives, plan.negatives)
        why = (f"{formatting.percent(HINT_POWER, 0)} power for the lower {level} bound of candidate − baseline to exceed "
               f"−{gate.non_inferiority_margin:g}, assuming the overall AUROCs {number(a, tiny=0)} and "
               f"{number(b, tiny=0)} (difference {number(a - b, tiny=0)}) and their correlation {number(r, tiny=0)} "
               f"(from the overall DeLong SE), at {basis}")
    elif metric in ("sensitivity", "specificity", "ppv", "npv"):
        anticipated = getattr(planning, metric)
        if not _fine(anticipated):
            return f"No sample size can be given: the overall {metric} is undefined."
        cases = sample_size(anticipated, interval_width, alpha)
        buderer = (f"Buderer: a {level} interval of width {interval_width:g} at the overall {metric} "
                   f"{number(anticipated, tiny=0)}")
        if metric in ("sensitivity", "specificity"):
            positive_class = metric == "sensitivity"
            cls = "positives" if positive_class else "negatives"
            need = max(min_positives if positive_class else min_negatives, cases)
            more = max(0, need - (counts.positives if positive_class else counts.negatives))
            patients = _patients(more, 0, counts.prevalence) if positive_class else _patients(0, more, counts.prevalence)
            tail = f", {patients} at {basis}" if patients else ""
            return (f"Needs {count(need)} {cls} ({metric} uses {cls} only; {buderer}, and at least the plan's "
                    f"minimum): {count(more)} more {cls}{tail}.")
        flagged = planning.flagged if metric == "ppv" else 1 - planning.flagged
        if not (_fine(flagged) and 0 < flagged < 1):
            return "No sample size can be given: the share of patients the model flags is 0 or 1 overall."
        who = "flags" if metric == "ppv" else "does not flag"
        return (f"Needs about {count(cases)} patients the model {who} ({metric.upper()} uses only those; {buderer}), "
                f"about {count(math.ceil(cases / flagged - 1e-9))} patients at the overall share the model {who} "
                f"({number(flagged, tiny=0)}).")
    elif metric in ("auroc", "calibration_slope", "calibration_in_the_large"):
        anticipated = getattr(planning, metric)
        half = _half_width(gate, anticipated) if _fine(anticipated) else math.nan
        if not _fine(half) or half <= 0:
            return (f"No sample size lets the rule be met if this subgroup performs as the overall cohort "
                    f"({metric.replace('_', ' ')} {number(anticipated, tiny=0)}).")
        prevalence = counts.prevalence
        if not (_fine(prevalence) and 0 < prevalence < 1):
            return "No sample size can be given: the prevalence is undefined."
        if metric == "auroc":
            n = n_c_statistic(min(max(anticipated, 0.5), 0.999), prevalence, 2 * half, alpha=alpha).participants
            rule = f"C-statistic precision (Newcombe) at the overall AUROC {number(anticipated, tiny=0)}"
        elif metric == "calibration_slope":
            if not (_fine(planning.auroc) and 0.5 < planning.auroc < 1):
                return "No sample size can be given: the overall AUROC is undefined."
            lp = LinearPredictor.from_c_statistic(prevalence, planning.auroc)
            n = n_calibration_slope(lp, 2 * half, alpha=alpha).participants
            rule = (f"Riley's calibration-slope criterion, a calibrated model with the overall AUROC "
                    f"{number(planning.auroc, tiny=0)}")
        else:
            se = half / z
            n = math.ceil((1 - prevalence) / (prevalence * se * se) - 1e-9)
            rule = "Riley's O/E criterion (SE of calibration-in-the-large ≈ SE of ln O/E)"
        need_pos = max(min_positives, math.ceil(n * prevalence - 1e-9))
        need_neg = max(min_negatives, math.ceil(n * (1 - prevalence) - 1e-9))
        why = (f"a {level} interval of half-width {number(half, tiny=0)}, so that the rule is met if this subgroup "
               f"performs as the overall cohort ({number(anticipated, tiny=0)}): {rule}, at {basis}")
    else:
        need_pos, need_neg = min_positives, min_negatives
        why = "the plan's minimum (no sample-size formula for this metric)"
    more_pos, more_neg = max(0, need_pos - counts.positives), max(0, need_neg - counts.negatives)
    patients = _patients(more_pos, more_neg, counts.prevalence)
    tail = f", {patients}" if patients else ""
    return (f"Needs {count(need_pos)} positives and {count(need_neg)} negatives ({why}): {count(more_pos)} more "
            f"positives and {count(more_neg)} more negatives{tail}.")
