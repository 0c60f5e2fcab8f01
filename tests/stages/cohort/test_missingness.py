"""Missingness report: counts per column and group, the flag threshold, small-cell suppression."""

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


def test_order_and_display_with_suppression():
    report = missingness.report(_frame(), by="split", order=["val", "dev"], flag_percent=10)
    assert report.group.drop_duplicates().tolist() == ["val", "dev"]
    shown = missingness.display(report, threshold=5, reference=("dev",))
    assert shown.columns.tolist() == ["Column", "val", "dev (reference)"]
    assert shown.set_index("Column").loc["x"].tolist() == ["6 (30.0%) ⚠", "<5"]
    assert shown.set_index("Column").loc["s"].tolist() == ["0", "0"]
    results = missingness.to_results(report, threshold=5).set_index(["column", "group"])
    assert results.loc[("x", "dev"), ["missing", "percent", "suppressed"]].tolist() == [None, None, True]
    assert results.loc[("x", "val"), "missing"] == 6


def test_summary_sentence():
    report = missingness.report(_frame(), by="split", flag_percent=5)
    assert missingness.summary(report, flag_percent=5, threshold=5) == \
        "⚠ Missing in more than 5% of a group: x (dev <5 values, val 30%)."
    clean = missingness.report(_frame(), by="split", columns=["s"], flag_percent=5)
    assert missingness.summary(clean, flag_percent=5, threshold=5) == "No column is missing in more than 5% of any group."
