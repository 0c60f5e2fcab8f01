"""Time the cohort stage's library calls on a large SYNTHETIC snapshot, against plain pandas and tableone.

A locked 1,000,000-row synthetic snapshot (``studylib.synth``: 3 splits, 5 sites) is built in a
temporary folder. A study with 10 cohort steps keeps 2 splits (development, validation) and declares
site, encounter-free ids, a collection window and a Table 1 of 8 variables. Each side runs in its own
fresh Python process (so that its peak resident memory is its own):

- studylib: verify + read the snapshot, ``cohort.apply``, ``leakage.check_study`` (split overlap on
  the whole snapshot, duplicate rows, duplicate keys, collection window, outcome among features),
  ``table_one.by_split`` + ``by_site`` (with SMDs and suppression), ``missingness.report``;
- peer: the same snapshot read with pandas; the steps applied one after the other by boolean
  indexing with ``nunique`` per step (the obvious pandas code); the same checks with
  ``groupby().nunique()`` and ``DataFrame.duplicated()``; Table 1 by split and by site with the
  ``tableone`` package (``smd=True`` for the split table).

Targets (issue 5, 2 cores): construction + leakage checks + Table 1 under 10 s and under 2 GB peak.

Usage: ``.venv/bin/python benchmarks/cohort.py [--rows 1000000] [--repeats 1]``
"""

from __future__ import annotations

import argparse
import json
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

CONTINUOUS = [("age", "mean_sd"), ("kappa", "median_iqr"), ("lambda", "median_iqr"), ("creatinine", "median_iqr")]
CATEGORICAL = ["sex", "vendor", "flc_grp", "death_5y"]
STEPS = [
    {"id": "I1", "label": "Development or validation split",
     "keep": {"column": "split", "op": "in", "value": ["development", "validation"]}},
    {"id": "E1", "label": "Outcome unknown", "drop": {"column": "death_5y", "op": "is null"}},
    {"id": "E2", "label": "Known MGUS", "drop": {"column": "mgus", "op": "==", "value": 1}},
    {"id": "I2", "label": "Aged 50 to 100", "keep": {"column": "age", "op": "between", "value": [50, 100]}},
    {"id": "E3", "label": "No follow-up", "drop": {"column": "futime_days", "op": "==", "value": 0}},
    {"id": "E4", "label": "Implausible laboratory values",
     "drop": {"any": [{"column": "creatinine", "op": ">", "value": 3.0}, {"column": "kappa", "op": ">", "value": 20}]}},
    {"id": "I3", "label": "Sex recorded", "keep": {"column": "sex", "op": "in", "value": ["F", "M"]}},
    {"id": "E5", "label": "Vendor V3 at site S1 (assay not validated there)",
     "drop": {"all": [{"column": "vendor", "op": "==", "value": "V3"}, {"column": "site", "op": "==", "value": "S1"}]}},
    {"id": "I4", "label": "Candidate score present", "keep": {"column": "p_v2", "op": "not null"}},
    {"id": "E6", "label": "Lambda below detection", "drop": {"column": "lambda", "op": "<=", "value": 0.05}},
]


def _study_file(folder: Path, snapshot_dir: Path, lock: str) -> Path:
    from studylib.data import synth

    data = synth.study_params(snapshot_dir, lock)
    data["cohort"] = STEPS
    data["data"]["collection_window"] = ["2023-01", "2024-12"]
    data["data"]["time"] = "sample_month"
    data["data"]["post_outcome"] = ["death", "futime_days", "chapter"]
    data["table_one"] = {"continuous": [{"column": c, "summary": s} for c, s in CONTINUOUS],
                         "categorical": CATEGORICAL, "smd_between": ["development", "validation"]}
    path = folder / "study.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


def _ours(study_file: str) -> dict:
    from studylib.stages.cohort import build as cohort
    from studylib.stages.cohort import leakage
    from studylib.stages.cohort import missingness
    from studylib import plan
    from studylib.data import snapshot
    from studylib.stages.cohort import table_one
    from studylib.report.tables import cohort as tables

    times = {}
    t = time.perf_counter()
    study = plan.load(study_file)
    snap = snapshot.verify(study.snapshot_path, study.snapshot.lock)
    source = snap.read()
    times["read"] = time.perf_counter() - t

    t = time.perf_counter()
    result = cohort.apply(source, study.cohort, id_column=study.data.id)
    times["cohort"] = time.perf_counter() - t

    t = time.perf_counter()
    findings = leakage.check_study(source, result, study)
    times["leakage"] = time.perf_counter() - t

    t = time.perf_counter()
    comparison = cohort.comparison_rows(source, result, study)
    by_split = table_one.by_split(study, comparison.frame, reference=comparison.reference)
    by_site = table_one.by_site(study, result.cohort)
    tables.table_one(by_split), tables.table_one(by_site), by_split.to_results(), by_site.to_results()
    times["table_one"] = time.perf_counter() - t

    t = time.perf_counter()
    missingness.report(comparison.frame, by=study.data.split, flag_percent=study.data.missing_flag_percent)
    times["missingness"] = time.perf_counter() - t
    return {"times": times, "rows": len(source), "cohort_rows": len(result.cohort),
            "verdicts": [f.verdict for f in findings], "smd_age": float(by_split.smd.smd.iloc[0])}


def _peer(study_file: str) -> dict:
    import warnings

    import pandas as pd
    from tableone import TableOne

    study = yaml.safe_load(Path(study_file).read_text())
    folder = Path(study["snapshot"]["path"])
    times = {}
    t = time.perf_counter()
    source = pd.read_parquet(folder / "data.parquet")
    times["read"] = time.perf_counter() - t

    def mask(frame, c):
        if "all" in c:
            out = pd.Series(True, index=frame.index)
            for sub in c["all"]:
                out &= mask(frame, sub)
            return out
        if "any" in c:
            out = pd.Series(False, index=frame.index)
            for sub in c["any"]:
                out |= mask(frame, sub)
            return out
        s, op, v = frame[c["column"]], c["op"], c.get("value")
        return {"==": lambda: s == v, "<=": lambda: s <= v, ">": lambda: s > v, "in": lambda: s.isin(v),
                "between": lambda: s.between(*v), "is null": s.isna, "not null": s.notna}[op]().fillna(False)

    t = time.perf_counter()
    current, counts = source, []
    for step in STEPS:
        m = mask(current, step.get("keep") or step["drop"])
        current = current[m] if "keep" in step else current[~m]
        counts.append((len(current), current["person_id"].nunique()))
    times["cohort"] = time.perf_counter() - t

    t = time.perf_counter()
    splits = source.groupby("person_id")["split"].nunique()
    leaked = splits[splits > 1].index.tolist()
    duplicated = int(current.duplicated().sum())
    keys = int(current.duplicated(subset=["person_id"]).sum())
    window = int((~current["sample_month"].between("2023-01", "2024-12")).sum())
    times["leakage"] = time.perf_counter() - t

    t = time.perf_counter()
    columns = [c for c, _ in CONTINUOUS] + CATEGORICAL
    nonnormal = [c for c, s in CONTINUOUS if s == "median_iqr"]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        TableOne(current, columns=columns, categorical=CATEGORICAL, nonnormal=nonnormal, groupby="split",
                 smd=True, pval=False).tableone
        TableOne(current, columns=columns, categorical=CATEGORICAL, nonnormal=nonnormal, groupby="site",
                 pval=False).tableone
    times["table_one"] = time.perf_counter() - t

    t = time.perf_counter()
    current.isna().groupby(current["split"]).sum()
    times["missingness"] = time.perf_counter() - t
    return {"times": times, "rows": len(source), "cohort_rows": len(current),
            "checks": [len(leaked), duplicated, keys, window]}


def _child(kind: str, study_file: str) -> None:
    out = (_ours if kind == "ours" else _peer)(study_file)
    out["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps(out))


def _run(kind: str, study_file: Path) -> dict:
    done = subprocess.run([sys.executable, __file__, "--child", kind, str(study_file)], capture_output=True,
                          text=True, check=True, cwd=ROOT)
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--repeats", type=int, default=1, help="fresh processes per side; the best time per part")
    parser.add_argument("--child", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        _child(*args.child)
        return
    from studylib.data import synth

    work = Path(tempfile.mkdtemp(prefix="bench-cohort-"))
    try:
        t = time.perf_counter()
        lock = synth.write_snapshot(work / "snapshot", args.rows, seed=5)
        build = time.perf_counter() - t
        study_file = _study_file(work, work / "snapshot", lock)
        ours_runs, peer_runs = [], []
        for _ in range(args.repeats):
            ours_runs.append(_run("ours", study_file))
            peer_runs.append(_run("peer", study_file))
    finally:
        shutil.rmtree(work, ignore_errors=True)
    ours = {k: min(r["times"][k] for r in ours_runs) for k in ours_runs[0]["times"]}
    peer = {k: min(r["times"][k] for r in peer_runs) for k in peer_runs[0]["times"]}
    rss = max(r["peak_rss_mb"] for r in ours_runs), max(r["peak_rss_mb"] for r in peer_runs)
    first = ours_runs[0]
    print(f"SYNTHETIC snapshot: {first['rows']:,} rows, 3 splits, 5 sites (built in {build:.1f} s); 10 cohort steps "
          f"keep {first['cohort_rows']:,} rows in 2 splits; best of {args.repeats} fresh process(es) per side")
    assert first["cohort_rows"] == peer_runs[0]["cohort_rows"], "studylib and pandas disagree on the cohort"
    names = {"read": "read snapshot (verify lock, Parquet)", "cohort": "cohort construction (10 steps, counts)",
             "leakage": "leakage + integrity checks", "table_one": "Table 1 by split (SMD) + by site",
             "missingness": "missingness by split"}
    peers = {"read": "pandas.read_parquet", "cohort": "pandas filter + nunique per step",
             "leakage": "pandas groupby/duplicated", "table_one": "tableone 0.9.6", "missingness": "pandas isna"}
    print(f"{'part':<42} {'studylib s':>10} {'peer s':>8} {'ratio':>6}  peer")
    for key, name in names.items():
        print(f"{name:<42} {ours[key]:>10.2f} {peer[key]:>8.2f} {ours[key] / peer[key]:>6.2f}  {peers[key]}")
    total = sum(ours.values())
    target = ours["cohort"] + ours["leakage"] + ours["table_one"]
    peer_total = sum(peer.values())
    print(f"{'total':<42} {total:>10.2f} {peer_total:>8.2f} {total / peer_total:>6.2f}")
    print(f"{'peak resident memory (MB)':<42} {rss[0]:>10.0f} {rss[1]:>8.0f} {rss[0] / rss[1]:>6.2f}")
    print(f"construction + leakage + Table 1 under 10 s: {'met' if target < 10 else 'NOT met'} ({target:.2f} s; "
          f"with reading and missingness {total:.2f} s)")
    print(f"peak memory under 2 GB: {'met' if rss[0] < 2048 else 'NOT met'} ({rss[0]:.0f} MB, whole process)")
    print(f"gate verdicts: {', '.join(first['verdicts'])}; SMD of age development vs validation {first['smd_age']:.3f}")


if __name__ == "__main__":
    main()
