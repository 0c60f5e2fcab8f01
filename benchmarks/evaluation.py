"""The evaluation stage at scale: a SYNTHETIC snapshot of 10^6 patients, stage 2 through Papermill.

Measured in one run, on this machine:

1. **Stage end to end**: ``notebooks/02_evaluation.ipynb`` executed by Papermill on the frozen cohort
   (kernel start, reading and hash-checking the cohort, every statistic, the four figures rendered and
   saved, the results JSON), once per declared ``n_bootstrap``; the kernel's peak resident memory.
   Target (issue 6): under 30 s. Peer: Papermill executing an empty notebook in the same kernel (the
   fixed cost of a stage).
2. **Per part**, in this process, the functions the notebook calls, each with its peak extra memory
   (tracemalloc; numpy reports its buffers), beside an independent implementation of the same
   quantity where one exists (scikit-learn, statsmodels, plain numpy) and the ratio. The peers compute
   less (mostly point estimates, no intervals); the ratio says what the intervals and checks cost.

The study analyses every patient with a known outcome (no split, one cohort step), so about 975,000 of
the 10^6 rows. Usage: ``.venv/bin/python benchmarks/evaluation.py [--rows 1000000] [--n-bootstrap 2000 200]``.
"""

from __future__ import annotations

import argparse
import gc
import json
import shutil
import subprocess
import sys
import tempfile
import textwrap
import time
import warnings
from pathlib import Path

import numpy as np
import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from _common import peak_memory_mb  # noqa: E402

from studylib import stats
from studylib.stats.brier import brier_score
from studylib.stages.evaluation import analysis as evaluation
from studylib.stages.evaluation import comparison, curves, inputs, thresholds
from studylib.evidence import results as evidence
from studylib import plan
from studylib.data import synth
from studylib.evidence import workspace  # noqa: E402

PAPERMILL = textwrap.dedent("""
    import resource, sys, time, papermill
    notebook, output, study_file, run_dir, kernel = sys.argv[1:6]
    t0 = time.perf_counter()
    papermill.execute_notebook(notebook, output, kernel_name=kernel, progress_bar=False, cwd=sys.argv[6],
                               parameters={"study_file": study_file, "run_dir": run_dir} if study_file else None)
    print(time.perf_counter() - t0, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024)
""")


def measure(fn, memory: bool = True):
    """(seconds, peak extra MiB, result): one timed call, then (if ``memory``) a second call under
    tracemalloc for the peak (tracemalloc slows pandas' per-object work, so it is never timed)."""
    gc.collect()
    t0 = time.perf_counter()
    result = fn()
    seconds = time.perf_counter() - t0
    if not memory:
        return seconds, float("nan"), result
    return seconds, peak_memory_mb(fn), result


def seconds_of(fn):
    gc.collect()
    t0 = time.perf_counter()
    fn()
    return time.perf_counter() - t0


def table(headers, rows) -> str:
    cells = [[c if isinstance(c, str) else ("—" if c != c else f"{c:.2f}" if c < 100 else f"{c:.0f}") for c in r]
             for r in rows]
    widths = [max(len(h), *(len(r[i]) for r in cells)) for i, h in enumerate(headers)]
    out = ["  ".join(h.ljust(w) for h, w in zip(headers, widths)), "  ".join("-" * w for w in widths)]
    return "\n".join(out + ["  ".join(c.ljust(w) for c, w in zip(r, widths)) for r in cells])


def write_study(folder: Path, lock: str, snap: Path, n_bootstrap: int) -> Path:
    data = synth.study_params(snap, lock)
    data["cohort"] = [{"id": "E1", "label": "Outcome unknown (censored before 5 years)",
                       "drop": {"column": "death_5y", "op": "is null"}}]
    data["analysis"] = {"threshold": 0.2, "seed": 20261123, "n_bootstrap": n_bootstrap,
                        "primary_metrics": ["sensitivity", "specificity", "auroc"],
                        "error_analysis": {"variables": ["sex", "age", "site", "vendor"], "list_misses": 20}}
    data["acceptance"] = [*data["acceptance"],
                          {"id": "AC-4", "metric": "sensitivity", "versus": "baseline", "non_inferiority_margin": 0.02}]
    path = folder / "params" / f"bench-{n_bootstrap}.yaml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


def freeze_cohort(study, run_dir: Path) -> int:
    frozen = workspace.build_cohort(study).cohort
    sha = workspace.freeze(frozen, run_dir)
    evidence.record(run_dir, "cohort", {"cohort_sha256": sha, "gates": []})
    return len(frozen)


def papermill_run(notebook: Path, out: Path, study_file: str, run_dir: str, cwd: Path) -> tuple[float, float]:
    from studylib.run.runner import kernel_name

    result = subprocess.run([sys.executable, "-c", PAPERMILL, str(notebook), str(out), study_file, run_dir,
                             kernel_name(), str(cwd)], capture_output=True, text=True, cwd=cwd)
    if result.returncode != 0:
        raise RuntimeError(result.stderr[-3000:])
    seconds, rss = result.stdout.split()[-2:]
    return float(seconds), float(rss)


def parts(study, frame, *, more_resamples: int, repeats_peer: int = 20):
    """Per-part (ours, peer) timings in this process on the frozen cohort."""
    from sklearn.metrics import average_precision_score, confusion_matrix, roc_auc_score, roc_curve
    from sklearn.metrics import precision_recall_curve as sk_pr
    import statsmodels.api as sm
    from statsmodels.nonparametric.smoothers_lowess import lowess
    from statsmodels.stats.contingency_tables import mcnemar as sm_mcnemar
    from statsmodels.stats.proportion import proportion_confint

    from studylib.stages.evaluation import error_analysis
    from studylib.report.plots import evaluation as figures

    a = study.analysis
    rows = []
    t, m, data = measure(lambda: inputs.prepare(frame, study))
    y, p, b = data.y, data.scores["candidate"], data.scores["baseline"]
    rows.append(("prepare (missing scores, probability checks)", t, m, None, ""))

    def peer_binary():
        tn, fp, fn, tp = confusion_matrix(y, p >= a.threshold).ravel()
        for x, n in ((tp, tp + fn), (tn, tn + fp), (tp, tp + fp), (tn, tn + fn), (tp + tn, len(y))):
            proportion_confint(x, n, method="wilson")

    t, m, _ = measure(lambda: stats.binary_metrics(y, p, a.threshold, alpha=a.alpha, method=a.ci_method))
    rows.append(("2x2 + 5 Wilson intervals + LRs", t, m, seconds_of(peer_binary), "sklearn confusion_matrix + statsmodels"))
    t, m, _ = measure(lambda: stats.auroc(y, p))
    rows.append(("AUROC with DeLong interval", t, m, seconds_of(lambda: roc_auc_score(y, p)),
                 "sklearn roc_auc_score (no interval)"))
    t, m, _ = measure(lambda: stats.auprc(y, p, n_resamples=a.n_bootstrap, seed=a.seed))
    rng = np.random.default_rng(1)
    pos, neg = np.flatnonzero(y == 1), np.flatnonzero(y == 0)

    def peer_auprc():
        for _ in range(repeats_peer):
            idx = np.concatenate([rng.choice(pos, pos.size), rng.choice(neg, neg.size)])
            average_precision_score(y[idx], p[idx])

    per_resample = seconds_of(peer_auprc) / repeats_peer
    rows.append((f"AUPRC, stratified bootstrap x{a.n_bootstrap}", t, m, per_resample * a.n_bootstrap,
                 f"sklearn average_precision_score per resample ({repeats_peer} timed, scaled)"))
    if more_resamples != a.n_bootstrap:
        t, m, _ = measure(lambda: stats.auprc(y, p, n_resamples=more_resamples, seed=a.seed), memory=False)
        rows.append((f"  (AUPRC, stratified bootstrap x{more_resamples})", t, m, per_resample * more_resamples,
                     "the same, scaled"))
    t, m, _ = measure(lambda: stats.calibration(y, p))
    lp = np.log(np.clip(p, 1e-15, 1 - 1e-15) / np.clip(1 - p, 1e-15, 1))

    def peer_calibration():
        sm.GLM(y, sm.add_constant(lp), family=sm.families.Binomial()).fit()
        sm.GLM(y, np.ones_like(lp), family=sm.families.Binomial(), offset=lp).fit()
        lowess(y.astype(float), p, frac=2 / 3, it=0, delta=0.01 * np.ptp(p), return_sorted=False)

    rows.append(("calibration (CITL, slope, O/E, E-stats, Spiegelhalter)", t, m, seconds_of(peer_calibration),
                 "statsmodels GLM x2 + lowess"))
    t, m, _ = measure(lambda: brier_score(y, p))
    rows.append(("Brier with interval", t, m, None, ""))
    t, m, _ = measure(lambda: comparison.compare_with_baseline(y, p, b, study))

    def peer_compare():
        for mask, good in ((y == 1, True), (y == 0, False)):
            ca, cb = (p[mask] >= a.threshold) == good, (b[mask] >= a.threshold) == good
            sm_mcnemar(np.array([[np.sum(ca & cb), np.sum(ca & ~cb)], [np.sum(~ca & cb), np.sum(~ca & ~cb)]]))
        roc_auc_score(y, p) - roc_auc_score(y, b)

    rows.append(("paired comparison (DeLong, 3 McNemar, Brier)", t, m, seconds_of(peer_compare),
                 "statsmodels mcnemar x2 + AUROC difference (no DeLong)"))
    t, m, _ = measure(lambda: thresholds.threshold_table(y, p, study))
    rows.append((f"EXPLORATORY threshold table ({len(a.threshold_grid) + 1} thresholds)", t, m, None, ""))
    t, m, _ = measure(lambda: thresholds.decision_curve(y, data.scores, study))
    grid = thresholds.decision_thresholds(study)

    def peer_dca():
        for score in (p, b):
            for th in grid:
                treat = score >= th
                (np.sum(treat & (y == 1)) - np.sum(treat & (y == 0)) * th / (1 - th)) / len(y)

    rows.append((f"decision curve ({grid.size} thresholds, 2 models)", t, m, seconds_of(peer_dca),
                 "numpy loop over thresholds"))
    t, m, _ = measure(lambda: error_analysis.analyse(data.frame, y, data.scores, study))
    rows.append(("error-case analysis (4 variables, listings)", t, m, None, ""))
    t, m, cv = measure(lambda: curves.curves(data, study))
    rows.append(("curves: ROC, PR (2 models), lowess calibration + band", t, m,
                 seconds_of(lambda: (roc_curve(y, p), roc_curve(y, b), sk_pr(y, p), sk_pr(y, b))),
                 "sklearn roc_curve + precision_recall_curve (no calibration curve)"))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ev = evaluation.evaluate(frame, study)
    out = Path(tempfile.mkdtemp(prefix="bench-fig-"))
    t, m, _ = measure(lambda: (figures.show_discrimination(ev, cv, study, out), figures.show_calibration(ev, cv, study, out),
                               figures.show_decision_curve(ev, study, out), figures.show_roc_comparison(ev, cv, study, out)),
                      memory=False)
    shutil.rmtree(out, ignore_errors=True)
    rows.append(("4 figures: draw, save SVG+PNG, embed PNG", t, m, None, ""))
    t, m, _ = measure(lambda: evidence.dumps(evaluation.results(ev, study)))
    rows.append(("results JSON", t, m, None, ""))
    return rows, len(y)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--n-bootstrap", type=int, nargs="+", default=[2000, 200])
    parser.add_argument("--keep", help="keep the snapshot and runs in this folder")
    args = parser.parse_args()
    folder = Path(args.keep or tempfile.mkdtemp(prefix="bench-evaluation-"))
    warnings.simplefilter("ignore")
    try:
        t0 = time.perf_counter()
        lock = synth.write_snapshot(folder / "snapshot", args.rows, seed=1)
        print(f"SYNTHETIC snapshot: {args.rows:,} rows written and locked in {time.perf_counter() - t0:.1f} s")
        empty = folder / "empty.ipynb"
        empty.write_text(json.dumps({"cells": [], "metadata": {"kernelspec": {"name": "python3", "language": "python",
                                     "display_name": "Python 3"}}, "nbformat": 4, "nbformat_minor": 5}))
        stage_rows = []
        per_part = None
        for n_bootstrap in args.n_bootstrap:
            params_file = write_study(folder, lock, folder / "snapshot", n_bootstrap)
            study = plan.load(params_file)
            run_dir = folder / f"run-{n_bootstrap}"
            t0 = time.perf_counter()
            n = freeze_cohort(study, run_dir)
            frozen = time.perf_counter() - t0
            seconds, rss = papermill_run(ROOT / "studylib" / "notebooks" / "02_evaluation.ipynb", run_dir / "02.ipynb",
                                         str(params_file), str(run_dir), ROOT)
            recorded = json.loads((run_dir / "results" / "evaluation.json").read_text())
            stage_rows.append((f"stage 2 via Papermill, n_bootstrap {n_bootstrap}", seconds, rss,
                               "met" if seconds < 30 else "NOT met", recorded["verdict"]))
            print(f"  cohort frozen for n_bootstrap {n_bootstrap} ({n:,} patients) in {frozen:.1f} s (not timed)")
            if n_bootstrap == min(args.n_bootstrap):
                frame = inputs.analysis_rows(workspace.analysis_cohort(study, run_dir), study)
                per_part = (n_bootstrap, *parts(study, frame, more_resamples=max(args.n_bootstrap)))
        peer_seconds, peer_rss = papermill_run(empty, folder / "empty.out.ipynb", "", "", ROOT)
        stage_rows.append(("peer: Papermill, empty notebook (kernel start)", peer_seconds, peer_rss, "", ""))
        print(f"\nStage end to end ({n:,} patients analysed; target < 30 s on this machine)")
        print(table(["what", "seconds", "kernel peak RSS (MiB)", "< 30 s", "verdict"], stage_rows))
        n_bootstrap, rows, n = per_part
        print(f"\nPer part, in-process, n_bootstrap {n_bootstrap}, {n:,} patients (peak = extra memory of the call)")
        out = []
        for name, ours, mem, peer, what in rows:
            out.append((name, ours, mem, "—" if peer is None else peer,
                        "—" if peer is None else f"{ours / peer:.2f}", what or "—"))
        total = sum(r[1] for r in rows if not r[0].startswith("  ("))
        out.append(("sum of parts (without the extra AUPRC row)", total, max(r[2] for r in rows if r[2] == r[2]),
                    "", "", ""))
        print(table(["part", "ours s", "peak MiB", "peer s", "ours/peer", "peer"], out))
    finally:
        if not args.keep:
            shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
