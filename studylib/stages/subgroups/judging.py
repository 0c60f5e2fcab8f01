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

from studylib.judge import gates, subgroup_gates, suppression
from studylib.plan import Study, SubgroupGate
from studylib.stages.subgroups.comparisons import reference_table
from studylib.stages.subgroups.eligibility import (sample_size_sentence, sample_size_table, subgroup_table,
                                                  withheld_levels)
from studylib.stages.subgroups.groups import ALL, OVERALL
from studylib.stages.subgroups.metrics import LABELS
from studylib.stats import Estimate


def judge_gates(table: pd.DataFrame, study: Study, references: pd.DataFrame | None = None) -> list[gates.Gate]:
    """Judge every subgroup gate in every subgroup (not the overall row): PASS, FAIL or INSUFFICIENT_EVIDENCE.

    A subgroup that does not meet the minimum n (:func:`~studylib.stages.subgroups.eligibility.eligibility`),
    or whose metric is undefined, is INSUFFICIENT_EVIDENCE with the reason and the sample-size hint; it
    blocks the release unless the gate says ``insufficient_evidence_blocks: false``. Gates are
    reviewer-facing (they feed the run's summary page): counts in sentences are small-cell suppressed, and
    an estimate that would disclose a small cell (e.g. a sensitivity of 2/25) is withheld (NaN) while the
    verdict stands.

    ``relative_to: overall`` treats the overall estimate as fixed. The subgroup is part of the overall
    cohort, so the variance of (subgroup − overall) is smaller than the subgroup's own variance: judging
    the subgroup's interval against a fixed overall value is conservative.
    """
    plan = study.subgroups
    threshold = study.study.small_cell_threshold
    groups = subgroup_table(table, study)
    hints = sample_size_table(table, study).set_index(["variable", "level"])
    indexed = table.set_index(["variable", "level", "metric"])
    withheld = suppression.suppress_table(table, threshold)["withheld"].to_numpy()
    hidden_levels = withheld_levels(groups, threshold)
    withheld_at = {key: bool(w) or key[:2] in hidden_levels
                   for key, w in zip(zip(table.variable, table.level, table.metric), withheld)}
    refs = references if references is not None else reference_table(table, study)
    ref_at = {(r.variable, r.level, r.metric): r for r in refs.itertuples(index=False)}
    variables = {v.name: v for v in plan.variables}
    judged = []
    for gate in plan.gates:
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
            verdict = _judge_one(gate, row, group, study, indexed, ref_at, subject)
            hint = ""
            if not group.judged and (group.variable, group.level) in hints.index:
                hint = sample_size_sentence(hints.loc[(group.variable, group.level)], study)
            verdict = subgroup_gates.apply_insufficient_policy(verdict, gate, hint)
            if withheld_at.get(key, False):
                verdict = subgroup_gates.withhold_estimate(verdict, subject=subject, threshold=threshold)
            judged.append(subgroup_gates.with_changes(verdict, id=f"{gate.id}[{group.variable}={group.level}]",
                                                      sentence=suppression.suppress_text(verdict.sentence, threshold)))
    return judged


def _judge_one(gate: SubgroupGate, row, group, study: Study, indexed, ref_at, subject: str) -> gates.Gate:
    """One gate in one subgroup: the estimate it judges there and, for a relative gate, the reference value."""
    alpha = study.analysis.alpha
    estimate = Estimate(row.estimate, row.lower, row.upper, row.se, row.method, row.reason)
    if not group.judged:
        estimate = Estimate.undefined(group.reason)
    if gate.relative_to is None:
        return subgroup_gates.judge_absolute(gate, estimate, subject=subject, alpha=alpha)
    if gate.relative_to == "overall":
        overall = indexed.loc[(OVERALL, ALL, gate.metric)]
        reference_value = float(overall.estimate)
        judged_estimate = estimate
        undefined_reason = (estimate.reason or "the quantity could not be estimated") if not estimate.defined else (
            "" if math.isfinite(reference_value) else "the overall estimate is undefined")
    else:
        r = ref_at.get((group.variable, group.level, gate.metric))
        judged_estimate = Estimate(r.estimate, r.lower, r.upper, math.nan, r.method, r.reason) if r is not None \
            else Estimate.undefined("no comparison with the reference level")
        if not group.judged:
            judged_estimate = estimate
        reference_value = 0.0
        undefined_reason = judged_estimate.reason if not judged_estimate.defined else ""
    return subgroup_gates.judge_relative(gate, judged_estimate, reference=reference_value, subject=subject,
                                         alpha=alpha, undefined_reason=undefined_reason)
