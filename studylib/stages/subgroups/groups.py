"""Subgroups: the levels of the plan's variables (values or bands) and of their declared intersections.

Subgroups are the levels of the plan's variables (a column's values, or bands ``[a, b)`` between cut
points) and of their declared intersections (e.g. sex × age band), plus the whole analysed cohort as the
``overall`` row.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from studylib.plan import Study, SubgroupVariable

#: variable and level of the row holding the whole analysed cohort
OVERALL, ALL = "overall", "all"


@dataclass(frozen=True, eq=False)
class Subgroup:
    """One subgroup: its variable (``"sex"``, ``"sex × age_band"`` or ``"overall"``), level and rows."""

    variable: str
    level: str
    rows: np.ndarray = field(repr=False)  # positions in the analysed frame, ascending

    @property
    def n(self) -> int:
        return int(self.rows.size)


def levels(frame: pd.DataFrame, variable: SubgroupVariable) -> pd.Series:
    """The subgroup level of each row, as an ordered categorical Series.

    Without cut points: the column's values as text (whole-number floats without ``.0``), levels sorted.
    With cut points: the band ``[a, b)`` holding the value, named by ``labels`` or ``[a, b)`` by default,
    levels in cut order. Rows with a missing value, or outside the cut points, get a missing level and
    join no subgroup of this variable (counted by :func:`unassigned_table`).
    """
    column = frame[variable.column]
    if variable.cut is None:
        if pd.api.types.is_float_dtype(column):
            present = column.dropna()
            if len(present) and bool((present == np.floor(present)).all()):
                column = column.astype("Int64")
        values = column.astype("string")
        categories = sorted(values.dropna().unique())
        return pd.Series(pd.Categorical(values, categories=categories, ordered=True), index=frame.index,
                         name=variable.name)
    banded = pd.cut(column.astype(float), bins=list(variable.cut), right=False, labels=list(variable.band_labels))
    return pd.Series(banded, index=frame.index, name=variable.name)


def _codes(frame: pd.DataFrame, study: Study) -> dict[str, tuple[np.ndarray, list[str]]]:
    """Variable name → (level code of every row, −1 for none; level names)."""
    out = {}
    for variable in study.subgroups.variables:
        values = levels(frame, variable)
        out[variable.name] = (values.cat.codes.to_numpy(dtype=np.int64), [str(c) for c in values.cat.categories])
    return out


def intersection_name(combo) -> str:
    """The variable name of an intersection, e.g. ``"sex × age_band"``."""
    return " × ".join(combo)


def subgroups(frame: pd.DataFrame, study: Study) -> list[Subgroup]:
    """The overall row, then every level of every variable, then every cell of every intersection.

    Intersection cells are all combinations of levels, including empty ones (n = 0), which are reported
    as INSUFFICIENT_EVIDENCE rather than silently left out.
    """
    out = [Subgroup(OVERALL, ALL, np.arange(len(frame)))]
    codes = _codes(frame, study)
    for variable in study.subgroups.variables:
        code, names = codes[variable.name]
        out += [Subgroup(variable.name, name, np.flatnonzero(code == k)) for k, name in enumerate(names)]
    for combo in study.subgroups.intersections:
        combined = np.zeros(len(frame), dtype=np.int64)
        missing = np.zeros(len(frame), dtype=bool)
        sizes = []
        for name in combo:
            code, names = codes[name]
            combined = combined * len(names) + code
            missing |= code < 0
            sizes.append(len(names))
        combined[missing] = -1
        for k, cell in enumerate(itertools.product(*(codes[name][1] for name in combo))):
            out.append(Subgroup(intersection_name(combo), " & ".join(cell), np.flatnonzero(combined == k)))
    return out


def unassigned_table(frame: pd.DataFrame, study: Study) -> pd.DataFrame:
    """Per variable: rows with no level (missing value or outside the cut points)."""
    rows = []
    for variable in study.subgroups.variables:
        values = levels(frame, variable)
        rows.append({"variable": variable.name, "column": variable.column, "missing": int(values.isna().sum())})
    return pd.DataFrame(rows, columns=["variable", "column", "missing"])
