"""The sample-size plan: the participants, positives and negatives each declared criterion and gate needs, and
whether the cohort and each subgroup has them. Counts only: no performance is estimated from the study data.

Every size comes from the plan's ``planning`` section (anticipated prevalence, C-statistic, LP distribution,
correlation of the two AUROCs) and the rule's own formula:

- sensitivity / specificity: Buderer on positives / negatives; PPV / NPV: Buderer on the patients the model
  flags / does not flag (their share from the LP distribution at the operating threshold);
- AUROC against a value: C-statistic precision (Newcombe); AUROC ``versus: baseline``: power of the paired
  non-inferiority rule at the margin (Hanley–McNeil with the declared correlation);
- calibration slope: Riley's slope criterion on the LP distribution; O/E and calibration-in-the-large:
  Riley's O/E criterion; other metrics: no formula (the minimum counts only).

The plan also lists Riley et al.'s four precision criteria for the whole cohort.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

from scipy.special import ndtri

from studylib import formatting
from studylib.judge import suppression
from studylib.plan import Study
from studylib.stats.auroc_power import auroc_noninferiority_power, auroc_noninferiority_size
from studylib.stats.sample_size import sample_size
from studylib.stats.validation_size import (
    LinearPredictor, c_statistic_se, classification_at, external_validation_size, n_c_statistic, n_calibration_slope,
    n_oe, oe_se_for_width,
)


@dataclass(frozen=True)
class Requirement:
    """What one criterion (``scope`` acceptance) or subgroup gate (``scope`` subgroup) needs."""

    id: str
    scope: str
    metric: str
    participants: int | None
    positives: int
    negatives: int
    method: str

    def to_dict(self) -> dict:
        return asdict(self)


def linear_predictor(study: Study) -> LinearPredictor:
    """The anticipated LP distribution of the plan (normal if declared, else the calibrated mixture)."""
    p = study.planning
    if p.linear_predictor is not None:
        return LinearPredictor.normal(p.linear_predictor.mean, p.linear_predictor.sd)
    return LinearPredictor.from_c_statistic(p.prevalence, p.c_statistic)


def _classes(n: float, prevalence: float) -> tuple[int, int, int]:
    n = int(math.ceil(n - 1e-9))
    return n, int(math.ceil(n * prevalence - 1e-9)), int(math.ceil(n * (1 - prevalence) - 1e-9))


def requirement(criterion, study: Study, scope: str) -> Requirement:
    """The sample size the rule of ``criterion`` (an acceptance criterion or subgroup gate) needs."""
    p, alpha = study.planning, study.analysis.alpha
    phi = p.prevalence
    lp = linear_predictor(study)
    sens, spec = classification_at(lp, study.analysis.threshold)
    sens = p.sensitivity if p.sensitivity is not None else sens
    spec = p.specificity if p.specificity is not None else spec
    width = p.widths.proportion if p.widths.proportion is not None else study.subgroups.interval_width
    level = formatting.confidence_level(alpha)
    metric = criterion.metric

    def made(n, pos, neg, method):
        return Requirement(criterion.id, scope, metric, n, pos, neg, method)

    if criterion.versus == "baseline" and metric == "auroc":
        baseline = p.baseline_c_statistic if p.baseline_c_statistic is not None else p.c_statistic
        plan = auroc_noninferiority_size(p.c_statistic, baseline, criterion.non_inferiority_margin, prevalence=phi,
                                         correlation=p.auroc_correlation, power=p.power, alpha=alpha)
        method = (f"{formatting.percent(p.power, 0)} power, paired AUROC non-inferiority at margin {criterion.non_inferiority_margin:g} "
                  f"(AUROCs {p.c_statistic:g} vs {baseline:g}, correlation {p.auroc_correlation:g}; Hanley–McNeil)")
        if not plan.reachable:
            return made(None, -1, -1, method + ": not reachable at any size")
        return made(plan.positives + plan.negatives, plan.positives, plan.negatives, method)
    if criterion.versus == "baseline":
        return made(None, 0, 0, f"no sample-size formula for a paired comparison of {metric}")
    if metric in ("sensitivity", "specificity"):
        anticipated = sens if metric == "sensitivity" else spec
        cases = sample_size(anticipated, width, alpha)
        method = f"Buderer: {level} interval of width {width:g} at anticipated {metric} {formatting.number(anticipated)}"
        if metric == "sensitivity":
            return made(int(math.ceil(cases / phi - 1e-9)), cases, 0, method + " (positives only)")
        return made(int(math.ceil(cases / (1 - phi) - 1e-9)), 0, cases, method + " (negatives only)")
    if metric in ("ppv", "npv"):
        flagged = lp.expect(lp.risk >= study.analysis.threshold)
        share = flagged if metric == "ppv" else 1 - flagged
        value = lp.expect(lp.risk * (lp.risk >= study.analysis.threshold)) / flagged if metric == "ppv" else \
            lp.expect((1 - lp.risk) * (lp.risk < study.analysis.threshold)) / (1 - flagged)
        cases = sample_size(value, width, alpha)
        n = cases / share if share > 0 else math.nan
        if not math.isfinite(n):
            return made(None, 0, 0, f"the anticipated share flagged is {share:g}: {metric} cannot be sized")
        n, pos, neg = _classes(n, phi)
        return made(n, pos, neg, f"Buderer on the {'flagged' if metric == 'ppv' else 'unflagged'} patients "
                                 f"(share {formatting.number(share)}): {level} interval of width {width:g} at {metric} {formatting.number(value)}")
    if metric == "auroc":
        got = n_c_statistic(p.c_statistic, phi, p.widths.c_statistic, alpha=alpha)
        n, pos, neg = _classes(got.participants, phi)
        return made(n, pos, neg, f"C-statistic precision: {level} {got.target}")
    if metric == "calibration_slope":
        got = n_calibration_slope(lp, p.widths.calibration_slope, alpha=alpha)
        n, pos, neg = _classes(got.participants, phi)
        return made(n, pos, neg, f"Riley slope criterion: {level} {got.target}")
    if metric in ("oe_ratio", "calibration_in_the_large"):
        got = n_oe(phi, p.widths.oe_ratio, alpha=alpha)
        n, pos, neg = _classes(got.participants, phi)
        return made(n, pos, neg, f"Riley O/E criterion: {level} {got.target}")
    return made(None, 0, 0, f"no sample-size formula for {metric}")


def precision(study: Study) -> list[dict]:
    """Riley et al.'s four precision criteria for the whole cohort (net benefit at the operating threshold)."""
    p = study.planning
    sizes = external_validation_size(linear_predictor(study), c_statistic=p.c_statistic,
                                     oe_width=p.widths.oe_ratio, slope_width=p.widths.calibration_slope,
                                     c_width=p.widths.c_statistic, net_benefit_threshold=study.analysis.threshold,
                                     net_benefit_width=p.widths.net_benefit, alpha=study.analysis.alpha)
    return [s.to_dict() for s in sizes]


def reached(req: Requirement, study: Study, *, n: int, positives: int, negatives: int) -> bool | None:
    """Whether a group with these counts reaches the requirement (None when the rule has no formula).

    Sensitivity and specificity compare the class the metric uses; the AUROC level compares the C-statistic
    interval width at the group's own size and prevalence; non-inferiority its power at the group's class
    sizes; O/E and calibration-in-the-large the O/E interval at the group's counts; other rules the positives
    and negatives at the anticipated prevalence.
    """
    if req.participants is None or req.positives < 0:
        return None
    if n == 0 or positives == 0 or negatives == 0:
        return False
    p, alpha = study.planning, study.analysis.alpha
    prevalence = positives / n
    if req.metric == "auroc" and "non-inferiority" in req.method:
        baseline = p.baseline_c_statistic if p.baseline_c_statistic is not None else p.c_statistic
        margin = next(c.non_inferiority_margin for c in (*study.acceptance, *study.subgroups.gates) if c.id == req.id)
        return bool(auroc_noninferiority_power(p.c_statistic, baseline, margin, positives, negatives,
                                               correlation=p.auroc_correlation, alpha=alpha) >= p.power)
    if req.metric == "auroc":
        return bool(2 * _z(alpha) * c_statistic_se(p.c_statistic, prevalence, n) <= p.widths.c_statistic)
    if req.metric in ("oe_ratio", "calibration_in_the_large"):
        se = math.sqrt((1 - prevalence) / (n * prevalence))
        return bool(se <= oe_se_for_width(p.widths.oe_ratio, alpha=alpha))
    return bool(positives >= req.positives and negatives >= req.negatives)


def _z(alpha: float) -> float:
    return float(ndtri(1 - alpha / 2))


def adequacy(req: Requirement, study: Study, *, variable: str, level: str, n: int, positives: int,
             negatives: int) -> dict:
    """Whether a group reaches a requirement (:func:`reached`), with its counts small-cell suppressed."""
    threshold = study.study.small_cell_threshold
    shown_n, shown_pos, shown_neg, _ = suppression.split_counts(n, positives, negatives, threshold)
    return {"id": req.id, "variable": variable, "level": level, "n": shown_n, "positives": shown_pos,
            "negatives": shown_neg, "needed_positives": req.positives, "needed_negatives": req.negatives,
            "reached": reached(req, study, n=n, positives=positives, negatives=negatives)}
