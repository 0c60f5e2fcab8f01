"""False fires of the demo's shadow triggers when the rule's null holds (``make test-slow``; run with ``-s``).

Six windows at the demo's labelled window sizes (650, 329, 230, 165, 45, 202 cases, 13 % events), two
scores per case from a binormal model (correlation 0.7 between the models' latent scores within a class,
mapped to [0, 1] by the logistic function). Each window is reduced to what the engine returns (placement
sums by brute force, flag pairs, per-score counts), turned into the shadow table and the long statistics
exactly as the drift stage does, and the plan's shadow triggers are judged by ``judge_triggers``.

- SH-1 (shadow non-inferior in 3 consecutive windows → activate): null = the shadow is worse by exactly the
  margin (AUROC 0.80 deployed, 0.75 shadow). Each window is a one-sided test at 2.5 %, and three in a row
  are needed: the false-activation rate must stay below 2.5 %.
- SH-2 (whole interval of shadow − deployed below 0 in any window → stop): null = equal AUROCs (0.80 both).
  Six one-sided tests at 2.5 % without multiplicity adjustment: at most 1 − 0.975^6 ≈ 14 %.
- SH-3 (flag-rate difference lower bound above 0.05 → investigate): null = equal alert burden: at most 14 %.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy.special import expit
from scipy.stats import norm

from studylib import plan
from studylib.judge import gates, triggers
from studylib.stages.drift import labelled, shadow
from tests.stats.test_placement_sums import sums_from_rows

pytestmark = pytest.mark.slow

RUNS = 120  # pandas-bound: about 2-4 s a run on this machine
SIZES = (650, 329, 230, 165, 45, 202)
PREVALENCE = 0.13
ROOT = Path(__file__).resolve().parents[3]


def _window(rng, n, auc_deployed, auc_shadow, rho=0.7):
    y = (rng.random(n) < PREVALENCE).astype(int)
    latent = rng.multivariate_normal([0, 0], [[1, rho], [rho, 1]], size=n)
    mu = np.sqrt(2) * norm.ppf([auc_deployed, auc_shadow])
    deployed = expit(latent[:, 0] + mu[0] * y - 2.0)
    shade = expit(latent[:, 1] + mu[1] * y - 2.0)
    return y, np.round(deployed, 4), np.round(shade, 4)


def _aggregates(index, y, deployed, shade, threshold):
    pos, neg = sums_from_rows(y, shade, deployed)
    paired = pd.DataFrame([{"window": index, "outcome": o, "cases": s.cases, "sum_a": s.sum_a, "sum_b": s.sum_b,
                            "sum_aa": s.sum_aa, "sum_bb": s.sum_bb, "sum_ab": s.sum_ab}
                           for o, s in ((1.0, pos), (0.0, neg))])
    fa, fb = (shade >= threshold).astype(int), (deployed >= threshold).astype(int)
    flags = (pd.DataFrame({"window": index, "outcome": y.astype(float), "flag_a": fa, "flag_b": fb})
             .groupby(["window", "outcome", "flag_a", "flag_b"]).size().rename("n").reset_index())
    values, inverse = np.unique(shade, return_inverse=True)
    fit = labelled.fit_from_counts(values, np.bincount(inverse, weights=y).astype(int),
                                   np.bincount(inverse, weights=1 - y).astype(int), threshold, 0.05, "wilson")
    alert = {"window": str(index), "alert_rate": fa.mean(), "alert_rate_lower": math.nan, "alert_rate_upper": math.nan}
    return paired, flags, fit, alert


def _fire_rates(study, auc_deployed, auc_shadow, seed):
    drift, mon = study.drift, study.monitoring
    threshold = study.analysis.threshold
    labels = [str(i) for i in range(1, len(SIZES) + 1)]
    fired = {t.id: 0 for t in drift.triggers if t.of == "shadow"}
    rng = np.random.default_rng(seed)
    for _ in range(RUNS):
        parts = [_aggregates(i, *_window(rng, n, auc_deployed, auc_shadow), threshold)
                 for i, n in enumerate(SIZES, start=1)]
        paired = pd.concat([p[0] for p in parts], ignore_index=True)
        flags = pd.concat([p[1] for p in parts], ignore_index=True)
        fits = {i: p[2] for i, p in enumerate(parts, start=1)}
        table = shadow.shadow_table(labels, paired, flags, fits, margin=mon.shadow_margin, alpha=0.05, ci="wilson",
                                    min_events=drift.min_events, min_non_events=drift.min_non_events,
                                    min_rows=drift.min_rows)
        long = pd.DataFrame(shadow.statistics(table, pd.DataFrame([p[3] for p in parts]), min_events=drift.min_events,
                                              min_non_events=drift.min_non_events, min_rows=drift.min_rows))
        for gate in triggers.judge_triggers(long, labels, study):
            if gate.id in fired and gate.verdict == gates.FAIL:
                fired[gate.id] += 1
    return {k: v / RUNS for k, v in fired.items()}


@pytest.fixture(scope="module")
def study():
    return plan.load(ROOT / "params" / "demo_monitoring.yaml", root=ROOT)


def test_false_activation_when_the_shadow_is_worse_by_the_margin(study):
    rates = _fire_rates(study, 0.80, 0.80 - study.monitoring.shadow_margin, seed=161)
    print(f"\nshadow worse by the margin: SH-1 (activate) fired in {rates['SH-1']:.1%} of {RUNS} runs")
    assert rates["SH-1"] <= 0.025 + 2 * math.sqrt(0.025 * 0.975 / RUNS)


def test_false_stop_and_burden_alarm_when_the_models_are_equal(study):
    rates = _fire_rates(study, 0.80, 0.80, seed=162)
    print(f"\nequal models: SH-2 (stop) fired in {rates['SH-2']:.1%}, SH-3 (burden) in {rates['SH-3']:.1%} of {RUNS} runs")
    bound = 1 - 0.975 ** len(SIZES) + 2 * math.sqrt(0.14 * 0.86 / RUNS)
    assert rates["SH-2"] <= bound
    assert rates["SH-3"] <= bound
