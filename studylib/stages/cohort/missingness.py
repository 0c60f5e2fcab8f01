"""Missingness report: per column and group (split), how many values are missing, flagged over a threshold.

The report is data; :mod:`studylib.report.tables.cohort` writes it for reviewers.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd


def report(frame: pd.DataFrame, *, by: str | None = None, columns=None, flag_percent: float = 10.0,
           order=None) -> pd.DataFrame:
    """Count and percent of missing values per column and group.

    Parameters
    ----------
    frame
        The rows to describe.
    by
        Grouping column (e.g. the split); None for one group ``"all"``. Rows with a missing group are
        left out.
    columns
        Columns to report, in order; default every column of ``frame`` except ``by``.
    flag_percent
        A column is flagged in a group when more than this percent of the group's values are missing.
    order
        Group order; default sorted (only groups with rows appear).

    Returns
    -------
    pandas.DataFrame
        One row per (column, group): ``column``, ``group``, ``n``, ``missing``, ``percent``,
        ``flagged``. ``percent`` is NaN for an empty group.

    Examples
    --------
    >>> frame = pd.DataFrame({"s": ["a", "a", "b"], "x": [1.0, None, None]})
    >>> report(frame, by="s")[["column", "group", "missing", "flagged"]].values.tolist()
    [['x', 'a', 1, True], ['x', 'b', 1, True]]
    """
    columns = [c for c in (columns if columns is not None else frame.columns) if c != by]
    if by is None:
        groups, codes = ["all"], np.zeros(len(frame), dtype=np.int64)
    else:
        present = frame[by].dropna().unique().tolist()
        try:
            present = sorted(present)
        except TypeError:
            present = sorted(present, key=str)
        groups = [g for g in order if g in present] if order is not None else []
        groups += [g for g in present if g not in groups]
        codes = pd.Categorical(frame[by], categories=groups).codes.astype(np.int64)
    inside = codes >= 0
    sizes = np.bincount(codes[inside], minlength=len(groups))
    rows = []
    for column in columns:
        missing = np.bincount(codes[inside & frame[column].isna().to_numpy()], minlength=len(groups))
        for i, group in enumerate(groups):
            n, m = int(sizes[i]), int(missing[i])
            percent = 100.0 * m / n if n else math.nan
            rows.append({"column": column, "group": group, "n": n, "missing": m, "percent": percent,
                         "flagged": bool(n and percent > flag_percent)})
    return pd.DataFrame(rows, columns=["column", "group", "n", "missing", "percent", "flagged"])


def to_results(table: pd.DataFrame, *, threshold: int) -> pd.DataFrame:
    """The report for the results JSON: missing counts from 1 to ``threshold - 1`` (and their percents)
    set to None (small-cell suppression)."""
    out = table.copy()
    small = (out["missing"] > 0) & (out["missing"] < threshold)
    out["missing"] = out["missing"].astype(object).where(~small, None)
    out["percent"] = out["percent"].astype(object).where(~small, None)
    out["suppressed"] = small
    return out
