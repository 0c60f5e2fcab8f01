"""Missingness report: counts per column and group, the flag threshold, small-cell suppression (the text of
the report in ``tests/report/test_tables_cohort.py``)."""

import numpy as np
import pandas as pd

from studylib.stages.cohort import missingness


def _frame():
    return pd.DataFrame({
        "split": ["dev"] * 10 + ["val"] * 20 + [None],
        "x": [np.nan] * 1 + [1.0] * 9 + [np.nan] * 6 + [1.0] * 14 + [np.nan],
        "s": ["a"] * 30 + [None],
    })


def test_counts_percent_and_flags_known_answer():
    report = missingness.report(_frame(), by="split", flag_percent=10)
    assert report.columns.tolist() == ["column", "group", "n", "missing", "percent", "flagged"]
    rows = report.set_index(["column", "group"])
    assert rows.loc[("x", "dev")].tolist() == [10, 1, 10.0, False]  # exactly 10 %: not above the threshold
    assert rows.loc[("x", "val")].tolist() == [20, 6, 30.0, True]
    assert rows.loc[("s", "val"), "missing"] == 0  # the row without a split is left out
    whole = missingness.report(_frame(), columns=["x"])
    assert whole.values.tolist() == [["x", "all", 31, 8, 100 * 8 / 31, True]]


def test_order_and_results_with_suppression():
    report = missingness.report(_frame(), by="split", order=["val", "dev"], flag_percent=10)
    assert report.group.drop_duplicates().tolist() == ["val", "dev"]
    results = missingness.to_results(report, threshold=5).set_index(["column", "group"])
    assert results.loc[("x", "dev"), ["missing", "percent", "suppressed"]].tolist() == [None, None, True]
    assert results.loc[("x", "val"), "missing"] == 6
    assert not results.loc[("x", "val"), "suppressed"] and not results.loc[("s", "dev"), "suppressed"]  # 0 is shown
