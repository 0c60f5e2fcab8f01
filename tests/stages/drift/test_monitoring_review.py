"""The drift review of the demo's monitoring source: equal to the statistics of its rows, and the same on
DuckDB and Spark (``make test-slow``: each review takes 20-40 s, Spark's start another 30 s)."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from studylib import plan, stats
from studylib.stages.drift import monitoring

pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parents[3]


@pytest.fixture(scope="module")
def study():
    return plan.load(ROOT / "params" / "demo_monitoring.yaml", root=ROOT)


@pytest.fixture(scope="module")
def cohort():
    d = pd.read_parquet(ROOT / "snapshots" / "flchain" / "data.parquet")
    return d[(d.split != "development") & (d.mgus == 0) & (d.futime_days > 0) & d.death_5y.notna()]


@pytest.fixture(scope="module")
def duckdb_review(study, cohort):
    return monitoring.review(cohort, study)


def test_windows_count_unlabelled_rows_and_statistics_equal_the_rows(study, duckdb_review):
    rows = pd.read_parquet(ROOT / "snapshots" / "flchain-monitoring")
    rows["sample_year"] = rows["sample_year"].astype(int)
    review = duckdb_review
    for r in review.windows.iloc[1:].itertuples():
        part = rows[rows.sample_year == int(r.window)]
        assert r.n == len(part)
        assert r.unlabelled == part.death_5y.isna().sum()
        lab = part[part.death_5y.notna()]
        assert r.labelled == len(lab)
        perf = review.performance.set_index("window").loc[r.window]
        if perf.positives >= 2 and perf.negatives >= 2:
            auc = stats.auroc(lab.death_5y.to_numpy(int), lab.p_v1.to_numpy())
            assert perf.auroc == pytest.approx(auc.estimate, abs=1e-12)
            assert perf.auroc_lower == pytest.approx(auc.lower, abs=1e-9)
            test = stats.delong_test(lab.death_5y.to_numpy(int), lab.p_v2.to_numpy(), lab.p_v1.to_numpy())
            row = review.shadow.set_index("window").loc[r.window]
            assert row.auroc_difference == pytest.approx(test.diff, abs=1e-12)
            assert row.auroc_difference_upper == pytest.approx(test.upper, abs=1e-9)
    # a window too small to judge is named, never fired
    small = review.statistics[(review.statistics.window == "2002") & (review.statistics.of == "shadow")
                              & (review.statistics.statistic == "auroc_difference")]
    assert small.reason.iloc[0].startswith("fewer than 10 events")


@pytest.mark.spark
def test_spark_gives_the_same_review(study, cohort, duckdb_review):
    pytest.importorskip("pyspark", reason="PySpark is not installed")
    if shutil.which("java") is None and not os.environ.get("JAVA_HOME"):
        pytest.skip("Java is not installed: Spark cannot run here")
    spark = monitoring.review(cohort, study, engine="spark")
    for name in ("windows", "input", "output", "calibration", "performance", "shadow", "statistics"):
        pd.testing.assert_frame_equal(getattr(duckdb_review, name).reset_index(drop=True),
                                      getattr(spark, name).reset_index(drop=True), check_exact=True)
