"""Speed and memory of studylib.stats against its peers, in one run.

    .venv/bin/python benchmarks/stats.py            # n = 10^4, 10^5, 10^6 (about two minutes)
    .venv/bin/python benchmarks/stats.py --quick    # n = 10^4, 10^5, fewer repeats and resamples

Data: 10 % prevalence, scores N(0, 1) + 1 for positives, rounded to 3 decimals (so with ties).
Seconds are the best of a few repeats (one for the bootstrap). A peer computing less (e.g. only the
point estimate) is named as such. The naive bootstrap peer is timed on 20 resamples and extrapolated.
Rows for binary_metrics, calibration, psi and ks_test appear when studylib.stats provides them.
"""

from __future__ import annotations

import argparse
import sys
import warnings
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from _common import best_time, peak_memory_mb, table  # noqa: E402
from sklearn import metrics  # noqa: E402

from studylib import stats  # noqa: E402

MEMORY_TARGET_MB = 500.0
N_FEATURES = 20


def make_data(n: int, seed: int = 0):
    rng = np.random.default_rng(seed)
    y = (rng.random(n) < 0.1).astype(np.int64)
    a = np.round(rng.normal(size=n) + y, 3)
    b = np.round(0.8 * a + 0.6 * rng.normal(size=n), 3)
    prob = np.round(1 / (1 + np.exp(-(a - 2.2))), 3)
    return y, a, b, prob


def naive_bootstrap(y, s, n_resamples: int, seed: int = 0) -> np.ndarray:
    """What one would write without the fast path: stratified indices, then roc_auc_score per resample."""
    rng = np.random.default_rng(seed)
    pos, neg = np.flatnonzero(y == 1), np.flatnonzero(y == 0)
    out = np.empty(n_resamples)
    for b in range(n_resamples):
        rows = np.concatenate([pos[rng.integers(0, pos.size, pos.size)], neg[rng.integers(0, neg.size, neg.size)]])
        out[b] = metrics.roc_auc_score(y[rows], s[rows])
    return out


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="n = 10^4 and 10^5 only, fewer repeats")
    args = parser.parse_args(argv)
    sizes = [10**4, 10**5] if args.quick else [10**4, 10**5, 10**6]
    repeats = 2 if args.quick else 3
    n_boot = 200 if args.quick else 1000
    n_naive = 20
    big = sizes[-1]
    warnings.simplefilter("ignore")  # e.g. statsmodels convergence chatter; not part of the timings

    rows, memory = [], []

    def row(name, n, ours, peer_name, peer, target="", met_rule=None):
        ratio = ours / peer if peer else None
        met = "" if met_rule is None else ("yes" if met_rule(ours, ratio) else "NO")
        rows.append((name, f"{n:.0e}", ours, peer_name, peer, "" if ratio is None else f"{ratio:.2f}", target, met))

    def mem(name, fn):
        peak = peak_memory_mb(fn)
        memory.append((name, f"{big:.0e}", f"{peak:.1f}", f"< {MEMORY_TARGET_MB:.0f} MB",
                       "yes" if peak < MEMORY_TARGET_MB else "NO"))

    for n in sizes:
        y, a, b, prob = make_data(n)
        at_big = n == 10**6
        t = best_time(lambda: stats.auroc(y, a), repeats)
        p = best_time(lambda: metrics.roc_auc_score(y, a), repeats)
        row("auroc (DeLong CI)", n, t, "sklearn roc_auc_score (point only)", p,
            "ratio <= 1.2" if at_big else "", (lambda o, r: r <= 1.2) if at_big else None)

        t = best_time(lambda: stats.delong_test(y, a, b), repeats)
        p = best_time(lambda: (metrics.roc_auc_score(y, a), metrics.roc_auc_score(y, b)), repeats)
        row("delong_test", n, t, "2 x roc_auc_score (points only)", p,
            "< 1 s" if at_big else "", (lambda o, r: o < 1.0) if at_big else None)

        t = best_time(lambda: stats.roc_curve(y, a), repeats)
        p = best_time(lambda: metrics.roc_curve(y, a, drop_intermediate=False), repeats)
        row("roc_curve", n, t, "sklearn roc_curve", p)

        t = best_time(lambda: stats.precision_recall_curve(y, a), repeats)
        p = best_time(lambda: metrics.precision_recall_curve(y, a), repeats)
        row("precision_recall_curve", n, t, "sklearn precision_recall_curve", p)

        t = best_time(lambda: stats.auprc(y, a, n_resamples=n_boot), 1)
        p = best_time(lambda: metrics.average_precision_score(y, a), repeats)
        row(f"auprc ({n_boot} bootstrap resamples)", n, t, "sklearn average_precision_score (point only)", p)

        t = best_time(lambda: stats.bootstrap_ci(stats.auroc, y, a, n_resamples=n_boot, stratify=y, seed=0), 1)
        p = best_time(lambda: naive_bootstrap(y, a, n_naive), 1) * n_boot / n_naive
        at_target = n == 10**5 and n_boot == 1000
        row(f"bootstrap_ci(auroc), {n_boot} resamples", n, t,
            f"loop of roc_auc_score (timed {n_naive}, x{n_boot // n_naive})", p,
            "< 5 s" if at_target else "", (lambda o, r: o < 5.0) if at_target else None)

        if hasattr(stats, "binary_metrics"):
            t = best_time(lambda: stats.binary_metrics(y, a, 1.0), repeats)
            p = best_time(lambda: metrics.confusion_matrix(y, a >= 1.0), repeats)
            row("binary_metrics", n, t, "sklearn confusion_matrix (counts only)", p,
                "< 0.1 s" if at_big else "", (lambda o, r: o < 0.1) if at_big else None)

        if hasattr(stats, "calibration"):
            import statsmodels.api as sm

            def glm():
                clipped = np.clip(prob, 1e-6, 1 - 1e-6)
                x = sm.add_constant(np.log(clipped / (1 - clipped)))
                return sm.GLM(y, x, family=sm.families.Binomial()).fit()

            t = best_time(lambda: stats.calibration(y, prob), repeats)
            p = best_time(glm, repeats)
            row("calibration", n, t, "statsmodels GLM logistic slope (one fit)", p,
                "< 5 s" if at_big else "", (lambda o, r: o < 5.0) if at_big else None)

        if n == big:
            mem("auroc", lambda: stats.auroc(y, a))
            mem("delong_test", lambda: stats.delong_test(y, a, b))
            mem("roc_curve", lambda: stats.roc_curve(y, a))
            mem("precision_recall_curve", lambda: stats.precision_recall_curve(y, a))
            mem("auprc (200 resamples)", lambda: stats.auprc(y, a, n_resamples=200))
            mem("bootstrap_ci(auroc) (200 resamples)",
                lambda: stats.bootstrap_ci(stats.auroc, y, a, n_resamples=200, stratify=y, seed=0))
            if hasattr(stats, "binary_metrics"):
                mem("binary_metrics", lambda: stats.binary_metrics(y, a, 1.0))
            if hasattr(stats, "calibration"):
                mem("calibration", lambda: stats.calibration(y, prob))

    if hasattr(stats, "psi") and hasattr(stats, "ks_test"):
        from scipy.stats import ks_2samp

        rng = np.random.default_rng(1)
        window = big // 2  # `big` rows split into a reference and a current window
        reference = np.round(rng.normal(size=(N_FEATURES, window)), 3)
        current = np.round(rng.normal(0.05, 1.0, size=(N_FEATURES, window)), 3)

        def drift():
            return [(stats.psi(r, c), stats.ks_test(r, c)) for r, c in zip(reference, current)]

        t = best_time(drift, 1)
        p = best_time(lambda: [ks_2samp(r, c) for r, c in zip(reference, current)], 1)
        at_big = big == 10**6
        row(f"psi + ks_test, {N_FEATURES} features (reference + current rows)", big, t,
            f"scipy ks_2samp x{N_FEATURES} (KS only)", p,
            "< 8 s" if at_big else "", (lambda o, r: o < 8.0) if at_big else None)
        peak = peak_memory_mb(drift)
        memory.append((f"psi + ks_test, {N_FEATURES} features", f"{big:.0e}", f"{peak:.1f}",
                       f"< {MEMORY_TARGET_MB:.0f} MB", "yes" if peak < MEMORY_TARGET_MB else "NO"))

    print(table(["function", "n", "studylib s", "peer", "peer s", "ratio", "target", "met?"], rows))
    if memory:
        print()
        print("Peak extra memory during one call (tracemalloc), inputs excluded")
        print(table(["function", "n", "peak MB", "target", "met?"], memory))
    missed = [r for r in rows if r[-1] == "NO"] + [m for m in memory if m[-1] == "NO"]
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
