"""One model's performance: the 2×2 table, AUROC, AUPRC and Brier score against independent implementations."""

from __future__ import annotations

import pytest
from sklearn.metrics import average_precision_score, brier_score_loss, roc_auc_score

def test_operating_point_matches_independent_counts(evaluated):
    study, frame, y, p, base, ev = evaluated
    b = ev.models["candidate"].binary
    flagged = p >= 0.3
    assert (b.tp, b.fp, b.fn, b.tn) == (int((flagged & (y == 1)).sum()), int((flagged & (y == 0)).sum()),
                                        int((~flagged & (y == 1)).sum()), int((~flagged & (y == 0)).sum()))
    assert ev.models["candidate"].auroc.estimate == pytest.approx(roc_auc_score(y, p), abs=1e-12)
    assert ev.models["candidate"].auprc.estimate == pytest.approx(average_precision_score(y, p), abs=1e-12)
    assert ev.models["baseline"].brier.estimate == pytest.approx(brier_score_loss(y, base), abs=1e-12)


def test_oe_interval_follows_the_plan(evaluated):
    """Issue 13 item 7: the O/E interval is the log-scale delta method unless the plan declares the exact
    Poisson interval (analysis.oe_interval)."""
    from studylib.stages.evaluation.metrics import evaluate_model
    from tests.stages.evaluation.test_analysis import make_study

    study, frame, y, p, base, ev = evaluated
    assert ev.models["candidate"].calibration.oe_ratio.method == "delta-log"
    exact = evaluate_model(y, p, make_study(oe_interval="poisson-exact", threshold=0.3))
    assert exact.calibration.oe_ratio.method == "poisson-exact"
    assert exact.calibration.oe_ratio.estimate == pytest.approx(ev.models["candidate"].calibration.oe_ratio.estimate)
