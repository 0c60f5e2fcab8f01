"""The row-level work of monitoring, written once as Ibis expressions and run on DuckDB or Spark.

Every statistic of surveillance (drift of inputs and outputs, discrimination, calibration and the
shadow-mode comparison) is computed by :mod:`studylib.stats` from a few small aggregates, which these
functions compute in the engine, per window (and per site when asked):

- :func:`histograms` — counts per bin of each continuous feature over fixed edges (right-closed
  ``(e_{k-1}, e_k]``, an overflow bin above the last edge, as :func:`studylib.stats.reference_edges`),
  counts per category of each categorical feature, and missing values (bin -1);
- :func:`score_counts` — rows per (score value, outcome) of one model, the outcome missing for rows
  not yet labelled (label delay: counted, never dropped). AUROC/DeLong, calibration fits, O/E and
  alert rates from these counts are exact for the scores as stored; with ``resolution`` the scores
  are first rounded to that grid (``round(score / resolution)``) to bound the number of distinct
  values, which the report must say;
- :func:`paired_sums` — for two models scored on the same cases, the sums of each model's DeLong
  placement values and of their products over the labelled positives and negatives. The placement
  of a case is looked up from its window's score histogram of the other class, joined back to the
  rows in the engine, so the paired DeLong test is exact on any engine. Placements are kept in
  integer "half units" (``2 * below + ties``) and summed as DECIMAL(38, 0), so both engines return
  the same integers;
- :func:`flag_counts` — rows per (outcome, flag of model A, flag of model B) at a threshold
  (McNemar's discordant pairs, alert burden, sensitivity and specificity of each model).

Missing numbers: NaN in Parquet is read as missing, like SQL NULL. Rows whose window is missing are
outside every window and not counted.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence

import ibis
import numpy as np
import pandas as pd
from ibis import _

# Ibis 12 reads pandas' deprecated ``future.infer_string`` option for every text column it converts; the
# warning is about Ibis's code, not the study's data, and would print into the drift report (and tens of
# thousands of times into a test session). Only that message of that module is silenced.
warnings.filterwarnings("ignore", message="The 'future.infer_string' option is deprecated",
                        module="ibis.formats.pandas")

MISSING_BIN = -1
_SUM_TYPE = "decimal(38, 0)"


def number(column):
    """A numeric column as float64 with NaN read as missing."""
    x = column.cast("float64")
    return ibis.cases((x.isnan(), ibis.null("float64")), else_=x)


def score_key(column, resolution: float | None):
    """The value a score is counted under: itself, or ``round(score / resolution)`` (int64)."""
    x = number(column)
    return x if resolution is None else (x / resolution).round().cast("int64")


def _keys(window: str, site: str | None) -> list[str]:
    return [window] if site is None else [window, site]


def _collect(expr, keys: Sequence[str]) -> pd.DataFrame:
    frame = expr.to_pandas()
    return frame.sort_values(list(keys)).reset_index(drop=True)


def histograms(table, *, window: str, edges: Mapping[str, Sequence[float]], categorical: Sequence[str] = (),
               site: str | None = None) -> pd.DataFrame:
    """Counts per window (and site), feature and bin, in one pass over the rows.

    Returns
    -------
    DataFrame
        ``window, [site], feature, bin, category, n``: for a continuous feature ``bin`` k counts values
        in ``(e_{k-1}, e_k]`` (``bin = len(edges)`` above the last edge, -1 missing) and ``category`` is
        missing; for a categorical feature ``category`` is the value as text (missing: bin -1).
        Bins without rows are absent.

    Notes
    -----
    One aggregation per window computes, for every continuous feature, the count of values at or
    below each edge (``count(x <= e_k)``), the count of non-missing values and the rows; the bins are
    their differences. Categorical features are counted per category the same way, after one query
    for the categories present (:func:`categories`). So the rows are read once (twice with
    categorical features), whatever the number of features; a union of one ``GROUP BY`` per feature
    read them once per feature (3× slower on 10^6 rows of 20 features), and a long form (one row
    per row and feature, unnested) was slower still.
    """
    keys = _keys(window, site)
    base = table.filter(table[window].notnull())
    edges = {feature: [float(c) for c in cuts] for feature, cuts in edges.items()}
    levels = categories(base, categorical) if categorical else {}
    # each feature cleaned once (NaN → missing) in a projection, then counted against every edge
    clean = base.select(*[base[k] for k in keys], **{f"f{i}": number(base[f]) for i, f in enumerate(edges)},
                        **{f"c{j}": base[f].cast("string") for j, f in enumerate(categorical)})
    aggs = {"rows": clean.count()}
    for i, cuts in enumerate(edges.values()):
        x = clean[f"f{i}"]
        aggs[f"f{i}_n"] = x.count()
        aggs.update({f"f{i}_{k}": (x <= c).cast("int32").sum() for k, c in enumerate(cuts)})
    for j, feature in enumerate(categorical):
        value = clean[f"c{j}"]
        aggs[f"c{j}_n"] = value.count()
        aggs.update({f"c{j}_{m}": (value == level).cast("int32").sum() for m, level in enumerate(levels[feature])})
    # (x <= e).cast(int).sum() rather than count(x) FILTER (WHERE x <= e): 3× faster on DuckDB 2.0
    wide = _collect(clean.group_by(keys).aggregate(**aggs), keys).fillna({a: 0 for a in aggs})
    out = []
    for row in wide.to_dict(orient="records"):  # not itertuples: it renames columns that start with "_"
        key = [row[k] for k in keys]
        for i, (feature, cuts) in enumerate(edges.items()):
            upto = [int(row[f"f{i}_{k}"]) for k in range(len(cuts))] + [int(row[f"f{i}_n"])]
            out.append((*key, feature, MISSING_BIN, None, int(row["rows"]) - upto[-1]))
            out += [(*key, feature, k, None, n) for k, n in enumerate(np.diff(upto, prepend=0))]
        for j, feature in enumerate(categorical):
            out.append((*key, feature, MISSING_BIN, None, int(row["rows"]) - int(row[f"c{j}_n"])))
            out += [(*key, feature, 0, level, int(row[f"c{j}_{m}"])) for m, level in enumerate(levels[feature])]
    frame = pd.DataFrame(out, columns=[*keys, "feature", "bin", "category", "n"])
    frame = frame[frame.n > 0].astype({"bin": "int64", "n": "int64"})
    return frame.sort_values([*keys, "feature", "bin", "category"]).reset_index(drop=True)


def as_tables(hist: pd.DataFrame, windows: Sequence[int], features: Sequence[str], categorical: Sequence[str] = ()
              ) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """:func:`histograms` (keyed by ``window``) as the drift stage reads it: bins, categories and sizes.

    Returns
    -------
    bins : DataFrame
        ``window, feature, bin, count`` of the continuous ``features`` (missing values excluded).
    categories : DataFrame
        ``window, feature, category, count`` of the ``categorical`` features.
    sizes : DataFrame
        ``window, feature, n, missing`` for every window of ``windows`` and every feature: ``n`` the rows of
        the window (0 for a window without rows), ``missing`` its missing values of the feature.
    """
    hist = hist.astype({"window": "int64"})
    present = hist[hist["bin"] >= 0].rename(columns={"n": "count"})
    bins = present[present["feature"].isin(features)][["window", "feature", "bin", "count"]]
    cats = present[present["feature"].isin(categorical)][["window", "feature", "category", "count"]]
    cats = cats.astype({"category": str})
    missing = hist[hist["bin"] == MISSING_BIN].groupby(["window", "feature"])["n"].sum().to_dict()
    listed = [*features, *categorical]
    rows = hist[hist["feature"] == listed[0]].groupby("window")["n"].sum().to_dict() if listed else {}
    sizes = [(int(w), f, int(rows.get(w, 0)), int(missing.get((w, f), 0))) for w in windows for f in listed]
    return (bins.reset_index(drop=True), cats.reset_index(drop=True),
            pd.DataFrame(sizes, columns=["window", "feature", "n", "missing"]))


def categories(table, columns: Sequence[str]) -> dict[str, list[str]]:
    """The distinct non-missing values (as text, sorted) of each column, in one query."""
    row = table.aggregate(**{f"c{j}": table[c].cast("string").collect(distinct=True)
                             for j, c in enumerate(columns)}).to_pandas().iloc[0]
    return {c: sorted(str(v) for v in (row[f"c{j}"] if row[f"c{j}"] is not None else [])) for j, c in enumerate(columns)}


def score_counts(table, *, window: str, score: str, outcome: str, site: str | None = None,
                 resolution: float | None = None) -> pd.DataFrame:
    """Rows per window (and site), score value and outcome (0, 1 or missing = not yet labelled).

    Returns
    -------
    DataFrame
        ``window, [site], score, outcome, n``; ``score`` is missing for unscored rows; with
        ``resolution`` it is the integer ``round(score / resolution)``.
    """
    keys = _keys(window, site)
    base = table.filter(table[window].notnull())
    rows = base.select(*[base[k] for k in keys], score=score_key(base[score], resolution),
                       outcome=number(base[outcome]))
    out = _collect(rows.group_by([*keys, "score", "outcome"]).aggregate(n=_.count()), [*keys, "score", "outcome"])
    out["n"] = out["n"].astype("int64")
    return out


def _placements(rows, key: str, keys: list[str]):
    """Per window and score value of one model: positives and negatives at, below and above it."""
    hist = rows.group_by([*keys, key]).aggregate(pos=(rows.y == 1).cast("int64").sum(),
                                                  neg=(rows.y == 0).cast("int64").sum())
    w = ibis.window(group_by=keys, order_by=key, rows=(None, 0))
    total = ibis.window(group_by=keys)
    hist = hist.mutate(neg_upto=hist.neg.sum().over(w), pos_upto=hist.pos.sum().over(w),
                       pos_total=hist.pos.sum().over(total))
    # half units: a positive's placement is 2 * (negatives below) + (negatives tied); a negative's is
    # 2 * (positives above) + (positives tied)
    return hist.select(*keys, key,
                       z_pos=2 * (hist.neg_upto - hist.neg) + hist.neg,
                       z_neg=2 * (hist.pos_total - hist.pos_upto) + hist.pos)


def paired_sums(table, *, window: str, score_a: str, score_b: str, outcome: str, site: str | None = None,
                resolution: float | None = None) -> pd.DataFrame:
    """Sums of DeLong placements of two models over the labelled cases scored by both, per window.

    Returns
    -------
    DataFrame
        ``window, [site], outcome, cases, sum_a, sum_b, sum_aa, sum_bb, sum_ab``: for ``outcome`` 1
        the sums over positives of the half-unit placements among the window's negatives, for 0 over
        negatives among positives (Python ints, exact). :func:`studylib.stats.paired_auroc_from_sums`
        turns them into both AUROCs, the difference and its DeLong interval.
    """
    keys = _keys(window, site)

    def labelled(*columns: str):
        """The labelled cases scored by both models, with ``columns`` of ``a``, ``b``, ``y``."""
        value = {"a": score_key(table[score_a], resolution), "b": score_key(table[score_b], resolution),
                 "y": number(table[outcome])}
        kept = table.filter(table[window].notnull(), value["a"].notnull(), value["b"].notnull(),
                            value["y"].isin([0.0, 1.0]))
        return kept.select(*keys, **{c: value[c] for c in columns})

    # each consumer reads the rows in its own projection: one expression shared by the three would be
    # a CTE that DuckDB materialises (every labelled row written out and read back, about 5 GB spilled
    # past the memory limit at 10^8 rows) instead of scanning the Parquet files again
    rows = labelled("a", "b", "y")
    pa = _placements(labelled("a", "y"), "a", keys).rename(za_pos="z_pos", za_neg="z_neg")
    pb = _placements(labelled("b", "y"), "b", keys).rename(zb_pos="z_pos", zb_neg="z_neg")
    # left joins (every row finds its placement): with inner joins DuckDB's join-order optimiser
    # derives pa.window = pb.window and joins the two placement tables first, a product of the
    # distinct scores of both models in every window (10^8 rows for 10^6 input rows), which spilled
    # tens of GB to disk
    joined = rows.left_join(pa, [*keys, "a"]).left_join(pb, [*keys, "b"])
    joined = joined.select(*keys, "y",
                           za=ibis.cases((joined.y == 1, joined.za_pos), else_=joined.za_neg).cast(_SUM_TYPE),
                           zb=ibis.cases((joined.y == 1, joined.zb_pos), else_=joined.zb_neg).cast(_SUM_TYPE))
    sums = joined.group_by([*keys, "y"]).aggregate(
        cases=_.count(), sum_a=_.za.sum(), sum_b=_.zb.sum(), sum_aa=(_.za * _.za).sum(),
        sum_bb=(_.zb * _.zb).sum(), sum_ab=(_.za * _.zb).sum())
    out = _collect(sums.rename(outcome="y"), [*keys, "outcome"])
    for column in ("sum_a", "sum_b", "sum_aa", "sum_bb", "sum_ab"):
        out[column] = [int(v) for v in out[column]]  # Decimal → exact int
    out["cases"] = out["cases"].astype("int64")
    return out


def flag_counts(table, *, window: str, score_a: str, score_b: str, outcome: str, threshold: float,
                site: str | None = None) -> pd.DataFrame:
    """Rows per window (and site), outcome (missing = unlabelled) and flag of each model (score >= threshold).

    Returns
    -------
    DataFrame
        ``window, [site], outcome, flag_a, flag_b, n``; a flag is missing where that model gave no score.
    """
    keys = _keys(window, site)
    base = table.filter(table[window].notnull())
    a, b = number(base[score_a]), number(base[score_b])
    rows = base.select(*[base[k] for k in keys], outcome=number(base[outcome]),
                       flag_a=(a >= float(threshold)).cast("int8"), flag_b=(b >= float(threshold)).cast("int8"))
    out = _collect(rows.group_by([*keys, "outcome", "flag_a", "flag_b"]).aggregate(n=_.count()),
                   [*keys, "outcome", "flag_a", "flag_b"])
    out["n"] = out["n"].astype("int64")
    return out


def score_range(table, *, scores: Sequence[str]) -> dict[str, tuple[int, int, float, float]]:
    """Per score column: (rows, missing, min, max) — to refuse scores outside [0, 1] before any statistic."""
    aggs = {}
    for i, s in enumerate(scores):
        x = number(table[s])
        aggs.update({f"n{i}": table.count(), f"m{i}": x.isnull().cast("int64").sum(),
                     f"lo{i}": x.min(), f"hi{i}": x.max()})
    row = table.aggregate(**aggs).to_pandas().iloc[0]
    return {s: (int(row[f"n{i}"]), int(row[f"m{i}"]), float(row[f"lo{i}"]) if pd.notna(row[f"lo{i}"]) else np.nan,
                float(row[f"hi{i}"]) if pd.notna(row[f"hi{i}"]) else np.nan) for i, s in enumerate(scores)}
