"""Reviewer tables of the drift review: numbers, intervals ("0.800 (0.750–0.840)") and p-values as
:mod:`studylib.formatting` writes them, small counts suppressed as "<N" (``study.small_cell_threshold``),
undefined values as "—" with the reason.

Pure functions from the tables of :class:`studylib.stages.drift.review.DriftReview` (and the trigger
gates of :func:`studylib.judge.triggers.judge_triggers`) to display DataFrames; the machine-readable
results keep the full precision.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from studylib import formatting as F
from studylib.data.scan import REFERENCE
from studylib.judge import gates
from studylib.judge.suppression import is_small, shown_count, split_counts, suppress_text  # the study's one small-cell rule
from studylib.plan import Study
from studylib.report import vocabulary
from studylib.report.tables import settings


def _bounds(row, name: str) -> tuple[float, float, float]:
    """The estimate of ``name`` in a row with its ``_lower`` and ``_upper`` bounds."""
    return row[name], row[f"{name}_lower"], row[f"{name}_upper"]


def windows(table: pd.DataFrame, threshold: int) -> pd.DataFrame:
    """The windows: what each holds, rows, labelled rows (and, for a monitoring source, the scored rows
    without an outcome yet: label delay) and events."""
    out = {
        "window": table["window"], "values": table["values"],
        "rows": [("0 (empty window)" if n == 0 else shown_count(n, threshold)) for n in table["n"]],
        "with outcome": [shown_count(n, threshold) for n in table["labelled"]],
    }
    if "unlabelled" in table.columns:
        out["without outcome yet"] = [shown_count(n, threshold) for n in table["unlabelled"]]
    out["events"] = [shown_count(e, threshold) for e in table["events"]]
    return pd.DataFrame(out).set_index("window")


def shadow(table: pd.DataFrame, threshold: int) -> pd.DataFrame:
    """Shadow mode per window: both AUROCs and the paired difference (non-inferiority at the plan's margin),
    flag agreement (discordant cases, discordance rate, McNemar mid-p), alert burden and the shadow's
    calibration. Estimates on labelled cases are withheld where positives or negatives are a small cell."""
    rows = []
    for r in table.to_dict(orient="records"):
        _, positives, negatives, small = split_counts(r["positives"] + r["negatives"], r["positives"],
                                                      r["negatives"], threshold)
        few_pairs = is_small(r["pairs"], threshold)

        def labelled(name, signed=False):
            return F.WITHHELD if small else F.interval(*_bounds(r, name), signed=signed)

        verdict = {True: "yes", False: "no", None: F.UNDEFINED}[r["non_inferior"] if r["non_inferior"] in (True, False)
                                                                 else None]
        rows.append({
            "window": r["window"], "cases (both scored)": shown_count(r["pairs"], threshold),
            "positives": positives, "negatives": negatives,
            "AUROC deployed": labelled("auroc_deployed"), "AUROC shadow": labelled("auroc_shadow"),
            "shadow − deployed": labelled("auroc_difference", signed=True),
            "non-inferior": F.WITHHELD if small else verdict,
            "flagged by shadow only": shown_count(r["shadow_only"], threshold),
            "flagged by deployed only": shown_count(r["deployed_only"], threshold),
            "discordance": F.WITHHELD if few_pairs else F.interval(*_bounds(r, "discordance_rate")),
            "McNemar mid-p": F.WITHHELD if few_pairs else F.p_value(r["mcnemar_p"]),
            "flag rate deployed → shadow": (F.WITHHELD if few_pairs else
                                            f"{F.percent(r['flag_rate_deployed'])} → {F.percent(r['flag_rate_shadow'])}"),
            "flag-rate difference": F.WITHHELD if few_pairs else F.interval(*_bounds(r, "flag_rate_difference"),
                                                                             signed=True),
            "shadow O/E": labelled("oe_ratio"), "shadow slope": labelled("calibration_slope"),
            "note": suppress_text(r.get("reason", "") or "", threshold),
        })
    return pd.DataFrame(rows).set_index("window")


def _psi_null(r, threshold: int = 0) -> str:
    """The PSI expected without drift at the window's size: "0.183 (95%: 0.363)" (withheld for a small
    window: it depends on the window's size, which would disclose the count)."""
    if threshold and is_small(r["n"], threshold):
        return F.WITHHELD
    if not math.isfinite(r.get("psi_null_mean", math.nan)):
        return F.UNDEFINED
    return f"{F.number(r['psi_null_mean'])} (95%: {F.number(r['psi_null_95'])})"


def input_drift(table: pd.DataFrame, *, alpha: float, threshold: int) -> pd.DataFrame:
    """Input drift per feature and window; beside each PSI its mean and 95th percentile without drift at
    the window's size, and its band ("too few rows" below ``drift.min_rows``). A window with fewer than
    ``threshold`` values of the feature (a small cell) shows its count as "<T" and withholds the statistics
    that describe those values."""
    rows = []
    for r in table.to_dict(orient="records"):
        test = "KS D" if r["test"] == "ks" else "chi-square"
        stat = F.number(r["statistic"]) if r["test"] != "ks" or not math.isfinite(r["ks_upper"]) else (
            f"{F.number(r['statistic'])} (≤ {F.number(r['ks_upper'])})")
        rows.append({
            "feature": r["feature"], "window": r["window"], "n": shown_count(r["n"], threshold),
            "PSI": F.number(r["psi"]), "PSI without drift": _psi_null(r, threshold),
            "PSI band": r["psi_band"] or F.UNDEFINED, "test": test, "statistic": stat,
            "p": F.p_value(r["p_value"]), "adjusted p": F.p_value(r["p_adjusted"]),
            f"adj. p < {alpha:g}": "yes" if r["p_adjusted"] < alpha else "",
            "missing (reference → window)": (f"{F.percent(r['missing_reference'])} → {F.percent(r['missing_rate'])}"
                                             if math.isfinite(r["missing_rate"]) else F.UNDEFINED),
            "change (CI)": F.interval(100 * r["missing_change"], 100 * r["missing_change_lower"],
                                      100 * r["missing_change_upper"], 1)
                           + (" pp" if math.isfinite(r["missing_change"]) else ""),
            "adj. p (missing)": F.p_value(r["missing_p_adjusted"]),
            "note": suppress_text(r["reason"], threshold),
        })
        if is_small(r["n"], threshold):
            rows[-1].update({k: F.WITHHELD for k in ("PSI", "PSI without drift", "PSI band", "statistic", "p",
                                                     "adjusted p", "change (CI)", "adj. p (missing)")})
            rows[-1][f"adj. p < {alpha:g}"] = ""
    columns = ["feature", "window", "n", "PSI", "PSI without drift", "PSI band", "test", "statistic", "p", "adjusted p",
               f"adj. p < {alpha:g}", "missing (reference → window)", "change (CI)", "adj. p (missing)", "note"]
    return pd.DataFrame(rows, columns=columns).set_index(["feature", "window"])


def output_drift(table: pd.DataFrame, threshold: int) -> pd.DataFrame:
    """Output drift per window: score PSI/KS, mean predicted risk and alert rate with intervals."""
    rows = []
    for r in table.to_dict(orient="records"):
        ref = r["window"] == REFERENCE
        rows.append({
            "window": r["window"], "scored": shown_count(r["n"], threshold),
            "PSI": "(reference)" if ref else F.number(r["psi"]),
            "PSI without drift": "" if ref else _psi_null(r, threshold),
            "PSI band": "" if ref else (r["psi_band"] or F.UNDEFINED),
            "KS D": "" if ref else F.number(r["ks"]), "adjusted p": "" if ref else F.p_value(r["p_adjusted"]),
            "mean predicted risk": F.interval(*_bounds(r, "mean_score")), "alerts": shown_count(r["alerts"], threshold),
            "alert rate": F.WITHHELD if is_small(r["alerts"], threshold) else F.interval(*_bounds(r, "alert_rate")),
        })
    return pd.DataFrame(rows).set_index("window")


def calibration_drift(table: pd.DataFrame, threshold: int) -> pd.DataFrame:
    """Calibration per window: observed and expected events, O/E, CITL and slope with intervals.

    When the observed events (or non-events) of a window are a small cell, the O/E ratio, CITL and slope
    are withheld too: with the expected events beside them they would disclose the hidden count.
    """
    rows = []
    for r in table.to_dict(orient="records"):
        small = is_small(r["events"], threshold) or is_small(r["labelled"] - r["events"], threshold)
        rows.append({
            "window": r["window"], "with outcome": shown_count(r["labelled"], threshold),
            "observed events": shown_count(r["events"], threshold), "expected events": F.number(r["expected"], 1),
            "O/E ratio": F.WITHHELD if small else F.interval(*_bounds(r, "oe_ratio")),
            "calibration-in-the-large": F.WITHHELD if small else F.interval(*_bounds(r, "calibration_in_the_large")),
            "calibration slope": F.WITHHELD if small else F.interval(*_bounds(r, "calibration_slope")),
            "note": suppress_text(r.get("reason", "") or "", threshold),
        })
    return pd.DataFrame(rows).set_index("window")


def performance_drift(table: pd.DataFrame, threshold: int) -> pd.DataFrame:
    """Performance per window with the control limits and signals."""
    rows = []
    for i, r in enumerate(table.to_dict(orient="records")):
        # the window's labelled rows are published (windows table): a class count beside a small one is a
        # bound, and every estimate of the window is withheld (an interval would give its denominator)
        _, positives, negatives, small = split_counts(r["positives"] + r["negatives"], r["positives"], r["negatives"],
                                                      threshold)
        row = {"window": r["window"], "positives": positives, "negatives": negatives}
        hidden = dict.fromkeys(("auroc", "sensitivity", "specificity"), small)
        for name, label in (("auroc", "AUROC"), ("sensitivity", "sensitivity"), ("specificity", "specificity")):
            row[label] = F.WITHHELD if hidden[name] else F.interval(*_bounds(r, name))
            row[f"{label} limits"] = ("(centre line)" if i == 0 else
                                      f"{F.number(r[f'{name}_cl_lower'])}–{F.number(r[f'{name}_cl_upper'])}"
                                      if math.isfinite(r[f"{name}_cl_lower"]) else F.UNDEFINED)
            if i > 0 and r[f"{name}_signal"]:
                row[f"{label} limits"] += " SIGNAL"
        row["note"] = suppress_text(r.get("reason", "") or "", threshold)
        rows.append(row)
    return pd.DataFrame(rows).set_index("window")


def triggers_table(judged: list[gates.Gate], study: Study) -> pd.DataFrame:
    """The triggers as reviewers read them: rule, fired or not, evidence, declared action, blocking."""
    actions = {t.id: t.action for t in study.drift.triggers}
    rows = []
    for gate in judged:
        # verdict names: the stage-report finisher writes them as words with their mark and colour
        state = {gates.FAIL: "FIRED", gates.PASS: "NOT FIRED", gates.INSUFFICIENT: gates.INSUFFICIENT}[gate.verdict]
        action = actions.get(gate.id, "")
        estimate = (F.p_value(gate.estimate) if gate.subject.startswith(("p_value", "p_adjusted")) else
                    F.interval(gate.estimate, gate.lower, gate.upper, no_interval=""))
        rows.append({"trigger": gate.id, "rule": gate.rule, "status": state, "estimate": estimate,
                     "evidence": gate.sentence,
                     "action": action.replace("_", " "),
                     **vocabulary.blocking_columns(gate)})
    columns = ["trigger", "rule", "status", "estimate", "evidence", "action", vocabulary.BLOCKS, vocabulary.CAN_BLOCK]
    return pd.DataFrame(rows, columns=columns).set_index("trigger")


#: the statistics behind each drift table (a table no trigger reads is collapsed)
TABLE_STATISTICS = {"input": ("psi", "ks", "p_value", "p_adjusted", "missing_change"),
                    "output": ("psi", "ks", "p_value", "p_adjusted", "mean_score", "alert_rate"),
                    "calibration": ("oe_ratio", "calibration_in_the_large", "calibration_slope"),
                    "performance": ("auroc", "sensitivity", "specificity")}


def gated_first(table, study: Study, kind: str):
    """``table`` as the report shows it: open when a trigger reads one of its statistics, else collapsed (a
    table of metrics no trigger uses; printed open). ``kind``: a key of :data:`TABLE_STATISTICS`."""
    from studylib.report import display

    used = {t.statistic for t in study.drift.triggers}
    if used & set(TABLE_STATISTICS[kind]):
        return table
    return display.collapsed(table, f"{kind.capitalize()} drift: no trigger uses these statistics; show the table")


def settings_table(study: Study) -> pd.DataFrame:
    """The settings of the drift review, each labelled "(default)" when the parameter file did not set it."""
    d, a = study.drift, study.analysis
    multiplicity = (settings.given(d.multiplicity, d, "multiplicity") if d.multiplicity else
                    settings.given(f"{a.multiplicity} (analysis.multiplicity)", a, "multiplicity"))
    return settings.table([
        ("Interval level", settings.given(f"{F.confidence_level(a.alpha)} (two-sided)", a, "alpha")),
        ("PSI bins (quantiles of the reference)", settings.given(F.count(d.bins), d, "bins")),
        ("KS bins (fine reference quantiles)", settings.given(F.count(d.ks_bins), d, "ks_bins")),
        ("Multiplicity adjustment of the input-drift p-values", multiplicity),
        ("Minimum values per window (PSI band, PSI triggers)", settings.given(F.count(d.min_rows), d, "min_rows")),
        ("Minimum events per window", settings.given(F.count(d.min_events), d, "min_events")),
        ("Minimum non-events per window", settings.given(F.count(d.min_non_events), d, "min_non_events")),
        ("Operating threshold (alert rate, sensitivity, specificity)", f"{a.threshold:g}"),
        ("Small-cell threshold", settings.given(f"counts below {study.study.small_cell_threshold} withheld",
                                                study.study, "small_cell_threshold")),
    ]).set_index("Plan item")


def fired_markdown(judged: list[gates.Gate]) -> str:
    """How many triggers fired and which of them block the release now, in the one vocabulary
    (:mod:`studylib.report.vocabulary`: *blocks* = holds the release back now; *can block* = declared able to).

    Examples
    --------
    >>> fired_markdown([])
    '0 of 0 triggers fired. Blocks: none.'
    """
    fired = [g for g in judged if g.verdict == gates.FAIL]
    blocking = [g.id for g in judged if g.blocking_failure]
    able = [g.id for g in judged if g.can_block]
    return (f"{len(fired)} of {len(judged)} triggers fired. {vocabulary.BLOCKS}: "
            + (f"**yes, {', '.join(blocking)}** (the release is held back)." if blocking else "none.")
            + (f" {vocabulary.CAN_BLOCK}: {', '.join(able)}." if able else ""))


def _withhold(table: pd.DataFrame, names: tuple[str, ...], mask) -> pd.DataFrame:
    out = table.copy()
    for name in names:
        for column in (name, f"{name}_lower", f"{name}_upper"):
            if column in out.columns:
                out[column] = out[column].astype(float).where(~mask, float("nan"))
    return out


def suppressed(review, threshold: int):
    """The review with every estimate that would disclose a small cell set to NaN (not plotted), for the
    figures: the same rule as the tables (observed rate, O/E, CITL, slope when events or non-events of a
    window are a small cell; the alert rate when the alerts are; sensitivity, specificity and AUROC
    when positives or negatives are, since the window's labelled rows are published)."""
    import dataclasses

    def small(counts) -> np.ndarray:
        return np.array([is_small(c, threshold) for c in counts], dtype=bool)

    cal = review.calibration
    cal_mask = small(cal["events"].to_numpy()) | small((cal["labelled"] - cal["events"]).to_numpy())
    calibration = _withhold(cal, ("observed_rate", "oe_ratio", "calibration_in_the_large", "calibration_slope"),
                            cal_mask)
    output = _withhold(review.output, ("alert_rate",), small(review.output["alerts"].to_numpy()))
    inputs = review.input.copy()
    few = small(inputs["n"].to_numpy())
    for column in ("psi", "statistic", "p_value", "p_adjusted", "missing_p_adjusted"):
        if column in inputs.columns:
            inputs[column] = inputs[column].astype(float).where(~few, float("nan"))
    perf = review.performance
    pos, neg = small(perf["positives"].to_numpy()), small(perf["negatives"].to_numpy())
    performance = _withhold(perf, ("sensitivity", "specificity", "auroc"), pos | neg)
    shadow_mode = review.shadow
    if shadow_mode is not None:
        labelled = small(shadow_mode["positives"].to_numpy()) | small(shadow_mode["negatives"].to_numpy())
        shadow_mode = _withhold(shadow_mode, ("auroc_deployed", "auroc_shadow", "auroc_difference", "oe_ratio",
                                              "calibration_slope", "calibration_in_the_large"), labelled)
        shadow_mode = _withhold(shadow_mode, ("flag_rate_difference", "discordance_rate"),
                                small(shadow_mode["pairs"].to_numpy()))
    return dataclasses.replace(review, calibration=calibration, output=output, performance=performance, input=inputs,
                               shadow=shadow_mode)
