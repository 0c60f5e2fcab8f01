"""Per-site monitoring windows (``drift.windows.per: site``) on a small synthetic fleet written to tmp_path.

Fast: the (window, site) plan and the re-keying of the engine's aggregates. Slow (``make test-slow``; one
review of a 10-site fleet takes 30-80 s on this machine): the review finds the planted drifting sites (every
fifth) and the shadow regression (every seventh), its counts equal the rows', each per-site AUROC is the
statistic of that site's rows at the Bonferroni level, and every count shown follows the small-cell rule.
The simulation under the null (no planted drift) is in ``test_monitoring_sites_null.py``.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from studylib import stats
from studylib.data import engine as engines, fleet, reduce
from studylib.judge import gates, triggers
from studylib.plan import Study
from studylib.stages.drift import monitoring
from tests.conftest import tiny_params

TRIGGERS = [
    {"id": "T-adj", "statistic": "p_adjusted", "of": "any_feature", "below": 0.05, "action": "investigate"},
    {"id": "T-slope", "statistic": "calibration_slope", "relative_to": "reference", "interval_excludes": 0.0,
     "in": "consecutive_windows", "count": 2, "action": "revalidate"},
    {"id": "T-citl", "statistic": "calibration_in_the_large", "relative_to": "reference", "interval_excludes": 0.0,
     "in": "consecutive_windows", "count": 2, "action": "clinical_review"},
    {"id": "T-auc", "statistic": "auroc", "relative_to": "reference", "interval_excludes": 0.0,
     "in": "consecutive_windows", "count": 2, "action": "suspend"},
    {"id": "SH-2", "statistic": "auroc_difference", "of": "shadow", "bound": "upper", "below": 0.0,
     "action": "stop_shadow"},
]


def fleet_study(source: Path, *, triggers=TRIGGERS, features=("x01", "x02", "x05"), categorical=("c1",),
                between=None) -> Study:
    """The tiny test study reviewing ``source`` (a fleet) per site against a reference cohort of the same
    generator (:func:`reference_cohort`)."""
    raw = tiny_params("sha256:" + "0" * 64, "0" * 64)
    windows = {"column": "month", "period": "month", "per": "site"}
    if between:
        windows["between"] = list(between)
    raw["drift"] = {"reference": {"column": "month", "period": "month", "between": ["2025-01", "2025-06"]},
                    "windows": windows, "features": list(features), "categorical": list(categorical),
                    "ks_bins": 100, "triggers": list(triggers)}
    raw["monitoring"] = {"path": str(source), "lock": "sha256:" + "0" * 64,
                         "columns": {"deployed": "deployed", "shadow": "shadow", "outcome": "y", "site": "site"}}
    return Study.model_validate(raw)


def reference_cohort(folder: Path, rows: int = 24_000, seed: int = 99) -> pd.DataFrame:
    """A study cohort from the same generator, without planted drift: the deployed score as the candidate's."""
    fleet.write_fleet(folder, rows, sites=4, seed=seed, planted=False)
    cohort = pd.read_parquet(folder).rename(columns={"deployed": "p_v2", "y": "death_5y"})
    cohort["month"] = cohort["month"].astype(str)
    return cohort[cohort["death_5y"].notna()].reset_index(drop=True)


# --- fast: the (window, site) plan -----------------------------------------------------------------------

def test_site_plan_and_rekeyed_aggregates(tmp_path):
    frame = pd.DataFrame({"month": ["2025-01", "2025-01", "2025-02", "2025-02", "2025-02", "2025-03"],
                          "site": ["B", "A", "A", "A", None, "B"], "x": [0.1, 0.2, 0.3, 0.4, 0.5, 0.6]})
    study = fleet_study(tmp_path, between=("2025-01", "2025-02"))
    connected = engines.connect("duckdb")
    try:
        table = connected.table(frame)
        plan, table = monitoring._window_plan(table, study, monitoring.Window("reference"))
        plan, key_of, site_of = monitoring._site_plan(table, plan, "site")
        hist = reduce.histograms(table, window=monitoring.WINDOW, edges={"x": [0.35]}, site="site")
    finally:
        connected.close()
    assert [(w.label, w.n) for w in plan.windows] == [("reference", 0), ("A · 2025-01", 1), ("A · 2025-02", 2),
                                                      ("B · 2025-01", 1), ("B · 2025-02", 0)]
    assert plan.outside == 2  # 2025-03 is in no window; the row without a site is in no site's window
    assert site_of == {1: "A", 2: "A", 3: "B", 4: "B"}
    counts = monitoring._by_site(hist, "site", key_of)
    got = counts[counts["bin"] >= 0].groupby(["window", "bin"])["n"].sum().to_dict()
    assert got == {(1, 0): 1, (2, 0): 1, (2, 1): 1, (3, 0): 1}


def test_with_site_adds_the_column_after_window():
    table = pd.DataFrame({"window": ["reference", "A · 2025-01"], "n": [3, 4]})
    out = monitoring._with_site(table, {"A · 2025-01": "A"})
    assert list(out.columns) == ["window", "site", "n"] and pd.isna(out["site"][0]) and out["site"][1] == "A"
    assert monitoring._with_site(None, {}) is None


# --- slow: the review of a 10-site fleet ---------------------------------------------------------------

SITES = 10
ROWS = 60_000


@pytest.fixture(scope="module")
def fleet_review(tmp_path_factory):
    root = tmp_path_factory.mktemp("fleet")
    written = fleet.write_fleet(root / "monitoring", ROWS, sites=SITES, seed=1)
    study = fleet_study(root / "monitoring")
    review = monitoring.review(reference_cohort(root / "reference"), study)
    gates_ = triggers.judge_triggers(review.statistics, review.monitoring_labels, study, alpha=review.settings["alpha"])
    rows = pd.read_parquet(root / "monitoring")
    rows["site"], rows["month"] = rows["site"].astype(str), rows["month"].astype(str)
    return written, study, review, {g.id: g for g in gates_}, rows


@pytest.mark.slow
def test_planted_site_drift_and_shadow_regression_are_found_at_their_sites(fleet_review):
    written, study, review, judged, _ = fleet_review
    assert written.drifting == ("S05", "S10") and written.regressing == ("S07",)
    stat = review.statistics
    drifted = stat[(stat.statistic == "p_adjusted") & stat.of.isin(fleet.DRIFT_FEATURES) & (stat.estimate < 0.05)]
    assert sorted(set(drifted.site)) == ["S05", "S10"]
    assert set(drifted.window.str.split(" · ").str[1]) <= {f"2025-{m:02d}" for m in range(7, 13)}
    assert judged["T-adj"].verdict == gates.FAIL
    assert "at site S05" in judged["T-adj"].sentence and "(fired at 2 sites: S05, S10)" in judged["T-adj"].sentence
    assert judged["SH-2"].verdict == gates.FAIL and "at site S07" in judged["SH-2"].sentence
    assert "fired at" not in judged["SH-2"].sentence  # only the regressing site
    assert review.settings["alpha"] == pytest.approx(0.05 / SITES) and "Bonferroni" in review.settings["site_adjustment"]


@pytest.mark.slow
def test_every_site_window_counts_its_rows_and_its_auroc_is_that_of_its_rows(fleet_review):
    _, study, review, _, rows = fleet_review
    windows = review.windows.iloc[1:]
    assert len(windows) == SITES * 12 and windows["site"].tolist() == sorted(windows["site"])
    for name in ("input", "output", "calibration", "performance", "shadow", "statistics"):
        table = getattr(review, name)
        assert "site" in table.columns, name
    expected = rows.groupby(["site", "month"]).agg(n=("y", "size"), unlabelled=("y", lambda y: int(y.isna().sum())))
    for r in windows.itertuples():
        month = r.window.split(" · ")[1]
        assert (r.n, r.unlabelled) == tuple(expected.loc[(r.site, month)]), r.window
    perf = review.performance.set_index("window")
    alpha = 0.05 / SITES
    for label in ("S03 · 2025-02", "S07 · 2025-05"):
        site, month = label.split(" · ")
        part = rows[(rows.site == site) & (rows.month == month) & rows.y.notna()]
        auc = stats.auroc(part.y.to_numpy(int), part.deployed.to_numpy(), alpha=alpha)
        assert perf.loc[label, "auroc"] == pytest.approx(auc.estimate, abs=1e-12)
        assert perf.loc[label, "auroc_lower"] == pytest.approx(auc.lower, abs=1e-9)


@pytest.mark.slow
def test_small_site_windows_are_not_judged_and_their_counts_are_withheld(fleet_review):
    from studylib.report.tables import drift as drift_tables

    _, study, review, judged, _ = fleet_review
    stat = review.statistics
    # the last month is 90 % unlabelled: a small site has too few events there, never FIRED or not fired
    late = stat[(stat.window == "S05 · 2025-12") & (stat.statistic == "auroc")]
    assert late.reason.iloc[0].startswith("fewer than 10 events")
    assert "S05 · 2025-12" in judged["T-auc"].sentence or judged["T-auc"].verdict == gates.FAIL
    small = review.windows[(review.windows.events > 0) & (review.windows.events < 10)]
    assert len(small), "the fixture should have a site-window with fewer than 10 events"
    shown = drift_tables.windows(review.windows, 10)
    for label in small.window:
        assert shown.loc[label, "events"] == "<10", shown.loc[label]


@pytest.mark.slow
@pytest.mark.spark
def test_spark_gives_the_same_per_site_review(tmp_path):
    import os
    import shutil

    pytest.importorskip("pyspark", reason="PySpark is not installed")
    if shutil.which("java") is None and not os.environ.get("JAVA_HOME"):
        pytest.skip("Java is not installed: Spark cannot run here")
    fleet.write_fleet(tmp_path / "monitoring", 8_400, sites=7, seed=2)
    study = fleet_study(tmp_path / "monitoring", features=("x01",), categorical=("c1",),
                        between=("2025-06", "2025-08"))
    cohort = reference_cohort(tmp_path / "reference", rows=6_000)
    duck, spark = monitoring.review(cohort, study), monitoring.review(cohort, study, engine="spark")
    for name in ("windows", "input", "output", "calibration", "performance", "shadow", "statistics"):
        pd.testing.assert_frame_equal(getattr(duck, name).reset_index(drop=True),
                                      getattr(spark, name).reset_index(drop=True), check_exact=True)


@pytest.mark.slow
def test_the_report_tables_and_figures_take_a_per_site_review(fleet_review):
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot as plt

    from studylib.report.plots import drift as drift_plots
    from studylib.report.tables import drift as drift_tables

    _, study, review, judged, _ = fleet_review
    shown = drift_tables.suppressed(review, 5)
    for table in (drift_tables.input_drift(review.input, alpha=review.settings["alpha"], threshold=5),
                  drift_tables.output_drift(review.output, 5), drift_tables.calibration_drift(review.calibration, 5),
                  drift_tables.performance_drift(review.performance, 5), drift_tables.shadow(review.shadow, 5),
                  drift_tables.triggers_table(list(judged.values()), study)):
        assert len(table)
    for fig in (drift_plots.heatmap(shown.input, review.output, alpha=review.settings["alpha"]),
                drift_plots.control_chart(shown.performance, alpha=review.settings["alpha"]),
                drift_plots.shadow(shown.shadow, margin=0.05, alpha=review.settings["alpha"])):
        plt.close(fig)
