"""The whole subgroup analysis: one frozen result holding every table, and a stage that imports no
display code."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from studylib.stages.subgroups import analysis as subgroups
from studylib.stages.subgroups import comparisons, eligibility, groups, judging, metrics
from tests.stages.subgroups.helpers import PLAN, frame, study

ROOT = Path(__file__).resolve().parents[3]


def test_analyse_holds_every_table_of_the_parts():
    data, plan = frame(1500), study(PLAN | {"gates": [{"id": "G", "metric": "auroc", "bound": "lower", "at_least": 0.5}]})
    analysis = subgroups.analyse(data, plan)
    found = groups.subgroups(data, plan)
    assert [(g.variable, g.level) for g in analysis.groups] == [(g.variable, g.level) for g in found]
    table = metrics.metric_table(data, plan)
    assert analysis.metrics.equals(table)
    assert analysis.subgroups.equals(eligibility.subgroup_table(table, plan))
    assert analysis.sample_size.equals(eligibility.sample_size_table(table, plan))
    assert analysis.heterogeneity.equals(comparisons.heterogeneity_table(table, plan))
    assert analysis.versus_reference.equals(comparisons.reference_table(table, plan))
    assert analysis.unassigned.equals(groups.unassigned_table(data, plan))
    assert list(analysis.gates) == judging.judge_gates(table, plan)
    assert len(analysis.gates) == len(analysis.subgroups) - 1  # one gate in every subgroup but the overall row


def test_the_stage_imports_no_display_or_plotting_code():
    code = ("import sys, studylib.stages.subgroups.analysis, studylib.stages.subgroups.reviewer\n"
            "print(sorted(m for m in ('IPython', 'matplotlib') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]"
