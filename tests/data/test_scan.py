"""DuckDB scans of the drift review: calendar periods. (The scans themselves are exercised through the
drift review in tests/stages/drift/test_review.py.)"""

from __future__ import annotations

from studylib.data import scan


def test_period_range():
    assert scan.period_range("2023-11", "2024-02", "month") == ["2023-11", "2023-12", "2024-01", "2024-02"]
    assert scan.period_range("2023-Q4", "2024-Q2", "quarter") == ["2023-Q4", "2024-Q1", "2024-Q2"]
    assert scan.period_range("2022", "2024", "year") == ["2022", "2023", "2024"]


def test_histograms_equal_the_monitoring_reduction():
    """The study-cohort scan (one DuckDB query) and the monitoring reduction (Ibis) give the same tables:
    bins with edges hit exactly and values above the last edge, missing values, categories, a window
    without rows."""
    import ibis
    import numpy as np
    import pandas as pd

    from studylib.data import reduce
    from studylib.plan import DriftSection

    rng = np.random.default_rng(5)
    n = 3000
    frame = pd.DataFrame({"month": rng.choice(["2024-01", "2024-02", "2024-03", "2024-05"], n),
                          "x": rng.normal(0, 1, n).round(1), "cat": rng.choice(["a", "b", None], n)})
    frame.loc[rng.random(n) < 0.1, "x"] = np.nan
    drift = DriftSection.model_validate({
        "reference": {"column": "month", "period": "month", "between": ["2024-01", "2024-01"]},
        "windows": {"column": "month", "period": "month", "between": ["2024-02", "2024-05"]},
        "features": ["x"], "categorical": ["cat"]})
    edges = {"x": [-1.0, -0.5, 0.0, 0.5, 1.0]}
    with scan.Scanner(frame) as scanner:
        plan = scanner.plan(drift)
        scanned = scanner.histograms(plan, edges, ("cat",))
        scanner.con.execute(f"CREATE TEMP VIEW keyed AS SELECT {plan.expression} AS w, * FROM src")
        hist = reduce.histograms(ibis.duckdb.from_connection(scanner.con).table("keyed"), window="w", edges=edges,
                                 categorical=["cat"])
    reduced = reduce.as_tables(hist.rename(columns={"w": "window"}), range(len(plan.windows)), ["x"], ["cat"])
    empty = sorted(set(scanned[2].query("n == 0").window))
    assert len(plan.windows) == 5 and [plan.windows[w].label for w in empty] == ["2024-04"]
    for mine, theirs in zip(scanned, reduced):
        key = list(mine.columns[:-1])
        pd.testing.assert_frame_equal(mine.sort_values(key).reset_index(drop=True),
                                      theirs.sort_values(key).reset_index(drop=True), check_dtype=False)
