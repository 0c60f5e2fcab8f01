"""The study plan: the YAML parameter file's vocabulary, schema, loading and reference.

Import as ``from studylib import plan``; ``plan.load(path)`` returns a validated, frozen ``Study``.

Modules: :mod:`~studylib.plan.vocabulary` (the closed choices: operators, metrics, statistics,
actions, periods), :mod:`~studylib.plan.schema` (the pydantic models and their JSON Schema),
:mod:`~studylib.plan.loading` (finding and loading a file), :mod:`~studylib.plan.messages`
(validation errors with key path and line), :mod:`~studylib.plan.reference` (the generated
reference page ``docs/params.md``).
"""

from studylib.plan.loading import load, project_root, resolve_params_path
from studylib.plan.reference import markdown as reference_markdown
from studylib.plan.schema import (
    HEX64, VALIDATION_ONLY, AnalysisSection, CohortStep, Condition, Criterion, DataSection, DriftSection,
    ErrorAnalysisSection, Identifier, ModelSection, ModelsSection, Probability, SnapshotSection, Strict, Study,
    StudySection, SubgroupGate, SubgroupsSection, SubgroupVariable, TableOneSection, TableOneVariable, Trigger,
    WindowSelector, json_schema, PlanningSection, PlanningWidths, LinearPredictorPlan,
    SiteGate, SitesSection, Claim, ReleaseSection, MonitoringColumns, MonitoringSection,
)
from studylib.plan.vocabulary import (
    ACTIONS, BOUNDS, CI_METHODS, COMPARATORS, FEATURE_TRIGGER_STATISTICS, HETEROGENEITY_TESTS, INTERVAL_STATISTICS,
    LIST_OPERATORS, LOWER_IS_BETTER, MCNEMAR_METHODS, METRIC_RANGE, METRICS, MISSING_SCORE_RULES,
    MULTIPLICITY_METHODS, NULL_OPERATORS, OPERATORS, PAIRED_METRICS, PERIOD_LABELS, PERIODS, RELATIVE_TO,
    SCORE_TRIGGER_STATISTICS, SUBGROUP_GATE_METRICS, SUBGROUP_METRICS, SUMMARIES, TRIGGER_STATISTICS,
    TRIGGER_SUBJECTS, TRIGGER_WINDOWS, band_labels, COHORT_CHECKS,
)

__all__ = [
    # loading
    "load", "project_root", "resolve_params_path",
    # schema
    "Study", "StudySection", "SnapshotSection", "DataSection", "ModelSection", "ModelsSection", "Condition",
    "CohortStep", "TableOneVariable", "TableOneSection", "ErrorAnalysisSection", "AnalysisSection", "Criterion",
    "SubgroupVariable", "SubgroupGate", "SubgroupsSection", "WindowSelector", "Trigger", "DriftSection", "Strict",
    "PlanningSection", "PlanningWidths", "LinearPredictorPlan", "SiteGate", "SitesSection", "Claim", "ReleaseSection",
    "MonitoringColumns", "MonitoringSection",
    "HEX64", "Probability", "Identifier", "VALIDATION_ONLY", "json_schema",
    # reference
    "reference_markdown",
    # vocabulary
    "OPERATORS", "NULL_OPERATORS", "LIST_OPERATORS", "CI_METHODS", "MULTIPLICITY_METHODS", "MCNEMAR_METHODS",
    "MISSING_SCORE_RULES", "SUMMARIES", "METRICS", "METRIC_RANGE", "PAIRED_METRICS", "LOWER_IS_BETTER", "BOUNDS",
    "COMPARATORS", "SUBGROUP_METRICS", "SUBGROUP_GATE_METRICS", "RELATIVE_TO", "HETEROGENEITY_TESTS", "PERIODS",
    "PERIOD_LABELS", "TRIGGER_STATISTICS", "FEATURE_TRIGGER_STATISTICS", "SCORE_TRIGGER_STATISTICS",
    "INTERVAL_STATISTICS", "TRIGGER_SUBJECTS", "TRIGGER_WINDOWS", "ACTIONS", "COHORT_CHECKS", "band_labels",
]
