"""Benchmark of the drift review at scale: 20 features × 12 monthly windows over 10,000,000 rows of Parquet.

Data (SYNTHETIC, generated here with numpy + pyarrow in chunks of 500,000 rows and cached in
``/tmp/studylib-bench-drift-<rows>/``): 24 months ``2023-01 … 2024-12`` as text ``YYYY-MM``; 16
continuous features (normal, log-normal, integer-valued, 2 with 10–25 % missing values) and 4
categorical ones (3–8 categories), a risk score and a 0/1 outcome; from 2024 some features, the score
and the calibration drift. The reference window is 2023 (12 months, about 5,000,000 rows), the
monitoring windows are the 12 months of 2024.

Parts, each in a fresh subprocess (peak memory is that process's maximum resident set size):

- **studylib (DuckDB)**: :func:`studylib.stages.drift.review.review` on the Parquet files — windows, reference bins,
  one histogram scan for every feature and the score, PSI / KS / chi-square / missingness with the
  multiplicity adjustment, mean score and alert rate, and calibration (CITL, slope, O/E, lowess
  curve) and AUROC / sensitivity / specificity per window. Its phases are listed too.
- **pandas + scipy in memory** (the peer): the same PSI (numpy, reference deciles), KS
  (``scipy.stats.ks_2samp``) and chi-square (``scipy.stats.chi2_contingency``) for every feature and
  the score in every window, after ``pandas.read_parquet`` of the columns it needs.
- Evidently is not measured: it is not a dependency of the project (its install pulls a large
  dependency tree; the brief made it optional).

Usage: ``python benchmarks/drift.py [--rows N]`` (default 10,000,000). Prints one table.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
CHUNK = 500_000
MONTHS = [f"{2023 + m // 12}-{m % 12 + 1:02d}" for m in range(24)]
N_CONTINUOUS, N_CATEGORICAL = 16, 4
CONTINUOUS = [f"x{i:02d}" for i in range(1, N_CONTINUOUS + 1)]
CATEGORICAL = [f"c{i}" for i in range(1, N_CATEGORICAL + 1)]
LIMIT_SECONDS, LIMIT_GB = 30.0, 2.0


def generate(folder: Path, rows: int, files: int = 4, seed: int = 8) -> list[Path]:
    """Write the synthetic monitoring snapshot (cached: reused when the marker file matches)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    marker = folder / "DONE.json"
    spec = {"rows": rows, "files": files, "seed": seed, "version": 1}
    paths = [folder / f"part-{f:03d}.parquet" for f in range(files)]
    if marker.is_file() and json.loads(marker.read_text()) == spec:
        return paths
    folder.mkdir(parents=True, exist_ok=True)
    bounds = [rows * f // files for f in range(files + 1)]
    cats = {c: [f"{c}-{k}" for k in range(3 + 2 * i)] for i, c in enumerate(CATEGORICAL)}
    for path, lo, hi in zip(paths, bounds, bounds[1:]):
        with pq.ParquetWriter(path, _schema(), compression="zstd", compression_level=1) as writer:
            for start in range(lo, hi, CHUNK):
                stop = min(hi, start + CHUNK)
                writer.write_table(_chunk(np.random.default_rng([seed, start]), start, stop, rows, cats))
    marker.write_text(json.dumps(spec))
    return paths


def _schema():
    import pyarrow as pa

    fields = [pa.field("person_id", pa.int64()), pa.field("month", pa.string())]
    fields += [pa.field(c, pa.float64()) for c in CONTINUOUS]
    fields += [pa.field(c, pa.dictionary(pa.int8(), pa.string())) for c in CATEGORICAL]
    fields += [pa.field("score", pa.float64()), pa.field("outcome", pa.float64())]
    return pa.schema(fields)


def _chunk(rng, start: int, stop: int, rows: int, cats: dict):
    import pyarrow as pa

    n = stop - start
    month_index = (np.arange(start, stop) * 24) // rows  # rows in time order, 1/24 per month
    ramp = np.clip((month_index - 11) / 12, 0, 1)  # 0 in 2023, up to 1 in 2024-12
    cols = {"person_id": pa.array(np.arange(start, stop)),
            "month": pa.DictionaryArray.from_arrays(pa.array(month_index.astype(np.int8)), pa.array(MONTHS)).cast(pa.string())}
    latent = rng.normal(0, 1, n)
    for i, name in enumerate(CONTINUOUS):
        kind = i % 4
        shift = 0.3 * ramp if i < 4 else 0.0  # the first four features drift
        if kind == 0:
            x = rng.normal(shift, 1, n) + 0.3 * latent
        elif kind == 1:
            x = np.round(rng.lognormal(shift, 0.8, n), 2)
        elif kind == 2:
            x = np.floor(rng.normal(60 - 10 * shift, 12, n))
        else:
            x = rng.gamma(2.0 + shift, 1.0, n)
        if i in (5, 9):
            x[rng.random(n) < 0.10 + 0.15 * ramp * (i == 5)] = np.nan
        cols[name] = pa.array(x, from_pandas=True)  # NaN → null
    for i, name in enumerate(CATEGORICAL):
        k = len(cats[name])
        p = np.full(k, 1 / k)
        index = rng.choice(k, n, p=p).astype(np.int8)
        if i == 0:
            index = np.where(rng.random(n) < 0.2 * ramp, 0, index).astype(np.int8)
        cols[name] = pa.DictionaryArray.from_arrays(pa.array(index), pa.array(cats[name]))
    linear = -2.0 + 0.8 * latent + 0.4 * np.nan_to_num(np.asarray(cols["x01"]))
    score = 1 / (1 + np.exp(-linear))
    truth = linear - 0.5 * ramp
    cols["score"] = pa.array(np.round(score, 6))
    cols["outcome"] = pa.array((rng.random(n) < 1 / (1 + np.exp(-truth))).astype(float))
    return pa.table(cols, schema=_schema())


def study_dict(files: list[Path]) -> dict:
    raw = {
        "study": {"id": "bench-drift", "title": "SYNTHETIC drift benchmark", "intended_use": "benchmark only"},
        "snapshot": {"path": str(files[0].parent), "lock": "sha256:" + "0" * 64},
        "data": {"id": "person_id", "outcome": "outcome"},
        "models": {"candidate": {"score": "score", "name": "bench", "version": "1", "artifact_sha256": "0" * 64}},
        "analysis": {"threshold": 0.2, "multiplicity": "holm"},
        "drift": {
            "reference": {"column": "month", "period": "month", "between": ["2023-01", "2023-12"]},
            "windows": {"column": "month", "period": "month"},
            "features": CONTINUOUS, "categorical": CATEGORICAL,
            "triggers": [
                {"id": "TR-1", "statistic": "psi", "of": "score", "above": 0.25, "action": "investigate"},
                {"id": "TR-2", "statistic": "p_adjusted", "of": "any_feature", "below": 0.05, "action": "investigate"},
                {"id": "TR-3", "statistic": "oe_ratio", "interval_excludes": 1.0, "in": "consecutive_windows",
                 "count": 2, "action": "revalidate"},
                {"id": "TR-4", "statistic": "auroc", "bound": "upper", "below": 0.7, "action": "suspend"},
            ],
        },
    }
    return raw


# --- the parts, each run in a child process -------------------------------------------------------

def part_studylib(files: list[str]) -> dict:
    from studylib.judge import triggers
    from studylib.stages.drift import review as drift
    from studylib.plan import Study

    study = Study.model_validate(study_dict([Path(f) for f in files]))
    timings: dict = {}
    t0 = time.perf_counter()
    review = drift.review(files, study, timings=timings)
    judged = triggers.judge_triggers(review.statistics, review.monitoring_labels, study)
    seconds = time.perf_counter() - t0
    return {"seconds": seconds, "phases": timings, "windows": len(review.monitoring_labels),
            "tests": int(review.input["p_value"].notna().sum() + review.output["p_value"].notna().sum()),
            "fired": [g.id for g in judged if g.verdict == "FAIL"],
            "psi_x01_last": float(review.input[review.input.feature == "x01"]["psi"].iloc[-1])}


def part_pandas(files: list[str]) -> dict:
    import pandas as pd
    from scipy import stats as sps

    t0 = time.perf_counter()
    frame = pd.concat([pd.read_parquet(f, columns=["month", *CONTINUOUS, *CATEGORICAL, "score"]) for f in files],
                      ignore_index=True)
    read = time.perf_counter() - t0
    reference = frame["month"] < "2024-01"
    windows = sorted(frame.loc[~reference, "month"].unique())
    tests = 0
    for column in (*CONTINUOUS, "score"):
        ref = frame.loc[reference, column].dropna().to_numpy()
        inner = np.unique(np.quantile(ref, np.arange(1, 10) / 10))
        ref_counts = np.bincount(np.searchsorted(inner, ref, side="left"), minlength=inner.size + 1)
        r = (ref_counts + 0.5) / (ref_counts.sum() + 0.5 * ref_counts.size)
        for w in windows:
            cur = frame.loc[frame["month"] == w, column].dropna().to_numpy()
            counts = np.bincount(np.searchsorted(inner, cur, side="left"), minlength=inner.size + 1)
            c = (counts + 0.5) / (counts.sum() + 0.5 * counts.size)
            float(np.sum((c - r) * np.log(c / r)))
            sps.ks_2samp(ref, cur, method="asymp")
            tests += 1
    for column in CATEGORICAL:
        ref = frame.loc[reference, column].value_counts()
        for w in windows:
            cur = frame.loc[frame["month"] == w, column].value_counts()
            table = pd.concat([ref, cur], axis=1).fillna(0).to_numpy().T
            sps.chi2_contingency(table[:, table.sum(axis=0) > 0], correction=False)
            tests += 1
    return {"seconds": time.perf_counter() - t0, "phases": {"read_parquet into pandas": read}, "tests": tests}


def _child(name: str, files: list[Path]) -> dict:
    code = ("import json, resource, sys; sys.path.insert(0, %r); import benchmarks.drift as b; "
            "out = b.part_%s(%r); out['peak_gb'] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024**2; "
            "print('RESULT' + json.dumps(out))") % (str(ROOT), name, [str(f) for f in files])
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT)
    if done.returncode != 0:
        raise RuntimeError(f"part {name} failed:\n{done.stderr[-3000:]}")
    # DuckDB's terminal progress bar may precede the result on the same line (carriage returns)
    line = next(l for l in done.stdout.splitlines() if "RESULT" in l)
    return json.loads(line.split("RESULT", 1)[1])


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=10_000_000)
    parser.add_argument("--skip-peer", action="store_true", help="do not run the pandas + scipy peer")
    args = parser.parse_args(argv)
    folder = Path(tempfile.gettempdir()) / f"studylib-bench-drift-{args.rows}"
    t0 = time.perf_counter()
    files = generate(folder, args.rows)
    size = sum(f.stat().st_size for f in files) / 1024**3
    print(f"data: {args.rows:,} rows, {len(CONTINUOUS)} continuous + {len(CATEGORICAL)} categorical features, "
          f"24 months (reference 2023, 12 monthly windows 2024), {len(files)} Parquet files, {size:.2f} GB "
          f"(ready in {time.perf_counter() - t0:.1f} s)", flush=True)
    ours = _child("studylib", files)
    peer = None if args.skip_peer else _child("pandas", files)
    print()
    print(f"{'part':<58} {'seconds':>9} {'peak GB':>8} {'ratio':>7}")
    print("-" * 85)
    for phase, seconds in ours["phases"].items():
        print(f"  studylib · {phase:<45} {seconds:9.2f}")
    input_output = sum(v for k, v in ours["phases"].items() if not k.startswith(("labelled", "calibration")))
    print(f"{'studylib (DuckDB): PSI/KS/chi-square/missingness, score':<58} {input_output:9.2f}")
    print(f"{'studylib (DuckDB): all drift statistics + triggers':<58} {ours['seconds']:9.2f} {ours['peak_gb']:8.2f}")
    if peer is not None:
        ratio = peer["seconds"] / input_output
        print(f"  pandas · {'read_parquet into pandas':<47} {peer['phases']['read_parquet into pandas']:9.2f}")
        print(f"{'pandas + scipy in memory: the same PSI/KS/chi-square':<58} {peer['seconds']:9.2f} "
              f"{peer['peak_gb']:8.2f} {ratio:6.1f}x")
    print(f"{'Evidently':<58} {'not measured (not a project dependency)':>26}")
    print()
    ok = ours["seconds"] < LIMIT_SECONDS and ours["peak_gb"] < LIMIT_GB
    print(f"studylib: {ours['tests']} distribution tests over {ours['windows']} windows; triggers fired: "
          f"{', '.join(ours['fired']) or 'none'}; target < {LIMIT_SECONDS:g} s and < {LIMIT_GB:g} GB: "
          f"{'met' if ok else 'NOT met'} (machine: {__import__('os').cpu_count()} cores)")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
