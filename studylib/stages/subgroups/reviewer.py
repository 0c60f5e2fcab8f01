"""The reviewer view of a subgroup analysis: every table with small-cell suppression applied.

Counts below the study's small-cell threshold read ``"<T"`` and estimates that would disclose them are
withheld (:mod:`studylib.judge.suppression`). The view feeds every table and figure of the report
(:mod:`studylib.report.tables.subgroups`, :mod:`studylib.report.plots.subgroups`) and the reviewer version
of the results (``results/subgroups.reviewer.json``, written by
:func:`studylib.evidence.results.record_reviewer`).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from studylib import formatting
from studylib.judge import gates, suppression
from studylib.stages.subgroups.analysis import SubgroupAnalysis
from studylib.stages.subgroups.eligibility import withheld_levels
from studylib.stages.subgroups.groups import OVERALL


@dataclass(frozen=True, eq=False)
class ReviewerView:
    """The analysis as reviewers see it: counts below the threshold as "<T", disclosive estimates withheld."""

    threshold: int
    metrics: pd.DataFrame = field(repr=False)
    subgroups: pd.DataFrame = field(repr=False)
    unassigned: pd.DataFrame = field(repr=False)
    heterogeneity: pd.DataFrame = field(repr=False)
    versus_reference: pd.DataFrame = field(repr=False)
    sample_size: pd.DataFrame = field(repr=False)
    gates: tuple[gates.Gate, ...] = ()
    n: str = ""
    positives: str = ""

    def results(self) -> dict:
        """The reviewer results for ``results/subgroups.reviewer.json``."""
        return {"n": self.n, "positives": self.positives, "subgroups": self.subgroups, "unassigned": self.unassigned,
                "metrics": self.metrics, "heterogeneity": self.heterogeneity,
                "versus_reference": self.versus_reference, "sample_size": self.sample_size, "gates": list(self.gates)}


def reviewer_view(analysis: SubgroupAnalysis, threshold: int) -> ReviewerView:
    """Apply small-cell suppression (:mod:`studylib.judge.suppression`) to every table of the analysis."""
    metrics = suppression.suppress_table(analysis.metrics, threshold)
    hidden_levels = withheld_levels(analysis.subgroups, threshold)  # small, or complementary across levels
    also = np.array([key in hidden_levels for key in zip(metrics.variable, metrics.level)], dtype=bool)
    for column in suppression.ESTIMATE_COLUMNS:
        if column in metrics.columns:
            metrics[column] = metrics[column].astype(float).where(~also, np.nan)
    metrics["withheld"] = metrics["withheld"].to_numpy(dtype=bool) | also
    withheld = dict(zip(zip(metrics.variable, metrics.level, metrics.metric), metrics.withheld))
    refs = analysis.versus_reference.copy()
    if len(refs):
        hide = [withheld.get((r.variable, r.level, r.metric), False) or withheld.get((r.variable, r.reference, r.metric), False)
                for r in refs.itertuples(index=False)]
        hide = np.array(hide, dtype=bool)
        for column in ("estimate", "lower", "upper"):
            refs[column] = refs[column].astype(float).where(~hide, np.nan)
        refs["withheld"] = hide
    else:
        refs["withheld"] = pd.Series(dtype=bool)
    sizes = suppression.suppress_table(analysis.subgroups, threshold, fraction=None, estimates=())
    # a level withheld only so that another level's small count cannot be worked out from the totals:
    # its class counts read "withheld" (its n stays: n alone discloses no class count)
    complementary = np.array([(v, lv) in hidden_levels and not small for v, lv, small
                              in zip(sizes.variable, sizes.level, sizes.withheld)], dtype=bool)
    for column in ("positives", "negatives"):
        sizes[column] = sizes[column].where(~complementary, formatting.WITHHELD)
    sizes["withheld"] = sizes["withheld"].to_numpy(dtype=bool) | complementary
    hints = suppression.suppress_table(analysis.sample_size, threshold, fraction=None, estimates=())
    unassigned = suppression.suppress_table(analysis.unassigned, threshold, counts=None, fraction=None,
                                            other_counts=("missing",), estimates=())
    overall = sizes[sizes.variable == OVERALL].iloc[0]
    return ReviewerView(threshold, metrics, sizes, unassigned, analysis.heterogeneity, refs, hints, analysis.gates,
                        n=overall.n, positives=overall.positives)
