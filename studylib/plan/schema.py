"""Study parameter files: one YAML file per study, validated before any kernel starts.

Every section is a pydantic model with ``extra="forbid"`` and ``frozen=True``: unknown keys are errors
(with a "did you mean" hint), and every error names the file, the key path and the line, e.g.
``params/demo.yaml:31: analysis.threshold: must be in [0, 1]; got 1.5``.

Relative paths in the file (the snapshot) are resolved against the *project root*: the nearest folder
at or above the parameter file holding a ``pyproject.toml``, else the folder above ``params/``.
"""

from __future__ import annotations

import hashlib
import re
import json

import typing
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import AliasChoices, BaseModel, ConfigDict, Field, PrivateAttr, ValidationError, field_validator, model_validator

from studylib.errors import ParameterError, did_you_mean

HEX64 = r"^(sha256:)?[0-9a-f]{64}$"
Probability = Annotated[float, Field(ge=0.0, le=1.0)]
Identifier = Annotated[str, Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]*$", max_length=100)]

OPERATORS = ("==", "!=", "<", "<=", ">", ">=", "in", "not in", "between", "is null", "not null")
CI_METHODS = ("wilson", "clopper-pearson", "agresti-coull", "jeffreys")
#: metrics an acceptance criterion or gate may name; each maps to a number the evaluation computes
METRICS = (
    "sensitivity", "specificity", "ppv", "npv", "accuracy", "auroc", "auprc",
    "calibration_slope", "calibration_in_the_large", "brier", "oe_ratio",
)
TRIGGER_STATISTICS = ("psi", "ks", "p_value", "p_adjusted", "missing_rate", "missing_change", "auroc",
                      "sensitivity", "specificity", "calibration_slope", "calibration_in_the_large", "oe_ratio",
                      "alert_rate", "mean_score")
ACTIONS = ("investigate", "clinical_review", "revalidate", "suspend")
SUMMARIES = ("mean_sd", "median_iqr")


class Strict(BaseModel):
    """Base of every section: unknown keys are errors and parsed parameters are immutable."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class StudySection(Strict):
    id: Identifier
    title: str = Field(min_length=1)
    intended_use: str = Field(min_length=1)
    small_cell_threshold: int = Field(5, ge=1, description="counts below this are shown as '<N' to reviewers")


class SnapshotSection(Strict):
    path: str = Field(min_length=1, description="snapshot folder, relative to the project root")
    lock: str = Field(pattern=r"^sha256:[0-9a-f]{64}$", description="printed by `studylib snapshot lock`")


class DataSection(Strict):
    id: str = Field(description="pseudonymous patient id column")
    outcome: str = Field(description="binary reference-standard column (0/1)")
    split: str | None = Field(None, description="column naming the data split (development/validation/...)")
    time: str | None = Field(None, description="column with the sample date or period")
    site: str | None = None
    features: tuple[str, ...] = Field((), description="model input features (checked for outcome leakage)")
    encounter: str | None = Field(None, description="column naming the encounter (visit, sample, image) within a "
                                                    "patient; (id, encounter) must be unique. Omitted: one row per "
                                                    "patient (id unique)")
    label_time: str | None = Field(None, description="column with the time the reference-standard label was "
                                                     "established; data.time must not be after it")
    collection_window: tuple[Any, Any] | None = Field(None, description="[first, last] value of data.time in the "
                                                                        "declared collection window (inclusive)")
    post_outcome: tuple[str, ...] = Field((), description="columns known only after the outcome (e.g. cause of "
                                                          "death); never model features")
    missing_flag_percent: float = Field(10.0, ge=0.0, le=100.0, description="the missingness report flags a column "
                                                                            "missing in more than this % of a split")

    @model_validator(mode="after")
    def _time_keys(self):
        for key in ("label_time", "collection_window"):
            if getattr(self, key) is not None and self.time is None:
                raise ValueError(f"data.{key} needs data.time (the column with the event or prediction time)")
        if self.collection_window is not None:
            first, last = self.collection_window
            for bound in (first, last):
                if bound is None or isinstance(bound, (bool, list, dict)):
                    raise ValueError(f"collection_window must be [first, last] of data.time (numbers, dates or "
                                     f"text); got {list(self.collection_window)!r}")
            if _greater(first, last):
                raise ValueError(f"collection_window must be [first, last] with first <= last; got "
                                 f"[{first}, {last}]")
        return self


class ModelSection(Strict):
    score: str = Field(description="column with the model's predicted risk in [0, 1]")
    name: str
    version: str
    artifact_sha256: str = Field(pattern=HEX64, description="SHA-256 of the locked model artifact in the snapshot")


class ModelsSection(Strict):
    candidate: ModelSection
    baseline: ModelSection | None = None


class Condition(Strict):
    """One comparison ``column op value``, or ``all``/``any`` of nested conditions."""

    column: str | None = None
    op: str | None = None
    value: Any = None
    all: tuple["Condition", ...] | None = None
    any: tuple["Condition", ...] | None = None

    @field_validator("op")
    @classmethod
    def _known_operator(cls, op):
        if op is not None and op not in OPERATORS:
            raise ValueError(f"unknown operator '{op}'{did_you_mean(op, OPERATORS)}; expected one of {', '.join(OPERATORS)}")
        return op

    @model_validator(mode="after")
    def _one_form(self):
        forms = [self.column is not None, self.all is not None, self.any is not None]
        if sum(forms) != 1:
            raise ValueError("a condition has either column/op/value, or all: [...], or any: [...]")
        if self.column is not None:
            if self.op is None:
                raise ValueError(f"condition on '{self.column}' has no op; expected one of {', '.join(OPERATORS)}")
            if self.op in ("is null", "not null"):
                if self.value is not None:
                    raise ValueError(f"op '{self.op}' takes no value")
            elif self.op in ("in", "not in"):
                if not isinstance(self.value, list) or not self.value:
                    raise ValueError(f"op '{self.op}' needs a non-empty list value")
            elif self.op == "between":
                if not (isinstance(self.value, list) and len(self.value) == 2):
                    raise ValueError("op 'between' needs a value [low, high] (both inclusive)")
                if _greater(*self.value):
                    raise ValueError(f"op 'between' needs low <= high; got {self.value!r}")
            elif self.value is None or isinstance(self.value, (list, dict)):
                raise ValueError(f"op '{self.op}' needs a single value")
        return self

    def columns(self) -> set[str]:
        """Every column the condition reads."""
        if self.column is not None:
            return {self.column}
        return set().union(*(c.columns() for c in (self.all or self.any)))


def _greater(a, b) -> bool:
    """``a > b`` for values of comparable types; False when they cannot be compared."""
    try:
        return bool(a > b)
    except TypeError:
        return False


class CohortStep(Strict):
    id: Identifier
    label: str = Field(min_length=1)
    keep: Condition | None = None
    drop: Condition | None = None

    @model_validator(mode="after")
    def _keep_or_drop(self):
        if (self.keep is None) == (self.drop is None):
            raise ValueError(f"cohort step {self.id} needs exactly one of keep: or drop:")
        return self

    @property
    def condition(self) -> Condition:
        return self.keep if self.keep is not None else self.drop


class TableOneVariable(Strict):
    """One row group of Table 1: a column, its label, and (continuous only) its summary style."""

    column: str = Field(min_length=1)
    label: str | None = Field(None, description="row label shown to reviewers; default: the column name")
    summary: Literal[SUMMARIES] | None = Field(None, description="continuous only; default: table_one.summary")


class TableOneSection(Strict):
    """Table 1 (baseline characteristics) of the cohort stage. Variables may be given as a column name or
    as ``{column, label, summary}``."""

    summary: Literal[SUMMARIES] = Field("median_iqr", description="default summary of continuous variables: "
                                                                  "mean ± SD or median [IQR]")
    continuous: tuple[TableOneVariable, ...] = ()
    categorical: tuple[TableOneVariable, ...] = ()
    smd_between: tuple[str, str] = Field(("development", "validation"), description="the two split values "
                                                                                     "compared by standardised "
                                                                                     "mean differences")

    @field_validator("continuous", "categorical", mode="before")
    @classmethod
    def _names_as_variables(cls, value):
        if isinstance(value, (list, tuple)):
            return [{"column": v} if isinstance(v, str) else v for v in value]
        return value

    @model_validator(mode="after")
    def _consistent(self):
        for variable in self.categorical:
            if variable.summary is not None:
                raise ValueError(f"table_one.categorical: '{variable.column}' has a summary; summaries "
                                 f"({', '.join(SUMMARIES)}) apply to continuous variables only")
        columns = [v.column for v in (*self.continuous, *self.categorical)]
        repeated = sorted({c for c in columns if columns.count(c) > 1})
        if repeated:
            raise ValueError(f"table_one: each column may appear once; repeated: {', '.join(repeated)}")
        if self.smd_between[0] == self.smd_between[1]:
            raise ValueError(f"table_one.smd_between needs two different split values; got {list(self.smd_between)}")
        return self


#: the range each metric can take; a criterion whose bound lies outside it can never be met
METRIC_RANGE = {name: (0.0, 1.0) for name in METRICS} | {
    "calibration_slope": (-float("inf"), float("inf")), "calibration_in_the_large": (-float("inf"), float("inf")),
    "oe_ratio": (0.0, float("inf")),
}
#: metrics with a paired comparison candidate − baseline on the same patients (``versus: baseline``):
#: AUROC by paired DeLong, sensitivity / specificity / accuracy by McNemar with Newcombe's paired
#: interval, Brier by the paired mean difference
PAIRED_METRICS = ("auroc", "sensitivity", "specificity", "accuracy", "brier")
#: metrics where smaller is better: non-inferiority is judged on the upper bound of candidate − baseline
LOWER_IS_BETTER = ("brier",)
MCNEMAR_METHODS = ("exact", "chi2", "chi2-corrected")


def _default_threshold_grid() -> tuple[float, ...]:
    return tuple(round(0.05 * k, 2) for k in range(1, 20))


class ErrorAnalysisSection(Strict):
    """Error-case analysis of the evaluation stage: who the model misses and whom it flags wrongly."""

    variables: tuple[str, ...] = Field((), description="columns whose distribution is compared between false "
                                                       "negatives, false positives and correct calls")
    list_misses: int = Field(20, ge=0, le=500, description="how many of the most confident false negatives and "
                                                           "false positives to list by pseudonymous id")


class AnalysisSection(Strict):
    threshold: Probability = Field(description="pre-specified operating threshold; positive iff score >= threshold")
    split: str | None = Field(None, description="split value that the evaluation and subgroup stages analyse "
                                                "(e.g. validation); the whole cohort when omitted")
    ci_method: Literal[CI_METHODS] = "wilson"
    alpha: float = Field(0.05, gt=0.0, le=0.5)
    multiplicity: Literal["holm", "fdr_bh"] = "holm"
    seed: int = Field(20261123, ge=0)
    n_bootstrap: int = Field(2000, ge=100, le=100_000)
    decision_curve: tuple[Probability, Probability] = (0.05, 0.5)
    primary_metrics: tuple[str, ...] = Field((), description="metrics the study is designed to answer (reported "
                                                             "first and marked primary)")
    secondary_metrics: tuple[str, ...] = Field((), description="further pre-specified metrics (marked secondary); "
                                                               "every other metric is reported as supportive")
    threshold_grid: tuple[Probability, ...] = Field(default_factory=_default_threshold_grid,
                                                    description="thresholds of the EXPLORATORY threshold table")
    missing_scores: Literal["error", "exclude"] = Field(
        "error", description="rows of the analysis cohort with a missing score: stop the stage (error) or exclude "
                             "them from every model's analysis and report their count and ids (exclude)")
    mcnemar: Literal[MCNEMAR_METHODS] = Field("exact", description="McNemar test of paired sensitivity, "
                                                                   "specificity and accuracy")
    error_analysis: ErrorAnalysisSection = ErrorAnalysisSection()

    @field_validator("primary_metrics", "secondary_metrics")
    @classmethod
    def _known_metrics(cls, names):
        for name in names:
            if name not in METRICS:
                raise ValueError(f"unknown metric '{name}'{did_you_mean(name, METRICS)} (expected one of "
                                 f"{', '.join(METRICS)})")
        if len(set(names)) != len(names):
            raise ValueError(f"each metric may be listed once; got {list(names)}")
        return names

    @field_validator("threshold_grid")
    @classmethod
    def _increasing_grid(cls, grid):
        if not grid:
            raise ValueError("threshold_grid needs at least one threshold")
        if any(b <= a for a, b in zip(grid, grid[1:])):
            raise ValueError(f"threshold_grid must be strictly increasing; got {list(grid)}")
        return grid

    @model_validator(mode="after")
    def _consistent(self):
        both = sorted(set(self.primary_metrics) & set(self.secondary_metrics))
        if both:
            raise ValueError(f"metrics listed as both primary and secondary: {', '.join(both)}")
        low, high = self.decision_curve
        if not low < high or high >= 1:
            raise ValueError(f"decision_curve must be [low, high] with low < high < 1; got {[low, high]}")
        return self


class Criterion(Strict):
    """A pre-registered acceptance criterion, judged on interval bounds.

    Forms: ``bound: lower, at_least: x`` / ``bound: upper, at_most: x`` (one-sided on the interval);
    ``interval_within: [a, b]`` (also spelt ``between: [a, b]``); ``versus: baseline,
    non_inferiority_margin: m`` (the lower bound of
    candidate − baseline must exceed −m; for a metric where smaller is better, Brier, the upper bound
    must stay below +m). ``label`` is an optional plain-language name shown beside the verdict.
    """

    id: Identifier
    metric: str
    bound: Literal["lower", "upper", "estimate"] | None = None
    at_least: float | None = None
    at_most: float | None = None
    interval_within: tuple[float, float] | None = Field(
        None, validation_alias=AliasChoices("interval_within", "between"))
    versus: Literal["baseline"] | None = None
    non_inferiority_margin: float | None = Field(None, ge=0.0)
    label: str | None = None

    @field_validator("metric")
    @classmethod
    def _known_metric(cls, metric, info):
        if metric not in METRICS:
            who = f"criterion {info.data['id']}: " if info.data.get("id") else ""
            raise ValueError(f"{who}unknown metric '{metric}'{did_you_mean(metric, METRICS)} (expected one of "
                             f"{', '.join(METRICS)})")
        return metric

    @model_validator(mode="after")
    def _one_rule(self):
        rules = [self.at_least is not None or self.at_most is not None, self.interval_within is not None,
                 self.versus is not None]
        if sum(rules) != 1:
            raise ValueError(
                f"criterion {self.id} needs exactly one rule: at_least/at_most (with bound), interval_within: [a, b], "
                "or versus: baseline with non_inferiority_margin"
            )
        if self.at_least is not None and self.at_most is not None:
            raise ValueError(f"criterion {self.id}: give at_least or at_most, not both; for a two-sided rule use "
                             "interval_within: [low, high]")
        if self.bound is not None and not rules[0]:
            raise ValueError(f"criterion {self.id}: bound applies to at_least/at_most only (interval_within judges "
                             "the whole interval, versus: baseline the bound that non-inferiority needs)")
        low, high = METRIC_RANGE[self.metric]
        span = f"[{low:g}, {high:g}]"
        if self.versus is not None:
            if self.non_inferiority_margin is None:
                raise ValueError(f"criterion {self.id}: versus: baseline needs non_inferiority_margin")
            if self.metric not in PAIRED_METRICS:
                raise ValueError(f"criterion {self.id}: no paired comparison with the baseline for {self.metric}; "
                                 f"versus: baseline is available for {', '.join(PAIRED_METRICS)}")
            if self.non_inferiority_margin >= high - low:
                raise ValueError(f"criterion {self.id}: non_inferiority_margin {self.non_inferiority_margin:g} is "
                                 f"impossible for {self.metric}, whose values lie in {span}")
        if self.interval_within is not None:
            a, b = self.interval_within
            if not a < b:
                raise ValueError(f"criterion {self.id}: interval_within must be [low, high] with low < high")
            if b < low or a > high:
                raise ValueError(f"criterion {self.id}: interval_within [{a:g}, {b:g}] lies outside {span}, the "
                                 f"values {self.metric} can take")
        for name in ("at_least", "at_most"):
            value = getattr(self, name)
            if value is not None and not low <= value <= high:
                raise ValueError(f"criterion {self.id}: {name} for {self.metric} must be in {span}; got {value}")
        return self


#: metrics computed in every subgroup (``auroc_vs_baseline``: candidate − baseline, paired DeLong)
SUBGROUP_METRICS = ("prevalence", "sensitivity", "specificity", "ppv", "npv", "auroc", "calibration_in_the_large",
                    "calibration_slope", "brier", "auroc_vs_baseline")
#: metrics a subgroup gate may judge (Criterion.metric names; ``versus: baseline`` judges auroc_vs_baseline)
SUBGROUP_GATE_METRICS = ("sensitivity", "specificity", "ppv", "npv", "auroc", "calibration_in_the_large",
                         "calibration_slope", "brier")


def band_labels(cut: tuple[float, ...]) -> tuple[str, ...]:
    """Default labels of the bands ``[a, b)`` between cut points: ``[50, 60)``; ``≥ 90`` / ``< 50`` at ±inf."""
    out = []
    for a, b in zip(cut, cut[1:]):
        if b == float("inf"):
            out.append(f"≥ {a:g}")
        elif a == float("-inf"):
            out.append(f"< {b:g}")
        else:
            out.append(f"[{a:g}, {b:g})")
    return tuple(out)


class SubgroupVariable(Strict):
    """A subgroup axis: a column's values as they are, or bands ``[a, b)`` between declared cut points."""

    name: Identifier
    column: str
    cut: tuple[float, ...] | None = Field(None, description="increasing cut points; bins are [a, b); .inf allowed")
    labels: tuple[str, ...] | None = Field(None, description="one label per band (len(cut) - 1), e.g. 50-59")
    reference: str | None = Field(None, description="level that the other levels are compared with")

    @field_validator("cut")
    @classmethod
    def _increasing(cls, cut):
        if cut is not None:
            if len(cut) < 2:
                raise ValueError("cut needs at least two cut points")
            if any(b <= a for a, b in zip(cut, cut[1:])):
                raise ValueError(f"cut points must be strictly increasing; got {list(cut)}")
        return cut

    @field_validator("reference", mode="before")
    @classmethod
    def _reference_as_text(cls, value):
        # levels are compared as text; an integer level (e.g. grade 3) may be written unquoted
        return str(value) if isinstance(value, int) and not isinstance(value, bool) else value

    @model_validator(mode="after")
    def _labels_fit(self):
        if self.labels is not None:
            if self.cut is None:
                raise ValueError(f"subgroup variable {self.name}: labels need cut points (they name the bands)")
            if len(self.labels) != len(self.cut) - 1:
                raise ValueError(f"subgroup variable {self.name}: {len(self.cut)} cut points make "
                                 f"{len(self.cut) - 1} bands, so labels needs {len(self.cut) - 1} entries; "
                                 f"got {len(self.labels)}")
            if len(set(self.labels)) != len(self.labels):
                raise ValueError(f"subgroup variable {self.name}: labels must be unique; got {list(self.labels)}")
        if self.reference is not None and self.cut is not None and self.reference not in self.band_labels:
            raise ValueError(f"subgroup variable {self.name}: reference '{self.reference}' is not one of its bands "
                             f"{list(self.band_labels)}{did_you_mean(self.reference, self.band_labels)}")
        return self

    @property
    def band_labels(self) -> tuple[str, ...]:
        """The level names of a banded variable, in cut order (empty without cut points)."""
        if self.cut is None:
            return ()
        return self.labels if self.labels is not None else band_labels(self.cut)


class SubgroupGate(Criterion):
    """A criterion judged in every subgroup: the forms of :class:`Criterion`, plus ``relative_to``.

    ``relative_to: overall, max_below: m`` — the subgroup's lower bound must be at least the overall
    estimate − m ("no subgroup more than m below overall, on the interval"); ``max_above: m`` — its
    upper bound at most overall + m (for metrics where lower is better, e.g. brier). ``relative_to:
    reference`` judges the interval of the difference level − reference of variables that declare a
    reference level. ``versus: baseline`` judges candidate − baseline AUROC in each subgroup.
    """

    relative_to: Literal["overall", "reference"] | None = None
    max_below: float | None = Field(None, ge=0.0)
    max_above: float | None = Field(None, ge=0.0)
    insufficient_evidence_blocks: bool = Field(True, description="INSUFFICIENT_EVIDENCE blocks the release")

    @model_validator(mode="after")
    def _one_rule(self):
        if self.metric not in SUBGROUP_GATE_METRICS:
            raise ValueError(f"subgroup gate {self.id}: metric '{self.metric}' is not computed per subgroup; "
                             f"expected one of {', '.join(SUBGROUP_GATE_METRICS)}")
        if self.relative_to is not None or self.max_below is not None or self.max_above is not None:
            others = [self.at_least, self.at_most, self.interval_within, self.versus]
            if any(v is not None for v in others):
                raise ValueError(f"subgroup gate {self.id}: relative_to cannot be combined with at_least, at_most, "
                                 "interval_within or versus")
            if self.relative_to is None:
                raise ValueError(f"subgroup gate {self.id}: max_below/max_above need relative_to: overall or reference")
            if (self.max_below is None) == (self.max_above is None):
                raise ValueError(f"subgroup gate {self.id}: relative_to needs exactly one of max_below "
                                 "(higher is better) or max_above (lower is better)")
            if self.bound is not None:
                raise ValueError(f"subgroup gate {self.id}: relative_to is judged on the lower bound (max_below) or "
                                 "the upper bound (max_above); remove bound")
            return self
        rules = [self.at_least is not None or self.at_most is not None, self.interval_within is not None,
                 self.versus is not None]
        if sum(rules) != 1:
            raise ValueError(f"subgroup gate {self.id} needs exactly one rule: at_least/at_most (with bound), "
                             "interval_within: [a, b], versus: baseline with non_inferiority_margin, or "
                             "relative_to: overall/reference with max_below or max_above")
        if self.versus is not None and self.metric != "auroc":
            raise ValueError(f"subgroup gate {self.id}: versus: baseline is computed per subgroup for auroc only "
                             f"(paired DeLong); got metric '{self.metric}'")
        return Criterion._one_rule(self)


class SubgroupsSection(Strict):
    """Subgroup analysis plan: axes, intersections, minimum n, heterogeneity tests and gates."""

    variables: tuple[SubgroupVariable, ...] = ()
    intersections: tuple[tuple[str, ...], ...] = ()
    min_positives: int = Field(20, ge=0, description="fewer positives: the subgroup is INSUFFICIENT_EVIDENCE")
    min_negatives: int = Field(20, ge=0, description="fewer negatives: the subgroup is INSUFFICIENT_EVIDENCE")
    interval_width: float = Field(0.20, gt=0.0, le=1.0, description="full width of the interval of sensitivity "
                                  "and specificity that the sample-size hint for small subgroups aims at")
    heterogeneity_test: Literal["chi2", "g-test", "none"] = Field(
        "chi2", description="test across a variable's levels for proportions (others: Cochran's Q, Wald)")
    heterogeneity_metrics: tuple[Literal[SUBGROUP_METRICS], ...] = (
        "sensitivity", "specificity", "auroc", "calibration_slope")
    gates: tuple[SubgroupGate, ...] = ()

    @model_validator(mode="after")
    def _intersections_known(self):
        names = [v.name for v in self.variables]
        if len(set(names)) != len(names):
            raise ValueError(f"subgroup variable names must be unique; got {names}")
        for combo in self.intersections:
            if len(combo) < 2 or len(set(combo)) != len(combo):
                raise ValueError(f"an intersection names two or more different variables; got {list(combo)}")
            for name in combo:
                if name not in names:
                    raise ValueError(f"intersection names unknown variable '{name}'{did_you_mean(name, names)}")
        if any(g.relative_to == "reference" for g in self.gates) and not any(v.reference for v in self.variables):
            raise ValueError("a gate is relative_to: reference but no subgroup variable declares a reference level")
        return self


PERIODS = ("month", "quarter", "year")
#: statistics a trigger may name, by what it is "of": an input feature, or the candidate's score
FEATURE_TRIGGER_STATISTICS = ("psi", "ks", "p_value", "p_adjusted", "missing_rate", "missing_change")
SCORE_TRIGGER_STATISTICS = ("psi", "ks", "p_value", "p_adjusted", "mean_score", "alert_rate", "oe_ratio",
                            "calibration_in_the_large", "calibration_slope", "auroc", "sensitivity", "specificity")
#: trigger statistics that carry a confidence interval (``bound``/``interval_excludes`` apply to them)
INTERVAL_STATISTICS = ("mean_score", "alert_rate", "missing_rate", "missing_change", "oe_ratio",
                       "calibration_in_the_large", "calibration_slope", "auroc", "sensitivity", "specificity")
_PERIOD_LABEL = {"month": (r"^\d{4}-(0[1-9]|1[0-2])$", "YYYY-MM, e.g. 2024-03"),
                 "quarter": (r"^\d{4}-Q[1-4]$", "YYYY-Qn, e.g. 2024-Q1"),
                 "year": (r"^\d{4}$", "YYYY, e.g. 2024")}


class WindowSelector(Strict):
    """Which rows form a window: values of one column (a year, a site), or calendar periods of a timestamp.

    Forms: ``{column: site}`` (one window per value); ``{column: sample_year, values: [1995, 1996]}``;
    ``{column: admitted, period: month, between: ["2024-01", "2024-12"]}`` (the column is parsed as a
    timestamp — a date/timestamp column, or text in ISO form, ``YYYY-MM`` or ``YYYY``, or in ``format``,
    a strptime format — and rows are labelled by month ``YYYY-MM``, quarter ``YYYY-Qn`` or year ``YYYY``).
    ``each: k`` groups k consecutive values or periods into one monitoring window.
    """

    column: str
    period: Literal[PERIODS] | None = None
    format: str | None = Field(None, description="strptime format of a text timestamp column, e.g. '%d/%m/%Y'")
    values: tuple[str | int | float, ...] | None = None
    between: tuple[str | int | float, str | int | float] | None = Field(
        None, description="[first, last], inclusive: every value (or calendar period) in this range")
    each: int | None = Field(None, ge=1)

    @model_validator(mode="after")
    def _consistent(self):
        if self.values is not None and self.between is not None:
            raise ValueError("give values: [...] or between: [first, last], not both")
        if self.values is not None and not self.values:
            raise ValueError("values: needs at least one value")
        if self.format is not None and self.period is None:
            raise ValueError("format: applies to a timestamp column with period: month, quarter or year")
        if self.period is not None:
            pattern, shape = _PERIOD_LABEL[self.period]
            labels = [str(v) for v in (self.values or self.between or ())]
            bad = [v for v in labels if not re.match(pattern, v)]
            if bad:
                raise ValueError(f"with period: {self.period}, values name periods as {shape}; got "
                                 f"{', '.join(repr(b) for b in bad)}")
            if self.between is not None and labels[0] > labels[1]:
                raise ValueError(f"between: [first, last] must be in time order; got {labels}")
        return self


class Trigger(Strict):
    """A surveillance trigger and the action declared in advance.

    ``statistic`` of ``of`` (the candidate's ``score``, a declared drift feature, or ``any_feature``)
    is compared per monitoring window: ``above``/``below`` a value (on the ``bound`` of its interval,
    default the estimate) or ``interval_excludes`` a value; it fires when that happens ``in:
    any_window`` (in at least ``count`` windows) or ``in: consecutive_windows`` (in ``count``
    consecutive windows).
    """

    id: Identifier
    statistic: Literal[TRIGGER_STATISTICS]
    of: str = "score"
    above: float | None = None
    below: float | None = None
    bound: Literal["lower", "upper", "estimate"] = "estimate"
    interval_excludes: float | None = None
    in_: Literal["any_window", "consecutive_windows"] = Field("any_window", alias="in")
    count: int = Field(1, ge=1)
    action: Literal[ACTIONS]

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    @model_validator(mode="after")
    def _one_rule(self):
        if sum(x is not None for x in (self.above, self.below, self.interval_excludes)) != 1:
            raise ValueError(f"trigger {self.id} needs exactly one of above, below, interval_excludes")
        of_score = self.of == "score"
        allowed = SCORE_TRIGGER_STATISTICS if of_score else FEATURE_TRIGGER_STATISTICS
        if self.statistic not in allowed:
            what = "the score" if of_score else f"input feature '{self.of}'"
            raise ValueError(f"trigger {self.id}: statistic {self.statistic} is not computed for {what}; "
                             f"expected one of {', '.join(allowed)}")
        if self.statistic not in INTERVAL_STATISTICS and (self.bound != "estimate" or self.interval_excludes is not None):
            raise ValueError(f"trigger {self.id}: {self.statistic} has no confidence interval; use above/below "
                             "without bound (bound/interval_excludes apply to "
                             f"{', '.join(INTERVAL_STATISTICS)})")
        return self


class DriftSection(Strict):
    """The drift review: a reference window against monitoring windows, and the surveillance triggers."""

    reference: WindowSelector
    windows: WindowSelector
    features: tuple[str, ...] = Field((), description="continuous input features: PSI, KS, missingness")
    categorical: tuple[str, ...] = Field((), description="categorical input features: PSI, chi-square, missingness")
    bins: int = Field(10, ge=2, le=50, description="PSI bins: quantiles of the reference (10 = deciles)")
    ks_bins: int = Field(500, ge=100, le=10_000, description="fine reference-quantile bins of the KS statistic")
    multiplicity: Literal["holm", "fdr_bh"] | None = Field(
        None, description="adjustment of the input-drift p-values across features × windows; "
                          "default analysis.multiplicity")
    triggers: tuple[Trigger, ...] = ()

    @model_validator(mode="after")
    def _consistent(self):
        if self.reference.each is not None:
            raise ValueError("drift.reference is one window; each: applies to drift.windows only")
        if self.reference.values is None and self.reference.between is None:
            raise ValueError("drift.reference needs values: [...] or between: [first, last] (e.g. the validation "
                             "period)")
        both = sorted(set(self.features) & set(self.categorical))
        if both:
            raise ValueError(f"features listed as both continuous and categorical: {', '.join(both)}")
        for name, items in (("features", self.features), ("categorical", self.categorical)):
            dupes = sorted({f for f in items if items.count(f) > 1})
            if dupes:
                raise ValueError(f"drift.{name} lists {', '.join(dupes)} more than once")
        ids = [t.id for t in self.triggers]
        dupes = sorted({i for i in ids if ids.count(i) > 1})
        if dupes:
            raise ValueError(f"trigger ids must be unique; repeated: {', '.join(dupes)}")
        declared = (*self.features, *self.categorical)
        for trigger in self.triggers:
            if trigger.of in ("score", "any_feature"):
                continue
            if trigger.of not in declared:
                raise ValueError(f"trigger {trigger.id}: of: '{trigger.of}' is neither 'score', 'any_feature' nor a "
                                 f"declared drift feature{did_you_mean(trigger.of, declared)} (declared: "
                                 f"{', '.join(declared) or 'none'})")
            if trigger.statistic == "ks" and trigger.of in self.categorical:
                raise ValueError(f"trigger {trigger.id}: ks is computed for continuous features; '{trigger.of}' is "
                                 "categorical (use psi or p_adjusted)")
        return self


class Study(Strict):
    """A whole study's parameters (the root of the parameter file)."""

    study: StudySection
    snapshot: SnapshotSection
    data: DataSection
    models: ModelsSection
    cohort: tuple[CohortStep, ...] = ()
    table_one: TableOneSection | None = None
    analysis: AnalysisSection
    acceptance: tuple[Criterion, ...] = ()
    subgroups: SubgroupsSection = SubgroupsSection()
    drift: DriftSection | None = None

    _source: Path = PrivateAttr(default=None)
    _root: Path = PrivateAttr(default=None)
    _sha256: str = PrivateAttr(default="")

    @model_validator(mode="after")
    def _unique_ids(self):
        for kind, items in (("cohort step", self.cohort), ("acceptance criterion", self.acceptance),
                            ("subgroup gate", self.subgroups.gates)):
            ids = [i.id for i in items]
            dupes = sorted({i for i in ids if ids.count(i) > 1})
            if dupes:
                raise ValueError(f"{kind} ids must be unique; repeated: {', '.join(dupes)}")
        for criterion in (*self.acceptance, *self.subgroups.gates):
            if criterion.versus == "baseline" and self.models.baseline is None:
                raise ValueError(f"criterion {criterion.id} compares with the baseline but models.baseline is not declared")
        return self

    @property
    def source(self) -> Path:
        """The parameter file this study was loaded from (absolute)."""
        return self._source

    @property
    def root(self) -> Path:
        """The project root that relative paths are resolved against."""
        return self._root

    @property
    def sha256(self) -> str:
        """SHA-256 of the parameter file's bytes (the pre-registered plan's fingerprint)."""
        return self._sha256

    @property
    def snapshot_path(self) -> Path:
        path = Path(self.snapshot.path)
        return path if path.is_absolute() else self._root / path

    @property
    def score_columns(self) -> dict[str, str]:
        """Model role → score column, e.g. ``{"candidate": "p_v2", "baseline": "p_v1"}``."""
        out = {"candidate": self.models.candidate.score}
        if self.models.baseline is not None:
            out["baseline"] = self.models.baseline.score
        return out


# --- locating and loading -------------------------------------------------------------------------

def project_root(params_file: Path) -> Path:
    """The project root of a parameter file.

    For the archived copy in a run folder (beside the run's ``manifest.json``): the project root the
    run recorded, when it still exists. Otherwise the nearest folder at or above ``params_file`` with
    a ``pyproject.toml``; else the folder above ``params/``; else the parameter file's own folder.
    """
    params_file = params_file.resolve()
    manifest = params_file.parent / "manifest.json"
    if manifest.is_file():
        try:
            recorded = json.loads(manifest.read_text(encoding="utf-8")).get("project_root")
        except (ValueError, OSError, AttributeError):
            recorded = None
        if recorded and Path(recorded).is_dir():
            return Path(recorded)
    for folder in params_file.parents:
        if (folder / "pyproject.toml").is_file():
            return folder
    if params_file.parent.name == "params":
        return params_file.parent.parent
    return params_file.parent


def _installed_project_root() -> Path | None:
    """The source checkout studylib runs from (editable install or PYTHONPATH), else None.

    That is the folder above the package when it holds a ``pyproject.toml``. An installed wheel lives in
    site-packages, which has none: there parameter files are found from the working directory only.
    """
    package = next(folder for folder in Path(__file__).resolve().parents if folder.name == "studylib")
    candidate = package.parent
    return candidate if (candidate / "pyproject.toml").is_file() else None


def resolve_params_path(path: str | Path) -> Path:
    """Find a parameter file given as absolute, relative to the working directory, or relative to the
    project root (so notebooks opened from ``notebooks/`` can say ``params/demo.yaml``)."""
    path = Path(path)
    if path.is_absolute() or path.exists():
        return path.resolve()
    for base in (Path.cwd(), *Path.cwd().parents):
        if (base / path).exists():
            return (base / path).resolve()
    root = _installed_project_root()
    if root is not None and (root / path).exists():
        return (root / path).resolve()
    return path


def load(path: str | Path) -> Study:
    """Read and validate a study parameter file.

    Raises
    ------
    ParameterError
        The file is missing, not valid YAML (the message gives the line), or does not fit the schema
        (each problem with its key path, line, what was expected and what was found).
    """
    path = resolve_params_path(path)
    if not path.is_file():
        raise ParameterError(f"{path}: parameter file not found")
    raw = path.read_bytes()
    text = raw.decode("utf-8", errors="replace")
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"{path}:{mark.line + 1}" if mark is not None else str(path)
        problem = getattr(exc, "problem", None) or str(exc)
        raise ParameterError(f"{where}: not valid YAML: {problem}") from None
    if not isinstance(data, dict):
        raise ParameterError(f"{path}: expected a mapping of sections (study, snapshot, data, ...); got {type(data).__name__}")
    try:
        study = Study.model_validate(data)
    except ValidationError as exc:
        messages = [_describe(err, path, node) for err in exc.errors()]
        raise ParameterError("\n".join(messages)) from None
    study._source = path
    study._root = project_root(path)
    study._sha256 = hashlib.sha256(raw).hexdigest()
    return study


# --- error messages -------------------------------------------------------------------------------

def _describe(err: dict, path: Path, node) -> str:
    loc = tuple(p for p in err["loc"] if not (isinstance(p, str) and p.startswith(("function-", "tagged-union"))))
    key = _format_loc(loc)
    line = _line_of(node, loc)
    where = f"{path}:{line}" if line else str(path)
    kind = err["type"]
    if kind == "extra_forbidden":
        allowed = _allowed_keys(loc[:-1])
        hint = did_you_mean(str(loc[-1]), allowed)
        listing = f" (allowed here: {', '.join(allowed)})" if allowed and not hint else ""
        return f"{where}: {key}: unknown key{hint}{listing}"
    if kind == "missing":
        return f"{where}: {key}: required key is missing"
    message = err["msg"].removeprefix("Value error, ")
    got = err.get("input")
    found = "" if kind.startswith("value_error") or isinstance(got, dict) else f"; got {got!r}"
    return f"{where}: {key or '(top level)'}: {message}{found}"


def _format_loc(loc: tuple) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def _line_of(node, loc: tuple) -> int | None:
    """1-based line of the YAML node at ``loc`` (the key's line for mapping entries)."""
    line = node.start_mark.line + 1 if node is not None else None
    for part in loc:
        if isinstance(node, yaml.MappingNode):
            match = next(((k, v) for k, v in node.value if k.value == str(part)), None)
            if match is None:
                return line
            line = match[0].start_mark.line + 1
            node = match[1]
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int) and part < len(node.value):
            node = node.value[part]
            line = node.start_mark.line + 1
        else:
            return line
    return line


def _unwrap(annotation):
    """Strip Optional/tuple/list/Annotated wrappers down to a model class, if there is one."""
    origin = typing.get_origin(annotation)
    if origin is Annotated:
        return _unwrap(typing.get_args(annotation)[0])
    if origin in (typing.Union, tuple, list) or str(origin) == "<class 'types.UnionType'>":
        for arg in typing.get_args(annotation):
            found = _unwrap(arg)
            if found is not None:
                return found
        return None
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    return None


def _allowed_keys(loc: tuple) -> list[str]:
    model: type[BaseModel] | None = Study
    for part in loc:
        if model is None:
            return []
        if isinstance(part, int):
            continue
        field = model.model_fields.get(part) or next(
            (f for f in model.model_fields.values() if f.alias == part), None)
        model = _unwrap(field.annotation) if field is not None else None
    if model is None:
        return []
    return [f.alias or name for name, f in model.model_fields.items()]


