"""Reviewer-facing tables and text of the subgroup stage, all from the reviewer view.

Estimates are written as ``"0.80 (0.75–0.84)"`` and p-values as ``"<0.001"`` by :mod:`studylib.formatting`;
counts come suppressed from :func:`studylib.stages.subgroups.reviewer.reviewer_view`
and withheld estimates read "withheld". Each ``*_display`` / ``*_table`` function returns a DataFrame,
:func:`styled` the pandas Styler the notebook shows (every cell HTML-escaped), each ``*_markdown``
function the Markdown of a narrative cell.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from studylib import formatting as F
from studylib.judge import gates, suppression
from studylib.plan import Study
from studylib.report import display, vocabulary
from studylib.stages.subgroups.groups import OVERALL
from studylib.stages.subgroups.metrics import LABELS
from studylib.stages.subgroups.reviewer import ReviewerView


def _cell(row) -> str:
    if row.withheld:
        return F.WITHHELD
    # the decimals of every page (formatting.DECIMALS): a gate's estimate reads here as on its gate row
    return F.interval(row.estimate, row.lower, row.upper, F.decimals(row.metric),
                      signed=row.metric == "auroc_vs_baseline")


def display_table(view: ReviewerView, metrics: tuple[str, ...]) -> pd.DataFrame:
    """A wide, formatted table for the report: one row per subgroup, one column per metric ("0.80 (0.75–0.84)").

    Built from the reviewer view, so counts are suppressed and withheld estimates read "withheld".
    """
    part = view.metrics[view.metrics.metric.isin(metrics)].copy()
    part["shown"] = [_cell(r) for r in part.itertuples(index=False)]
    wide = part.pivot_table(index=["variable", "level"], columns="metric", values="shown", aggfunc="first", sort=False)
    wide = wide[[m for m in metrics if m in wide.columns]].rename(columns=LABELS)
    sizes = view.subgroups.set_index(["variable", "level"])[["n", "positives", "judged"]]
    out = sizes.join(wide, how="right")
    out["judged"] = np.where(out["judged"].astype(bool), "yes", "no")
    out.index = out.index.set_names(["Variable", "Level"])
    return out.rename(columns={"n": "n", "positives": "Positives", "judged": "Judged"})


def gated_metrics(study: Study) -> set[str]:
    """The metrics some subgroup gate judges (a gate against the baseline judges the AUROC difference)."""
    out = set()
    for gate in study.subgroups.gates if study.subgroups else ():
        out.add("auroc_vs_baseline" if getattr(gate, "versus", None) else gate.metric)
    return out


def metric_sections(view: ReviewerView, study: Study, metrics: tuple[str, ...]) -> list:
    """The subgroup table of ``metrics`` as the report shows it: the metrics a gate judges first, open; the
    others in a collapsed section (printed open)."""
    gated = tuple(m for m in metrics if m in gated_metrics(study))
    other = tuple(m for m in metrics if m not in gated)
    out = [styled(display_table(view, gated))] if gated else []
    if other:
        names = ", ".join(LABELS.get(m, m) for m in other)
        out.append(display.collapsed(styled(display_table(view, other)),
                                     f"Metrics no gate uses ({names}): show the table"))
    return out


def gate_summary(view: ReviewerView) -> pd.DataFrame:
    """Counts of PASS / FAIL / INSUFFICIENT_EVIDENCE per gate id (the part before ``[``) and blocking count."""
    rows = []
    for gate in view.gates:
        rows.append({"gate": gate.id.split("[")[0], "verdict": gate.verdict, "blocks": gate.blocking_failure})
    frame = pd.DataFrame(rows, columns=["gate", "verdict", "blocks"])
    if frame.empty:
        return pd.DataFrame(columns=[gates.PASS, gates.FAIL, gates.INSUFFICIENT, "blocking"]).rename_axis("Gate")
    counts = frame.pivot_table(index="gate", columns="verdict", values="blocks", aggfunc="size", fill_value=0, sort=False)
    for verdict in gates.VERDICTS:
        if verdict not in counts.columns:
            counts[verdict] = 0
    counts = counts[list(gates.VERDICTS)]
    counts["blocking"] = frame.groupby("gate", sort=False)["blocks"].sum()
    counts.columns.name = None
    counts.index.name = "Gate"
    return counts


def overview_markdown(view: ReviewerView, study: Study) -> str:
    """What was analysed and under which plan, in a few sentences."""
    plan = study.subgroups
    sizes = view.subgroups[view.subgroups.variable != OVERALL]
    per_variable = sizes.groupby("variable", sort=False).size()
    axes = ", ".join(f"{name} ({count} levels)" for name, count in per_variable.items())
    judged = int(sizes.judged.sum())
    split = study.analysis.split or "the whole frozen cohort"
    missing = [f"{r.variable}: {r.missing}" for r in view.unassigned.itertuples(index=False) if r.missing not in ("0", 0)]
    text = (f"**{view.n} patients** analysed ({split}), **{view.positives}** with the outcome. "
            f"**{len(sizes)} subgroups**: {axes}. **{judged}** meet the plan's minimum of {plan.min_positives} "
            f"positives and {plan.min_negatives} negatives and are judged on every metric; the other "
            f"{len(sizes) - judged} are judged only on the metrics whose cases reach the minimum (positives for "
            f"sensitivity, negatives for specificity, flagged/unflagged patients for PPV/NPV, both classes for AUROC, "
            f"calibration and candidate − baseline) and are INSUFFICIENT_EVIDENCE on the others, with the number of "
            f"patients they would need. Intervals are "
            f"{F.confidence_level(study.analysis.alpha)} ({study.analysis.ci_method} for proportions, DeLong for AUROC, "
            f"Wald for calibration, normal for the Brier score); the operating threshold is "
            f"{study.analysis.threshold:g} (positive iff score ≥ threshold).")
    if missing:
        text += (" Rows without a level (missing value or outside the cut points) join no subgroup of that "
                 "variable: " + "; ".join(missing) + ".")
    return text


def versions_markdown(study: Study) -> str:
    """Which version of the numbers a reader is looking at (suppressed or restricted), and where each is."""
    t = study.study.small_cell_threshold
    return (f"**Which version of the numbers is this?** Counts of people below {t} are shown as \"<{t}\" in every "
            "table, figure label and gate sentence of this report, and estimates that would let a reader recover "
            f"such a count (e.g. a sensitivity resting on 2 true positives of 25 cases) are *withheld*; a class count beside a suppressed one is "
            "shown as a bound (\"≥626\"). This applies to the executed notebook and to both of its HTML renderings "
            "(reviewer and full), which show the same outputs. Machine-readable results come in two versions in "
            "the run folder's `results/`:\n\n"
            f"- `subgroups.reviewer.json` — the **reviewer version**, suppressed exactly as this page;\n"
            "- `subgroups.json` — the **restricted version** with the unsuppressed counts and estimates, for the "
            "study team and auditors only; do not forward it to reviewers.\n\n"
            "The gates of both files, and therefore the run's summary page and `verdict.json`, are the suppressed "
            "ones. Suppression is row by row: a small intersection cell may still be derivable by subtracting "
            "other published rows (no secondary suppression across rows).")


def styled(frame: pd.DataFrame, *, text: tuple[str, ...] = ()):
    """A pandas Styler for the report: numbers and intervals on one line, the ``text`` columns left-aligned
    and wrapped (the reviewer HTML shows every character; no "..." truncation)."""
    style = display.styler(frame).set_properties(**{"white-space": "nowrap", "text-align": "right"})
    style = style.set_table_styles([{"selector": "th.row_heading", "props": [("white-space", "nowrap")]}], overwrite=False)
    wrap = [c for c in text if c in frame.columns]
    if wrap:
        style = style.set_properties(subset=wrap, **{"white-space": "normal", "text-align": "left", "min-width": "16em"})
    return style


def size_table(view: ReviewerView) -> pd.DataFrame:
    """Subgroups with their counts (suppressed), prevalence and whether they are judged (with the reason)."""
    prevalence = view.metrics[view.metrics.metric == "prevalence"].set_index(["variable", "level"])
    rows = []
    for r in view.subgroups.itertuples(index=False):
        p = prevalence.loc[(r.variable, r.level)]
        rows.append({"Variable": r.variable, "Level": r.level, "n": r.n, "Positives": r.positives,
                     "Negatives": r.negatives, "Prevalence": _cell(p), "Judged": "yes" if r.judged else "no",
                     "Why not": r.reason})
    return pd.DataFrame(rows).set_index(["Variable", "Level"])


def heterogeneity_display(view: ReviewerView, study: Study) -> pd.DataFrame:
    """The heterogeneity tests, formatted: statistic, df, p and p adjusted by the plan's method."""
    method = {"holm": "Holm", "fdr_bh": "Benjamini–Hochberg"}[study.analysis.multiplicity]
    h = view.heterogeneity
    out = pd.DataFrame({
        "Variable": h.variable, "Metric": [LABELS[m] for m in h.metric], "Test": h.test,
        "Statistic": [F.number(s, 2) for s in h.statistic], "df": h.df,
        "p": [F.p_value(p) for p in h.p_value], f"p adjusted ({method})": [F.p_value(p) for p in h.p_adjusted],
        "Levels left out": [e or F.UNDEFINED for e in h.levels_excluded], "Note": h.reason,
    })
    return out.set_index(["Variable", "Metric"])


def reference_display(view: ReviewerView) -> pd.DataFrame:
    """Level − reference differences, one row per level, one column per metric ("0.05 (0.01–0.09)")."""
    r = view.versus_reference
    if r.empty:
        return pd.DataFrame()
    shown = [(F.WITHHELD if w else F.interval(e, lo, hi, 3)) for e, lo, hi, w in
             zip(r.estimate, r.lower, r.upper, r.withheld)]
    out = pd.DataFrame({"Variable": r.variable, "Comparison": [f"{lv} − {ref}" for lv, ref in zip(r.level, r.reference)],
                        "Metric": [LABELS[m] for m in r.metric], "Difference (interval)": shown,
                        "Note": [x or "" for x in r.reason]})
    return out.set_index(["Variable", "Comparison", "Metric"])


def gates_display(view: ReviewerView) -> pd.DataFrame:
    """Every judged gate, indexed by its id (gate[subgroup]): metric, estimate with interval, rule, verdict,
    the test the rule is (e.g. one-sided at 2.5 %), whether it blocks the release, and the sentence."""
    rows = [{"Id": g.id, "Metric": g.subject.split(": ", 1)[-1],
             "Estimate (interval)": suppression.withheld_label(view.threshold) if _withheld(g)
             else F.interval(g.estimate, g.lower, g.upper, 3, signed=F.is_difference(g.subject)),
             "Rule": g.rule, "Verdict": g.verdict.replace("_", " "), "Test": g.test,
             **vocabulary.blocking_columns(g), "Why": g.sentence} for g in _failures_first(view.gates)]
    columns = ["Id", "Metric", "Estimate (interval)", "Rule", "Verdict", "Test", vocabulary.BLOCKS, vocabulary.CAN_BLOCK,
               "Why"]
    return pd.DataFrame(rows, columns=columns).set_index("Id")


def _failures_first(judged):
    """Gates in the order a reviewer reads them: FAIL, then INSUFFICIENT_EVIDENCE, then the rest (stable)."""
    order = {gates.FAIL: 0, gates.INSUFFICIENT: 1}
    return sorted(judged, key=lambda g: order.get(g.verdict, 2))


def _withheld(gate) -> bool:
    """A PASS or FAIL without an estimate: the small-cell rule withheld it (the gate's sentence says so)."""
    return gate.verdict in (gates.PASS, gates.FAIL) and not math.isfinite(gate.estimate) and "withheld" in gate.sentence


def sample_size_display(view: ReviewerView, study: Study) -> pd.DataFrame:
    """For subgroups below the minimum n: counts, what is needed and how many more patients."""
    s = view.sample_size
    if s.empty:
        return pd.DataFrame()
    return pd.DataFrame({
        "Variable": s.variable, "Level": s.level, "n": s.n, "Positives": s.positives, "Negatives": s.negatives,
        "Positives needed": s.needed_positives, "Negatives needed": s.needed_negatives,
        "More patients (about)": [F.count(m) for m in s.more_patients],
        "Prevalence used": s.prevalence_basis, "Why": s.reason,
    }).set_index(["Variable", "Level"])


def verdict_markdown(view: ReviewerView, study: Study) -> str:
    """The stage's verdict in words: counts per verdict, what blocks, and the policy for insufficient evidence."""
    verdicts = [g.verdict for g in view.gates]
    if not verdicts:
        return "No subgroup gates are declared in the plan: this stage reports estimates only."
    count = {v: verdicts.count(v) for v in gates.VERDICTS}
    blocking = [g for g in view.gates if g.blocking_failure]
    overall = gates.overall(view.gates)
    policy = []
    for gate in study.subgroups.gates:
        default = "" if "insufficient_evidence_blocks" in gate.model_fields_set else " (default)"
        policy.append(f"{gate.id}: insufficient evidence {'blocks' if gate.insufficient_evidence_blocks else 'does not block'}"
                      f"{default}")
    text = (f"**Stage verdict: {overall}.** {len(verdicts)} subgroup judgements: {count[gates.PASS]} PASS, "
            f"{count[gates.FAIL]} FAIL, {count[gates.INSUFFICIENT]} INSUFFICIENT_EVIDENCE; {vocabulary.BLOCKS.lower()}: "
            f"{'yes, ' + str(len(blocking)) if blocking else 'none'} (holding the release back now). The plan says: {'; '.join(policy)}. A FAIL means the interval does not show that the "
            "subgroup meets the criterion (for a rule on the lower bound, the subgroup may still meet it: its "
            "interval is not precise enough to show it); INSUFFICIENT_EVIDENCE means the data cannot tell (too few patients, or the metric is not "
            "estimable) — it is not a pass.")
    return text
