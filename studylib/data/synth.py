"""SYNTHETIC locked snapshots of any size, for scale tests and benchmarks.

:func:`write_snapshot` writes a folder shaped like the demo snapshot (``snapshots/flchain``): the same
columns with the same Arrow types (so the demo's parameter file structure works on it), plus ``site``
(S1–S5), ``vendor`` (V1–V3, the free light chain assay vendor) and ``sample_month`` ("YYYY-MM",
24 months from 2023-01), two model artifacts, a dataset card labelled SYNTHETIC and ``manifest.json``.
Nothing in it describes real people.

Planted, so that a study has something to find:

- **Subgroup weakness.** Vendor V3's assay measures kappa and lambda with large error (log-normal,
  SD 1.0 on the log scale). The outcome depends on the true values, the recorded columns hold V3's
  measurements, and the candidate model (which relies on free light chains) is much less
  discriminative for V3 rows (AUROC about 0.75 against 0.82 for V1/V2, below the baseline's 0.78);
  the baseline (age and sex) is not affected.
- **Drift.** From 2024-01 (months 13–24, the monitoring split) a ramp ``r = (month - 12) / 12``:
  younger people (age above 50 shrunk by up to 15 %), higher kappa and lambda (log + 0.5 r), more
  creatinine missing (15 % → 35 %), so the input and score distributions shift (PSI of the candidate
  score about 0.1 in 2024-Q3 and 0.2 in 2024-Q4); and calibration drift: the true log-odds fall by
  0.6 r, so the candidate increasingly over-predicts (observed/expected about 0.65 in 2024-12).

The candidate's coefficients are the true ones (outside the planted effects it is well calibrated);
the baseline's are the best age-and-sex logistic approximation of the reference months. Scores are
computed from the artifacts' coefficients and the recorded columns, exactly as in the demo snapshot.

Rows are generated in chunks of :data:`CHUNK` rows, each from its own seeded stream
(``numpy.random.default_rng([seed, chunk])``), and written as Parquet row groups, so memory stays
bounded (10 million rows: about 10 s and under 0.5 GB of memory) and the data do not depend on ``files``.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np

CHUNK = 500_000
FIRST_YEAR = 2023
MONTHS = tuple(f"{FIRST_YEAR + m // 12}-{m % 12 + 1:02d}" for m in range(24))
SITES = ("S1", "S2", "S3", "S4", "S5")
VENDORS = ("V1", "V2", "V3")
WEAK_VENDOR = "V3"
CHAPTERS = ("Circulatory", "Neoplasms", "Respiratory", "Mental", "Nervous", "Digestive", "External Causes")
MODEL_NAME = "synth-risk"
SCORE_DECIMALS = 6

_SITE_P = np.array([0.30, 0.25, 0.20, 0.15, 0.10])
#: vendor mix per site (rows S1..S5, columns V1..V3): V3 is used mostly at S4 and S5
_VENDOR_P = np.array([[0.70, 0.25, 0.05], [0.60, 0.30, 0.10], [0.50, 0.30, 0.20],
                      [0.30, 0.30, 0.40], [0.20, 0.30, 0.50]])
_CHAPTER_P = np.array([0.34, 0.26, 0.11, 0.07, 0.06, 0.08, 0.08])
#: approximate reference deciles of log(kappa + lambda), for flc_grp 1..10
_FLC_CUTS = np.array([0.45, 0.67, 0.82, 0.95, 1.08, 1.20, 1.33, 1.50, 1.75])
_V3_LOG_SD = 1.0
_AGE_SHRINK = 0.15
_FLC_SHIFT = 0.5
_CREATININE_MISSING = (0.15, 0.20)  # at the reference, and the added share at the end of the ramp
_CALIBRATION_DRIFT = -0.6
_CREATININE_MEDIAN = 1.0

_AGE = {"name": "age", "column": "age", "transform": "identity", "definition": "age in years at the sample"}
_MALE = {"name": "sex_male", "column": "sex", "transform": "indicator", "value": "M",
         "definition": "1 if sex == 'M', else 0"}
_FLC_AND_CREATININE = [
    {"name": "log_kappa", "column": "kappa", "transform": "log", "definition": "natural log of kappa"},
    {"name": "log_lambda", "column": "lambda", "transform": "log", "definition": "natural log of lambda"},
    {"name": "creatinine_imputed", "column": "creatinine", "transform": "impute", "value": _CREATININE_MEDIAN,
     "definition": f"creatinine; missing values replaced by {_CREATININE_MEDIAN}"},
    {"name": "creatinine_missing", "column": "creatinine", "transform": "is_missing",
     "definition": "1 if creatinine is missing, else 0"},
]


def _artifact(version: str, column: str, features: list[dict], coefficients: dict, description: str) -> dict:
    return {
        "format": "studylib-logistic-model/1",
        "name": MODEL_NAME,
        "version": version,
        "description": "SYNTHETIC model for scale tests, not a clinical tool. " + description,
        "outcome": {"column": "death_5y", "definition": "synthetic binary outcome"},
        "model": "logistic regression, logit link; coefficients set by studylib.synth, not fitted",
        "features": features,
        "coefficients": coefficients,
        "output": {"column": column, "type": "probability", "decimals": SCORE_DECIMALS,
                   "formula": "1 / (1 + exp(-(intercept + sum(coefficient * feature))))"},
    }


#: the candidate model v2: the true generating model (reference months, accurate assays)
CANDIDATE = _artifact("2.0.0", "p_v2", [_AGE, _MALE, *_FLC_AND_CREATININE], {
    "intercept": -9.3, "age": 0.085, "sex_male": 0.35, "log_kappa": 0.8, "log_lambda": 1.0,
    "creatinine_imputed": 0.6, "creatinine_missing": -0.3}, "Candidate: age, sex, free light chains, creatinine.")
#: the baseline model v1: age and sex only (fitted once to a large sample of the reference months)
BASELINE = _artifact("1.0.0", "p_v1", [_AGE, _MALE], {
    "intercept": -8.99, "age": 0.1028, "sex_male": 0.324}, "Baseline: age and sex.")
ARTIFACTS = {f"models/{MODEL_NAME}-{m['version']}.json": m for m in (BASELINE, CANDIDATE)}

#: SHA-256 of the artifact files (constant: the artifacts do not depend on seed or size)
CANDIDATE_ARTIFACT_SHA256 = "5d6be725a74f6f8502de79508bdc12fc42b693670806de247fac0c650726a1b2"
BASELINE_ARTIFACT_SHA256 = "31eb6c50e4452224824257a1a561f58003c76982722741fe615596ef358b4412"


def artifact_bytes(artifact: dict) -> bytes:
    """The exact bytes of a model artifact file (sorted keys, two-space indent, trailing newline)."""
    return (json.dumps(artifact, sort_keys=True, indent=2, ensure_ascii=False) + "\n").encode()


def _schema():
    import pyarrow as pa

    return pa.schema([
        ("person_id", pa.string()), ("sample_year", pa.int64()), ("age", pa.int64()), ("sex", pa.string()),
        ("kappa", pa.float64()), ("lambda", pa.float64()), ("flc_grp", pa.int64()), ("creatinine", pa.float64()),
        ("mgus", pa.int64()), ("futime_days", pa.int64()), ("death", pa.int64()), ("chapter", pa.string()),
        ("death_5y", pa.int64()), ("split", pa.string()), ("p_v1", pa.float64()), ("p_v2", pa.float64()),
        ("site", pa.string()), ("vendor", pa.string()), ("sample_month", pa.string()),
    ])


# --- generation -----------------------------------------------------------------------------------

def _linear(artifact: dict, columns: dict[str, np.ndarray]) -> np.ndarray:
    """Linear predictor of an artifact from numeric feature arrays keyed by feature name."""
    coef = artifact["coefficients"]
    out = np.full(len(columns["age"]), coef["intercept"])
    for feature in artifact["features"]:
        out += coef[feature["name"]] * columns[feature["name"]]
    return out


def _probability(linear: np.ndarray) -> np.ndarray:
    return np.round(1.0 / (1.0 + np.exp(-linear)), SCORE_DECIMALS)


def _person_ids(start: int, stop: int, total: int):
    """Pseudonymous ids ``SYN-nnnnnnnn``: a bijection of the row number (i * A + B mod total), no table."""
    import pyarrow as pa

    multiplier = 2_654_435_761 % total or 1
    while np.gcd(multiplier, total) != 1:
        multiplier += 1
    rows = np.arange(start, stop, dtype=np.int64)
    ids = (rows * multiplier + 7_919) % total + 1  # int64 is safe: rows < 2**31, multiplier < 2**32
    width = max(8, len(str(total)))
    buffer = np.empty((rows.size, 4 + width), dtype=np.uint8)
    buffer[:, :4] = np.frombuffer(b"SYN-", dtype=np.uint8)
    buffer[:, 4:] = (ids[:, None] // 10 ** np.arange(width - 1, -1, -1, dtype=np.int64)) % 10 + ord("0")
    offsets = np.arange(0, (rows.size + 1) * (4 + width), 4 + width, dtype=np.int32)
    return pa.StringArray.from_buffers(rows.size, pa.py_buffer(offsets), pa.py_buffer(buffer))


def _labels(values: tuple[str, ...], index: np.ndarray, mask: np.ndarray | None = None):
    import pyarrow as pa
    import pyarrow.compute as pc

    return pc.take(pa.array(values, pa.string()), pa.array(index, pa.int64(), mask=mask))


def _chunk(seed: int, chunk: int, start: int, stop: int, total: int):
    """Rows ``start:stop`` (within chunk number ``chunk``) as a pyarrow Table."""
    import pyarrow as pa

    rng = np.random.default_rng([seed, chunk])
    n = stop - start
    month = rng.integers(0, 24, n)
    ramp = np.clip((month - 11) / 12.0, 0.0, 1.0)  # 0 in 2023, 1/12 in 2024-01 ... 1 in 2024-12
    site = rng.choice(len(SITES), n, p=_SITE_P)
    vendor = np.minimum((rng.random(n)[:, None] > np.cumsum(_VENDOR_P[site], axis=1)).sum(axis=1), len(VENDORS) - 1)
    male = rng.random(n) < 0.45
    age = np.minimum(50 + np.floor(rng.gamma(2.0, 7.5, n) * (1 - _AGE_SHRINK * ramp)), 100)

    z1, z2 = rng.standard_normal(n), rng.standard_normal(n)
    log_kappa = 0.25 + 0.012 * (age - 65) + _FLC_SHIFT * ramp + 0.45 * z1
    log_lambda = 0.45 + 0.012 * (age - 65) + _FLC_SHIFT * ramp + 0.45 * (0.7 * z1 + 0.714 * z2)
    true_kappa, true_lambda = np.round(np.exp(log_kappa), 2).clip(0.01), np.round(np.exp(log_lambda), 2).clip(0.01)
    weak = vendor == VENDORS.index(WEAK_VENDOR)
    kappa, lambda_ = true_kappa.copy(), true_lambda.copy()
    kappa[weak] = np.round(true_kappa[weak] * np.exp(_V3_LOG_SD * rng.standard_normal(weak.sum())), 2).clip(0.01)
    lambda_[weak] = np.round(true_lambda[weak] * np.exp(_V3_LOG_SD * rng.standard_normal(weak.sum())), 2).clip(0.01)
    creatinine = np.round(np.exp(0.25 * rng.standard_normal(n)) * (1 + 0.01 * (age - 65)) + 0.05, 1).clip(0.4)
    creatinine_missing = rng.random(n) < _CREATININE_MISSING[0] + _CREATININE_MISSING[1] * ramp
    mgus = rng.random(n) < 0.015

    features = {"age": age, "sex_male": male.astype(float), "creatinine_missing": creatinine_missing.astype(float),
                "creatinine_imputed": np.where(creatinine_missing, _CREATININE_MEDIAN, creatinine)}
    true_lp = _linear(CANDIDATE, features | {"log_kappa": np.log(true_kappa), "log_lambda": np.log(true_lambda)})
    true_lp += _CALIBRATION_DRIFT * ramp
    p_v2 = _probability(_linear(CANDIDATE, features | {"log_kappa": np.log(kappa), "log_lambda": np.log(lambda_)}))
    p_v1 = _probability(_linear(BASELINE, features))

    dies = rng.random(n) < 1.0 / (1.0 + np.exp(-true_lp))
    censored = rng.random(n) < 0.025  # lost to follow-up, alive, before 5 years: outcome unknown
    later = rng.random(n) < 0.25      # died after 5 years
    futime = np.where(censored, rng.integers(1, 1826, n),
                      np.where(dies, rng.integers(0, 1827, n), rng.integers(1827, 5476, n)))
    death = np.where(censored, False, dies | later)
    chapter = rng.choice(len(CHAPTERS), n, p=_CHAPTER_P)
    split = np.where(month >= 12, 2, np.where(rng.random(n) < 0.5, 0, 1))

    columns = {
        "person_id": _person_ids(start, stop, total),
        "sample_year": pa.array(FIRST_YEAR + month // 12, pa.int64()),
        "age": pa.array(age.astype(np.int64)),
        "sex": _labels(("F", "M"), male.astype(np.int64)),
        "kappa": pa.array(kappa), "lambda": pa.array(lambda_),
        "flc_grp": pa.array(np.searchsorted(_FLC_CUTS, np.log(kappa + lambda_)).astype(np.int64) + 1),
        "creatinine": pa.array(creatinine, mask=creatinine_missing),
        "mgus": pa.array(mgus.astype(np.int64)),
        "futime_days": pa.array(futime.astype(np.int64)),
        "death": pa.array(death.astype(np.int64)),
        "chapter": _labels(CHAPTERS, chapter, mask=~death),
        "death_5y": pa.array(dies.astype(np.int64), mask=censored),
        "split": _labels(("development", "validation", "monitoring"), split),
        "p_v1": pa.array(p_v1), "p_v2": pa.array(p_v2),
        "site": _labels(SITES, site), "vendor": _labels(VENDORS, vendor),
        "sample_month": _labels(MONTHS, month),
    }
    return pa.Table.from_arrays(list(columns.values()), schema=_schema())


# --- the snapshot folder --------------------------------------------------------------------------

CARD = """\
# SYNTHETIC dataset card, written by studylib.data.synth.write_snapshot. Not real people; for scale tests.
name: synth
title: "SYNTHETIC 5-year risk cohort shaped like the flchain demo snapshot"
kind: SYNTHETIC
synthetic: true
rows: {rows}
seed: {seed}
files: {files}
generator: "studylib.data.synth.write_snapshot(out_dir, rows={rows}, seed={seed}, files={files}); chunks of {chunk} rows"
source: "SYNTHETIC: simulated by studylib.synth; no real data were used and no row describes a real person"
licence: "same as studylib (MIT)"
collection:
  window: "sample_month 2023-01 to 2024-12 (24 months, uniform); sample_year 2023-2024"
  sites: "S1-S5 (30/25/20/15/10 %); vendor V1-V3 (free light chain assay), mix varies by site, V3 mostly at S4/S5"
inclusion_rules: "none applied; about 1.5 % mgus == 1 rows; about 2.5 % rows have death_5y null (censored before 5 years)"
de_identification: "not applicable (SYNTHETIC); person_id SYN-nnnnnnnn is a bijection of the row number"
label_provenance: "death_5y drawn from the true risk: the candidate model's log-odds on the true assay values plus the planted calibration drift"
split_method: "2023 months: development or validation at random (50/50); 2024 months: monitoring"
models:
  baseline: "synth-risk 1.0.0 (p_v1): age and sex (artifact models/synth-risk-1.0.0.json)"
  candidate: "synth-risk 2.0.0 (p_v2): age, sex, log kappa, log lambda, creatinine with missing indicator (models/synth-risk-2.0.0.json)"
planted:
  subgroup_weakness: "vendor V3 measures kappa and lambda with log-normal error (SD {v3_sd} on the log scale): the candidate's AUROC is much lower for V3 rows; the baseline is unaffected"
  drift: "from 2024-01, ramp r = (month - 12) / 12 up to 1 in 2024-12: age above 50 shrunk by {age_shrink} r; log kappa and log lambda + {flc_shift} r; creatinine missing {miss0} + {miss1} r; true log-odds {drift:+} r (calibration drift: the models over-predict)"
known_limitations:
  - "SYNTHETIC: every association is invented; use it for software and scale tests only, never for clinical conclusions"
"""


def write_snapshot(out_dir: str | os.PathLike, rows: int = 100_000, *, seed: int = 0, files: int = 1) -> str:
    """Write a SYNTHETIC locked snapshot of ``rows`` rows and return its lock hash.

    Parameters
    ----------
    out_dir
        Folder to create; it must not exist or be empty.
    rows
        Number of rows (at least 1).
    seed
        Seed of the generator: the same ``rows``, ``seed`` and ``files`` give identical bytes.
    files
        Number of Parquet files: ``data.parquet`` when 1, else ``part-000.parquet`` ... (rows split
        evenly; the rows themselves do not depend on ``files``).

    Returns
    -------
    str
        The lock hash ``sha256:<hex>`` of the written manifest.

    Examples
    --------
    >>> lock = write_snapshot(tmp_path / "synth", 10_000, seed=1)  # doctest: +SKIP
    """
    import pyarrow.parquet as pq

    from studylib.data import snapshot

    if isinstance(rows, bool) or not isinstance(rows, (int, np.integer)) or rows < 1:
        raise ValueError(f"rows must be a positive integer; got {rows!r}")
    if isinstance(files, bool) or not isinstance(files, (int, np.integer)) or not 1 <= files <= rows:
        raise ValueError(f"files must be an integer in [1, rows]; got {files!r}")
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ValueError(f"seed must be a non-negative integer; got {seed!r}")
    if rows >= 2**31:
        raise ValueError(f"rows must be below 2**31; got {rows}")
    out = Path(out_dir)
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise FileExistsError(f"{out}: exists and is not an empty folder; choose a new folder for the snapshot")
    (out / "models").mkdir(parents=True, exist_ok=True)

    bounds = [rows * f // files for f in range(files + 1)]
    names = ["data.parquet"] if files == 1 else [f"part-{f:03d}.parquet" for f in range(files)]
    for name, lo, hi in zip(names, bounds, bounds[1:]):
        with pq.ParquetWriter(out / name, _schema(), compression="zstd", compression_level=1, version="2.6",
                              use_dictionary=True, write_statistics=True, store_schema=True) as writer:
            for chunk in range(lo // CHUNK, (hi - 1) // CHUNK + 1):
                first, last = chunk * CHUNK, min((chunk + 1) * CHUNK, rows)
                table = _chunk(seed, chunk, first, last, rows)
                start, stop = max(lo, first), min(hi, last)
                writer.write_table(table.slice(start - first, stop - start), row_group_size=CHUNK)
    for path, artifact in ARTIFACTS.items():
        (out / path).write_bytes(artifact_bytes(artifact))
    (out / "card.yaml").write_text(CARD.format(rows=rows, seed=seed, files=files, chunk=CHUNK, v3_sd=_V3_LOG_SD,
                                               drift=_CALIBRATION_DRIFT, age_shrink=_AGE_SHRINK,
                                               flc_shift=_FLC_SHIFT, miss0=_CREATININE_MISSING[0],
                                               miss1=_CREATININE_MISSING[1]), encoding="utf-8")
    return snapshot.lock(out)


def study_params(snapshot_dir: str | os.PathLike, lock: str) -> dict:
    """A complete minimal parameter dict (the structure of ``params/*.yaml``) for a synthetic snapshot.

    The study mirrors the demo: candidate v2 against baseline v1 on the validation split, subgroups by
    sex, age band, site and vendor (gate SG-1 should find the planted V3 weakness), and drift of the
    2024 months in quarters against 2023 (triggers should find the planted drift). Validate it with
    ``studylib.plan.Study.model_validate`` or write it out with ``yaml.safe_dump``.
    """
    role = {"name": MODEL_NAME}
    return {
        "study": {"id": "synth-v2-vs-v1", "title": "SYNTHETIC scale study: synth-risk v2 against locked v1",
                  "intended_use": "SYNTHETIC data for software and scale tests only; no clinical use."},
        "snapshot": {"path": str(snapshot_dir), "lock": lock},
        "data": {"id": "person_id", "outcome": "death_5y", "split": "split", "time": "sample_month", "site": "site",
                 "features": ["age", "sex", "kappa", "lambda", "creatinine"]},
        "models": {
            "candidate": {"score": "p_v2", **role, "version": CANDIDATE["version"],
                          "artifact_sha256": CANDIDATE_ARTIFACT_SHA256},
            "baseline": {"score": "p_v1", **role, "version": BASELINE["version"],
                         "artifact_sha256": BASELINE_ARTIFACT_SHA256},
        },
        "cohort": [
            {"id": "I1", "label": "Not used for development", "keep": {"column": "split", "op": "!=", "value": "development"}},
            {"id": "E1", "label": "Outcome unknown (censored before 5 years)", "drop": {"column": "death_5y", "op": "is null"}},
            {"id": "E2", "label": "Known MGUS (outside intended population)", "drop": {"column": "mgus", "op": "==", "value": 1}},
        ],
        "analysis": {"threshold": 0.2, "split": "validation", "seed": 20261123},
        "acceptance": [
            {"id": "AC-1", "metric": "auroc", "bound": "lower", "at_least": 0.75},
            {"id": "AC-2", "metric": "auroc", "versus": "baseline", "non_inferiority_margin": 0.02},
            {"id": "AC-3", "metric": "calibration_slope", "interval_within": [0.8, 1.2]},
        ],
        "subgroups": {
            "variables": [{"name": "sex", "column": "sex"},
                          {"name": "age_band", "column": "age", "cut": [50, 60, 70, 80, 120]},
                          {"name": "site", "column": "site"}, {"name": "vendor", "column": "vendor"}],
            "intersections": [["site", "vendor"]],
            "min_positives": 20, "min_negatives": 20,
            "gates": [{"id": "SG-1", "metric": "auroc", "bound": "lower", "at_least": 0.78}],
        },
        # five sites: random-effects synthesis with a prediction interval; "the model works at the next site"
        "sites": {"method": "reml", "test": "knha",
                  "gates": [{"id": "ST-1", "metric": "auroc", "bound": "prediction_lower", "at_least": 0.65}]},
        "drift": {
            "reference": {"column": "sample_month", "values": list(MONTHS[:12])},
            "windows": {"column": "sample_month", "each": 3},
            "features": ["age", "kappa", "lambda", "creatinine"],
            "categorical": ["site", "vendor"],
            "triggers": [
                {"id": "TR-1", "statistic": "psi", "of": "score", "above": 0.1, "in": "any_window", "action": "investigate"},
                {"id": "TR-2", "statistic": "oe_ratio", "below": 0.8, "in": "consecutive_windows", "count": 2,
                 "action": "revalidate"},
                {"id": "TR-3", "statistic": "auroc", "bound": "upper", "below": 0.7, "in": "any_window", "action": "suspend"},
            ],
        },
    }
