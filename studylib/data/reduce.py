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

from collections.abc import Mapping, Sequence

import ibis
import numpy as np
import pandas as pd
from ibis import _

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
    """Counts per window (and site), feature and bin.

    Returns
    -------
    DataFrame
        ``window, [site], feature, bin, category, n``: for a continuous feature ``bin`` k counts values
        in ``(e_{k-1}, e_k]`` (``bin = len(edges)`` above the last edge, -1 missing) and ``category`` is
        missing; for a categorical feature ``category`` is the value as text (missing: bin -1).
        Bins without rows are absent.
    """
    keys = _keys(window, site)
    base = table.filter(table[window].notnull())
    parts = []
    for feature, cuts in edges.items():
        x = number(base[feature])
        cuts = [float(c) for c in cuts]
        branches = [(x.isnull(), MISSING_BIN)] + [(x <= c, k) for k, c in enumerate(cuts)]
        binned = base.select(*[base[k] for k in keys], bin=ibis.cases(*branches, else_=len(cuts)).cast("int32"))
        parts.append(binned.group_by([*keys, "bin"]).aggregate(n=_.count())
                     .mutate(feature=ibis.literal(feature), category=ibis.null("string")))
    for feature in categorical:
        value = base[feature].cast("string")
        binned = base.select(*[base[k] for k in keys],
                             bin=ibis.cases((value.isnull(), MISSING_BIN), else_=0).cast("int32"), category=value)
        parts.append(binned.group_by([*keys, "bin", "category"]).aggregate(n=_.count())
                     .mutate(feature=ibis.literal(feature)))
    if not parts:
        return pd.DataFrame(columns=[*keys, "feature", "bin", "category", "n"])
    union = parts[0].select(*keys, "feature", "bin", "category", "n")
    for part in parts[1:]:
        union = union.union(part.select(*keys, "feature", "bin", "category", "n"))
    out = _collect(union, [*keys, "feature", "bin", "category"])
    out["bin"] = out["bin"].astype("int64")
    out["n"] = out["n"].astype("int64")
    return out


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
    base = table.filter(table[window].notnull())
    rows = base.select(*[base[k] for k in keys], a=score_key(base[score_a], resolution),
                       b=score_key(base[score_b], resolution), y=number(base[outcome]))
    rows = rows.filter(rows.a.notnull() & rows.b.notnull() & rows.y.isin([0.0, 1.0]))
    pa = _placements(rows, "a", keys).rename(za_pos="z_pos", za_neg="z_neg")
    pb = _placements(rows, "b", keys).rename(zb_pos="z_pos", zb_neg="z_neg")
    joined = rows.join(pa, [*keys, "a"]).join(pb, [*keys, "b"])
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
