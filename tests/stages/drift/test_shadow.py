"""Shadow mode per window from the engine's aggregates, checked against the row-level statistics."""

from __future__ import annotations

import math

import numpy as np
import pytest

from studylib import stats
from studylib.data import engine, reduce
from studylib.stages.drift import labelled, shadow
from studylib.stats.calibration import logistic_recalibration
from tests.data.test_reduce import fleet


@pytest.fixture(scope="module")
def aggregates():
    frame = fleet()
    duck = engine.connect("duckdb")
    try:
        table = duck.table(frame)
        paired = reduce.paired_sums(table, window="month", score_a="shadow", score_b="deployed", outcome="y")
        flags = reduce.flag_counts(table, window="month", score_a="shadow", score_b="deployed", outcome="y",
                                   threshold=0.5)
        counts = reduce.score_counts(table, window="month", score="shadow", outcome="y")
    finally:
        duck.close()
    rename = {"month": "window"}
    return frame, paired.rename(columns=rename), flags.rename(columns=rename), counts.rename(columns=rename)


def _fits(counts):
    out = {}
    lab = counts[counts.score.notna() & counts.outcome.notna()]
    for w, part in lab.groupby("window"):
        wide = part.pivot_table(index="score", columns="outcome", values="n", aggfunc="sum", fill_value=0)
        out[int(w)] = labelled.fit_from_counts(wide.index.to_numpy(float), wide[1.0].to_numpy(), wide[0.0].to_numpy(),
                                               0.5, 0.05, "wilson")
    return out


def test_shadow_table_equals_row_statistics(aggregates):
    frame, paired, flags, counts = aggregates
    table = shadow.shadow_table(["1", "2", "3"], paired, flags, _fits(counts), margin=0.05, alpha=0.05, ci="wilson",
                                min_events=10, min_non_events=10, min_rows=100)
    for month in (1, 2, 3):
        row = table.iloc[month - 1]
        part = frame[frame.month == month]
        both = part[part.shadow.notna() & part.deployed.notna()]
        lab = both[both.y.notna()]
        test = stats.delong_test(lab.y.to_numpy(int), lab.shadow.to_numpy(), lab.deployed.to_numpy())
        assert row.auroc_difference == pytest.approx(test.diff, abs=1e-12)
        assert row.auroc_difference_lower == pytest.approx(test.lower, abs=1e-9)
        assert row.difference_p == pytest.approx(test.p_value, abs=1e-9)
        assert row.non_inferior == (test.lower > -0.05)
        mc = stats.mcnemar((both.shadow >= 0.5).to_numpy(), (both.deployed >= 0.5).to_numpy())
        assert row.mcnemar_p == pytest.approx(mc.p_value, abs=1e-12)
        assert (row.shadow_only, row.deployed_only, row.pairs) == (mc.b, mc.c, len(both))
        assert row.flag_rate_difference_lower == pytest.approx(mc.difference.lower, abs=1e-12)
        assert row.discordance_rate == pytest.approx((mc.b + mc.c) / len(both))
        # the shadow's calibration from counts equals the row fit
        shadow_lab = part[part.shadow.notna() & part.y.notna()]
        citl, slope = logistic_recalibration(shadow_lab.y.to_numpy(int), shadow_lab.shadow.to_numpy(), alpha=0.05)
        assert row.calibration_slope == pytest.approx(slope.estimate, abs=1e-6)
        assert row.calibration_in_the_large == pytest.approx(citl.estimate, abs=1e-6)


def test_fit_from_counts_equals_fit_of_rows():
    rng = np.random.default_rng(3)
    p = rng.integers(1, 99, 800) / 100
    y = (rng.random(800) < p).astype(int)
    rows = labelled._fit_window(y, p, 0.3, 0.05, "wilson", "delta-log")
    values, inverse = np.unique(p, return_inverse=True)
    pos, neg = np.bincount(inverse, weights=y).astype(int), np.bincount(inverse, weights=1 - y).astype(int)
    counts = labelled.fit_from_counts(values, pos, neg, 0.3, 0.05, "wilson")
    for key in ("citl", "slope", "oe", "auroc"):
        assert counts[key].estimate == pytest.approx(rows[key].estimate, abs=1e-8), key
        assert counts[key].lower == pytest.approx(rows[key].lower, abs=1e-6), key
    assert counts["binary"].sensitivity.estimate == pytest.approx(rows["binary"].sensitivity.estimate)
    assert counts["binary"].specificity.upper == pytest.approx(rows["binary"].specificity.upper)


def test_small_window_is_not_judged(aggregates):
    frame, paired, flags, counts = aggregates
    table = shadow.shadow_table(["1", "2", "3"], paired, flags, _fits(counts), margin=0.05, alpha=0.05, ci="wilson",
                                min_events=10_000, min_non_events=10, min_rows=100_000)
    assert table.non_inferior.isna().all()
    long = shadow.statistics(table, table[["window"]].assign(alert_rate=0.1, alert_rate_lower=0.05,
                                                              alert_rate_upper=0.2),
                             min_events=10_000, min_non_events=10, min_rows=100_000)
    reasons = {r["statistic"]: r["reason"] for r in long if r["window"] == "1"}
    assert "fewer than 10,000 events" in reasons["auroc_difference"] or "fewer than 10000 events" in reasons["auroc_difference"]
    assert "drift.min_rows" in reasons["mcnemar_p"]


def test_mcnemar_from_counts_equals_rows():
    a = np.array([1] * 8 + [0] * 2 + [1] * 5 + [0] * 3)
    b = np.array([0] * 8 + [1] * 2 + [1] * 5 + [0] * 3)
    rows = stats.mcnemar(a, b)
    counts = stats.mcnemar_from_counts(5, 8, 2, 3)
    assert counts.p_value == rows.p_value == pytest.approx(0.06543, abs=1e-5)
    assert counts.difference == rows.difference
    assert math.isclose(counts.difference.estimate, 6 / 18)


def test_a_window_without_labelled_rows_is_insufficient_evidence(aggregates):
    from pathlib import Path

    from studylib import plan
    from studylib.judge import gates, triggers

    frame, paired, flags, counts = aggregates
    paired = paired[paired.window != 3]  # window 3: no labelled case (label delay)
    flags = flags.assign(outcome=np.where(flags.window == 3, np.nan, flags.outcome))
    fits = {k: v for k, v in _fits(counts).items() if k != 3}
    table = shadow.shadow_table(["1", "2", "3"], paired, flags, fits, margin=0.05, alpha=0.05, ci="wilson",
                                min_events=10, min_non_events=10, min_rows=100)
    assert table.loc[2, "reason"] == "no labelled case scored by both models"
    assert table.loc[2, "pairs"] > 0 and math.isfinite(table.loc[2, "mcnemar_p"])  # flags need no label
    long = shadow.statistics(table, table[["window"]].assign(alert_rate=0.3, alert_rate_lower=0.2,
                                                              alert_rate_upper=0.4),
                             min_events=10, min_non_events=10, min_rows=100)
    import pandas as pd

    root = Path(__file__).resolve().parents[3]
    study = plan.load(root / "params" / "demo_monitoring.yaml", root=root)
    judged = {g.id: g for g in triggers.judge_triggers(pd.DataFrame(long), ["1", "2", "3"], study)}
    assert judged["SH-2"].verdict in (gates.INSUFFICIENT, gates.FAIL)
    if judged["SH-2"].verdict == gates.INSUFFICIENT:
        assert "3 (no labelled case scored by both models)" in judged["SH-2"].sentence


def test_monitoring_windows_by_calendar_period():
    import pandas as pd

    from studylib.data import engine
    from studylib.data.scan import Window
    from studylib.plan import WindowSelector
    from studylib.stages.drift import monitoring
    from types import SimpleNamespace

    months = [f"2024-{m:02d}" for m in range(1, 7)]
    frame = pd.DataFrame({"month": np.repeat(months, 5), "x": np.arange(30.0)})
    study = SimpleNamespace(drift=SimpleNamespace(windows=WindowSelector(column="month", period="quarter")))
    duck = engine.connect("duckdb")
    try:
        plan, table = monitoring._window_plan(duck.table(frame), study, Window("reference", (), 1))
        got = table.group_by(monitoring.WINDOW).aggregate(n=table.count()).to_pandas()
    finally:
        duck.close()
    assert [w.label for w in plan.windows[1:]] == ["2024-Q1", "2024-Q2"]
    assert [w.n for w in plan.windows[1:]] == [15, 15]
    assert dict(zip(got[monitoring.WINDOW], got.n)) == {1: 15, 2: 15}
