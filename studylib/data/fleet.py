"""A SYNTHETIC monitoring fleet: every prediction of a deployed model and a shadow candidate at many sites.

:func:`write_fleet` writes hive-partitioned Parquet, ``<out>/site=S01/month=2025-01/part-0.parquet``,
one file per site and month, the shape of the monitoring sources of :mod:`studylib.data.reduce`.
Nothing in it describes real people. Columns of every file:

- ``x01`` … ``x16`` — continuous features (float32; normal, log-normal, integer-valued; ``x02`` and
  ``x09`` have 5 % and 15 % missing values), ``c1`` … ``c4`` — categorical (3, 5, 7, 9 levels,
  text such as ``c1-0``);
- ``deployed`` and ``shadow`` — the two models' risk scores, stored with 3 decimals (at most 1,001
  distinct values, so the per-score counts stay small); ``shadow`` is missing for 1 % of rows;
- ``y`` — the outcome (0/1, float), missing while not yet labelled (label delay: 90 % of the last
  month's rows, 50 % of the month before, 20 % of the one before that, 2 % otherwise);
- and, from the partition folders, ``site`` and ``month`` (``YYYY-MM``, 12 months from 2025-01).

Planted, so that a review has something to find:

- **Site-level drift** at the sites of :func:`drifting_sites` (every fifth site, S05, S10, …): from
  month 7 the continuous features ``x01`` … ``x04`` shift by a ramp of up to one standard deviation
  (``(month - 6) / 6``), and the categorical ``c1`` moves to its last level; the scores of both models
  follow the inputs.
- **Shadow regression** at the sites of :func:`regressing_sites` (every seventh, S07, S14, …): the
  shadow model's risk is scrambled with noise there (AUROC about 0.62 against 0.80 elsewhere), where
  everywhere else the shadow is slightly better than the deployed model (0.80 against 0.77).

Sizes: ``rows`` are spread over the sites by fixed weights (site k gets a share proportional to
``1 + (k mod 5)``) and evenly over the months; each file is generated from its own stream
``numpy.random.default_rng([seed, site, month, chunk])`` in chunks of at most :data:`CHUNK` rows (one
Parquet row group each), so memory stays bounded whatever ``rows`` is and the data are the same
for the same ``(rows, sites, seed)``.

Encoding: the categoricals are written as Parquet dictionaries from their integer codes (read back as
text; pyarrow and pandas see a dictionary/categorical type), and so are the integer-valued features,
the scores and the outcome (:data:`DICTIONARY`); the other continuous features are written plain,
snappy-compressed. About 55 bytes a row; generation runs at about 650,000 rows a second of one core.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

CHUNK = 250_000
MONTHS = tuple(f"2025-{m:02d}" for m in range(1, 13))
CONTINUOUS = tuple(f"x{i:02d}" for i in range(1, 17))
CATEGORICAL = ("c1", "c2", "c3", "c4")
LEVELS = {"c1": 3, "c2": 5, "c3": 7, "c4": 9}
DRIFT_FEATURES = ("x01", "x02", "x03", "x04")
DRIFT_FROM_MONTH = 7
SCORE_DECIMALS = 3
_MISSING = {"x02": 0.05, "x09": 0.15}
_LABEL_DELAY = (0.90, 0.50, 0.20)  # missing-outcome share of the last, second-last and third-last month
_LABEL_MISSING = 0.02
_SHADOW_MISSING = 0.01
#: columns written with Parquet dictionary encoding: the categoricals (written from their codes, never as
#: text), the integer-valued features and the 3-decimal scores and the outcome (few distinct values). The
#: continuous float features are written plain: trying a dictionary on them and falling back cost most of
#: the writing time.
DICTIONARY = (*CATEGORICAL, *CONTINUOUS[2::4], "deployed", "shadow", "y")
#: true log-odds weights of x01..x08 (the other features are noise)
_BETA = np.array([0.8, -0.6, 0.5, 0.4, 0.3, -0.3, 0.2, 0.2])
_INTERCEPT = -1.8


@dataclass(frozen=True)
class Fleet:
    """What :func:`write_fleet` wrote: where, how many rows and files, and the planted sites."""

    path: str
    rows: int
    files: int
    sites: tuple[str, ...]
    drifting: tuple[str, ...]
    regressing: tuple[str, ...]


def site_names(sites: int) -> tuple[str, ...]:
    """``S01``, ``S02``, … (three digits past 99 sites)."""
    width = max(2, len(str(sites)))
    return tuple(f"S{k:0{width}d}" for k in range(1, sites + 1))


def drifting_sites(sites: int) -> tuple[str, ...]:
    """Sites with planted input drift from month 7: every fifth site."""
    return tuple(name for k, name in enumerate(site_names(sites), start=1) if k % 5 == 0)


def regressing_sites(sites: int) -> tuple[str, ...]:
    """Sites where the shadow model is worse than the deployed one: every seventh site."""
    return tuple(name for k, name in enumerate(site_names(sites), start=1) if k % 7 == 0)


def partition_rows(rows: int, sites: int) -> np.ndarray:
    """Rows per (site, month), shape ``(sites, 12)``: site weights ``1 + (k mod 5)``, months even;
    largest remainders, so the total is exactly ``rows``."""
    weights = np.repeat(1.0 + np.arange(1, sites + 1) % 5, len(MONTHS))
    share = rows * weights / weights.sum()
    out = np.floor(share).astype(np.int64)
    out[np.argsort(-(share - out), kind="stable")[: rows - out.sum()]] += 1
    return out.reshape(sites, len(MONTHS))


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))


def _features(rng: np.random.Generator, n: int, ramp: float) -> dict[str, np.ndarray]:
    """16 continuous (float32) and 4 categorical features; ``ramp`` in [0, 1] shifts x01..x04 and c1."""
    cols: dict[str, np.ndarray] = {}
    for i, name in enumerate(CONTINUOUS):
        kind = i % 4
        if kind == 0:
            x = rng.standard_normal(n)
        elif kind == 1:
            x = rng.lognormal(0.0, 0.5, n)
        elif kind == 2:
            x = rng.poisson(4.0, n).astype(float)
        else:
            x = rng.uniform(-1.0, 1.0, n)
        if name in DRIFT_FEATURES and ramp > 0:
            x = x + ramp * x.std()
        cols[name] = x
    for name in CATEGORICAL:
        k = LEVELS[name]
        level = rng.integers(0, k, n)
        if name == "c1" and ramp > 0:
            level = np.where(rng.random(n) < 0.3 * ramp, k - 1, level)
        cols[name] = level
    return cols


def _standardised(cols: dict[str, np.ndarray]) -> np.ndarray:
    """The first 8 continuous features on a common scale (reference means and SDs, fixed)."""
    centre = np.array([0.0, 1.133, 4.0, 0.0] * 2)
    scale = np.array([1.0, 0.604, 2.0, 0.577] * 2)
    return np.column_stack([(cols[c] - m) / s for c, m, s in zip(CONTINUOUS[:8], centre, scale)])


def _labels(name: str):
    import pyarrow as pa

    return pa.array([f"{name}-{k}" for k in range(LEVELS[name])], type=pa.string())


def _chunk(rng: np.random.Generator, n: int, *, ramp: float, regress: bool, month_index: int):
    import pyarrow as pa

    cols = _features(rng, n, ramp)
    z = _standardised(cols)
    true_lp = _INTERCEPT + z @ _BETA + 0.3 * (cols["c2"] == 0)
    y = (rng.random(n) < _sigmoid(true_lp)).astype(float)
    # the deployed model misses two of the inputs and is noisier; the shadow sees all but is scrambled at
    # regressing sites
    deployed_lp = _INTERCEPT + z[:, :6] @ _BETA[:6] + 0.6 * rng.standard_normal(n)
    shadow_lp = true_lp + 0.4 * rng.standard_normal(n)
    if regress:
        shadow_lp = _INTERCEPT + 0.5 * (true_lp - _INTERCEPT) + 1.3 * rng.standard_normal(n)
    deployed = np.round(_sigmoid(deployed_lp), SCORE_DECIMALS)
    shadow = np.round(_sigmoid(shadow_lp), SCORE_DECIMALS)
    delay = len(MONTHS) - 1 - month_index
    unlabelled = _LABEL_DELAY[delay] if delay < len(_LABEL_DELAY) else _LABEL_MISSING
    arrays = {}
    for name in CONTINUOUS:
        x = cols[name].astype(np.float32)
        mask = rng.random(n) < _MISSING[name] if name in _MISSING else None
        arrays[name] = pa.array(x, mask=mask)
    for name in CATEGORICAL:
        arrays[name] = pa.DictionaryArray.from_arrays(pa.array(cols[name].astype(np.int32)), _labels(name))
    arrays["deployed"] = pa.array(deployed)
    arrays["shadow"] = pa.array(shadow, mask=rng.random(n) < _SHADOW_MISSING)
    arrays["y"] = pa.array(y, mask=rng.random(n) < unlabelled)
    return pa.table(arrays)


def write_fleet(out_dir: str | os.PathLike, rows: int = 1_000_000, *, sites: int = 50, seed: int = 0,
                planted: bool = True) -> Fleet:
    """Write the synthetic fleet as hive-partitioned Parquet (``site=…/month=…``), chunk by chunk.

    Parameters
    ----------
    out_dir : path
        Folder to create; it must not hold Parquet files already.
    rows : int, default 1,000,000
        Total rows (at least one per site and month is not required: empty partitions are not written).
    sites : int, default 50
    seed : int, default 0
    planted : bool, default True
        False: no site drift and no shadow regression anywhere (a fleet under the null, for simulations).

    Returns
    -------
    Fleet
    """
    import pyarrow.parquet as pq

    if rows < 0 or sites < 1:
        raise ValueError(f"rows must be >= 0 and sites >= 1; got rows={rows}, sites={sites}")
    out = Path(out_dir)
    if out.exists() and any(out.rglob("*.parquet")):
        raise FileExistsError(f"{out}: already holds Parquet files; write the fleet to a new folder")
    names = site_names(sites)
    drifting, regressing = (set(drifting_sites(sites)), set(regressing_sites(sites))) if planted else (set(), set())
    counts = partition_rows(rows, sites)
    files = 0
    for s, site in enumerate(names):
        for m, month in enumerate(MONTHS):
            n = int(counts[s, m])
            if n == 0:
                continue
            folder = out / f"site={site}" / f"month={month}"
            folder.mkdir(parents=True, exist_ok=True)
            ramp = max(0.0, (m + 1 - (DRIFT_FROM_MONTH - 1)) / (len(MONTHS) - DRIFT_FROM_MONTH + 1)) \
                if site in drifting else 0.0
            writer = None
            try:
                for c, start in enumerate(range(0, n, CHUNK)):
                    rng = np.random.default_rng([seed, s, m, c])
                    table = _chunk(rng, min(CHUNK, n - start), ramp=min(ramp, 1.0), regress=site in regressing,
                                   month_index=m)
                    if writer is None:
                        writer = pq.ParquetWriter(folder / "part-0.parquet", table.schema,
                                                  use_dictionary=list(DICTIONARY))
                    writer.write_table(table)
            finally:
                if writer is not None:
                    writer.close()
            files += 1
    return Fleet(str(out), int(rows), files, names, tuple(sorted(drifting)), tuple(sorted(regressing)))
