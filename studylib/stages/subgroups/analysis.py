"""The whole subgroup analysis: every metric in every declared subgroup, heterogeneity, comparisons with a
reference level, sample-size hints and per-subgroup gates, as one frozen result.

Judging (:func:`~studylib.stages.subgroups.judging.judge_gates`). A gate is judged in a subgroup only when
the subgroup has the plan's minimum of the cases the gate's metric uses (positives for sensitivity,
negatives for specificity, flagged/unflagged for PPV/NPV, both classes for AUROC, calibration and
candidate − baseline; none of them below the small-cell threshold); otherwise it is INSUFFICIENT_EVIDENCE
with the reason and a sample-size hint. A gate declaring its own ``interval_level`` is judged on the
metrics at that level. A metric that
cannot be estimated (one class, no predicted positives, separation) is INSUFFICIENT_EVIDENCE too, never a
NaN in a PASS.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

from studylib.judge import gates
from studylib.plan import Study
from studylib.stages.subgroups.comparisons import heterogeneity_table, reference_table
from studylib.stages.subgroups.eligibility import sample_size_table, subgroup_table
from studylib.stages.subgroups.groups import OVERALL, Subgroup, subgroups, unassigned_table
from studylib.stages.subgroups.judging import judge_gates
from studylib.stages.subgroups.metrics import metric_table


@dataclass(frozen=True, eq=False)
class SubgroupAnalysis:
    """Everything the subgroup stage computes (unsuppressed; see
    :func:`~studylib.stages.subgroups.reviewer.reviewer_view`)."""

    groups: tuple[Subgroup, ...] = field(repr=False)
    metrics: pd.DataFrame = field(repr=False)
    subgroups: pd.DataFrame = field(repr=False)
    unassigned: pd.DataFrame = field(repr=False)
    heterogeneity: pd.DataFrame = field(repr=False)
    versus_reference: pd.DataFrame = field(repr=False)
    sample_size: pd.DataFrame = field(repr=False)
    gates: tuple[gates.Gate, ...] = ()

    def results(self) -> dict:
        """The restricted (unsuppressed) results for ``results/subgroups.json``; gates are reviewer-safe."""
        overall = self.subgroups[self.subgroups.variable == OVERALL].iloc[0]
        return {"version": "restricted", "n": int(overall.n), "positives": int(overall.positives),
                "subgroups": self.subgroups, "unassigned": self.unassigned, "metrics": self.metrics,
                "heterogeneity": self.heterogeneity, "versus_reference": self.versus_reference,
                "sample_size": self.sample_size, "gates": list(self.gates)}


def analyse(frame: pd.DataFrame, study: Study) -> SubgroupAnalysis:
    """Run the whole subgroup analysis of the plan on the analysed rows."""
    groups = subgroups(frame, study)
    table = metric_table(frame, study, groups=groups)
    references = reference_table(table, study)
    return SubgroupAnalysis(
        groups=tuple(groups), metrics=table, subgroups=subgroup_table(table, study),
        unassigned=unassigned_table(frame, study), heterogeneity=heterogeneity_table(table, study),
        versus_reference=references, sample_size=sample_size_table(table, study),
        gates=tuple(_judged(frame, study, groups, table, references)),
    )


def _judged(frame: pd.DataFrame, study: Study, groups, table: pd.DataFrame, references: pd.DataFrame) -> list:
    """Every gate in every subgroup, in the plan's order; a gate declaring its own ``interval_level`` is
    judged on the metric table (and level − reference differences) at that level."""
    alpha = study.analysis.alpha
    by_alpha: dict[float, list] = {}
    for gate in study.subgroups.gates:
        by_alpha.setdefault(gates.interval_alpha(gate, alpha), []).append(gate)
    judged = []
    for at_alpha, chosen in by_alpha.items():
        if at_alpha == alpha:
            judged += judge_gates(table, study, references, only=tuple(chosen))
            continue
        at = study.at_alpha(at_alpha)
        at_table = metric_table(frame, at, groups=groups)
        judged += judge_gates(at_table, at, reference_table(at_table, at), only=tuple(chosen))
    order = {gate.id: i for i, gate in enumerate(study.subgroups.gates)}
    return sorted(judged, key=lambda g: order[g.id.split("[")[0]])
