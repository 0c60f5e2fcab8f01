"""Subgroup gates on constructed data: PASS, FAIL and INSUFFICIENT_EVIDENCE, the blocking policy,
relative gates (overall, reference), versus baseline, and withheld small-cell estimates."""

from __future__ import annotations

import math

import numpy as np

from studylib.judge import gates
from studylib.stages.subgroups import analysis as subgroups
from tests.stages.subgroups.helpers import constructed, gate_study


def test_pass_fail_and_insufficient_evidence():
    study = gate_study([{"id": "SG-1", "metric": "auroc", "bound": "lower", "at_least": 0.75}])
    analysis = subgroups.analyse(constructed(), study)
    verdicts = {g.id: g for g in analysis.gates}
    assert verdicts["SG-1[site=good]"].verdict == gates.PASS
    assert verdicts["SG-1[site=bad]"].verdict == gates.FAIL
    tiny = verdicts["SG-1[site=tiny]"]
    assert tiny.verdict == gates.INSUFFICIENT and tiny.blocks
    assert "8 positives" in tiny.sentence and "at least 20 positives" in tiny.sentence
    assert "more positives" in tiny.sentence and "Blocks the release" in tiny.sentence
    assert math.isnan(tiny.estimate)
    for gate in analysis.gates:  # never a NaN in a PASS or FAIL
        if gate.verdict != gates.INSUFFICIENT:
            assert all(math.isfinite(v) for v in (gate.estimate, gate.lower, gate.upper))
    assert gates.overall(analysis.gates) == gates.FAIL


def test_insufficient_evidence_need_not_block():
    study = gate_study([{"id": "SG-1", "metric": "auroc", "bound": "lower", "at_least": 0.5,
                         "insufficient_evidence_blocks": False}])
    judged = subgroups.analyse(constructed(), study).gates
    tiny = next(g for g in judged if g.id == "SG-1[site=tiny]")
    assert tiny.verdict == gates.INSUFFICIENT and not tiny.blocks and "Does not block" in tiny.sentence
    assert not tiny.blocking_failure


def test_gate_relative_to_overall_and_reference():
    frame = constructed()
    study = gate_study([{"id": "R-1", "metric": "auroc", "relative_to": "overall", "max_below": 0.05},
                        {"id": "R-2", "metric": "auroc", "relative_to": "reference", "max_below": 0.05},
                        {"id": "R-3", "metric": "brier", "relative_to": "overall", "max_above": 0.5}])
    analysis = subgroups.analyse(frame, study)
    verdicts = {g.id: g for g in analysis.gates}
    overall = analysis.metrics.set_index(["variable", "metric"]).loc[("overall", "auroc")].estimate
    good = analysis.metrics.set_index(["variable", "level", "metric"]).loc[("site", "good", "auroc")]
    expected = gates.PASS if good.lower >= overall - 0.05 else gates.FAIL
    assert verdicts["R-1[site=good]"].verdict == expected
    assert verdicts["R-1[site=bad]"].verdict == gates.FAIL
    assert "overall" in verdicts["R-1[site=bad]"].rule
    assert "R-2[site=good]" not in verdicts  # the reference level is not compared with itself
    assert verdicts["R-2[site=bad]"].verdict == gates.FAIL
    assert verdicts["R-2[site=tiny]"].verdict == gates.INSUFFICIENT
    assert verdicts["R-3[site=good]"].verdict == gates.PASS  # generous margin on a lower-is-better metric


def test_versus_baseline_gate_per_subgroup():
    study = gate_study([{"id": "NI", "metric": "auroc", "versus": "baseline", "non_inferiority_margin": 0.05}])
    verdicts = {g.id: g for g in subgroups.analyse(constructed(), study).gates}
    assert verdicts["NI[site=good]"].verdict == gates.PASS
    assert "candidate − baseline" in verdicts["NI[site=good]"].subject


def test_small_cell_estimates_are_withheld_in_gates_but_verdict_stands():
    frame = constructed()
    y = frame.death_5y.to_numpy()
    bad = (frame.site == "bad").to_numpy()
    flagged = np.flatnonzero(bad & (y == 1))
    frame.loc[bad, "p_v2"] = 0.01
    frame.loc[flagged[:3], "p_v2"] = 0.9  # exactly 3 true positives at site 'bad'
    study = gate_study([{"id": "S", "metric": "sensitivity", "bound": "lower", "at_least": 0.5}])
    gate = next(g for g in subgroups.analyse(frame, study).gates if g.id == "S[site=bad]")
    assert gate.verdict == gates.FAIL and math.isnan(gate.estimate) and "withheld" in gate.sentence


def _few_negatives(frame, site: str = "good", negatives: int = 8):
    """``frame`` with all but ``negatives`` of the negatives of ``site`` dropped (every positive flagged)."""
    at = frame.site == site
    keep_neg = frame.index[at & (frame.death_5y == 0)][:negatives]
    frame = frame[~at | (frame.death_5y == 1) | frame.index.isin(keep_neg)].copy()
    frame.loc[(frame.site == site) & (frame.death_5y == 1), "p_v2"] = 0.95
    return frame


def test_eligibility_is_per_metric():
    """Issue 13 item 3: a subgroup with many positives (all flagged) and few negatives is judged on
    sensitivity (the demo's SG-1 age 90+: 43/43 flagged was INSUFFICIENT for < 20 negatives), but not on
    specificity, NPV, AUROC or candidate − baseline."""
    frame = _few_negatives(constructed())
    study = gate_study([{"id": "SEN", "metric": "sensitivity", "bound": "lower", "at_least": 0.5},
                        {"id": "SPE", "metric": "specificity", "bound": "lower", "at_least": 0.5},
                        {"id": "PPV", "metric": "ppv", "bound": "lower", "at_least": 0.5},
                        {"id": "NPV", "metric": "npv", "bound": "lower", "at_least": 0.5},
                        {"id": "AUC", "metric": "auroc", "bound": "lower", "at_least": 0.5},
                        {"id": "NI", "metric": "auroc", "versus": "baseline", "non_inferiority_margin": 0.05}])
    verdicts = {g.id: g for g in subgroups.analyse(frame, study).gates}
    assert verdicts["SEN[site=good]"].verdict == gates.PASS
    assert verdicts["PPV[site=good]"].verdict == gates.PASS  # flagged: every positive, plus flagged negatives
    for gid in ("SPE", "NPV", "AUC", "NI"):
        gate = verdicts[f"{gid}[site=good]"]
        assert gate.verdict == gates.INSUFFICIENT, gid
        assert "at least 20" in gate.sentence, gate.sentence
    assert "8 negatives" in verdicts["SPE[site=good]"].sentence


def test_relative_to_reference_eligibility_is_per_metric():
    frame = _few_negatives(constructed(), site="bad")
    study = gate_study([{"id": "R", "metric": "sensitivity", "relative_to": "reference", "max_below": 0.9},
                        {"id": "Q", "metric": "specificity", "relative_to": "reference", "max_below": 0.9}])
    verdicts = {g.id: g for g in subgroups.analyse(frame, study).gates}
    assert verdicts["R[site=bad]"].verdict == gates.PASS
    assert verdicts["Q[site=bad]"].verdict == gates.INSUFFICIENT


def test_subgroup_gate_declares_its_interval_level():
    study = gate_study([{"id": "A95", "metric": "auroc", "bound": "lower", "at_least": 0.5},
                        {"id": "A80", "metric": "auroc", "bound": "lower", "at_least": 0.5, "interval_level": 0.8},
                        {"id": "R80", "metric": "auroc", "relative_to": "overall", "max_below": 0.05,
                         "interval_level": 0.8}])
    judged = subgroups.analyse(constructed(), study).gates
    assert [g.id.split("[")[0] for g in judged] == ["A95"] * 3 + ["A80"] * 3 + ["R80"] * 3  # the plan's order
    verdicts = {g.id: g for g in judged}
    wide, narrow = verdicts["A95[site=good]"], verdicts["A80[site=good]"]
    assert narrow.estimate == wide.estimate and wide.lower < narrow.lower
    assert narrow.rule == "lower 80% bound >= 0.5" and narrow.test == "one-sided test at 10%"
    assert verdicts["R80[site=good]"].test == "one-sided test at 10%" and "80%" in verdicts["R80[site=good]"].rule
