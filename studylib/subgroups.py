"""Subgroup analysis: metrics by declared subgroups and their intersections, as one tidy table."""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd

from studylib import gates, stats
from studylib.params import Study, SubgroupVariable
from studylib.stats import Estimate

COLUMNS = ("variable", "level", "metric", "estimate", "lower", "upper", "n", "positives", "negatives", "method", "reason")


def _band_label(low: float, high: float) -> str:
    return f"{low:g}–{high:g}"


def levels(frame: pd.DataFrame, variable: SubgroupVariable) -> pd.Series:
    """The subgroup level of each row: the column's value, or its band ``[a, b)`` when cut points are given.

    Rows with a missing value (or outside the cut points) get a missing level and join no subgroup.
    """
    column = frame[variable.column]
    if variable.cut is None:
        return column.astype("string")
    labels = [_band_label(a, b) for a, b in zip(variable.cut, variable.cut[1:])]
    return pd.cut(column, bins=list(variable.cut), right=False, labels=labels).astype("string")


def subgroup_masks(frame: pd.DataFrame, study: Study):
    """Yield ``(variable, level, mask)`` for every level of every variable and declared intersection."""
    by_name = {v.name: levels(frame, v) for v in study.subgroups.variables}
    for name, values in by_name.items():
        for level in sorted(values.dropna().unique()):
            yield name, level, (values == level).fillna(False).to_numpy()
    for combo in study.subgroups.intersections:
        name = " × ".join(combo)
        level_sets = [sorted(by_name[c].dropna().unique()) for c in combo]
        for combination in itertools.product(*level_sets):
            mask = np.ones(len(frame), dtype=bool)
            for c, level in zip(combo, combination):
                mask &= (by_name[c] == level).fillna(False).to_numpy()
            yield name, " & ".join(combination), mask


def metric_table(frame: pd.DataFrame, study: Study, *, score: str) -> pd.DataFrame:
    """Sensitivity, specificity and AUROC (with intervals) for the whole cohort and every subgroup."""
    analysis = study.analysis
    y_all = frame[study.data.outcome].to_numpy(dtype=int)
    s_all = frame[score].to_numpy(dtype=float)
    rows = []
    groups = [("overall", "all", np.ones(len(frame), dtype=bool)), *subgroup_masks(frame, study)]
    for variable, level, mask in groups:
        y, s = y_all[mask], s_all[mask]
        positives = int(y.sum())
        binary = stats.binary_metrics(y, s, analysis.threshold, alpha=analysis.alpha, method=analysis.ci_method)
        metrics: dict[str, Estimate] = {
            "sensitivity": binary.sensitivity, "specificity": binary.specificity,
            "auroc": stats.auroc(y, s, alpha=analysis.alpha),
        }
        for metric, e in metrics.items():
            rows.append({"variable": variable, "level": level, "metric": metric, "estimate": e.estimate,
                         "lower": e.lower, "upper": e.upper, "n": int(mask.sum()), "positives": positives,
                         "negatives": int(mask.sum()) - positives, "method": e.method, "reason": e.reason})
    return pd.DataFrame(rows, columns=list(COLUMNS))


def judge_gates(table: pd.DataFrame, study: Study) -> list[gates.Gate]:
    """Judge every subgroup gate in every subgroup (not the overall row).

    A subgroup with fewer positives or negatives than the plan's minimum, or whose metric is undefined,
    gets INSUFFICIENT_EVIDENCE; it blocks the release unless the gate says otherwise.
    """
    plan = study.subgroups
    judged = []
    for gate in plan.gates:
        rows = table[(table.metric == gate.metric) & (table.variable != "overall")]
        for row in rows.itertuples():
            subject = f"{row.variable} = {row.level}: {gate.metric}"
            gate_id = f"{gate.id}[{row.variable}={row.level}]"
            if row.positives < plan.min_positives or row.negatives < plan.min_negatives:
                estimate = Estimate.undefined(
                    f"{row.positives} positives and {row.negatives} negatives; the plan requires at least "
                    f"{plan.min_positives} and {plan.min_negatives}")
            else:
                estimate = Estimate(row.estimate, row.lower, row.upper, method=row.method, reason=row.reason)
            verdict = gates.judge(gate, estimate, stage="subgroups", subject=subject, alpha=study.analysis.alpha)
            blocks = verdict.verdict != gates.INSUFFICIENT or gate.insufficient_evidence_blocks
            judged.append(gates.Gate(**{**verdict.__dict__, "id": gate_id, "blocks": blocks}))
    return judged
