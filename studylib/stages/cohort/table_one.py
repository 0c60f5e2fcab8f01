"""Table 1: baseline characteristics by group, with standardised mean differences and small-cell suppression.

Continuous variables are summarised as mean ± SD or median [IQR] (as declared per variable),
categorical variables and missing values as n (%) of the group (so the levels and the missing row of
a variable add up to 100 %, and no percent reveals a suppressed count through its denominator).
The standardised mean difference (SMD) compares two declared groups (development and validation
data; :mod:`studylib.stats.smd`). Counts from 1 to ``threshold - 1`` are suppressed
(:meth:`TableOne.suppressed`); :mod:`studylib.report.tables.cohort` shows them as ``"<threshold"``.

The numbers are computed with pandas group-bys (one pass per variable) rather than the ``tableone``
package, which is much slower on a million rows and has no small-cell suppression; the tests check
the numbers against ``tableone`` on small frames.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from studylib.plan import Study
from studylib.stats.smd import smd_categorical, smd_from_moments

MISSING = "missing"
CONTINUOUS, CATEGORICAL = "continuous", "categorical"
#: how a continuous variable is summarised
SUMMARIES = ("mean_sd", "median_iqr")


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
        if self.kind == CONTINUOUS and self.summary not in SUMMARIES:
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

    def suppressed(self) -> pd.DataFrame:
        """``cells`` with a ``shown`` column: "value", "primary" (count below threshold), "complement"
        (suppressed so a primary cell cannot be recovered by subtraction) or "group" (group too small).

        A count from 1 to ``threshold - 1`` is primary; when that would let a reader recover it by
        subtracting the other levels from the group size, the next smallest count of the variable is
        a complement. Both results and display tables hide what this marks.
        """
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
        cells = self.suppressed()
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
    >>> round(float(t.cells["sd"].iloc[0]), 2)
    1.87
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
                    value = smd_from_moments(s1["mean"], s1["sd"] ** 2, s2["mean"], s2["sd"] ** 2)
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
    :func:`studylib.stages.cohort.build.comparison_rows`); the smd_between groups come first.
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
