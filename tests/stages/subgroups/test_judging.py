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
