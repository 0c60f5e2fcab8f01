"""Levels and subgroups: bands, labels, missing values, whole-number floats, empty intersection cells."""

from __future__ import annotations

import numpy as np
import pandas as pd

from studylib import plan
from studylib.stages.subgroups import groups
from tests.stages.subgroups import helpers


def test_levels_bands_labels_and_missing():
    frame = pd.DataFrame({"age": [49, 50, 59.9, 60, 89, 90, 120, np.nan]})
    banded = groups.levels(frame, plan.SubgroupVariable(name="a", column="age", cut=(50, 60, 90, float("inf"))))
    assert list(banded.cat.categories) == ["[50, 60)", "[60, 90)", "≥ 90"]
    assert banded.astype(object).where(banded.notna(), None).tolist() == [
        None, "[50, 60)", "[50, 60)", "[60, 90)", "[60, 90)", "≥ 90", "≥ 90", None]
    labelled = groups.levels(frame, plan.SubgroupVariable(name="a", column="age", cut=(50, 60, 90),
                                                          labels=("50-59", "60-89")))
    assert list(labelled.cat.categories) == ["50-59", "60-89"]


def test_levels_of_whole_number_floats_read_as_integers():
    frame = pd.DataFrame({"grade": [3.0, 1.0, np.nan, 2.0]})
    values = groups.levels(frame, plan.SubgroupVariable(name="g", column="grade"))
    assert list(values.cat.categories) == ["1", "2", "3"]


def test_subgroups_include_empty_intersection_cells():
    frame = helpers.frame()
    frame.loc[(frame.sex == "M") & (frame.site == "C"), "site"] = "A"  # no M at site C
    study = helpers.study(helpers.PLAN)
    found = groups.subgroups(frame, study)
    names = [(g.variable, g.level) for g in found]
    assert names[0] == ("overall", "all")
    assert ("sex × site", "M & C") in names
    empty = next(g for g in found if (g.variable, g.level) == ("sex × site", "M & C"))
    assert empty.n == 0
    # every level of a variable is a disjoint subset; together they cover the rows that have a level
    sexes = [g for g in found if g.variable == "sex"]
    assert sum(g.n for g in sexes) == len(frame)
    grades = [g for g in found if g.variable == "grade"]
    assert sum(g.n for g in grades) == int(frame.grade.notna().sum())


def test_unassigned_counts_rows_without_a_level():
    frame = helpers.frame()
    table = groups.unassigned_table(frame, helpers.study(helpers.PLAN))
    missing = table.set_index("variable")["missing"]
    assert missing["grade"] == int(frame.grade.isna().sum()) > 0
    assert missing["age_band"] == int(((frame.age < 50) | (frame.age >= 95)).sum())
    assert missing["sex"] == 0
