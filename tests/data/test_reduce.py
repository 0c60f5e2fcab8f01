"""The monitoring reduction: the same aggregates on DuckDB and on Spark, equal to pandas on the rows."""

from __future__ import annotations

import os
import shutil

import numpy as np
import pandas as pd
import pytest

from studylib.data import engine, reduce
from studylib.stats.placement_sums import PlacementSums, paired_auroc_from_sums
from tests.stats.test_placement_sums import sums_from_rows


def fleet(n: int = 4000, seed: int = 11) -> pd.DataFrame:
    """Monitoring rows: month, site, deployed and shadow scores (2 decimals, many ties), a partly
    missing outcome (label delay), a continuous feature with NaN and a categorical one with nulls."""
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 2, n).astype(float)
    frame = pd.DataFrame({
        "month": rng.integers(1, 4, n), "site": rng.choice(["north", "south", "east"], n), "y": y,
        "age": rng.normal(60, 12, n), "sex": rng.choice(["F", "M"], n).astype(object),
        "deployed": np.clip(0.3 * y + 0.7 * rng.random(n), 0, 1).round(2),
        "shadow": np.clip(0.35 * y + 0.65 * rng.random(n), 0, 1).round(2)})
    frame.loc[rng.random(n) < 0.05, "y"] = np.nan
    frame.loc[rng.random(n) < 0.02, "age"] = np.nan
    frame.loc[rng.random(n) < 0.02, "sex"] = None
    frame.loc[rng.random(n) < 0.01, "shadow"] = np.nan
    return frame


@pytest.fixture(scope="module")
def duck():
    e = engine.connect("duckdb")
    yield e
    e.close()


def test_histograms_count_like_pandas(duck):
    frame = fleet()
    edges = [45.0, 60.0, 75.0]
    got = reduce.histograms(duck.table(frame), window="month", edges={"age": edges}, categorical=["sex"])
    for month, part in frame.groupby("month"):
        age = got[(got.month == month) & (got.feature == "age")].set_index("bin")["n"]
        expected = np.where(part.age.isna(), -1, np.searchsorted(edges, part.age, side="left"))
        assert age.to_dict() == pd.Series(expected).value_counts().sort_index().to_dict()
        sex = got[(got.month == month) & (got.feature == "sex")]
        assert dict(zip(sex.category.fillna("<missing>"), sex.n)) == \
            part.sex.fillna("<missing>").value_counts().to_dict()


def test_histograms_of_several_features_in_one_pass_match_pandas(duck):
    """Values on an edge fall in the bin the edge closes; a feature missing in a whole window and a
    category present in one window only are counted like pandas counts them."""
    frame = pd.DataFrame({"month": [1, 1, 1, 2, 2, 2], "site": ["a", "a", "b", "a", "b", "b"],
                          "u": [0.5, 1.0, np.nan, 2.0, 1.0, 0.0], "v": [np.nan, np.nan, np.nan, 3.0, 0.0, 9.0],
                          "c": ["x", None, "x", "y", "y", "z"]})
    got = reduce.histograms(duck.table(frame, "h"), window="month", site="site", edges={"u": [0.5, 1.0], "v": [1.0]},
                            categorical=["c"])
    cells = {(r.month, r.site, r.feature, r.bin, r.category if isinstance(r.category, str) else None): r.n
             for r in got.itertuples()}
    assert cells == {
        (1, "a", "u", 0, None): 1, (1, "a", "u", 1, None): 1, (1, "b", "u", -1, None): 1,
        (2, "a", "u", 2, None): 1, (2, "b", "u", 1, None): 1, (2, "b", "u", 0, None): 1,
        (1, "a", "v", -1, None): 2, (1, "b", "v", -1, None): 1,
        (2, "a", "v", 1, None): 1, (2, "b", "v", 0, None): 1, (2, "b", "v", 1, None): 1,
        (1, "a", "c", 0, "x"): 1, (1, "a", "c", -1, None): 1, (1, "b", "c", 0, "x"): 1,
        (2, "a", "c", 0, "y"): 1, (2, "b", "c", 0, "y"): 1, (2, "b", "c", 0, "z"): 1}
    assert list(got.columns) == ["month", "site", "feature", "bin", "category", "n"]


def test_score_counts_keep_unlabelled_rows(duck):
    frame = fleet()
    got = reduce.score_counts(duck.table(frame), window="month", score="deployed", outcome="y")
    assert got.n.sum() == len(frame)
    assert got[got.outcome.isna()].n.sum() == frame.y.isna().sum()


def test_paired_sums_equal_the_brute_force_placements(duck):
    frame = fleet(1500)
    got = reduce.paired_sums(duck.table(frame), window="month", score_a="deployed", score_b="shadow", outcome="y")
    for month, part in frame.groupby("month"):
        part = part.dropna(subset=["y", "shadow"])
        positives, negatives = sums_from_rows(part.y, part.deployed, part.shadow)
        rows = got[got.month == month].set_index("outcome")
        for outcome, expected in ((1.0, positives), (0.0, negatives)):
            r = rows.loc[outcome]
            assert PlacementSums(int(r.cases), r.sum_a, r.sum_b, r.sum_aa, r.sum_bb, r.sum_ab) == expected


def test_paired_sums_build_their_hash_joins_on_the_placements_not_on_the_rows(duck, monkeypatch):
    """DuckDB keeps the rows on the probe side (a RIGHT join would hash every labelled row: 4.4 GB
    spilled at 10^8 rows), and no shared CTE of the rows is materialised."""
    import ibis

    captured = {}

    def capture(expr, keys):
        captured["sql"] = ibis.to_sql(expr, dialect="duckdb")
        raise LookupError

    monkeypatch.setattr(reduce, "_collect", capture)
    with pytest.raises(LookupError):
        reduce.paired_sums(duck.table(fleet(), "plan"), window="month", site="site", score_a="deployed",
                           score_b="shadow", outcome="y")
    plan = duck.backend.con.execute(f"EXPLAIN {captured['sql']}").fetchall()[0][1]
    assert "Join Type: LEFT" in plan and "RIGHT" not in plan and "CTE" not in plan


def test_flag_counts_give_mcnemar_pairs(duck):
    frame = fleet()
    got = reduce.flag_counts(duck.table(frame), window="month", score_a="deployed", score_b="shadow",
                             outcome="y", threshold=0.5, site="site")
    assert got.n.sum() == len(frame)
    part = frame[(frame.month == 2) & (frame.site == "east") & (frame.y == 1)]
    discordant = ((part.deployed >= 0.5) & (part.shadow < 0.5)).sum()
    row = got[(got.month == 2) & (got.site == "east") & (got.outcome == 1) & (got.flag_a == 1) & (got.flag_b == 0)]
    assert int(row.n.iloc[0]) == discordant


def test_score_resolution_rounds_before_counting(duck):
    frame = pd.DataFrame({"month": [1, 1, 1], "y": [0.0, 1.0, 1.0], "p": [0.12341, 0.12349, 0.5]})
    got = reduce.score_counts(duck.table(frame, "r"), window="month", score="p", outcome="y", resolution=1e-3)
    assert list(zip(got.score, got.outcome, got.n)) == [(123, 0.0, 1), (123, 1.0, 1), (500, 1.0, 1)]


def test_unknown_engine_and_missing_java_are_clear_errors(monkeypatch):
    with pytest.raises(engine.EngineError, match="expected one of duckdb, spark"):
        engine.connect("polars")
    pytest.importorskip("pyspark")
    monkeypatch.setenv("PATH", "/nonexistent")
    monkeypatch.delenv("JAVA_HOME", raising=False)
    with pytest.raises(engine.EngineError, match="needs Java 17"):
        engine.connect("spark")


def _spark_or_skip():
    pytest.importorskip("pyspark", reason="PySpark is not installed (the 'spark' extra)")
    if shutil.which("java") is None and not os.environ.get("JAVA_HOME"):
        pytest.skip("Java is not installed: Spark cannot start here")


@pytest.fixture(scope="module")
def spark():
    _spark_or_skip()
    e = engine.connect("spark", master="local[2]")
    yield e


@pytest.mark.spark
@pytest.mark.slow  # starting Spark costs ~30 s of the 4-minute budget of `make test`: it runs in `make test-slow`
def test_spark_gives_the_same_aggregates_as_duckdb(duck, spark):
    frame = fleet(2000)
    for name, call in {
        "histograms": lambda t: reduce.histograms(t, window="month", edges={"age": [45.0, 60.0, 75.0]},
                                                  categorical=["sex"], site="site"),
        "scores": lambda t: reduce.score_counts(t, window="month", score="shadow", outcome="y", site="site"),
        "paired": lambda t: reduce.paired_sums(t, window="month", score_a="deployed", score_b="shadow", outcome="y"),
        "flags": lambda t: reduce.flag_counts(t, window="month", score_a="deployed", score_b="shadow", outcome="y",
                                              threshold=0.5),
    }.items():
        a, b = call(duck.table(frame, "f")), call(spark.table(frame, "f"))
        pd.testing.assert_frame_equal(a, b, check_dtype=False, obj=name)
    # and therefore the same statistics, bit for bit
    paired = {e.name: reduce.paired_sums(e.table(frame, "f"), window="month", score_a="deployed",
                                         score_b="shadow", outcome="y") for e in (duck, spark)}
    results = {}
    for name, sums in paired.items():
        rows = sums[sums.month == 1].set_index("outcome")
        s = {o: PlacementSums(int(r.cases), r.sum_a, r.sum_b, r.sum_aa, r.sum_bb, r.sum_ab) for o, r in rows.iterrows()}
        results[name] = paired_auroc_from_sums(s[1.0], s[0.0])
    assert results["duckdb"] == results["spark"]


def _statistics(aggs: dict[str, pd.DataFrame]) -> dict:
    """Per site and month: each model's AUROC from its score counts, the paired difference from the
    placement sums, and PSI of every feature against the site's first month."""
    from studylib import stats
    from studylib.stats.roc import auroc_from_counts

    out = {}
    for model in ("deployed", "shadow"):
        counts = aggs[model].dropna(subset=["score", "outcome"])
        for key, part in counts.groupby(["site", "month"]):
            wide = part.pivot_table(index="score", columns="outcome", values="n", fill_value=0, aggfunc="sum")
            wide = wide.reindex(columns=[0.0, 1.0], fill_value=0).sort_index().astype("int64")
            out[(*key, model)] = auroc_from_counts(wide[1.0].to_numpy(), wide[0.0].to_numpy())
    for key, part in aggs["paired"].groupby(["site", "month"]):
        s = {o: PlacementSums(int(r.cases), r.sum_a, r.sum_b, r.sum_aa, r.sum_bb, r.sum_ab)
             for o, r in part.set_index("outcome").iterrows()}
        out[(*key, "paired")] = paired_auroc_from_sums(s[1.0], s[0.0])
    hist = aggs["histograms"].assign(cell=lambda h: h.bin.astype(str) + h.category.fillna(""))
    wide = hist.pivot_table(index=["site", "feature", "cell"], columns="month", values="n", fill_value=0, aggfunc="sum")
    for (site, feature), part in wide.groupby(level=[0, 1]):
        for month in part.columns[1:]:
            out[(site, month, feature)] = stats.psi_from_counts(part.iloc[:, 0].to_numpy(float),
                                                                part[month].to_numpy(float))
    return out


@pytest.mark.spark
@pytest.mark.slow
def test_spark_and_duckdb_agree_on_a_partitioned_multi_site_fleet(duck, spark, tmp_path):
    from studylib.data import fleet as synthetic

    written = synthetic.write_fleet(tmp_path / "fleet", 8_400, sites=7, seed=2)
    edges = {c: [-1.0, 0.0, 1.0, 2.0, 4.0] for c in synthetic.CONTINUOUS}
    k = dict(window="month", site="site")
    aggs = {}
    for e in (duck, spark):
        t = e.read_parquet(written.path)
        aggs[e.name] = {
            "histograms": reduce.histograms(t, edges=edges, categorical=list(synthetic.CATEGORICAL), **k),
            "deployed": reduce.score_counts(t, score="deployed", outcome="y", **k),
            "shadow": reduce.score_counts(t, score="shadow", outcome="y", **k),
            "paired": reduce.paired_sums(t, score_a="shadow", score_b="deployed", outcome="y", **k),
            "flags": reduce.flag_counts(t, score_a="shadow", score_b="deployed", outcome="y", threshold=0.3, **k),
        }
    for name in aggs["duckdb"]:
        pd.testing.assert_frame_equal(aggs["duckdb"][name], aggs["spark"][name], check_dtype=False, obj=name)
    assert aggs["duckdb"]["histograms"].month.nunique() == 12 and aggs["duckdb"]["histograms"].site.nunique() == 7
    # the same statistics, bit for bit (and the planted shadow regression is seen at S07)
    a, b = _statistics(aggs["duckdb"]), _statistics(aggs["spark"])
    assert a == b
    diff = {site: [a[(site, m, "paired")].difference.diff for m in synthetic.MONTHS] for site in ("S02", "S07")}
    assert max(diff["S07"]) < 0 < np.median(diff["S02"])
