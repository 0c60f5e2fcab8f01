"""Reviewer-facing tables of the evaluation stage: numbers, intervals ("0.749 (0.704–0.789)") and p-values
as :mod:`studylib.formatting` writes them, verdicts coloured, undefined values explained
("— (no positive cases)").

Each function takes the results of :mod:`studylib.stages.evaluation` and returns a pandas ``Styler``
made by :func:`studylib.report.display.styler` (every cell, header and caption HTML-escaped) for display
in the notebook and its HTML renderings — the numbers themselves stay in the results objects and the
results JSON.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from studylib import formatting as F
from studylib.judge import gates
from studylib.report import display, vocabulary
from studylib.report.tables import settings
from studylib.judge.acceptance import METRIC_NAMES
from studylib.stages.evaluation.analysis import Evaluation, metric_roles
from studylib.stages.evaluation.inputs import model_identity
from studylib.plan import Study
from studylib.stats import Estimate

VERDICT_COLOURS = {gates.PASS: "#d8f0d8", gates.FAIL: "#f6d2d2", gates.INSUFFICIENT: "#fbe8c0"}
_ROLE_ORDER = {"primary": 0, "secondary": 1, "supportive": 2}


def _style(frame: pd.DataFrame, caption: str = ""):
    """The evaluation tables' look on :func:`studylib.report.display.styler` (cells, headers and caption
    HTML-escaped: model names, criterion labels and error-analysis levels come from parameters and data)."""
    styler = display.styler(frame, caption=caption).hide(axis="index")
    styler = styler.set_properties(**{"text-align": "left", "vertical-align": "top"})
    return styler.set_table_styles([{"selector": "th", "props": [("text-align", "left")]},
                                    {"selector": "caption", "props": [("caption-side", "top"), ("text-align", "left"),
                                                                      ("font-weight", "bold")]}])


def verdict_table(ev: Evaluation, study: Study):
    """Every acceptance criterion: id, what is judged, rule, estimate with interval, verdict, the test the
    rule is (e.g. a lower bound of a 95 % interval: one-sided at 2.5 %), sentence."""
    level = F.confidence_level(study.analysis.alpha)
    rows = []
    for g in ev.gates:
        rows.append({"Criterion": g.id, "What is judged": g.subject, "Rule (pre-registered)": g.rule,
                     f"Estimate ({level} CI)": F.interval(g.estimate, g.lower, g.upper, signed=F.is_difference(g.subject)),
                     "Verdict": g.verdict, "Test": g.test, **vocabulary.blocking_columns(g),
                     "In plain words": g.sentence})
    frame = pd.DataFrame(rows, columns=["Criterion", "What is judged", "Rule (pre-registered)",
                                        f"Estimate ({level} CI)", "Verdict", "Test", vocabulary.BLOCKS,
                                        vocabulary.CAN_BLOCK, "In plain words"])
    styler = _style(frame, f"Acceptance criteria — stage verdict: {ev.verdict}")
    return styler.map(lambda v: f"background-color: {VERDICT_COLOURS[v]}; font-weight: bold"
                      if v in VERDICT_COLOURS else "", subset=["Verdict"])


def identity_table(study: Study, artifacts: dict | None = None):
    """The models compared: role, name, version, score column, artifact SHA-256 (and its file in the
    locked snapshot when ``artifacts`` maps role → path)."""
    frame = model_identity(study).rename(columns={"role": "Role", "name": "Model", "version": "Version",
                                                  "score_column": "Score column",
                                                  "artifact_sha256": "Artifact SHA-256"})
    if artifacts is not None:
        frame["Artifact file in the locked snapshot"] = [artifacts.get(r) or F.UNDEFINED for r in frame["Role"]]
    return _style(frame)


def plan_table(study: Study):
    """The analysis plan as run (the parameter file's SHA-256 identifies it). A value the parameter file
    did not set, so that the plan's default applied, is labelled "(default)"."""
    a = study.analysis

    def given(value: str, *fields: str, section=a) -> str:
        return settings.given(value, section, *fields)

    rows = [
        ("Parameter file SHA-256 (the plan's fingerprint)", study.sha256),
        ("Operating threshold (pre-specified)", f"{a.threshold:g} — flagged iff predicted risk ≥ {a.threshold:g}"),
        ("Analysed split", given(a.split or "whole cohort", "split")),
        ("Primary metrics", given(", ".join(METRIC_NAMES[m] for m in a.primary_metrics) or "none declared",
                                  "primary_metrics")),
        ("Secondary metrics", given(", ".join(METRIC_NAMES[m] for m in a.secondary_metrics) or "none declared",
                                    "secondary_metrics")),
        ("Confidence level", given(f"{F.confidence_level(a.alpha)} (two-sided)", "alpha")),
        ("Intervals of proportions", given(a.ci_method, "ci_method")),
        ("AUROC interval", "DeLong"),
        ("AUPRC interval", given(f"stratified bootstrap, {a.n_bootstrap} resamples, seed {a.seed}", "n_bootstrap",
                                 "seed")),
        ("Paired tests against the baseline", given(f"DeLong (AUROC); McNemar {a.mcnemar} test (p-values) with "
                                                    "Newcombe paired score intervals (sensitivity, specificity, "
                                                    "accuracy); paired Brier difference", "mcnemar")),
        ("Observed/expected interval", given({"delta-log": "log scale, variance Σp(1 − p) (Debray et al. 2017)",
                                              "poisson-exact": "exact Poisson (Garwood)"}[a.oe_interval],
                                             "oe_interval")),
        ("Missing scores", given({"error": "stop the stage", "exclude": "exclude and report"}[a.missing_scores],
                                 "missing_scores")),
        ("Decision-curve range", given(f"{a.decision_curve[0]:g} to {a.decision_curve[1]:g}", "decision_curve")),
        ("Small-cell threshold", given(f"counts below {study.study.small_cell_threshold} suppressed in error tables",
                                       "small_cell_threshold", section=study.study)),
    ]
    return _style(pd.DataFrame(rows, columns=["Plan item", "Value"]))


def two_by_two(ev: Evaluation, study: Study, role: str = "candidate"):
    """The 2×2 table of a model at the operating threshold, with margins."""
    b = ev.models[role].binary
    t = study.analysis.threshold
    frame = pd.DataFrame({
        "": [f"flagged (risk ≥ {t:g})", f"not flagged (risk < {t:g})", "total"],
        "outcome present": [b.tp, b.fn, b.tp + b.fn],
        "outcome absent": [b.fp, b.tn, b.fp + b.tn],
        "total": [b.tp + b.fp, b.fn + b.tn, b.n],
    })
    return _style(frame, f"2×2 table of the {role} at threshold {t:g} (rows: the model's call; columns: the "
                         "reference standard)")


_PERFORMANCE_ROWS = ("sensitivity", "specificity", "ppv", "npv", "accuracy", "lr_pos", "lr_neg", "prevalence",
                     "auroc", "auprc")


def performance_sections(estimates: dict, study: Study) -> list:
    """The performance table as the report shows it: the metrics an acceptance criterion judges first, open;
    the others in a collapsed section (printed open)."""
    gated = {c.metric for c in study.acceptance}
    out = [performance_table(estimates, study, only=gated)] if gated & set(_PERFORMANCE_ROWS) else []
    other = [m for m in _PERFORMANCE_ROWS if m not in gated]
    if other:
        names = ", ".join(METRIC_NAMES[m] for m in other)
        out.append(display.collapsed(performance_table(estimates, study, only=set(other)),
                                     f"Metrics no criterion uses ({names}): show the table"))
    return out


def performance_table(estimates: dict, study: Study, *, only: set[str] | None = None):
    """Metrics at the operating threshold and discrimination, per model (``estimates``: role → metric →
    Estimate, as :meth:`Evaluation.estimates`), primary metrics first; ``only``: these metrics."""
    level = F.confidence_level(study.analysis.alpha)
    roles = metric_roles(study)
    rows = []
    shown = [m for m in _PERFORMANCE_ROWS if only is None or m in only]
    for metric in sorted(shown, key=lambda m: (_ROLE_ORDER[roles[m]], _PERFORMANCE_ROWS.index(m))):
        row = {"Metric": METRIC_NAMES[metric], "Declared as": roles[metric]}
        for role in estimates:
            row[f"{role.capitalize()} ({level} CI)"] = F.estimate(estimates[role][metric])
        row["Interval method"] = estimates["candidate"][metric].method
        rows.append(row)
    return _style(pd.DataFrame(rows), f"Performance at the operating threshold {study.analysis.threshold:g} and "
                                      "discrimination")


def calibration_table(ev: Evaluation, study: Study):
    """Calibration measures per model with the value of perfect calibration."""
    level = F.confidence_level(study.analysis.alpha)
    rows = [("calibration-in-the-large (intercept)", "citl", "0"), ("calibration slope", "slope", "1"),
            ("observed/expected ratio", "oe_ratio", "1"), ("Brier score", "brier", "0 (lower is better)"),
            ("scaled Brier score", "scaled_brier", "1"), ("E50 (median |observed − predicted|)", "e50", "0"),
            ("E90", "e90", "0"), ("Emax", "emax", "0"), ("ICI (Eavg, mean |observed − predicted|)", "eavg", "0"),
            ("Spiegelhalter z (p-value)", "spiegelhalter",
             "z near 0; a small p is evidence of miscalibration, a large p is not evidence of calibration")]
    if any(model.calibration.excluded_from_fits for model in ev.models.values()):
        rows.append(("rows with predicted risk exactly 0 or 1, left out of the intercept and slope fits "
                     "(as rms val.prob)", "excluded_from_fits", "0"))
    out = []
    for label, key, ideal in rows:
        row = {"Measure": label}
        for role, model in ev.models.items():
            c = model.calibration
            if key == "brier":
                value = F.estimate(model.brier)
            elif key == "spiegelhalter":
                value = f"{F.number(c.z, 2)} (p {F.p_value(c.p_value)})"
            elif key == "excluded_from_fits":
                value = F.count(c.excluded_from_fits)
            elif isinstance(getattr(c, key), Estimate):
                value = F.estimate(getattr(c, key))
            else:
                value = F.number(getattr(c, key))
            row[f"{role.capitalize()} ({level} CI)"] = value
        row["Perfect calibration"] = ideal
        out.append(row)
    return _style(pd.DataFrame(out), "Calibration")


def comparison_table(ev: Evaluation, study: Study):
    """Candidate against baseline on the same patients: each model's value, the difference with its
    interval, the p-value of "no difference", the test, and the verdict of any criterion on it."""
    level = F.confidence_level(study.analysis.alpha)
    if ev.comparison is None:
        return _style(pd.DataFrame({"": ["no baseline model is declared in the plan"]}))
    c = ev.comparison
    estimates = ev.estimates()
    p_values, tests, differences = c.p_values(), c.tests(), c.differences()
    verdicts = {}
    for criterion, gate in zip(study.acceptance, ev.gates):
        if criterion.versus is not None:
            verdicts.setdefault(criterion.metric, []).append(f"{gate.id}: {gate.verdict}")
    rows = []
    for metric in ("auroc", "sensitivity", "specificity", "accuracy", "brier"):
        rows.append({"Metric": METRIC_NAMES[metric],
                     "Candidate": F.number(estimates["candidate"][metric].estimate),
                     "Baseline": F.number(estimates["baseline"][metric].estimate),
                     f"Candidate − baseline ({level} CI)": F.estimate(differences[metric], signed=True),
                     "p (no difference)": F.p_value(p_values[metric]), "Test": tests[metric],
                     "Criterion": ", ".join(verdicts.get(metric, [])) or F.UNDEFINED})
    styler = _style(pd.DataFrame(rows), "Paired comparison with the locked baseline (same patients). The Test "
                                        "column names the method of each interval and p-value; for sensitivity, "
                                        "specificity and accuracy they differ (Newcombe's interval is not the "
                                        "inversion of McNemar's test), so near 0 the two can disagree")
    return styler.map(lambda v: "font-weight: bold" if "FAIL" in str(v) or "PASS" in str(v) else "",
                      subset=["Criterion"])


def discordance_table(ev: Evaluation):
    """McNemar's discordant pairs: patients whom only one of the two models calls correctly."""
    c = ev.comparison
    if c is None:
        return _style(pd.DataFrame({"": ["no baseline model is declared in the plan"]}))
    rows = []
    for name, result, among in (("sensitivity", c.sensitivity, "patients with the outcome"),
                                ("specificity", c.specificity, "patients without the outcome"),
                                ("accuracy", c.accuracy, "all patients")):
        rows.append({"Among": among, "Pairs": result.n, "Only the candidate right": result.b,
                     "Only the baseline right": result.c, "McNemar p": F.p_value(result.p_value),
                     "Compares": name})
    return _style(pd.DataFrame(rows), "Discordant calls at the operating threshold")


def threshold_table(ev: Evaluation, study: Study):
    """The EXPLORATORY threshold table, formatted; the pre-specified threshold is marked."""
    t = ev.thresholds
    frame = pd.DataFrame({
        "Threshold": [f"{x:g}" + ("  ◀ pre-specified" if op else "") for x, op in zip(t["threshold"], t["operating"])],
        "Flagged": [f"{F.count(n)} ({F.percent(s)})" for n, s in zip(t["flagged"], t["flagged_share"])],
    })
    for name in ("sensitivity", "specificity", "ppv", "npv"):
        frame[METRIC_NAMES[name].split(" (")[0] if name in ("sensitivity", "specificity") else name.upper()] = [
            F.interval(e, lo, hi) for e, lo, hi in zip(t[name], t[f"{name}_lower"], t[f"{name}_upper"])]
    styler = _style(frame, "EXPLORATORY — not pre-specified; do not choose a threshold from this table and report "
                           "its performance as a result")
    return styler.apply(lambda row: ["background-color: #eef3fa" if "pre-specified" in row["Threshold"] else ""
                                     for _ in row], axis=1)


def threshold_section(ev: Evaluation, study: Study):
    """The EXPLORATORY threshold table in a collapsed section (no criterion uses it; printed open)."""
    return display.collapsed(threshold_table(ev, study), "Exploratory thresholds (no criterion uses them): show the table")


def decision_table(ev: Evaluation, study: Study):
    """Net benefit at the operating threshold and at every 0.05 of the declared range."""
    dc = ev.decision_curve
    t = dc["threshold"].to_numpy()
    keep = np.isclose((t * 20) % 1, 0, atol=1e-9) | np.isclose((t * 20) % 1, 1, atol=1e-9) | \
        np.isclose(t, study.analysis.threshold)
    picked = dc[keep]
    frame = pd.DataFrame({"Threshold probability": [f"{x:g}" + ("  ◀ operating" if np.isclose(x, study.analysis.threshold)
                                                                 else "") for x in picked["threshold"]]})
    for role in ev.models:
        frame[f"Net benefit: {role}"] = [F.number(v, 4) for v in picked[f"net_benefit_{role}"]]
    frame["Net benefit: treat all"] = [F.number(v, 4) for v in picked["net_benefit_all"]]
    frame["Net benefit: treat none"] = [F.number(v, 4) for v in picked["net_benefit_none"]]
    return _style(frame, "Net benefit (true positives per patient, net of false positives weighted by t/(1 − t))")


def error_counts(ev: Evaluation):
    """Counts of the candidate's calls at the operating threshold."""
    c = ev.errors.counts
    frame = pd.DataFrame({"Call": c["meaning"], "Patients": [F.count(n) for n in c["n"]],
                          "Share": [f"{F.percent(s)} of {'positives' if k in ('TP', 'FN') else 'negatives'}"
                                    for s, k in zip(c["share"], c["call"])]})
    return _style(frame)


def error_by_variable(ev: Evaluation, study: Study):
    """Miss rate and false-alarm rate by level of each declared variable, with small cells suppressed."""
    level = F.confidence_level(study.analysis.alpha)
    table = ev.errors.by_variable
    hidden = F.fewer_than(ev.errors.small_cell_threshold)
    if table.empty:
        return _style(pd.DataFrame({"": ["no error-analysis variables are declared (analysis.error_analysis."
                                         "variables)"]}))

    def count(v, column, small):  # withheld by the stage (NA): "<T" for a small cell, else "withheld"
        if v is pd.NA or (isinstance(v, float) and math.isnan(v)):
            return hidden if column in small else F.WITHHELD
        return F.count(v)

    def rate(e, lo, hi, x, n):
        return withheld if x is pd.NA or n is pd.NA else F.interval(e, lo, hi)

    withheld = f"{F.WITHHELD} ({hidden})"
    small = table["small_cells"]
    frame = pd.DataFrame({
        "Variable": table["variable"], "Level": table["level"],
        "With the outcome": [count(v, "positives", s) for v, s in zip(table["positives"], small)],
        "Missed (FN)": [count(v, "missed", s) for v, s in zip(table["missed"], small)],
        f"Miss rate ({level} CI)": [rate(*r) for r in zip(table["miss_rate"], table["miss_rate_lower"],
                                                                  table["miss_rate_upper"], table["missed"],
                                                                  table["positives"])],
        "Without the outcome": [count(v, "negatives", s) for v, s in zip(table["negatives"], small)],
        "False alarms (FP)": [count(v, "false_alarms", s) for v, s in zip(table["false_alarms"], small)],
        f"False-alarm rate ({level} CI)": [rate(*r) for r in zip(
            table["false_alarm_rate"], table["false_alarm_rate_lower"], table["false_alarm_rate_upper"],
            table["false_alarms"], table["negatives"])],
    })
    return _style(frame, f"Errors by patient characteristic. {hidden}: a count from 1 to "
                         f"{ev.errors.small_cell_threshold - 1}; {F.WITHHELD}: a count or rate not shown because a "
                         f"count below {ev.errors.small_cell_threshold} could be worked out from it and the totals "
                         f"(small-cell rule)")


def misses_table(ev: Evaluation, kind: str):
    """The listing of the most confident false negatives (``kind="FN"``) or false positives (``"FP"``)."""
    m = ev.errors.misses
    m = m[m["kind"] == kind]
    frame = pd.DataFrame({"Rank": m["rank"], "Pseudonymous id": m["id"],
                          "Candidate risk": [F.number(v) for v in m["candidate_risk"]]})
    if "baseline_risk" in m:
        frame["Baseline risk"] = [F.number(v) for v in m["baseline_risk"]]
        frame["Baseline call"] = m["baseline_call"].to_numpy()
    if frame.empty:
        frame = pd.DataFrame({"": [f"no {'false negatives' if kind == 'FN' else 'false positives'}"]})
    what = ("Missed cases (false negatives) the candidate rated lowest" if kind == "FN"
            else "False alarms (false positives) the candidate rated highest")
    return _style(frame, what)


def summary(ev: Evaluation, study: Study) -> str:
    """Markdown: who was analysed, how many had the outcome, exclusions, and the stage verdict."""
    d = ev.data
    where = f"the {study.analysis.split} split" if study.analysis.split else "the whole frozen cohort"
    text = (f"**{F.count(d.n)} patients analysed** ({where}), **{F.count(d.positives)} with the outcome** "
            f"({F.percent(d.positives / d.n)})." if d.n else "**No patients analysed.**")
    if len(d.excluded):
        ids = ", ".join(d.excluded["id"].head(10))
        more = f" and {len(d.excluded) - 10} more" if len(d.excluded) > 10 else ""
        text += (f" {F.count(len(d.excluded))} patients of the analysis cohort were **excluded for a missing score** "
                 f"(declared rule `missing_scores: exclude`): {ids}{more}.")
    else:
        text += " No patient was excluded for a missing score."
    counts = {v: sum(g.verdict == v for g in ev.gates) for v in (gates.PASS, gates.FAIL, gates.INSUFFICIENT)}
    text += (f"\n\n**Stage verdict: {ev.verdict}** — {len(ev.gates)} acceptance criteria: {counts[gates.PASS]} PASS, "
             f"{counts[gates.FAIL]} FAIL, {counts[gates.INSUFFICIENT]} INSUFFICIENT_EVIDENCE. "
             f"Plan (parameter file) SHA-256 `{study.sha256}`.")
    return text
