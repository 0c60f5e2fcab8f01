"""Reviewer tables of the drift review: intervals, small counts suppressed, withheld estimates, triggers."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd

from studylib import formatting
from studylib.judge import triggers
from studylib.report.plots import drift as drift_plots
from studylib.report.tables import drift as drift_tables
from studylib.stages.drift import review as drift
from tests.stages.drift.streams import MONTHLY, TRIGGERS, stream, study


def test_reviewer_tables_format_intervals_and_suppress_small_counts():
    frame = stream(np.random.default_rng(5), 200)
    review = drift.review(frame, study(MONTHLY))
    perf = drift_tables.performance_drift(review.performance, 5)
    assert perf.loc["reference", "AUROC limits"] == "(centre line)"
    output = drift_tables.output_drift(review.output, 5)
    ref = review.output.iloc[0]
    assert output.loc["reference", "mean predicted risk"] == formatting.interval(
        ref["mean_score"], ref["mean_score_lower"], ref["mean_score_upper"])
    assert re.fullmatch(r"\d\.\d{3} \(\d\.\d{3}–\d\.\d{3}\)", output.loc["reference", "mean predicted risk"])
    shown = drift_tables.input_drift(review.input, alpha=0.05, threshold=5)
    assert set(shown.index.get_level_values(0)) == {"x1", "x2", "cat"}
    assert all(p == formatting.p_value(q) for p, q in zip(shown["p"], review.input["p_value"]))
    windows = drift_tables.windows(pd.DataFrame({"window": ["a", "b", "c"], "values": ["", "", ""], "n": [0, 1234, 9],
                                                 "labelled": [0, 1000, 9], "events": [0, 3, 7]}), 5)
    assert windows["rows"].tolist() == ["0 (empty window)", "1,234", "9"]
    assert windows["events"].tolist() == ["0", "<5", "7"]


def test_estimates_that_would_disclose_a_small_cell_are_withheld():
    calibration = pd.DataFrame([
        {"window": "2002", "labelled": 45, "events": 1, "expected": 3.0, "oe_ratio": 0.33, "oe_ratio_lower": 0.01,
         "oe_ratio_upper": 1.8, "calibration_in_the_large": -1.2, "calibration_in_the_large_lower": -3.3,
         "calibration_in_the_large_upper": 0.8, "calibration_slope": 2.0, "calibration_slope_lower": -0.5,
         "calibration_slope_upper": 4.6, "reason": ""},
        {"window": "2003", "labelled": 202, "events": 10, "expected": 7.3, "oe_ratio": 1.37, "oe_ratio_lower": 0.66,
         "oe_ratio_upper": 2.5, "calibration_in_the_large": 0.35, "calibration_in_the_large_lower": -0.3,
         "calibration_in_the_large_upper": 1.0, "calibration_slope": 1.1, "calibration_slope_lower": 0.4,
         "calibration_slope_upper": 1.9, "reason": ""},
    ])
    shown = drift_tables.calibration_drift(calibration, 5)
    assert shown.loc["2002", "observed events"] == "<5"
    assert (shown.loc["2002", ["O/E ratio", "calibration-in-the-large", "calibration slope"]] == "withheld").all()
    assert shown.loc["2003", "O/E ratio"].startswith("1.370")


def test_figures_get_small_cell_estimates_withheld():
    frame = stream(np.random.default_rng(5), 200)
    review = drift.review(frame, study(MONTHLY))
    shown = drift_tables.suppressed(review, 10_000)  # every count is "small": every disclosive estimate goes
    assert shown.calibration["oe_ratio"].isna().all() and shown.performance["auroc"].isna().all()
    assert shown.output["alert_rate"].isna().all()
    assert not review.calibration["oe_ratio"].isna().all()  # the review itself is untouched
    kept = drift_tables.suppressed(review, 1)  # a threshold of 1 suppresses nothing
    pd.testing.assert_frame_equal(kept.calibration, review.calibration, check_dtype=False)


def test_triggers_table_names_the_action():
    frame = stream(np.random.default_rng(22), 800, shift_from=8, score_shift=1.5)
    plan = study({**MONTHLY, "triggers": [TRIGGERS["psi"], TRIGGERS["auroc"]]})
    review = drift.review(frame, plan)
    judged = triggers.judge_triggers(review.statistics, review.monitoring_labels, plan)
    table = drift_tables.triggers_table(judged, plan)
    assert table.loc["T-psi", "status"] == "FIRED" and table.loc["T-psi", "action"] == "investigate"
    assert table.loc["T-psi", "Blocks"] == "no" and table.loc["T-psi", "Can block"] == "no"


def test_triggers_table_of_a_plan_without_triggers_is_empty_with_its_columns():
    table = drift_tables.triggers_table([], study(MONTHLY))
    assert table.empty and list(table.columns) == ["rule", "status", "estimate", "evidence", "action", "Blocks", "Can block"]
    assert table.index.name == "trigger"


def test_psi_is_shown_beside_its_value_without_drift_and_small_windows_get_no_band():
    """Issue 13 item 2: each PSI has the simulated PSI of a window of its size without drift beside it,
    and a window below drift.min_rows is never labelled a significant shift."""
    frame = stream(np.random.default_rng(5), 200)
    frame = frame[~((frame.month == "2024-09") & (frame.index % 200 >= 40))]  # 40 rows in September
    review = drift.review(frame, study(MONTHLY))
    shown = drift_tables.input_drift(review.input, alpha=0.05, threshold=5)
    cell = shown.loc[("x1", "2024-09"), "PSI without drift"]
    assert re.fullmatch(r"\d\.\d{3} \(95%: \d\.\d{3}\)", cell), cell
    row = review.input.set_index(["feature", "window"]).loc[("x1", "2024-09")]
    assert row.psi_null_mean < row.psi_null_95 and 0.1 < row.psi_null_mean < 0.4  # ~ (1/40 + 1/1200) * 9, smoothed
    assert shown.loc[("x1", "2024-09"), "PSI band"] == "too few rows"
    assert "significant" not in set(shown.xs("2024-09", level="window")["PSI band"])
    large = review.input.set_index(["feature", "window"]).loc[("x1", "2024-08")]
    assert large.psi_null_95 < 0.1  # 200 rows: the null is small
    output = drift_tables.output_drift(review.output, 5)
    assert output.loc["2024-09", "PSI band"] == "too few rows" and "95%" in output.loc["2024-08", "PSI without drift"]
    fig = drift_plots.heatmap(review.input, review.output, min_rows=100)
    texts = [t.get_text() for t in fig.axes[0].texts]
    assert sum("†" in t for t in texts) == 4 and "† fewer than 100 values: no band" in fig.axes[0].get_title()


def test_settings_say_which_values_came_from_defaults():
    """Issue 13 item 11: the drift page labels the plan's defaults (min_rows 100 (default), PSI bins 10
    (default), interval level 95% (default)) and not the values the parameter file set."""
    table = drift_tables.settings_table(study({**MONTHLY, "bins": 5, "min_events": 20}))["Value"]
    assert table["PSI bins (quantiles of the reference)"] == "5"
    assert table["Minimum events per window"] == "20"
    assert table["Minimum values per window (PSI band, PSI triggers)"] == "100 (default)"
    assert table["KS bins (fine reference quantiles)"] == "500 (default)"
    assert table["Multiplicity adjustment of the input-drift p-values"] == "holm (analysis.multiplicity)"
    assert table["Interval level"] == "95% (two-sided) (default)"
