"""Reviewer tables of the drift review: rounded numbers, intervals as "0.80 (0.75–0.84)", small counts
suppressed as "<N" (``study.small_cell_threshold``), undefined values as "–" with the reason.

Pure functions from the tables of :class:`studylib.stages.drift.review.DriftReview` (and the trigger
gates of :func:`studylib.judge.triggers.judge_triggers`) to display DataFrames; the machine-readable
results keep the full precision.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from studylib.data.scan import REFERENCE
from studylib.judge import gates
from studylib.judge.suppression import format_count as fmt_count, is_small  # the study's one small-cell rule
from studylib.plan import Study


def fmt(x, digits: int = 3) -> str:
    """A number rounded for reviewers; "–" when undefined."""
    try:
        x = float(x)
    except (TypeError, ValueError):
        return "–"
    return f"{x:.{digits}f}" if math.isfinite(x) else "–"


def fmt_ci(est, lower, upper, digits: int = 3) -> str:
    """``0.800 (0.750–0.840)``; the estimate alone when the interval is undefined; "–" when undefined."""
    if not math.isfinite(float(est)):
        return "–"
    if not (math.isfinite(float(lower)) and math.isfinite(float(upper))):
        return fmt(est, digits)
    return f"{fmt(est, digits)} ({fmt(lower, digits)}–{fmt(upper, digits)})"


def fmt_p(p) -> str:
    """A p-value: "<0.001" below 0.001, three decimals otherwise, "–" when the test was not done."""
    p = float(p)
    if not math.isfinite(p):
        return "–"
    return "<0.001" if p < 0.001 else f"{p:.3f}"


WITHHELD = "withheld"


def _ci(row, name: str, digits: int = 3) -> str:
    return fmt_ci(row[name], row[f"{name}_lower"], row[f"{name}_upper"], digits)


def windows(table: pd.DataFrame, threshold: int) -> pd.DataFrame:
    """The windows: what each holds, rows, labelled rows and events."""
    return pd.DataFrame({
        "window": table["window"], "values": table["values"],
        "rows": [("0 (empty window)" if n == 0 else f"{n:,}") for n in table["n"]],
        "with outcome": [f"{n:,}" for n in table["labelled"]],
        "events": [fmt_count(e, threshold) for e in table["events"]],
    }).set_index("window")


def input_drift(table: pd.DataFrame, *, alpha: float) -> pd.DataFrame:
    """Input drift per feature and window."""
    rows = []
    for r in table.to_dict(orient="records"):
        test = "KS D" if r["test"] == "ks" else "chi-square"
        stat = fmt(r["statistic"]) if r["test"] != "ks" or not math.isfinite(r["ks_upper"]) else (
            f"{fmt(r['statistic'])} (≤ {fmt(r['ks_upper'])})")
        rows.append({
            "feature": r["feature"], "window": r["window"], "n": f"{r['n']:,}",
            "PSI": fmt(r["psi"]), "PSI band": r["psi_band"] or "–", "test": test, "statistic": stat,
            "p": fmt_p(r["p_value"]), "adjusted p": fmt_p(r["p_adjusted"]),
            f"adj. p < {alpha:g}": "yes" if r["p_adjusted"] < alpha else "",
            "missing (reference → window)": (f"{100 * r['missing_reference']:.1f}% → {100 * r['missing_rate']:.1f}%"
                                             if math.isfinite(r["missing_rate"]) else "–"),
            "change (CI)": fmt_ci(100 * r["missing_change"], 100 * r["missing_change_lower"],
                                  100 * r["missing_change_upper"], 1) + (" pp" if math.isfinite(r["missing_change"]) else ""),
            "adj. p (missing)": fmt_p(r["missing_p_adjusted"]),
            "note": r["reason"],
        })
    columns = ["feature", "window", "n", "PSI", "PSI band", "test", "statistic", "p", "adjusted p",
               f"adj. p < {alpha:g}", "missing (reference → window)", "change (CI)", "adj. p (missing)", "note"]
    return pd.DataFrame(rows, columns=columns).set_index(["feature", "window"])


def output_drift(table: pd.DataFrame, threshold: int) -> pd.DataFrame:
    """Output drift per window: score PSI/KS, mean predicted risk and alert rate with intervals."""
    rows = []
    for r in table.to_dict(orient="records"):
        ref = r["window"] == REFERENCE
        rows.append({
            "window": r["window"], "scored": f"{r['n']:,}",
            "PSI": "(reference)" if ref else fmt(r["psi"]), "PSI band": "" if ref else (r["psi_band"] or "–"),
            "KS D": "" if ref else fmt(r["ks"]), "adjusted p": "" if ref else fmt_p(r["p_adjusted"]),
            "mean predicted risk": _ci(r, "mean_score"), "alerts": fmt_count(r["alerts"], threshold),
            "alert rate": WITHHELD if is_small(r["alerts"], threshold) else _ci(r, "alert_rate"),
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
            "window": r["window"], "with outcome": f"{r['labelled']:,}",
            "observed events": fmt_count(r["events"], threshold), "expected events": fmt(r["expected"], 1),
            "O/E ratio": WITHHELD if small else _ci(r, "oe_ratio"),
            "calibration-in-the-large": WITHHELD if small else _ci(r, "calibration_in_the_large"),
            "calibration slope": WITHHELD if small else _ci(r, "calibration_slope"),
            "note": r.get("reason", "") or "",
        })
    return pd.DataFrame(rows).set_index("window")


def performance_drift(table: pd.DataFrame, threshold: int) -> pd.DataFrame:
    """Performance per window with the control limits and signals."""
    rows = []
    for i, r in enumerate(table.to_dict(orient="records")):
        row = {"window": r["window"], "positives": fmt_count(r["positives"], threshold),
               "negatives": fmt_count(r["negatives"], threshold)}
        hidden = {"sensitivity": is_small(r["positives"], threshold), "specificity": is_small(r["negatives"], threshold)}
        hidden["auroc"] = hidden["sensitivity"] or hidden["specificity"]
        for name, label in (("auroc", "AUROC"), ("sensitivity", "sensitivity"), ("specificity", "specificity")):
            row[label] = WITHHELD if hidden[name] else _ci(r, name)
            row[f"{label} limits"] = ("(centre line)" if i == 0 else
                                      f"{fmt(r[f'{name}_cl_lower'])}–{fmt(r[f'{name}_cl_upper'])}"
                                      if math.isfinite(r[f"{name}_cl_lower"]) else "–")
            if i > 0 and r[f"{name}_signal"]:
                row[f"{label} limits"] += " SIGNAL"
        row["note"] = r.get("reason", "") or ""
        rows.append(row)
    return pd.DataFrame(rows).set_index("window")


def triggers_table(judged: list[gates.Gate], study: Study) -> pd.DataFrame:
    """The triggers as reviewers read them: rule, fired or not, evidence, declared action, blocking."""
    actions = {t.id: t.action for t in study.drift.triggers}
    rows = []
    for gate in judged:
        state = {gates.FAIL: "FIRED", gates.PASS: "not fired", gates.INSUFFICIENT: "not judged"}[gate.verdict]
        action = actions.get(gate.id, "")
        rows.append({"trigger": gate.id, "rule": gate.rule, "status": state, "evidence": gate.sentence,
                     "action": action.replace("_", " "),
                     "blocks release": "yes" if gate.verdict == gates.FAIL and gate.blocks else "no"})
    columns = ["trigger", "rule", "status", "evidence", "action", "blocks release"]
    return pd.DataFrame(rows, columns=columns).set_index("trigger")


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
    when positives or negatives are)."""
    import dataclasses

    def small(counts) -> np.ndarray:
        return np.array([is_small(c, threshold) for c in counts], dtype=bool)

    cal = review.calibration
    cal_mask = small(cal["events"].to_numpy()) | small((cal["labelled"] - cal["events"]).to_numpy())
    calibration = _withhold(cal, ("observed_rate", "oe_ratio", "calibration_in_the_large", "calibration_slope"),
                            cal_mask)
    output = _withhold(review.output, ("alert_rate",), small(review.output["alerts"].to_numpy()))
    perf = review.performance
    pos, neg = small(perf["positives"].to_numpy()), small(perf["negatives"].to_numpy())
    performance = _withhold(_withhold(_withhold(perf, ("sensitivity",), pos), ("specificity",), neg),
                            ("auroc",), pos | neg)
    return dataclasses.replace(review, calibration=calibration, output=output, performance=performance)
