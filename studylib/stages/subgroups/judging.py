"""The subgroup gates in every subgroup: which estimate each gate judges there, and against what.

The rules themselves (bounds, margins, wording, the blocking policy, withheld estimates) are in
:mod:`studylib.judge.subgroup_gates`. This module stays in the stage because choosing what to judge needs
the stage's own tables: the eligibility of each subgroup (:mod:`.eligibility`), its sample-size hint, the
overall row of the metric table, the level − reference differences (:mod:`.comparisons`) and the metric
labels that name the subject of each gate.
"""

from __future__ import annotations

import math

import pandas as pd

from studylib.judge import gates, sample_size_hints, subgroup_gates, suppression
from studylib.plan import Study, SubgroupGate
from studylib.stages.subgroups.comparisons import reference_table
from studylib.stages.subgroups.eligibility import metric_counts, metric_reason, subgroup_table, withheld_levels
from studylib.stages.subgroups.groups import ALL, OVERALL
from studylib.stages.subgroups.metrics import LABELS
from studylib.stats import Estimate


def judge_gates(table: pd.DataFrame, study: Study, references: pd.DataFrame | None = None, *,
                only: tuple[SubgroupGate, ...] | None = None) -> list[gates.Gate]:
    """Judge every subgroup gate in every subgroup (not the overall row): PASS, FAIL or INSUFFICIENT_EVIDENCE.

    A subgroup without the counts the gate's metric uses (:func:`~studylib.stages.subgroups.eligibility.metric_reason`:
    positives for sensitivity, negatives for specificity, flagged/unflagged for PPV/NPV, both classes
    otherwise), or whose metric is undefined, is INSUFFICIENT_EVIDENCE with the reason and the sample-size hint; it
    blocks the release unless the gate says ``insufficient_evidence_blocks: false``. Gates are
    reviewer-facing (they feed the run's summary page): counts in sentences are small-cell suppressed, and
    an estimate that would disclose a small cell (e.g. a sensitivity of 2/25) is withheld (NaN) while the
    verdict stands.

    ``only``: judge these of the plan's gates (default all), e.g. those whose ``interval_level`` the
    metric ``table`` was computed at.

    ``relative_to: overall`` treats the overall estimate as fixed. The subgroup is part of the overall
    cohort, so the variance of (subgroup − overall) is smaller than the subgroup's own variance: judging
    the subgroup's interval against a fixed overall value is conservative.
    """
    plan = study.subgroups
    threshold = study.study.small_cell_threshold
    groups = subgroup_table(table, study)
    planning = _planning(table)
    indexed = table.set_index(["variable", "level", "metric"])
    withheld = suppression.suppress_table(table, threshold)["withheld"].to_numpy()
    hidden_levels = withheld_levels(groups, threshold)
    withheld_at = {key: bool(w) or key[:2] in hidden_levels
                   for key, w in zip(zip(table.variable, table.level, table.metric), withheld)}
    refs = references if references is not None else reference_table(table, study)
    ref_at = {(r.variable, r.level, r.metric): r for r in refs.itertuples(index=False)}
    variables = {v.name: v for v in plan.variables}
    counts = metric_counts(table)
    judged = []
    for gate in plan.gates if only is None else only:
        metric = "auroc_vs_baseline" if gate.versus == "baseline" else gate.metric
        for group in groups.itertuples(index=False):
            if group.variable == OVERALL:
                continue
            if gate.relative_to == "reference":
                variable = variables.get(group.variable)
                if variable is None or variable.reference is None or group.level == variable.reference:
                    continue
            key = (group.variable, group.level, metric)
            if key not in indexed.index:
                continue
            row = indexed.loc[key]
            subject = f"{group.variable} = {group.level}: {LABELS[gate.metric].lower() if gate.metric != 'auroc' else 'AUROC'}"
            if gate.versus == "baseline":
                subject += " (candidate − baseline)"
            elif gate.relative_to == "reference":
                subject += f" − reference ({variables[group.variable].reference})"
            why = metric_reason(counts[(group.variable, group.level)], metric, study)
            verdict = _judge_one(gate, row, (group.variable, group.level), why, study, indexed, ref_at,
                                 subject)
            hint = "" if not why else sample_size_hints.gate_hint(
                gate, _hint_counts(group, planning, threshold), planning, alpha=study.analysis.alpha,
                interval_width=plan.interval_width, min_positives=plan.min_positives, min_negatives=plan.min_negatives)
            verdict = subgroup_gates.apply_insufficient_policy(verdict, gate, hint)
            if withheld_at.get(key, False):
                verdict = subgroup_gates.withhold_estimate(verdict, subject=subject, threshold=threshold)
            judged.append(subgroup_gates.with_changes(verdict, id=f"{gate.id}[{group.variable}={group.level}]",
                                                      sentence=suppression.suppress_text(verdict.sentence, threshold)))
    return judged


def _judge_one(gate: SubgroupGate, row, where: tuple[str, str], why: str, study: Study, indexed, ref_at,
               subject: str) -> gates.Gate:
    """One gate in one subgroup: the estimate it judges there and, for a relative gate, the reference value;
    ``why`` is the reason the subgroup's counts cannot judge the gate's metric (empty when they can)."""
    alpha = study.analysis.alpha
    estimate = Estimate(row.estimate, row.lower, row.upper, row.se, row.method, row.reason)
    if why:
        estimate = Estimate.undefined(why)
    if gate.relative_to is None:
        return subgroup_gates.judge_absolute(gate, estimate, subject=subject, alpha=alpha)
    if gate.relative_to == "overall":
        overall = indexed.loc[(OVERALL, ALL, gate.metric)]
        reference_value = float(overall.estimate)
        judged_estimate = estimate
        undefined_reason = (estimate.reason or "the quantity could not be estimated") if not estimate.defined else (
            "" if math.isfinite(reference_value) else "the overall estimate is undefined")
    else:
        r = ref_at.get((*where, gate.metric))
        judged_estimate = Estimate(r.estimate, r.lower, r.upper, math.nan, r.method, r.reason) if r is not None \
            else Estimate.undefined("no comparison with the reference level")
        if why:
            judged_estimate = estimate
        reference_value = 0.0
        undefined_reason = judged_estimate.reason if not judged_estimate.defined else ""
    return subgroup_gates.judge_relative(gate, judged_estimate, reference=reference_value, subject=subject,
                                         alpha=alpha, undefined_reason=undefined_reason)


def _planning(table: pd.DataFrame) -> sample_size_hints.Planning:
    """Planning values of the sample-size hints: the overall cohort's estimates and counts."""
    overall = table[table.variable == OVERALL].set_index("metric")

    def value(metric: str, column: str = "estimate") -> float:
        if metric not in overall.index:
            return math.nan
        v = overall.loc[metric, column]
        return float(v) if v is not None and v == v else math.nan

    n = value("prevalence", "n")
    difference = value("auroc_vs_baseline")
    return sample_size_hints.Planning(
        prevalence=value("prevalence"), sensitivity=value("sensitivity"), specificity=value("specificity"),
        ppv=value("ppv"), npv=value("npv"), flagged=value("ppv", "denominator") / n if n == n and n > 0 else math.nan,
        auroc=value("auroc"), auroc_baseline=value("auroc") - difference, auroc_difference_se=value("auroc_vs_baseline", "se"),
        calibration_slope=value("calibration_slope"), calibration_in_the_large=value("calibration_in_the_large"),
        positives=int(value("prevalence", "positives")) if value("prevalence", "positives") == value("prevalence", "positives") else 0,
        negatives=int(value("prevalence", "negatives")) if value("prevalence", "negatives") == value("prevalence", "negatives") else 0)


def _hint_counts(group, planning: sample_size_hints.Planning, threshold: int) -> sample_size_hints.Counts:
    """A subgroup's counts for its hint. With a class below the small-cell threshold neither class is counted
    (the reviewer sees neither count) and the prevalence is the overall one."""
    small = suppression.is_small(group.positives, threshold) or suppression.is_small(group.negatives, threshold)
    if small:   # complementary suppression hides both classes, so the hint counts neither
        return sample_size_hints.Counts(0, 0, planning.prevalence, "the overall")
    if group.positives < threshold or group.negatives < threshold:   # e.g. an empty class: the overall prevalence
        return sample_size_hints.Counts(int(group.positives), int(group.negatives), planning.prevalence, "the overall")
    return sample_size_hints.Counts(int(group.positives), int(group.negatives), group.positives / group.n,
                                    "this subgroup's")
