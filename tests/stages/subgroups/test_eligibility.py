"""Eligibility (minimum n, small cells) and the sample-size hints of subgroups that cannot be judged."""

from __future__ import annotations

from studylib.stages.subgroups import eligibility, metrics
from studylib.stats.sample_size import sample_size
from tests.stages.subgroups.helpers import PLAN, constructed, gate_study, study


def test_sample_size_hint_for_small_subgroup():
    plan = gate_study([])
    table = metrics.metric_table(constructed(), plan)
    hint = eligibility.sample_size_table(table, plan)
    assert list(hint.level) == ["tiny"]
    row = hint.iloc[0]
    assert row.more_positives == row.needed_positives - 8 and row.more_patients > row.more_positives
    overall = table[(table.variable == "overall") & (table.metric == "sensitivity")].estimate.iloc[0]
    assert row.needed_positives == max(20, sample_size(overall, plan.subgroups.interval_width))
    assert "Needs" in eligibility.sample_size_sentence(row, plan)


def test_eligibility_reasons_suppress_small_counts():
    plan = study(PLAN | {"min_positives": 10, "min_negatives": 10})
    assert eligibility.eligibility(0, 0, 0, plan) == "no patients in this subgroup"
    assert eligibility.eligibility(300, 3, 297, plan).startswith("<5 positives and ≥296 negatives; the plan requires")
    assert eligibility.eligibility(300, 40, 260, plan) == ""
    small = study(PLAN | {"min_positives": 2, "min_negatives": 2})
    assert "small-cell threshold" in eligibility.eligibility(300, 3, 297, small)


def test_withheld_levels_protect_levels_and_two_way_intersections():
    """A small class count is not recoverable from the published totals: one more level of the variable
    is withheld; in a two-way intersection, cells in the same row and column of the crossed table."""
    import pandas as pd

    from studylib.stages.subgroups.eligibility import withheld_levels

    rows = [("overall", "all", 500, 100, 400), ("site", "a", 200, 50, 150), ("site", "b", 290, 47, 243),
            ("site", "c", 10, 3, 7)]
    cells = {("M", "young"): (60, 20, 40), ("M", "old"): (10, 9, 1), ("F", "young"): (70, 20, 50),
             ("F", "old"): (60, 30, 30)}
    rows += [("sex × age", f"{a} & {b}", *counts) for (a, b), counts in cells.items()]
    groups = pd.DataFrame(rows, columns=["variable", "level", "n", "positives", "negatives"])
    hidden = withheld_levels(groups, 5)
    assert {level for variable, level in hidden if variable == "site"} == {"c", "b"}  # b: the smaller complement
    # M & old has 1 negative: its row (M) and column (old) of the crossed table need a second withheld cell
    assert {level for variable, level in hidden if variable == "sex × age"} == {"M & young", "M & old", "F & young",
                                                                                "F & old"}
