"""Table 1: baseline characteristics by group, with standardised mean differences and small-cell suppression.

Continuous variables are summarised as mean ± SD or median [IQR] (as declared per variable),
categorical variables and missing values as n (%) of the group (so the levels and the missing row of
a variable add up to 100 %, and no percent reveals a suppressed count through its denominator).
The standardised mean difference (SMD) compares two declared groups (development and validation
data). Counts from 1 to ``threshold - 1`` are shown as ``"<threshold"``; see :meth:`TableOne.display`.

The numbers are computed with pandas group-bys (one pass per variable) rather than the ``tableone``
package, which is much slower on a million rows and has no small-cell suppression; the tests check
the numbers against ``tableone`` on small frames.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from studylib.report import display
from studylib.plan import Study

MISSING = "missing"
CONTINUOUS, CATEGORICAL = "continuous", "categorical"
_SUMMARY_TEXT = {"mean_sd": "mean ± SD", "median_iqr": "median [IQR]"}
_INDENT = "\u2003"


@dataclass(frozen=True)
class Variable:
    """One variable of Table 1."""

    column: str
    label: str
    kind: str  # "continuous" | "categorical"
    summary: str | None = None  # "mean_sd" | "median_iqr" for continuous variables

    def __post_init__(self):
        if self.kind not in (CONTINUOUS, CATEGORICAL):
            raise ValueError(f"variable {self.column}: kind must be continuous or categorical; got {self.kind!r}")
        if self.kind == CONTINUOUS and self.summary not in _SUMMARY_TEXT:
            raise ValueError(f"variable {self.column}: summary must be mean_sd or median_iqr; got {self.summary!r}")


def study_variables(study: Study, columns: pd.Index | None = None, dtypes: pd.Series | None = None) -> tuple[Variable, ...]:
    """The Table 1 variables a study declares (``table_one``), or a default when it declares none.

    The default is every model input feature (``data.features``; numeric columns with more than 10
    distinct values are continuous, median [IQR]) followed by the outcome (categorical).
    ``dtypes`` (a frame's ``dtypes``) is needed only for the default.
    """
    spec = study.table_one
    if spec is not None:
        return tuple(
            [Variable(v.column, v.label or v.column, CONTINUOUS, v.summary or spec.summary) for v in spec.continuous]
            + [Variable(v.column, v.label or v.column, CATEGORICAL) for v in spec.categorical])
    out = []
    for column in study.data.features:
        if dtypes is None or column not in dtypes.index:
            continue
        numeric = pd.api.types.is_numeric_dtype(dtypes[column]) and not pd.api.types.is_bool_dtype(dtypes[column])
        out.append(Variable(column, column, CONTINUOUS if numeric else CATEGORICAL, "median_iqr" if numeric else None))
    out.append(Variable(study.data.outcome, study.data.outcome, CATEGORICAL))
    return tuple(out)


# --- standardised mean differences -----------------------------------------------------------------

def smd_continuous(x1, x2) -> float:
    """Absolute standardised mean difference of a continuous variable between two groups.

    ``|mean1 - mean2| / sqrt((sd1² + sd2²) / 2)`` with sample SDs (ddof 1), missing values ignored.
    NaN when a group has fewer than two values or both SDs are 0 (with equal means).

    References
    ----------
    Austin PC. Balance diagnostics for comparing the distribution of baseline covariates between
    treatment groups in propensity-score matched samples. Stat Med. 2009;28(25):3083-3107.
    doi:10.1002/sim.3697

    Examples
    --------
    >>> round(smd_continuous([1, 2, 3], [2, 3, 4]), 3)
    1.0
    """
    a = pd.Series(x1, dtype="float64").dropna().to_numpy()
    b = pd.Series(x2, dtype="float64").dropna().to_numpy()
    if len(a) < 2 or len(b) < 2:
        return math.nan
    return _smd_from_moments(a.mean(), a.var(ddof=1), b.mean(), b.var(ddof=1))


def _smd_from_moments(m1, v1, m2, v2) -> float:
    pooled = math.sqrt((v1 + v2) / 2)
    if pooled == 0:
        return 0.0 if m1 == m2 else math.inf
    return abs(m1 - m2) / pooled


def smd_categorical(p1, p2) -> float:
    """Standardised mean difference of a categorical variable (k levels) between two groups.

    Yang and Dalton's multivariate form: with the proportions of levels 2..k as vectors ``p1`` and
    ``p2`` and ``S = (S1 + S2) / 2``, where ``Si`` is the multinomial covariance (``p(1 - p)`` on the
    diagonal, ``-p_j p_l`` off it), ``SMD = sqrt((p1 - p2)' S⁻¹ (p1 - p2))``. For two levels it is
    ``|p1 - p2| / sqrt((p1(1 - p1) + p2(1 - p2)) / 2)``. Levels absent from both groups are dropped
    first; NaN when ``S`` is singular (e.g. one level only).

    Parameters
    ----------
    p1, p2
        Proportions of every level (each summing to 1) in the same level order.

    References
    ----------
    Yang D, Dalton JE. A unified approach to measuring the effect size between two groups using SAS.
    SAS Global Forum 2012, paper 335-2012.
    https://support.sas.com/resources/papers/proceedings12/335-2012.pdf

    Examples
    --------
    >>> round(smd_categorical([0.5, 0.5], [0.3, 0.7]), 4)
    0.4170
    """
    p1, p2 = np.asarray(p1, dtype=float), np.asarray(p2, dtype=float)
    present = (p1 > 0) | (p2 > 0)
    p1, p2 = p1[present][1:], p2[present][1:]
    if p1.size == 0:
        return math.nan
    covariance = sum(np.diag(p * (1 - p)) - np.outer(p, p) + np.diag(p * p) for p in (p1, p2)) / 2
    difference = p1 - p2
    try:
        value = float(difference @ np.linalg.solve(covariance, difference))
    except np.linalg.LinAlgError:
        return math.nan
    return math.sqrt(max(value, 0.0))


# --- the table -------------------------------------------------------------------------------------

@dataclass(frozen=True)
class TableOne:
    """Table 1 of one grouping: tidy numbers (unsuppressed), SMDs, and the rules for showing them.

    ``cells`` has one row per (variable, level, group): ``variable`` (column), ``label``, ``kind``,
    ``summary``, ``level`` (categorical level, ``"missing"``, or ``""`` for a continuous summary),
    ``group``, ``n`` (group size), ``count``, ``denominator``, ``percent``, ``mean``, ``sd``,
    ``median``, ``q1``, ``q3``. Quantiles use linear interpolation (Hyndman and Fan type 7).
    """

    by: str
    groups: tuple[str, ...]
    sizes: tuple[int, ...]
    variables: tuple[Variable, ...]
    cells: pd.DataFrame = field(repr=False)
    smd: pd.DataFrame = field(repr=False)  # variable, label, smd
    smd_between: tuple[str, str] | None
    threshold: int
    reference: tuple[str, ...] = ()  # groups shown for comparison that are not in the analysis cohort
    notes: tuple[str, ...] = ()

    # -- suppression ---------------------------------------------------------------------------

    def _suppressed(self) -> pd.DataFrame:
        """``cells`` with a ``shown`` column: "value", "primary" (count below threshold), "complement"
        (suppressed so a primary cell cannot be recovered by subtraction) or "group" (group too small)."""
        t = self.threshold
        cells = self.cells.copy()
        shown = np.where((cells["count"] > 0) & (cells["count"] < t), "primary", "value").astype(object)
        shown[(cells["n"] > 0).to_numpy() & (cells["n"] < t).to_numpy()] = "group"
        cells["shown"] = shown
        categorical = cells[(cells["kind"] == CATEGORICAL) & (cells["shown"] != "group")]
        for _, block in categorical.groupby(["variable", "group"], sort=False):
            primary = block.index[block["shown"] == "primary"]
            if len(primary) == 1:
                others = block[(block["shown"] == "value") & (block["count"] > 0)]
                if len(others):
                    cells.loc[others["count"].idxmin(), "shown"] = "complement"
        return cells

    def to_results(self) -> dict:
        """JSON-ready Table 1 with suppressed counts (and their percents and summaries) set to None."""
        cells = self._suppressed()
        hidden = cells["shown"] != "value"
        for column in ("count", "percent"):
            cells[column] = cells[column].astype(object).where(~hidden, None)
        small = (cells["kind"] == CONTINUOUS) & ((cells["count"].fillna(0) < self.threshold) | hidden)
        for column in ("mean", "sd", "median", "q1", "q3"):
            cells[column] = cells[column].astype(object).where(~small, None)
        n = [None if 0 < s < self.threshold else s for s in self.sizes]
        return {
            "by": self.by,
            "groups": [{"group": g, "n": k, "reference": g in self.reference} for g, k in zip(self.groups, n)],
            "smd_between": list(self.smd_between) if self.smd_between else None,
            "small_cell_threshold": self.threshold,
            "cells": cells.rename(columns={"shown": "suppression"}),
            "smd": self.smd,
            "notes": list(self.notes),
        }

    # -- display -------------------------------------------------------------------------------

    def display(self) -> pd.DataFrame:
        """Table 1 as strings for reviewers: one row per variable (and level), one column per group.

        Counts from 1 to ``threshold - 1`` show as ``"<threshold"`` (their percent hidden); when that
        would let a reader recover such a count by subtracting the other levels from the group size,
        the next smallest count of the variable shows as ``"≥threshold"``. Continuous summaries of fewer
        than ``threshold`` values are hidden. A group smaller than the threshold shows no cells.
        """
        t = self.threshold
        cells = self._suppressed()
        headers = [f"{g} (reference)" if g in self.reference else str(g) for g in self.groups]
        smd_header = f"SMD {self.smd_between[0]} vs {self.smd_between[1]}" if self.smd_between else None
        smd_of = dict(zip(self.smd["variable"], self.smd["smd"])) if len(self.smd) else {}

        def row(label, values, smd=""):
            out = {"Characteristic": label, **dict(zip(headers, values))}
            if smd_header:
                out[smd_header] = smd
            return out

        rows = [row("n", [f"<{t}" if 0 < s < t else f"{s:,}" for s in self.sizes])]
        index = {(r.variable, r.level, r.group): r for r in cells.itertuples(index=False)}
        for var in self.variables:
            smd = _fmt_smd(smd_of.get(var.column, math.nan)) if smd_header else ""
            block = cells[cells["variable"] == var.column]
            if var.kind == CONTINUOUS:
                decimals = _decimals(block, var.summary)
                label = f"{var.label}, {_SUMMARY_TEXT[var.summary]}"
                rows.append(row(label, [_fmt_continuous(index.get((var.column, "", g)), var.summary, decimals, t)
                                        for g in self.groups], smd))
            else:
                rows.append(row(f"{var.label}, n (%)", ["" for _ in self.groups], smd))
                for level in block.loc[block["level"] != MISSING, "level"].drop_duplicates():
                    rows.append(row(_INDENT + str(level), [_fmt_count(index.get((var.column, level, g)), t)
                                                           for g in self.groups]))
            if (block.loc[block["level"] == MISSING, "count"] > 0).any():
                rows.append(row(_INDENT + "missing, n (%)", [_fmt_count(index.get((var.column, MISSING, g)), t)
                                                             for g in self.groups]))
        return pd.DataFrame(rows)

    def caption(self) -> str:
        """One paragraph explaining the table (summaries, SMD, suppression, reference groups)."""
        parts = [f"Baseline characteristics by {self.by}. Continuous variables as mean ± SD or median "
                 "[IQR] of the non-missing values; categorical variables and missing values as n (%) of the group."]
        if self.smd_between:
            parts.append(f"SMD: absolute standardised mean difference between {self.smd_between[0]} and "
                         f"{self.smd_between[1]} (Austin 2009; Yang and Dalton 2012 for categorical "
                         "variables, among non-missing values); above 0.1 is commonly read as a meaningful imbalance.")
        parts.append(f"Counts from 1 to {self.threshold - 1} are shown as \"<{self.threshold}\" (small-cell "
                     f"suppression); \"≥{self.threshold}\" marks a count hidden so that a suppressed one cannot be "
                     "recovered by subtraction.")
        parts.extend(self.notes)
        return " ".join(parts)


def _fmt_smd(value: float) -> str:
    return "—" if value is None or not math.isfinite(value) else f"{value:.2f}"


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


def _fmt_continuous(cell, summary: str, decimals: int, threshold: int) -> str:
    if cell is None or cell.count == 0:
        return "—"
    if cell.shown == "group" or cell.count < threshold:
        return f"<{threshold} values"
    d = decimals
    if summary == "mean_sd":
        sd = "—" if not math.isfinite(cell.sd) else f"{cell.sd:.{d}f}"
        return f"{cell.mean:.{d}f} ± {sd}"
    return f"{cell.median:.{d}f} [{cell.q1:.{d}f}–{cell.q3:.{d}f}]"


def _fmt_count(cell, threshold: int) -> str:
    if cell is None:
        return "0"
    if cell.shown == "group":
        return ""
    if cell.shown == "primary":
        return f"<{threshold}"
    if cell.shown == "complement":
        return f"≥{threshold}"
    if cell.count == 0:
        return "0"
    return f"{cell.count:,} ({cell.percent:.1f}%)"


def _level_text(values: pd.Series) -> pd.Series:
    """Level labels as text; whole-number floats (0.0/1.0 of a column with missing values) as integers."""
    if pd.api.types.is_float_dtype(values.dtype) and np.all(np.mod(values.dropna(), 1) == 0):
        return values.map(lambda v: str(int(v)) if pd.notna(v) else v)
    return values.map(lambda v: v if pd.isna(v) else str(v))


def _sorted_levels(values: pd.Series) -> list:
    levels = values.dropna().unique().tolist()
    try:
        return sorted(levels)
    except TypeError:
        return sorted(levels, key=str)


def describe(frame: pd.DataFrame, *, by: str, variables: tuple[Variable, ...], order=None,
             smd_between: tuple[str, str] | None = None, threshold: int = 5, reference=(), notes=()) -> TableOne:
    """Table 1 of ``frame`` grouped by the column ``by``.

    Parameters
    ----------
    frame
        One row per record; the ``by`` column and every variable's column.
    by
        Grouping column (split or site). Rows with a missing group are left out.
    variables
        The rows of the table, in order.
    order
        Group order; default: sorted group values (only groups with rows appear).
    smd_between
        Two group values whose standardised mean difference is computed per variable; None for none.
        A group without rows gives NaN.
    threshold
        Small-cell threshold (``study.small_cell_threshold``).
    reference, notes
        Groups marked as reference data (not in the analysis cohort) and notes for the caption.

    Returns
    -------
    TableOne

    Notes
    -----
    Quartiles use linear interpolation between order statistics (Hyndman and Fan's definition 7, the
    default of pandas, numpy and R). Categorical levels are sorted; a level absent from a group shows
    as 0. Small-cell suppression is applied when the table is shown or recorded, never to the numbers
    the SMDs are computed from. Suppression is within a variable and group only: a count suppressed
    here may still be derivable from another table of the same cohort (e.g. by-site against by-split
    totals); there is no secondary suppression across tables.

    References
    ----------
    Hyndman RJ, Fan Y. Sample quantiles in statistical packages. Am Stat. 1996;50(4):361-365.
    doi:10.1080/00031305.1996.10473566

    Hundepool A, Domingo-Ferrer J, Franconi L, et al. Statistical Disclosure Control. Wiley; 2012.
    doi:10.1002/9781118348239 (primary and complementary cell suppression, chapter 4).

    Examples
    --------
    >>> frame = pd.DataFrame({"g": ["a"] * 6 + ["b"] * 6, "x": range(12)})
    >>> t = describe(frame, by="g", variables=(Variable("x", "x", "continuous", "mean_sd"),))
    >>> t.display().iloc[1, 1]
    '2.50 ± 1.87'
    """
    groups_present = _sorted_levels(frame[by])
    groups = [g for g in order if g in groups_present] if order is not None else groups_present
    groups += [g for g in groups_present if g not in groups]
    codes = pd.Categorical(frame[by], categories=groups)
    sizes = np.bincount(codes.codes[codes.codes >= 0], minlength=len(groups))
    group_codes = codes.codes
    in_group = group_codes >= 0
    n_groups = len(groups)
    rows = []
    for var in variables:
        series = frame[var.column]
        isna = series.isna().to_numpy()
        missing = np.bincount(group_codes[in_group & isna], minlength=n_groups)
        if var.kind == CONTINUOUS:
            g = series.astype("float64").groupby(codes, observed=False, sort=True)
            stats = pd.DataFrame({"count": g.count(), "mean": g.mean(), "sd": g.std(ddof=1), "median": g.median(),
                                  "q1": g.quantile(0.25), "q3": g.quantile(0.75)})
            for i, group in enumerate(groups):
                s = stats.iloc[i]
                rows.append(dict(variable=var.column, level="", group=group, n=int(sizes[i]), count=int(s["count"]),
                                 denominator=int(sizes[i]),
                                 percent=100 * s["count"] / sizes[i] if sizes[i] else math.nan,
                                 mean=s["mean"], sd=s["sd"], median=s["median"], q1=s["q1"], q3=s["q3"]))
        else:
            levels = _sorted_levels(series)
            names = _level_text(pd.Series(levels, dtype=series.dtype)).tolist() if levels else []
            level_codes = pd.Categorical(series, categories=levels).codes if levels else np.full(len(series), -1)
            valid = in_group & (level_codes >= 0)
            counts = np.bincount(group_codes[valid] * len(levels) + level_codes[valid],
                                 minlength=n_groups * len(levels)).reshape(n_groups, len(levels))
            for i, group in enumerate(groups):
                for j, name in enumerate(names):
                    count = int(counts[i, j])
                    rows.append(dict(variable=var.column, level=name, group=group, n=int(sizes[i]), count=count,
                                     denominator=int(sizes[i]),
                                     percent=100 * count / sizes[i] if sizes[i] else math.nan))
        for i, group in enumerate(groups):
            m = int(missing[i])
            rows.append(dict(variable=var.column, level=MISSING, group=group, n=int(sizes[i]), count=m,
                             denominator=int(sizes[i]), percent=100 * m / sizes[i] if sizes[i] else math.nan))
    columns = ["variable", "label", "kind", "summary", "level", "group", "n", "count", "denominator", "percent",
               "mean", "sd", "median", "q1", "q3"]
    cells = pd.DataFrame(rows, columns=[c for c in columns if c not in ("label", "kind", "summary")])
    meta = pd.DataFrame([(v.column, v.label, v.kind, v.summary) for v in variables],
                        columns=["variable", "label", "kind", "summary"])
    cells = cells.merge(meta, on="variable", how="left")[columns] if len(cells) else pd.DataFrame(columns=columns)
    smd = _smd_table(cells, variables, smd_between, groups)
    return TableOne(by, tuple(groups), tuple(int(s) for s in sizes), tuple(variables), cells, smd,
                    tuple(smd_between) if smd_between else None, threshold, tuple(reference), tuple(notes))


def _smd_table(cells: pd.DataFrame, variables, between, groups) -> pd.DataFrame:
    out = []
    if between is None:
        return pd.DataFrame(columns=["variable", "label", "smd"])
    a, b = between
    for var in variables:
        value = math.nan
        if a in groups and b in groups:
            block = cells[(cells["variable"] == var.column) & (cells["level"] != MISSING)]
            first, second = block[block["group"] == a], block[block["group"] == b]
            if var.kind == CONTINUOUS:
                s1, s2 = first.iloc[0], second.iloc[0]
                if s1["count"] >= 2 and s2["count"] >= 2:
                    value = _smd_from_moments(s1["mean"], s1["sd"] ** 2, s2["mean"], s2["sd"] ** 2)
            else:
                d1, d2 = first["count"].sum(), second["count"].sum()  # the non-missing values
                if d1 and d2:
                    value = smd_categorical(first["count"].to_numpy() / d1, second["count"].to_numpy() / d2)
        out.append({"variable": var.column, "label": var.label, "smd": value})
    return pd.DataFrame(out, columns=["variable", "label", "smd"])


# --- the study's two tables ------------------------------------------------------------------------

def split_order(study: Study) -> tuple[str, str]:
    """The two splits compared by SMD (``table_one.smd_between``; default development, validation),
    which also lead the column order of the by-split tables."""
    return study.table_one.smd_between if study.table_one else ("development", "validation")


def by_split(study: Study, frame: pd.DataFrame, *, reference=(), notes=()) -> TableOne | None:
    """Table 1 by split with the SMD between ``table_one.smd_between`` (default development vs
    validation); None when the study declares no split column.

    ``frame`` holds the analysis cohort plus any reference rows (see
    :func:`studylib.cohort.comparison_rows`); the smd_between groups come first.
    """
    if study.data.split is None:
        return None
    between = split_order(study)
    return describe(frame, by=study.data.split, variables=study_variables(study, dtypes=frame.dtypes),
                    order=list(between), smd_between=between, threshold=study.study.small_cell_threshold,
                    reference=reference, notes=notes)


def by_site(study: Study, cohort: pd.DataFrame) -> TableOne | None:
    """Table 1 of the analysis cohort by site; None when the study declares no site column."""
    if study.data.site is None:
        return None
    return describe(cohort, by=study.data.site, variables=study_variables(study, dtypes=cohort.dtypes),
                    threshold=study.study.small_cell_threshold)


_VERDICT_STYLE = {"PASS": "color: #0a6b2d; font-weight: bold", "FAIL": "color: #a3161a; font-weight: bold",
                  "NOT CHECKED": "color: #57606a; font-style: italic"}


def styled(frame: pd.DataFrame, *, left=None, caption: str = ""):
    """A display table for the notebook and its HTML renderings: no index, text columns (``left``,
    default the first column) left-aligned, the others right-aligned with tabular digits, verdicts
    coloured (in words as well as colour)."""
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
