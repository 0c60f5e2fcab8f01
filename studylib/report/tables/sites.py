"""Reviewer-facing tables of the synthesis across sites: per-site estimates and the random-effects summary."""

from __future__ import annotations

import pandas as pd

from studylib import formatting as F
from studylib.judge import suppression
from studylib.plan import Study
from studylib.report.tables.evaluation import VERDICT_COLOURS, _style
from studylib.stages.evaluation.sites import LABELS, SiteAnalysis


def site_table(sites: SiteAnalysis, study: Study):
    """One row per site: n, positives (small cells suppressed) and each measure with its interval."""
    level = F.confidence_level(study.analysis.alpha)
    threshold = study.study.small_cell_threshold
    rows = {}
    for r in sites.per_site.itertuples(index=False):
        row = rows.setdefault(r.site, {"Site": r.site, "n": suppression.shown_count(r.n, threshold),
                                       "Positives": suppression.shown_count(r.positives, threshold)})
        row[f"{LABELS[r.measure]} ({level} CI)"] = F.interval(r.estimate, r.lower, r.upper)
    return _style(pd.DataFrame(list(rows.values())), f"The candidate at each site ({sites.column})")


def pooled_table(sites: SiteAnalysis, study: Study):
    """Each measure pooled across sites: estimate with interval, prediction interval, τ², I²."""
    level = F.confidence_level(study.analysis.alpha)
    rows = []
    for r in sites.pooled.itertuples(index=False):
        rows.append({"Measure": LABELS[r.measure], "Sites": r.k,
                     f"Pooled ({level} CI)": F.interval(r.estimate, r.lower, r.upper),
                     f"{level} prediction interval, new site": (F.interval(r.estimate, r.pi_lower, r.pi_upper)
                                                                if r.pi_lower == r.pi_lower else
                                                                f"INSUFFICIENT_EVIDENCE: {r.pi_reason}"),
                     "τ² (analysis scale)": F.number(r.tau2, 4), "I²": F.percent(r.i2),
                     "Scale · method": f"{r.scale} · {r.method}"})
    return _style(pd.DataFrame(rows), "Random-effects meta-analysis across sites")


def site_gate_table(sites: SiteAnalysis):
    """The site gates: rule, verdict and sentence."""
    rows = [{"Gate": g.id, "What is judged": g.subject, "Rule (pre-registered)": g.rule, "Verdict": g.verdict,
             "In plain words": g.sentence} for g in sites.gates]
    frame = pd.DataFrame(rows, columns=["Gate", "What is judged", "Rule (pre-registered)", "Verdict", "In plain words"])
    return _style(frame, "Gates across sites").map(
        lambda v: f"background-color: {VERDICT_COLOURS[v]}; font-weight: bold" if v in VERDICT_COLOURS else "",
        subset=["Verdict"])
