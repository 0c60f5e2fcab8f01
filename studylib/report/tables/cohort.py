"""Reviewer-facing tables of the cohort stage: the step counts, the integrity gates, the missingness
report and Table 1, as strings with small counts suppressed, and the Styler that shows them.

Each function takes the results of :mod:`studylib.stages.cohort` (which compute and suppress) and
returns a DataFrame of strings or a sentence; :func:`styled` turns a DataFrame into the notebook's
HTML-escaped display table. The numbers themselves stay in the stage results and the results JSON.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from studylib import formatting as F
from studylib.judge import suppression
from studylib.report import display
from studylib.report.tables import settings
from studylib.stages.cohort.build import CohortResult
from studylib.stages.cohort.table_one import CONTINUOUS, MISSING, TableOne

#: marks a column missing in more than the declared share of a group
FLAG = "⚠"
_SUMMARY_TEXT = {"mean_sd": "mean ± SD", "median_iqr": "median [IQR]"}
_INDENT = "\u2003"
_VERDICT_STYLE = {"PASS": "color: #0a6b2d; font-weight: bold", "FAIL": "color: #a3161a; font-weight: bold",
                  "NOT CHECKED": "color: #57606a; font-style: italic"}


def styled(frame: pd.DataFrame, *, left=None, caption: str = ""):
    """A display table for the notebook and its HTML renderings: no index, text columns (``left``,
    default the first column) left-aligned, the others right-aligned with tabular digits, verdicts
    coloured (in words as well as colour). Cells and headers are HTML-escaped
    (:func:`studylib.report.display.styler`)."""
    left = [frame.columns[0]] if left is None and len(frame.columns) else list(left or [])
    right = [c for c in frame.columns if c not in left]
    styler = display.styler(frame).hide(axis="index")
    styler = styler.set_table_styles([
        {"selector": "th", "props": [("text-align", "left"), ("vertical-align", "bottom")]},
        {"selector": "caption", "props": [("caption-side", "top"), ("text-align", "left"), ("font-weight", "bold")]},
    ])
    if left:
        styler = styler.set_properties(subset=left, **{"text-align": "left", "vertical-align": "top"})
    if right:
        styler = styler.set_properties(subset=right, **{"text-align": "right", "white-space": "nowrap",
                                                        "font-variant-numeric": "tabular-nums"})
    if "Verdict" in frame.columns:
        styler = styler.map(lambda v: _VERDICT_STYLE.get(v, ""), subset=["Verdict"])
    return styler.set_caption(caption) if caption else styler


def settings_table(study) -> pd.DataFrame:
    """The settings of the cohort stage, each labelled "(default)" when the parameter file did not set it."""
    d = study.data
    window = (f"{d.collection_window[0]} to {d.collection_window[1]}" if d.collection_window
              else "not declared (LEAK-WINDOW not checked)")
    return settings.table([
        ("Missingness flag", settings.given(f"a column missing in more than {F.number(d.missing_flag_percent, 0, tiny=0)}% "
                                            "of a split", d, "missing_flag_percent")),
        ("Shared model inputs across splits (LEAK-INPUTS)",
         settings.given(f"at most {F.number(d.shared_inputs_max_percent, 1, tiny=0)}% of the rows", d,
                        "shared_inputs_max_percent")),
        ("Label time (LEAK-TIME)", d.label_time or "not declared (LEAK-TIME not checked)"),
        ("Collection window (LEAK-WINDOW)", window),
        ("Small-cell threshold", settings.given(f"counts below {study.study.small_cell_threshold} withheld",
                                                study.study, "small_cell_threshold")),
    ])


# --- cohort steps and integrity gates --------------------------------------------------------------

def steps_table(result: CohortResult) -> pd.DataFrame:
    """The step counts formatted for reviewers: one row per step, counts with thousands separators.

    Patients are shown beside rows only when some patient has more than one row.
    """
    per_patient = result.source_rows != result.source_patients or any(
        s.rows_after != s.patients_after for s in result.steps)
    rows = [{"Step": "—", "Criterion": "Locked snapshot", "Rule": "", "Excluded": "",
             "Remaining": _count(result.source_rows, result.source_patients, per_patient)}]
    for s in result.steps:
        rows.append({
            "Step": s.id,
            "Criterion": s.label,
            "Rule": ("keep if " if s.kind == "keep" else "exclude if ") + s.condition,
            "Excluded": _count(s.rows_excluded, s.patients_excluded, per_patient),
            "Remaining": _count(s.rows_after, s.patients_after, per_patient),
        })
    return pd.DataFrame(rows)


def _count(rows: int, patients: int, per_patient: bool) -> str:
    return f"{F.count(rows)} rows ({F.count(patients)} patients)" if per_patient else F.count(rows)


def integrity_table(findings, *, threshold: int = 1) -> pd.DataFrame:
    """The leakage and integrity findings (:func:`studylib.stages.cohort.leakage.check_study`) formatted
    for reviewers: gate, check, rows checked, verdict, offending, detail; ``threshold``: the study's
    small-cell threshold (offending counts and the counts of the detail follow the one rule)."""
    return pd.DataFrame([{
        "Gate": f.id,
        "Check": f.subject,
        "Rows checked": f.scope,
        "Verdict": f.verdict.replace("_", " "),
        "Offending": (suppression.shown_count(f.offending_rows, threshold)
                      if f.applies and f.id not in ("COH-EMPTY", "LEAK-OUTCOME") else ""),
        "Detail": suppression.suppress_text(f.sentence, threshold),
    } for f in findings])


# --- missingness -----------------------------------------------------------------------------------

def missingness_table(table: pd.DataFrame, *, threshold: int, reference=()) -> pd.DataFrame:
    """The missingness report (:func:`studylib.stages.cohort.missingness.report`) as strings: one row per
    column, one column per group, ``"n (p%)"`` with ⚠ when flagged.

    Missing counts from 1 to ``threshold - 1`` show as ``"<threshold"`` (their percent hidden).
    """
    groups = list(dict.fromkeys(table["group"]))
    headers = {g: (f"{g} (reference)" if g in reference else str(g)) for g in groups}
    rows = []
    for column, block in table.groupby("column", sort=False):
        row = {"Column": column}
        for r in block.itertuples(index=False):
            if r.n == 0:
                text = F.UNDEFINED
            elif 0 < r.missing < threshold:
                text = F.fewer_than(threshold)
            elif r.missing == 0:
                text = "0"
            else:
                text = f"{F.count(r.missing)} ({F.percent(r.missing / r.n)})"
            row[headers[r.group]] = text + (f" {FLAG}" if r.flagged else "")
        rows.append(row)
    return pd.DataFrame(rows, columns=["Column", *headers.values()])


def missingness_summary(table: pd.DataFrame, *, flag_percent: float, threshold: int) -> str:
    """One sentence naming the flagged columns and the groups where they are flagged (small counts
    suppressed as in :func:`missingness_table`)."""
    flagged = table[table["flagged"]]
    if flagged.empty:
        return f"No column is missing in more than {flag_percent:g}% of any group."
    parts = []
    for column, block in flagged.groupby("column", sort=False):
        where = ", ".join(f"{r.group} {F.fewer_than(threshold)} values" if r.missing < threshold
                          else f"{r.group} {F.percent(r.missing / r.n, 0)}" for r in block.itertuples(index=False))
        parts.append(f"{column} ({where})")
    return f"{FLAG} Missing in more than {flag_percent:g}% of a group: " + "; ".join(parts) + "."


# --- Table 1 ---------------------------------------------------------------------------------------

def table_one(t: TableOne) -> pd.DataFrame:
    """Table 1 as strings for reviewers: one row per variable (and level), one column per group.

    Counts from 1 to ``threshold - 1`` show as ``"<threshold"`` (their percent hidden); when that
    would let a reader recover such a count by subtracting the other levels from the group size,
    the next smallest count of the variable shows as ``"≥threshold"`` (:meth:`TableOne.suppressed`).
    Continuous summaries of fewer than ``threshold`` values are hidden. A group smaller than the
    threshold shows no cells.

    Examples
    --------
    >>> from studylib.stages.cohort.table_one import Variable, describe
    >>> frame = pd.DataFrame({"g": ["a"] * 6 + ["b"] * 6, "x": range(12)})
    >>> table_one(describe(frame, by="g", variables=(Variable("x", "x", "continuous", "mean_sd"),))).iloc[1, 1]
    '2.50 ± 1.87'
    """
    threshold = t.threshold
    cells = t.suppressed()
    headers = [f"{g} (reference)" if g in t.reference else str(g) for g in t.groups]
    smd_header = f"SMD {t.smd_between[0]} vs {t.smd_between[1]}" if t.smd_between else None
    smd_of = dict(zip(t.smd["variable"], t.smd["smd"])) if len(t.smd) else {}

    def row(label, values, smd=""):
        out = {"Characteristic": label, **dict(zip(headers, values))}
        if smd_header:
            out[smd_header] = smd
        return out

    rows = [row("n", [F.fewer_than(threshold) if 0 < s < threshold else F.count(s) for s in t.sizes])]
    index = {(r.variable, r.level, r.group): r for r in cells.itertuples(index=False)}
    for var in t.variables:
        smd = F.number(smd_of.get(var.column, math.nan), 2) if smd_header else ""
        block = cells[cells["variable"] == var.column]
        if var.kind == CONTINUOUS:
            decimals = _decimals(block, var.summary)
            label = f"{var.label}, {_SUMMARY_TEXT[var.summary]}"
            rows.append(row(label, [_continuous_cell(index.get((var.column, "", g)), var.summary, decimals, threshold)
                                    for g in t.groups], smd))
        else:
            rows.append(row(f"{var.label}, n (%)", ["" for _ in t.groups], smd))
            for level in block.loc[block["level"] != MISSING, "level"].drop_duplicates():
                rows.append(row(_INDENT + str(level), [_count_cell(index.get((var.column, level, g)), threshold)
                                                       for g in t.groups]))
        if (block.loc[block["level"] == MISSING, "count"] > 0).any():
            rows.append(row(_INDENT + "missing, n (%)", [_count_cell(index.get((var.column, MISSING, g)), threshold)
                                                         for g in t.groups]))
    return pd.DataFrame(rows)


def table_one_caption(t: TableOne) -> str:
    """One paragraph explaining Table 1 (summaries, SMD, suppression, reference groups)."""
    parts = [f"Baseline characteristics by {t.by}. Continuous variables as mean ± SD or median "
             "[IQR] of the non-missing values; categorical variables and missing values as n (%) of the group."]
    if t.smd_between:
        parts.append(f"SMD: absolute standardised mean difference between {t.smd_between[0]} and "
                     f"{t.smd_between[1]} (Austin 2009; Yang and Dalton 2012 for categorical "
                     "variables, among non-missing values); above 0.1 is commonly read as a meaningful imbalance.")
    parts.append(f"Counts from 1 to {t.threshold - 1} are shown as \"{F.fewer_than(t.threshold)}\" (small-cell "
                 f"suppression); \"{F.at_least(t.threshold)}\" marks a count hidden so that a suppressed one cannot be "
                 "recovered by subtraction.")
    parts.extend(t.notes)
    return " ".join(parts)


def _decimals(block: pd.DataFrame, summary: str) -> int:
    """Decimals giving about three significant digits for the typical centre of a variable."""
    centres = block.loc[block["level"] == "", "median" if summary == "median_iqr" else "mean"].dropna()
    if centres.empty:
        return 1
    if summary == "median_iqr":
        values = block.loc[block["level"] == "", ["median", "q1", "q3"]].to_numpy(dtype=float)
        values = values[np.isfinite(values)]
        if values.size and np.all(values == np.round(values)):
            return 0
    centre = float(np.median(np.abs(centres)))
    if centre == 0:
        return 2
    return int(min(3, max(0, 2 - math.floor(math.log10(centre)))))


def _continuous_cell(cell, summary: str, decimals: int, threshold: int) -> str:
    """A continuous summary's cell: mean ± SD or median [Q1–Q3], hidden below ``threshold`` values."""
    if cell is None or cell.count == 0:
        return F.UNDEFINED
    if cell.shown == "group" or cell.count < threshold:
        return f"{F.fewer_than(threshold)} values"
    d = decimals
    if summary == "mean_sd":
        return f"{F.number(cell.mean, d)} ± {F.number(cell.sd, d)}"
    return f"{F.number(cell.median, d)} [{F.number(cell.q1, d)}–{F.number(cell.q3, d)}]"


def _count_cell(cell, threshold: int) -> str:
    """A categorical cell: ``n (%)``, or the suppression mark :meth:`TableOne.suppressed` decided."""
    if cell is None:
        return "0"
    if cell.shown == "group":
        return ""
    if cell.shown == "primary":
        return F.fewer_than(threshold)
    if cell.shown == "complement":
        return F.at_least(threshold)
    if cell.count == 0:
        return "0"
    return f"{F.count(cell.count)} ({F.percent(cell.percent / 100)})"
