import pytest

from studylib import plan
from studylib.plan import vocabulary

# every public name of studylib.plan before it was split into modules (other layers import them)
PUBLIC_BEFORE_THE_SPLIT = [
    "HEX64", "Probability", "Identifier", "OPERATORS", "CI_METHODS", "METRICS", "TRIGGER_STATISTICS", "ACTIONS",
    "SUMMARIES", "Strict", "StudySection", "SnapshotSection", "DataSection", "ModelSection", "ModelsSection",
    "Condition", "CohortStep", "TableOneVariable", "TableOneSection", "METRIC_RANGE", "PAIRED_METRICS",
    "LOWER_IS_BETTER", "MCNEMAR_METHODS", "ErrorAnalysisSection", "AnalysisSection", "Criterion",
    "SUBGROUP_METRICS", "SUBGROUP_GATE_METRICS", "band_labels", "SubgroupVariable", "SubgroupGate",
    "SubgroupsSection", "PERIODS", "FEATURE_TRIGGER_STATISTICS", "SCORE_TRIGGER_STATISTICS", "INTERVAL_STATISTICS",
    "WindowSelector", "Trigger", "DriftSection", "Study", "project_root", "resolve_params_path", "load",
]


def test_public_names_stay_importable_from_plan():
    missing = [name for name in PUBLIC_BEFORE_THE_SPLIT if not hasattr(plan, name)]
    assert not missing
    assert set(PUBLIC_BEFORE_THE_SPLIT) <= set(plan.__all__)
    assert all(hasattr(plan, name) for name in plan.__all__)


@pytest.mark.parametrize("cut, labels", [
    ((50, 60, 70), ("[50, 60)", "[60, 70)")),
    ((50, 60, float("inf")), ("[50, 60)", "≥ 60")),
    ((float("-inf"), 0, 10), ("< 0", "[0, 10)")),
    ((0.5, 1.25), ("[0.5, 1.25)",)),
])
def test_band_labels(cut, labels):
    assert vocabulary.band_labels(cut) == labels


def test_vocabularies_are_consistent():
    assert set(vocabulary.METRIC_RANGE) == set(vocabulary.METRICS)
    assert set(vocabulary.PAIRED_METRICS) <= set(vocabulary.METRICS)
    assert set(vocabulary.LOWER_IS_BETTER) <= set(vocabulary.METRICS)
    assert set(vocabulary.SUBGROUP_GATE_METRICS) <= set(vocabulary.METRICS) & set(vocabulary.SUBGROUP_METRICS)
    statistics = set(vocabulary.TRIGGER_STATISTICS)
    assert (set(vocabulary.FEATURE_TRIGGER_STATISTICS) | set(vocabulary.SCORE_TRIGGER_STATISTICS)
            | set(vocabulary.SHADOW_TRIGGER_STATISTICS)) == statistics
    assert set(vocabulary.INTERVAL_STATISTICS) <= statistics
    assert set(vocabulary.PERIOD_LABELS) == set(vocabulary.PERIODS)
    for vocab in (vocabulary.OPERATORS, vocabulary.METRICS, vocabulary.TRIGGER_STATISTICS, vocabulary.ACTIONS):
        assert len(set(vocab)) == len(vocab)
