"""The schema of a study parameter file: one pydantic model per section.

Every section is a :class:`Strict` model (``extra="forbid"``, ``frozen=True``): unknown keys are
errors and parsed parameters are immutable. Closed choices are ``Literal`` types over the tuples of
:mod:`studylib.plan.vocabulary`. The rules that tie keys of a section together (a criterion has one
rule; a condition one form) are model validators, and each model states the same rules in its JSON
Schema, so that ``Study.model_json_schema()`` accepts what validation accepts, up to the checks JSON
Schema cannot express (see :data:`VALIDATION_ONLY`).
"""

from __future__ import annotations

import math
import re
import types
import typing
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import (AliasChoices, BaseModel, BeforeValidator, ConfigDict, Field, PrivateAttr, field_validator,
                      model_validator)
from pydantic_core import PydanticCustomError

from studylib.errors import did_you_mean
from studylib.plan.vocabulary import (
    ACTIONS, BOUNDS, CI_METHODS, COHORT_CHECKS, COMPARATORS, FEATURE_TRIGGER_STATISTICS, HETEROGENEITY_TESTS, INTERVAL_STATISTICS,
    LIST_OPERATORS, MCNEMAR_METHODS, OE_INTERVALS, METRIC_RANGE, METRICS, MISSING_SCORE_RULES, MULTIPLICITY_METHODS,
    NULL_OPERATORS, OPERATORS, PAIRED_METRICS, PERIOD_LABELS, PERIODS, RELATIVE_STATISTICS, RELATIVE_TO,
    SCORE_TRIGGER_STATISTICS, SHADOW_TRIGGER_STATISTICS, DEPLOYED_MODELS, ENGINES,
    SUBGROUP_GATE_METRICS, SUBGROUP_METRICS, SUMMARIES, TRIGGER_STATISTICS, TRIGGER_WINDOWS, band_labels,
)

HEX64 = r"^(sha256:)?[0-9a-f]{64}$"
Probability = Annotated[float, Field(ge=0.0, le=1.0)]
Identifier = Annotated[str, Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]*$", max_length=100)]

#: what validation checks beyond the exported JSON Schema (relations between values that JSON Schema
#: cannot state); ``studylib params check`` checks them all
VALIDATION_ONLY = (
    "ids and names are unique: ids of cohort steps, acceptance criteria, subgroup gates, triggers and claims; names "
    "of subgroup variables",
    "a claim's supported_by names declared gates (acceptance criteria, subgroup gates and their rows, site gates, "
    "drift triggers, cohort checks) and its required_roles are among release.roles; claims need release",
    "ordered pairs are in order: data.collection_window, analysis.decision_curve, interval_within/between "
    "of criteria, op 'between' of conditions, between: of time windows; subgroups.variables[].cut and "
    "analysis.threshold_grid strictly increase",
    "names refer to declared names: subgroups.intersections to subgroups.variables, a trigger's of: to the "
    "drift features, a subgroup variable's reference to its bands",
    "counts match: labels has one entry per band of cut",
    "lists do not overlap: primary_metrics and secondary_metrics, drift.features and drift.categorical, the "
    "columns of table_one",
    "a ks trigger names a continuous feature",
    "with period: year, a year is written 2024 or '2024'; 2024.0 fails validation (JSON does not tell it "
    "from 2024)",
    "numbers are finite (cut points may be .inf or -.inf)",
)


# --- building blocks ------------------------------------------------------------------------------

def _text(value):
    """Reject a non-text value before a ``Literal`` check, with the message of a text field."""
    if not isinstance(value, str):
        raise PydanticCustomError("string_type", "Input should be a valid string")
    return value


def _name(vocabulary: tuple[str, ...]):
    """A word of a closed vocabulary: a ``Literal`` whose non-text inputs fail as text fields do."""
    return Annotated[Literal[vocabulary], BeforeValidator(_text)]


Operator = _name(OPERATORS)
Metric = _name(METRICS)


def _given(*keys: str) -> dict:
    """JSON Schema: every key is present and not null (validation treats null as not given)."""
    return {"required": list(keys), "properties": {k: {"not": {"type": "null"}} for k in keys}}


def _none_given(*keys: str) -> dict:
    """JSON Schema: no key is given a value (absent or null)."""
    return {"not": {"anyOf": [_given(k) for k in keys]}}


def _one_given(*keys: str) -> dict:
    """JSON Schema: exactly one of the keys is given a value."""
    return {"oneOf": [_given(k) for k in keys]}


def _add_rules(schema: dict, *rules: dict) -> None:
    """Add rules that a value must meet besides its properties (``allOf``)."""
    schema.setdefault("allOf", []).extend(rules)


def _exact_json_schema(schema: dict, cls: type[BaseModel]) -> None:
    """Complete a model's JSON Schema with what the generated one leaves out.

    Every spelling validation accepts is a property (``between`` beside ``interval_within``; ``in_``
    beside ``in``), with at most one spelling per key; then the model's own rules
    (``_json_schema_rules``) are added.
    """
    properties = schema.get("properties", {})
    for name, field in cls.model_fields.items():
        spellings = []
        if isinstance(field.validation_alias, AliasChoices):
            spellings = [c for c in field.validation_alias.choices if isinstance(c, str)]
        elif field.alias is not None and cls.model_config.get("populate_by_name"):
            spellings = [field.alias, name]
        if len(spellings) < 2:
            continue
        first = properties[spellings[0]]
        for other in spellings[1:]:
            properties[other] = dict(first, description=f"another spelling of `{spellings[0]}`; give one of them")
        _add_rules(schema, *({"not": {"required": [a, b]}} for i, a in enumerate(spellings)
                             for b in spellings[i + 1:]))
    rules = getattr(cls, "_json_schema_rules", None)
    if rules is not None:
        rules(schema)


class AllowsInfinity:
    """Marks a number that may be ``.inf`` or ``-.inf`` (``Annotated[float, AllowsInfinity()]``)."""


def _scalar_kinds(annotation) -> tuple[set, bool]:
    """(the plain types a scalar of ``annotation`` may be, whether it may be infinite)."""
    origin = typing.get_origin(annotation)
    if origin is Annotated:
        inner, *meta = typing.get_args(annotation)
        kinds, infinite = _scalar_kinds(inner)
        return kinds, infinite or any(isinstance(m, AllowsInfinity) for m in meta)
    if origin in (typing.Union, types.UnionType):
        kinds, infinite = set(), False
        for arg in typing.get_args(annotation):
            k, i = _scalar_kinds(arg)
            kinds |= k
            infinite |= i
        return kinds, infinite
    if annotation in (int, float, bool, str):
        return {annotation}, False
    if annotation is type(None):
        return set(), False
    return {object}, False  # Literal, dates, models, Any: checked by their own validation


def _sequence_items(annotation):
    """The item annotations of a tuple or list annotation (``[X, Ellipsis]`` for ``tuple[X, ...]``), or None."""
    origin = typing.get_origin(annotation)
    if origin is Annotated:
        return _sequence_items(typing.get_args(annotation)[0])
    if origin in (typing.Union, types.UnionType):
        return next((items for arg in typing.get_args(annotation) if (items := _sequence_items(arg))), None)
    if origin in (tuple, list):
        args = typing.get_args(annotation)
        return [args[0], Ellipsis] if origin is list or args[-1:] == (Ellipsis,) else list(args)
    return None


def _strict_value(annotation, value, where: str = ""):
    """Refuse what pydantic would convert into a number or a boolean (see :meth:`Strict._strict_types`)."""
    if isinstance(value, (list, tuple)):
        items = _sequence_items(annotation)
        if items is not None:
            for index, item in enumerate(value):
                item_type = items[0] if items[-1] is Ellipsis else (items[index] if index < len(items) else None)
                if item_type is not None:
                    _strict_value(item_type, item, f"item {index + 1}: ")
        return value
    kinds, infinite = _scalar_kinds(annotation)
    numeric = bool(kinds & {int, float})
    if object in kinds or value is None:
        return value
    if isinstance(value, bool):
        if numeric and bool not in kinds:
            raise PydanticCustomError("number_type", where + "Input should be a valid number, not true/false")
    elif isinstance(value, (int, float)):
        if float in kinds and math.isnan(value):
            raise PydanticCustomError("finite_number", where + "Input should be a valid number, not NaN")
        if float in kinds and math.isinf(value) and not infinite:
            raise PydanticCustomError("finite_number", where + "Input should be a finite number")
        if bool in kinds and not numeric:
            raise PydanticCustomError("bool_type", where + "Input should be true or false")
    elif isinstance(value, str) and str not in kinds:
        if numeric:
            raise PydanticCustomError("number_type", where + "Input should be a valid number, not text (write it without quotes)")
        if bool in kinds:
            raise PydanticCustomError("bool_type", where + "Input should be true or false")
    return value


class Strict(BaseModel):
    """Base of every section: unknown keys are errors and parsed parameters are immutable.

    Numbers and booleans are strict: a number is never true/false, a quoted number, NaN or (unless the
    key allows it, :class:`AllowsInfinity`) infinite; true/false is never 0/1 or a word such as 'yes'.
    (pydantic alone reads ``small_cell_threshold: true`` as 1, which turns suppression off.)
    """

    model_config = ConfigDict(extra="forbid", frozen=True, json_schema_extra=_exact_json_schema)

    @field_validator("*", mode="before")
    @classmethod
    def _strict_types(cls, value, info):
        field = cls.model_fields.get(info.field_name)
        return value if field is None else _strict_value(field.annotation, value)


def _greater(a, b) -> bool:
    """``a > b`` for values of comparable types; False when they cannot be compared."""
    try:
        return bool(a > b)
    except TypeError:
        return False


# --- study, snapshot, data, models ----------------------------------------------------------------

class StudySection(Strict):
    """What the study is: its id, title and intended use, and the small-cell rule of its reports."""

    id: Identifier = Field(description="short identifier of the study; names the run folders "
                                       "(reports/<id>/<run-id>/)", examples=["flchain-v2-vs-v1"])
    title: str = Field(min_length=1, description="title shown on every report",
                       examples=["5-year mortality risk model v2 against the locked v1"])
    intended_use: str = Field(min_length=1, description="the population and the decision the model supports, "
                                                        "in plain language",
                              examples=["Adults aged 50 or more; flags a high 5-year risk of death to prompt a "
                                        "clinical review."])
    small_cell_threshold: int = Field(5, ge=1, description="counts below this are shown as '<N' to reviewers",
                                      examples=[5])


class SnapshotSection(Strict):
    """The locked dataset snapshot the study reads, and its lock hash."""

    path: str = Field(min_length=1, description="snapshot folder, relative to the project root",
                      examples=["snapshots/flchain"])
    lock: str = Field(pattern=r"^sha256:[0-9a-f]{64}$", description="printed by `studylib snapshot lock`",
                      examples=["sha256:aea424a56991c9a2dba570586f996165461e625a3b470e105c7f8154c1008830"])


class DataSection(Strict):
    """The roles of the snapshot's columns: id, outcome, split, time, site, features."""

    id: str = Field(description="pseudonymous patient id column", examples=["person_id"])
    outcome: str = Field(description="binary reference-standard column (0/1)", examples=["death_5y"])
    split: str | None = Field(None, description="column naming the data split (development/validation/...)",
                              examples=["split"])
    time: str | None = Field(None, description="column with the sample date or period", examples=["sample_year"])
    site: str | None = Field(None, description="column naming the site or source cohort of each row",
                             examples=["site"])
    features: tuple[str, ...] = Field((), description="model input features (checked for outcome leakage)",
                                      examples=[["age", "sex", "creatinine"]])
    encounter: str | None = Field(None, description="column naming the encounter (visit, sample, image) within a "
                                                    "patient; (id, encounter) must be unique. Omitted: one row per "
                                                    "patient (id unique)", examples=["visit_id"])
    label_time: str | None = Field(None, description="column with the time the reference-standard label was "
                                                     "established; data.time must not be after it",
                                   examples=["label_date"])
    collection_window: tuple[Any, Any] | None = Field(None, description="[first, last] value of data.time in the "
                                                                        "declared collection window (inclusive)",
                                                      examples=[[1995, 2003]])
    post_outcome: tuple[str, ...] = Field((), description="columns known only after the outcome (e.g. cause of "
                                                          "death); never model features",
                                          examples=[["death", "futime_days"]])
    missing_flag_percent: float = Field(10.0, ge=0.0, le=100.0, description="the missingness report flags a column "
                                                                            "missing in more than this % of a split",
                                        examples=[10])
    shared_inputs_max_percent: float = Field(
        1.0, ge=0.0, le=100.0, description="gate LEAK-INPUTS fails when more than this % of the analysis cohort's "
                                           "rows have model-input values (data.features) identical to a row of "
                                           "another split (the same patient under another id); raise it only for "
                                           "coarse features that coincide by chance, with the reason in a comment",
        examples=[1.0])

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

    @classmethod
    def _json_schema_rules(cls, schema: dict) -> None:
        window = schema["properties"]["collection_window"]["anyOf"][0]
        window["prefixItems"] = [{"type": ["string", "number"]}, {"type": ["string", "number"]}]
        _add_rules(schema, {"if": {"anyOf": [_given("label_time"), _given("collection_window")]},
                            "then": _given("time")})


class ModelSection(Strict):
    """One model: the column holding its scores, and the locked artifact those scores came from."""

    score: str = Field(description="column with the model's predicted risk in [0, 1]", examples=["p_v2"])
    name: str = Field(description="the model's name as registered", examples=["flc-risk"])
    version: str = Field(description="the model's version as registered (quote it: \"2.0.0\")",
                         examples=["2.0.0"])
    artifact_sha256: str = Field(pattern=HEX64, description="SHA-256 of the locked model artifact in the snapshot",
                                 examples=["19adada3092ee4727eb69608196e20a0f0c35230810e1c1dbd4145478766e421"])


class ModelsSection(Strict):
    """The candidate model under evaluation and, optionally, the baseline it is compared with."""

    candidate: ModelSection = Field(description="the model under evaluation",
                                    examples=[{"score": "p_v2", "name": "flc-risk", "version": "2.0.0",
                                               "artifact_sha256": "19adada3092ee4727eb69608196e20a0f0c35230810e1c1"
                                                                  "dbd4145478766e421"}])
    baseline: ModelSection | None = Field(None, description="the locked model the candidate is compared with "
                                                            "(versus: baseline); omitted: no comparison",
                                          examples=[{"score": "p_v1", "name": "flc-risk", "version": "1.0.0",
                                                     "artifact_sha256": "597d28f76ee424917bcc5e0c26d8a6bddf33273e1c"
                                                                        "096f5c4b9498938a20ee87"}])


# --- cohort ---------------------------------------------------------------------------------------

class Condition(Strict):
    """One comparison ``column op value``, or ``all``/``any`` of nested conditions.

    ``is null``/``not null`` take no value; ``in``/``not in`` a non-empty list; ``between`` a list
    ``[low, high]`` (both inclusive); every other operator a single value.
    """

    column: str | None = Field(None, description="the column compared (the first form)", examples=["split"])
    op: Operator | None = Field(None, description="comparison operator; needs column", examples=["=="])
    value: Any = Field(None, description="what the column is compared with: a single value, a list for in/not in, "
                                         "[low, high] for between, none for is null/not null",
                       examples=["development"])
    all: tuple["Condition", ...] | None = Field(None, description="true when every nested condition is true",
                                                examples=[[{"column": "age", "op": ">=", "value": 50},
                                                           {"column": "mgus", "op": "==", "value": 0}]])
    any: tuple["Condition", ...] | None = Field(None, description="true when at least one nested condition is true",
                                                examples=[[{"column": "site", "op": "==", "value": "A"},
                                                           {"column": "site", "op": "is null"}]])

    @field_validator("op", mode="before")
    @classmethod
    def _known_operator(cls, op):
        if isinstance(op, str) and op not in OPERATORS:
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
            if self.op in NULL_OPERATORS:
                if self.value is not None:
                    raise ValueError(f"op '{self.op}' takes no value")
            elif self.op in LIST_OPERATORS:
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

    @classmethod
    def _json_schema_rules(cls, schema: dict) -> None:
        def with_op(ops):
            return {"allOf": [_given("column"), {"required": ["op"], "properties": {"op": {"enum": list(ops)}}}]}

        single = [op for op in OPERATORS if op not in (*NULL_OPERATORS, *LIST_OPERATORS, "between")]
        _add_rules(
            schema,
            _one_given("column", "all", "any"),
            {"if": _given("column"), "then": _given("op")},
            {"if": with_op(NULL_OPERATORS), "then": _none_given("value")},
            {"if": with_op(LIST_OPERATORS),
             "then": {"required": ["value"], "properties": {"value": {"type": "array", "minItems": 1}}}},
            {"if": with_op(("between",)),
             "then": {"required": ["value"], "properties": {"value": {"type": "array", "minItems": 2,
                                                                      "maxItems": 2}}}},
            {"if": with_op(single),
             "then": {"required": ["value"], "properties": {"value": {"type": ["string", "number", "boolean"]}}}},
        )

    def columns(self) -> set[str]:
        """Every column the condition reads."""
        if self.column is not None:
            return {self.column}
        return set().union(*(c.columns() for c in (self.all or self.any)))


class CohortStep(Strict):
    """One step of the cohort: keep the rows a condition selects, or drop them (one box of the flow)."""

    id: Identifier = Field(description="short identifier of the step, e.g. E1 for an exclusion", examples=["E1"])
    label: str = Field(min_length=1, description="what the step does, in plain language (shown in the flow "
                                                 "diagram)", examples=["Development split (data the models were "
                                                                       "fitted on)"])
    keep: Condition | None = Field(None, description="keep only the rows meeting this condition",
                                   examples=[{"column": "age", "op": ">=", "value": 50}])
    drop: Condition | None = Field(None, description="drop the rows meeting this condition",
                                   examples=[{"column": "split", "op": "==", "value": "development"}])

    @model_validator(mode="after")
    def _keep_or_drop(self):
        if (self.keep is None) == (self.drop is None):
            raise ValueError(f"cohort step {self.id} needs exactly one of keep: or drop:")
        return self

    @classmethod
    def _json_schema_rules(cls, schema: dict) -> None:
        _add_rules(schema, _one_given("keep", "drop"))

    @property
    def condition(self) -> Condition:
        return self.keep if self.keep is not None else self.drop


class TableOneVariable(Strict):
    """One row group of Table 1: a column, its label, and (continuous only) its summary style."""

    column: str = Field(min_length=1, description="the column summarised", examples=["age"])
    label: str | None = Field(None, description="row label shown to reviewers; default: the column name",
                              examples=["Age (years)"])
    summary: Literal[SUMMARIES] | None = Field(None, description="continuous only; default: table_one.summary",
                                               examples=["mean_sd"])


class TableOneSection(Strict):
    """Table 1 (baseline characteristics) of the cohort stage. Variables may be given as a column name or
    as ``{column, label, summary}``."""

    summary: Literal[SUMMARIES] = Field("median_iqr", description="default summary of continuous variables: "
                                                                  "mean ± SD or median [IQR]",
                                        examples=["median_iqr"])
    continuous: tuple[TableOneVariable, ...] = Field((), description="continuous variables, each a column name or "
                                                                     "{column, label, summary}",
                                                     examples=[["creatinine", {"column": "age", "label": "Age (years)",
                                                                               "summary": "mean_sd"}]])
    categorical: tuple[TableOneVariable, ...] = Field((), description="categorical variables, each a column name or "
                                                                      "{column, label}",
                                                      examples=[["sex", {"column": "sample_year",
                                                                         "label": "Year of the blood sample"}]])
    smd_between: tuple[str, str] = Field(("development", "validation"), description="the two split values "
                                                                                     "compared by standardised "
                                                                                     "mean differences",
                                         examples=[["development", "validation"]])

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

    @classmethod
    def _json_schema_rules(cls, schema: dict) -> None:
        properties = schema["properties"]
        name = {"type": "string", "minLength": 1}
        variable = properties["continuous"]["items"]
        properties["continuous"]["items"] = {"anyOf": [name, variable]}
        properties["categorical"]["items"] = {"anyOf": [name, {"allOf": [variable, _none_given("summary")]}]}
        properties["smd_between"]["uniqueItems"] = True


# --- analysis -------------------------------------------------------------------------------------

def _default_threshold_grid() -> tuple[float, ...]:
    return tuple(round(0.05 * k, 2) for k in range(1, 20))


class ErrorAnalysisSection(Strict):
    """Error-case analysis of the evaluation stage: who the model misses and whom it flags wrongly."""

    variables: tuple[str, ...] = Field((), description="columns whose distribution is compared between false "
                                                       "negatives, false positives and correct calls",
                                       examples=[["sex", "age"]])
    list_misses: int = Field(20, ge=0, le=500, description="how many of the most confident false negatives and "
                                                           "false positives to list by pseudonymous id",
                             examples=[20])


class AnalysisSection(Strict):
    """How the evaluation and subgroup stages analyse: threshold, intervals, multiplicity, metrics."""

    threshold: Probability = Field(description="pre-specified operating threshold; positive iff score >= threshold",
                                   examples=[0.1])
    split: str | None = Field(None, description="split value that the evaluation and subgroup stages analyse "
                                                "(e.g. validation); the whole cohort when omitted",
                              examples=["validation"])
    ci_method: Literal[CI_METHODS] = Field("wilson", description="confidence-interval method of proportions",
                                           examples=["wilson"])
    alpha: float = Field(0.05, gt=0.0, le=0.5, description="1 − confidence level of every interval and the "
                                                           "significance level of every test", examples=[0.05])
    multiplicity: Literal[MULTIPLICITY_METHODS] = Field("holm", description="adjustment of p-values for multiple "
                                                                            "testing: Holm, or Benjamini–Hochberg "
                                                                            "(fdr_bh)", examples=["holm"])
    seed: int = Field(20261123, ge=0, description="seed of every bootstrap", examples=[20261123])
    n_bootstrap: int = Field(2000, ge=100, le=100_000, description="bootstrap resamples of intervals without a "
                                                                   "closed form", examples=[2000])
    decision_curve: tuple[Probability, Probability] = Field((0.05, 0.5), description="[low, high] range of threshold "
                                                                                     "probabilities of the decision "
                                                                                     "curve; low < high < 1",
                                                            examples=[[0.05, 0.5]])
    primary_metrics: tuple[Metric, ...] = Field((), description="metrics the study is designed to answer (reported "
                                                                "first and marked primary)",
                                                examples=[["sensitivity", "specificity", "auroc"]])
    secondary_metrics: tuple[Metric, ...] = Field((), description="further pre-specified metrics (marked secondary); "
                                                                  "every other metric is reported as supportive",
                                                  examples=[["calibration_slope", "brier"]])
    threshold_grid: tuple[Probability, ...] = Field(_default_threshold_grid(),
                                                    description="thresholds of the EXPLORATORY threshold table",
                                                    examples=[[0.05, 0.1, 0.2, 0.3]])
    missing_scores: Literal[MISSING_SCORE_RULES] = Field(
        "error", description="rows of the analysis cohort with a missing score: stop the stage (error) or exclude "
                             "them from every model's analysis and report their count and ids (exclude)",
        examples=["error"])
    min_positives: int = Field(20, ge=0, description="acceptance criteria: fewer positives among the cases the "
                                                     "criterion's metric uses (positives for sensitivity, both "
                                                     "classes for AUROC, calibration and versus baseline; flagged "
                                                     "patients for PPV): INSUFFICIENT_EVIDENCE",
                               examples=[20])
    min_negatives: int = Field(20, ge=0, description="acceptance criteria: fewer negatives among the cases the "
                                                     "criterion's metric uses (negatives for specificity, both "
                                                     "classes for AUROC, calibration and versus baseline; "
                                                     "unflagged patients for NPV): INSUFFICIENT_EVIDENCE",
                               examples=[20])
    mcnemar: Literal[MCNEMAR_METHODS] = Field("mid-p", description="McNemar test of paired sensitivity, "
                                                                   "specificity and accuracy: mid-p (the "
                                                                   "default; the exact conditional test is "
                                                                   "conservative), exact, chi2 or "
                                                                   "chi2-corrected", examples=["mid-p"])
    oe_interval: Literal[OE_INTERVALS] = Field("delta-log", description="interval of the observed/expected ratio: "
                                                                        "delta-log (log scale, variance sum p(1 − p)"
                                                                        "; the default) or poisson-exact (exact "
                                                                        "Poisson, wider; for rare events)",
                                               examples=["delta-log"])
    error_analysis: ErrorAnalysisSection = Field(ErrorAnalysisSection(), description="the error-case analysis",
                                                 examples=[{"variables": ["sex", "age"], "list_misses": 20}])

    @field_validator("primary_metrics", "secondary_metrics", mode="before")
    @classmethod
    def _known_metrics(cls, names):
        if isinstance(names, (list, tuple)) and all(isinstance(name, str) for name in names):
            for name in names:
                if name not in METRICS:
                    raise ValueError(f"unknown metric '{name}'{did_you_mean(name, METRICS)} (expected one of "
                                     f"{', '.join(METRICS)})")
        return names

    @field_validator("primary_metrics", "secondary_metrics")
    @classmethod
    def _listed_once(cls, names):
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

    @classmethod
    def _json_schema_rules(cls, schema: dict) -> None:
        properties = schema["properties"]
        properties["primary_metrics"]["uniqueItems"] = True
        properties["secondary_metrics"]["uniqueItems"] = True
        properties["threshold_grid"]["minItems"] = 1
        items = properties["decision_curve"]["prefixItems"]
        items[1] = {k: v for k, v in items[1].items() if k != "maximum"} | {"exclusiveMaximum": 1}


# --- acceptance criteria --------------------------------------------------------------------------

def _criterion_rules() -> list[dict]:
    """JSON Schema of the rule forms of :class:`Criterion` (also the non-relative forms of a gate)."""
    one_sided = {"anyOf": [_given("at_least"), _given("at_most")]}
    rules = [
        {"not": _given("at_least", "at_most")},
        {"if": _given("bound"), "then": one_sided},
        {"if": _given("versus"), "then": {"allOf": [_given("non_inferiority_margin"),
                                                    {"properties": {"metric": {"enum": list(PAIRED_METRICS)}}}]}},
    ]
    for low, high in sorted(set(METRIC_RANGE.values())):
        metrics = sorted(m for m, span in METRIC_RANGE.items() if span == (low, high))
        bounded, interval, margin = {}, [{}, {}], {}
        if low > -float("inf"):
            bounded["minimum"] = low
            interval[1]["minimum"] = low
        if high < float("inf"):
            bounded["maximum"] = high
            interval[0]["maximum"] = high
            margin["exclusiveMaximum"] = high - low
        if not bounded:
            continue
        within = {"prefixItems": interval}
        rules.append({"if": {"required": ["metric"], "properties": {"metric": {"enum": metrics}}},
                      "then": {"properties": {"at_least": bounded, "at_most": bounded, "interval_within": within,
                                              "between": within}}})
        if margin:
            rules.append({"if": {"allOf": [_given("versus"), {"properties": {"metric": {"enum": metrics}}}]},
                          "then": {"properties": {"non_inferiority_margin": margin}}})
    forms = [one_sided, {"anyOf": [_given("interval_within"), _given("between")]}, _given("versus")]
    return [{"oneOf": forms}, *rules]


class Criterion(Strict):
    """A pre-registered acceptance criterion, judged on interval bounds.

    Forms: ``bound: lower, at_least: x`` / ``bound: upper, at_most: x`` (one-sided on the interval);
    ``interval_within: [a, b]`` (also spelt ``between: [a, b]``); ``versus: baseline,
    non_inferiority_margin: m`` (the lower bound of
    candidate − baseline must exceed −m; for a metric where smaller is better, Brier, the upper bound
    must stay below +m). ``label`` is an optional plain-language name shown beside the verdict.

    Each form is a test (ICH E9): a bound of a two-sided interval at level ``interval_level`` (default
    ``1 − analysis.alpha``, 95 %) is a one-sided test at ``(1 − level)/2`` (2.5 %); ``interval_within``
    is two one-sided tests (TOST) at 2.5 % each; a rule on the point estimate is no test.
    """

    id: Identifier = Field(description="short identifier of the criterion", examples=["AC-1"])
    metric: Metric = Field(description="the metric judged", examples=["sensitivity"])
    bound: Literal[BOUNDS] | None = Field(None, description="the part of the interval at_least/at_most judges "
                                                            "(lower, upper, or the estimate)", examples=["lower"])
    at_least: float | None = Field(None, description="the bound must be at least this", examples=[0.7])
    at_most: float | None = Field(None, description="the bound must be at most this", examples=[0.25])
    interval_within: tuple[float, float] | None = Field(
        None, validation_alias=AliasChoices("interval_within", "between"),
        description="[a, b]: the whole interval must lie within it (also spelt between)", examples=[[0.8, 1.2]])
    versus: Literal[COMPARATORS] | None = Field(None, description="compare with the baseline model: judge candidate "
                                                                  "− baseline (needs non_inferiority_margin)",
                                                examples=["baseline"])
    non_inferiority_margin: float | None = Field(None, ge=0.0, description="with versus: the lower bound of "
                                                                           "candidate − baseline must exceed −m (the "
                                                                           "upper bound below +m where smaller is "
                                                                           "better)", examples=[0.02])
    label: str | None = Field(None, description="plain-language name shown beside the verdict",
                              examples=["Sensitivity at the operating threshold"])
    interval_level: float | None = Field(
        None, gt=0.5, lt=1.0,
        description="confidence level of the two-sided interval this rule is judged on (default: 1 − "
                    "analysis.alpha, 95%); a bound rule on it is a one-sided test at (1 − level)/2, "
                    "interval_within two one-sided tests (TOST) at (1 − level)/2 each (ICH E9)",
        examples=[0.95])

    @field_validator("metric", mode="before")
    @classmethod
    def _known_metric(cls, metric, info):
        if isinstance(metric, str) and metric not in METRICS:
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

    @classmethod
    def _json_schema_rules(cls, schema: dict) -> None:
        _add_rules(schema, *_criterion_rules())


# --- subgroups ------------------------------------------------------------------------------------

class SubgroupVariable(Strict):
    """A subgroup axis: a column's values as they are, or bands ``[a, b)`` between declared cut points."""

    name: Identifier = Field(description="name of the axis in tables, figures and intersections",
                             examples=["age_band"])
    column: str = Field(description="the column whose values (or bands) form the subgroups", examples=["age"])
    cut: tuple[Annotated[float, AllowsInfinity()], ...] | None = Field(None, description="increasing cut points; bins are [a, b); .inf and -.inf "
                                                            "allowed", examples=[[50, 60, 70, 80, 90, 120]])
    labels: tuple[str, ...] | None = Field(None, description="one label per band (len(cut) - 1), e.g. 50-59",
                                           examples=[["50–59", "60–69", "70–79", "80–89", "90+"]])
    reference: str | None = Field(None, description="level that the other levels are compared with",
                                  examples=["F"])

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

    @classmethod
    def _json_schema_rules(cls, schema: dict) -> None:
        properties = schema["properties"]
        properties["cut"]["anyOf"][0]["minItems"] = 2
        properties["labels"]["anyOf"][0]["uniqueItems"] = True
        properties["reference"]["anyOf"].insert(1, {"type": "integer"})
        _add_rules(schema, {"if": _given("labels"), "then": _given("cut")})

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

    relative_to: Literal[RELATIVE_TO] | None = Field(None, description="judge each subgroup against the overall "
                                                                       "estimate, or against its variable's "
                                                                       "reference level", examples=["overall"])
    max_below: float | None = Field(None, ge=0.0, description="with relative_to (higher is better): the lower bound "
                                                              "may lie at most this far below", examples=[0.05])
    max_above: float | None = Field(None, ge=0.0, description="with relative_to (lower is better): the upper bound "
                                                              "may lie at most this far above", examples=[0.05])
    insufficient_evidence_blocks: bool = Field(True, description="INSUFFICIENT_EVIDENCE blocks the release",
                                               examples=[True])

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

    @classmethod
    def _json_schema_rules(cls, schema: dict) -> None:
        # metric: any of METRICS passes the type, the model validator allows those computed per subgroup
        schema["properties"]["metric"]["enum"] = list(SUBGROUP_GATE_METRICS)
        schema["properties"]["id"]["examples"] = ["SG-1"]
        relative = {"anyOf": [_given("relative_to"), _given("max_below"), _given("max_above")]}
        _add_rules(schema, {
            "if": relative,
            "then": {"allOf": [_none_given("at_least", "at_most", "interval_within", "between", "versus", "bound"),
                               _given("relative_to"), _one_given("max_below", "max_above")]},
            "else": {"allOf": [*_criterion_rules(),
                               {"if": _given("versus"), "then": {"properties": {"metric": {"const": "auroc"}}}}]},
        })


class SubgroupsSection(Strict):
    """Subgroup analysis plan: axes, intersections, minimum n, heterogeneity tests and gates."""

    variables: tuple[SubgroupVariable, ...] = Field((), description="the subgroup axes",
                                                    examples=[[{"name": "sex", "column": "sex", "reference": "F"}]])
    intersections: tuple[tuple[str, ...], ...] = Field((), description="combinations of two or more variables "
                                                                       "(by name) analysed as joint subgroups",
                                                       examples=[[["sex", "age_band"]]])
    min_positives: int = Field(20, ge=0, description="fewer positives: the subgroup is INSUFFICIENT_EVIDENCE",
                               examples=[20])
    min_negatives: int = Field(20, ge=0, description="fewer negatives: the subgroup is INSUFFICIENT_EVIDENCE",
                               examples=[20])
    interval_width: float = Field(0.20, gt=0.0, le=1.0, description="full width of the interval of sensitivity "
                                  "and specificity that the sample-size hint for small subgroups aims at",
                                  examples=[0.2])
    heterogeneity_test: Literal[HETEROGENEITY_TESTS] = Field(
        "chi2", description="test across a variable's levels for proportions (others: Cochran's Q, Wald)",
        examples=["chi2"])
    heterogeneity_metrics: tuple[Literal[SUBGROUP_METRICS], ...] = Field(
        ("sensitivity", "specificity", "auroc", "calibration_slope"),
        description="metrics tested for heterogeneity across each variable's levels",
        examples=[["sensitivity", "specificity", "auroc"]])
    gates: tuple[SubgroupGate, ...] = Field((), description="criteria judged in every subgroup that has enough "
                                                            "positives and negatives",
                                            examples=[[{"id": "SG-1", "metric": "auroc", "bound": "lower",
                                                        "at_least": 0.6}]])

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

    @classmethod
    def _json_schema_rules(cls, schema: dict) -> None:
        schema["properties"]["intersections"]["items"].update(minItems=2, uniqueItems=True)
        relative_to_reference = {"required": ["relative_to"], "properties": {"relative_to": {"const": "reference"}}}
        _add_rules(schema, {
            "if": {"required": ["gates"], "properties": {"gates": {"contains": relative_to_reference}}},
            "then": {"required": ["variables"],
                     "properties": {"variables": {"contains": {"required": ["reference"], "properties": {
                         "reference": {"type": ["string", "integer"], "minLength": 1}}}}}},
        })


# --- planning -------------------------------------------------------------------------------------

class LinearPredictorPlan(Strict):
    """Anticipated distribution of the candidate's linear predictor (logit of risk): normal(mean, sd)."""

    mean: float = Field(description="mean of the linear predictor in the validation population", examples=[-2.0])
    sd: float = Field(gt=0.0, description="standard deviation of the linear predictor", examples=[1.2])


class PlanningWidths(Strict):
    """Target full widths of the intervals the sample size aims at (Riley et al. 2021 defaults)."""

    oe_ratio: float = Field(0.2, gt=0.0, description="interval width of O/E (also sizes calibration-in-the-large)",
                            examples=[0.2])
    calibration_slope: float = Field(0.2, gt=0.0, description="interval width of the calibration slope",
                                     examples=[0.2])
    c_statistic: float = Field(0.1, gt=0.0, le=1.0, description="interval width of the C-statistic (AUROC)",
                               examples=[0.1])
    net_benefit: float = Field(0.2, gt=0.0, description="interval width of the standardised net benefit at the "
                                                        "operating threshold", examples=[0.2])
    proportion: float | None = Field(None, gt=0.0, le=1.0, description="interval width of sensitivity, "
                                     "specificity, PPV and NPV (Buderer); omitted: subgroups.interval_width",
                                     examples=[0.1])


class PlanningSection(Strict):
    """Anticipated values for `studylib plan`: the sample size each criterion and gate needs, declared before
    any result (never estimates from the study data)."""

    prevalence: float = Field(gt=0.0, lt=1.0, description="anticipated outcome proportion", examples=[0.13])
    c_statistic: float = Field(gt=0.5, lt=1.0, description="anticipated AUROC (C-statistic) of the candidate",
                               examples=[0.8])
    baseline_c_statistic: float | None = Field(None, gt=0.0, lt=1.0, description="anticipated AUROC of the "
                                               "baseline (for non-inferiority power); omitted: equal to the "
                                               "candidate's", examples=[0.78])
    auroc_correlation: float = Field(0.5, ge=-1.0, le=1.0, description="anticipated correlation of the two "
                                     "AUROCs on the same patients (from a pilot, or assumed)", examples=[0.8])
    power: float = Field(0.8, gt=0.0, lt=1.0, description="power a non-inferiority rule is sized for",
                         examples=[0.8])
    linear_predictor: LinearPredictorPlan | None = Field(
        None, description="anticipated LP distribution; omitted: the calibrated two-normal mixture implied by "
                          "prevalence and c_statistic", examples=[{"mean": -2.0, "sd": 1.2}])
    sensitivity: float | None = Field(None, gt=0.0, lt=1.0, description="anticipated sensitivity at the threshold; "
                                      "omitted: that of a calibrated model with the LP distribution", examples=[0.75])
    specificity: float | None = Field(None, gt=0.0, lt=1.0, description="anticipated specificity at the threshold; "
                                      "omitted: that of a calibrated model with the LP distribution", examples=[0.7])
    widths: PlanningWidths = Field(PlanningWidths(), description="target interval widths",
                                   examples=[{"c_statistic": 0.1, "calibration_slope": 0.2}])


# --- sites ----------------------------------------------------------------------------------------

class SiteGate(Strict):
    """A rule on the synthesis across sites: a bound of the pooled interval or of the prediction interval.

    ``{id: ST-1, metric: auroc, bound: prediction_lower, at_least: 0.65}``: the model should work at the next
    site. With fewer than 3 sites the prediction interval is undefined: INSUFFICIENT_EVIDENCE.
    """

    id: Identifier = Field(description="short identifier of the gate", examples=["ST-1"])
    metric: Literal["auroc", "calibration_slope", "oe_ratio", "sensitivity", "specificity"] = Field(
        description="the measure synthesised across sites", examples=["auroc"])
    bound: Literal["prediction_lower", "prediction_upper", "lower", "upper", "estimate"] = Field(
        description="the bound judged: of the 95% prediction interval for a new site, or of the pooled interval",
        examples=["prediction_lower"])
    at_least: float | None = Field(None, description="the bound must be at least this", examples=[0.65])
    at_most: float | None = Field(None, description="the bound must be at most this", examples=[1.2])

    @model_validator(mode="after")
    def _one_rule(self):
        if (self.at_least is None) == (self.at_most is None):
            raise ValueError(f"site gate {self.id}: give exactly one of at_least or at_most")
        return self

    @classmethod
    def _json_schema_rules(cls, schema: dict) -> None:
        _add_rules(schema, _one_given("at_least", "at_most"))


class SitesSection(Strict):
    """Random-effects synthesis of the candidate's per-site estimates (needs data.site)."""

    method: Literal["reml", "dl"] = Field("reml", description="estimator of the between-site variance τ²: REML "
                                                              "or DerSimonian–Laird", examples=["reml"])
    test: Literal["knha", "z"] = Field("knha", description="interval of the pooled estimate: Hartung–Knapp (t, "
                                                           "k − 1 df) or normal", examples=["knha"])
    gates: tuple[SiteGate, ...] = Field((), description="rules on the pooled estimates or prediction intervals",
                                        examples=[[{"id": "ST-1", "metric": "auroc", "bound": "prediction_lower",
                                                    "at_least": 0.65}]])


# --- drift ----------------------------------------------------------------------------------------

class WindowSelector(Strict):
    """Which rows form a window: values of one column (a year, a site), or calendar periods of a timestamp.

    Forms: ``{column: site}`` (one window per value); ``{column: sample_year, values: [1995, 1996]}``;
    ``{column: admitted, period: month, between: ["2024-01", "2024-12"]}`` (the column is parsed as a
    timestamp — a date/timestamp column, or text in ISO form, ``YYYY-MM`` or ``YYYY``, or in ``format``,
    a strptime format — and rows are labelled by month ``YYYY-MM``, quarter ``YYYY-Qn`` or year ``YYYY``).
    ``each: k`` groups k consecutive values or periods into one monitoring window. ``per: site`` (monitoring
    windows of a monitoring source only) reviews every window at each site of ``monitoring.columns.site``:
    ``{column: month, period: month, per: site}`` gives one window per month and site.
    """

    column: str = Field(description="the column whose values (or calendar periods) define the windows",
                        examples=["sample_year"])
    period: Literal[PERIODS] | None = Field(None, description="parse the column as a timestamp and label rows by "
                                                              "month (YYYY-MM), quarter (YYYY-Qn) or year (YYYY)",
                                            examples=["month"])
    format: str | None = Field(None, description="strptime format of a text timestamp column, e.g. '%d/%m/%Y'",
                               examples=["%d/%m/%Y"])
    values: tuple[str | int | float, ...] | None = Field(None, description="the values (or periods) included",
                                                         examples=[[1995, 1996, 1997]])
    between: tuple[str | int | float, str | int | float] | None = Field(
        None, description="[first, last], inclusive: every value (or calendar period) in this range",
        examples=[["2024-01", "2024-12"]])
    each: int | None = Field(None, ge=1, description="monitoring windows only: group this many consecutive values "
                                                     "or periods into one window", examples=[1])
    per: Literal["site"] | None = Field(
        None, description="monitoring windows of a monitoring source only: site = every window at each site of "
                          "monitoring.columns.site (windows × sites; triggers judged per site, their intervals "
                          "Bonferroni-adjusted across the sites); omitted: each window over the whole fleet",
        examples=["site"])

    @model_validator(mode="after")
    def _consistent(self):
        if self.values is not None and self.between is not None:
            raise ValueError("give values: [...] or between: [first, last], not both")
        if self.values is not None and not self.values:
            raise ValueError("values: needs at least one value")
        if self.format is not None and self.period is None:
            raise ValueError("format: applies to a timestamp column with period: month, quarter or year")
        if self.period is not None:
            pattern, shape = PERIOD_LABELS[self.period]
            labels = [str(v) for v in (self.values or self.between or ())]
            bad = [v for v in labels if not re.match(pattern, v)]
            if bad:
                raise ValueError(f"with period: {self.period}, values name periods as {shape}; got "
                                 f"{', '.join(repr(b) for b in bad)}")
            if self.between is not None and labels[0] > labels[1]:
                raise ValueError(f"between: [first, last] must be in time order; got {labels}")
        return self

    @classmethod
    def _json_schema_rules(cls, schema: dict) -> None:
        schema["properties"]["values"]["anyOf"][0]["minItems"] = 1
        rules = [{"not": _given("values", "between")}, {"if": _given("format"), "then": _given("period")}]
        for period in PERIODS:
            label = {"type": "string", "pattern": PERIOD_LABELS[period][0]}
            if period == "year":  # an unquoted year is a number, labelled as its text
                label = {"anyOf": [label, {"type": "integer", "minimum": 1000, "maximum": 9999}]}
            rules.append({"if": {"required": ["period"], "properties": {"period": {"const": period}}},
                          "then": {"properties": {"values": {"items": label}, "between": {"items": label}}}})
        _add_rules(schema, *rules)


class Trigger(Strict):
    """A surveillance trigger and the action declared in advance.

    ``statistic`` of ``of`` (the candidate's ``score``, a declared drift feature, or ``any_feature``)
    is compared per monitoring window: ``above``/``below`` a value (on the ``bound`` of its interval,
    default the estimate) or ``interval_excludes`` a value; it fires when that happens ``in:
    any_window`` (in at least ``count`` windows) or ``in: consecutive_windows`` (in ``count``
    consecutive windows).

    ``relative_to: reference`` makes it a drift check: the rule judges the difference window − reference
    window with its two-sample interval (independent windows), so ``interval_excludes: 0`` is a two-sided
    two-sample test at the interval's level: the Wald interval ``d ± z·sqrt(SE_w² + SE_r²)`` for the
    calibration slope and calibration-in-the-large, and for the AUROC the MOVER interval from each
    window's logit-scale DeLong interval (the Wald test of AUROCs over-fires with few events;
    :func:`studylib.judge.triggers.relative_to_reference`). Without it the rule
    judges the window's statistic against a fixed value: a calibration check (the demo's former TR-2,
    "slope interval excludes 1", fired without drift because the reference slope itself is 0.886).

    A rule must need evidence of a change: ``below`` on the ``lower`` bound (or ``above`` on the
    ``upper`` bound) holds whenever the interval is wide, so it fires on small windows without any
    drift (the demo's former "AUROC lower bound < 0.70" fired in about 94 % of simulated runs without
    drift). Such a rule is rejected unless ``accept_imprecision: true`` says it is meant; write
    ``bound: upper, below: x`` (the whole interval below x: evidence of a drop) or ``bound: lower,
    above: x`` instead.
    """

    id: Identifier = Field(description="short identifier of the trigger", examples=["TR-1"])
    statistic: Literal[TRIGGER_STATISTICS] = Field(description="the statistic compared per monitoring window; "
                                                               "which ones exist depends on of",
                                                   examples=["psi"])
    of: str = Field("score", description="score (the candidate's score; with monitoring: the deployed model's), "
                                         "any_feature, shadow (the monitoring source's shadow candidate against the "
                                         "deployed model), or a declared drift feature",
                    examples=["score"])
    above: float | None = Field(None, description="fires when the statistic (its bound) is above this",
                                examples=[0.25])
    below: float | None = Field(None, description="fires when the statistic (its bound) is below this",
                                examples=[0.7])
    bound: Literal[BOUNDS] = Field("estimate", description="the part of the interval above/below judges",
                                   examples=["lower"])
    interval_excludes: float | None = Field(None, description="fires when the statistic's interval excludes this "
                                                              "value", examples=[1.0])
    in_: Literal[TRIGGER_WINDOWS] = Field("any_window", alias="in",
                                          description="fires in at least count windows (any_window) or in count "
                                                      "consecutive windows (consecutive_windows)",
                                          examples=["consecutive_windows"])
    count: int = Field(1, ge=1, description="how many windows the rule must hold in", examples=[2])
    action: Literal[ACTIONS] = Field(description="the action declared in advance for when the trigger fires",
                                     examples=["investigate"])
    relative_to: Literal["reference"] | None = Field(
        None, description="compare each window's statistic with the reference window's: the rule then judges the "
                          "difference window − reference with its two-sample interval: Wald for the calibration statistics, "
                          "MOVER from logit-scale DeLong intervals for the AUROC (a drift check; "
                          f"for {', '.join(RELATIVE_STATISTICS)}). Without it the rule judges the statistic "
                          "itself against a fixed value (a calibration or performance check)",
        examples=["reference"])
    accept_imprecision: bool = Field(False, description="keep a rule that fires on imprecision (below on the lower "
                                                        "bound, above on the upper bound: it fires on small windows "
                                                        "without drift); rejected otherwise",
                                     examples=[False])

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    @model_validator(mode="after")
    def _one_rule(self):
        if sum(x is not None for x in (self.above, self.below, self.interval_excludes)) != 1:
            raise ValueError(f"trigger {self.id} needs exactly one of above, below, interval_excludes")
        of_score = self.of == "score"
        allowed = (SCORE_TRIGGER_STATISTICS if of_score else SHADOW_TRIGGER_STATISTICS if self.of == "shadow"
                   else FEATURE_TRIGGER_STATISTICS)
        if self.statistic not in allowed:
            what = ("the score" if of_score else "the shadow candidate" if self.of == "shadow"
                    else f"input feature '{self.of}'")
            raise ValueError(f"trigger {self.id}: statistic {self.statistic} is not computed for {what}; "
                             f"expected one of {', '.join(allowed)}")
        if self.statistic not in INTERVAL_STATISTICS and (self.bound != "estimate" or self.interval_excludes is not None):
            raise ValueError(f"trigger {self.id}: {self.statistic} has no confidence interval; use above/below "
                             "without bound (bound/interval_excludes apply to "
                             f"{', '.join(INTERVAL_STATISTICS)})")
        if self.relative_to is not None and (not of_score or self.statistic not in RELATIVE_STATISTICS):
            raise ValueError(f"trigger {self.id}: relative_to: reference compares a window's statistic with the "
                             f"reference window's by a two-sample test; it applies to "
                             f"{', '.join(RELATIVE_STATISTICS)} of the score, not to {self.statistic} of {self.of}")
        imprecise = _fires_on_imprecision(self.bound, self.above, self.below)
        if imprecise and not self.accept_imprecision:
            side, value, other = imprecise
            word = "below" if side == "lower" else "above"
            wanted = "drop" if side == "lower" else "rise"
            raise ValueError(
                f"trigger {self.id}: '{word}: {value:g}' on the {side} bound fires on imprecision, not on drift: the "
                f"{side} bound of a small window's wide interval goes {word} {value:g} without any change in the "
                f"population (without drift such a rule fires in most runs). Write 'bound: {other}, {word}: "
                f"{value:g}' to fire when the whole interval is {word} {value:g} (evidence of a {wanted}), or add "
                "'accept_imprecision: true' to keep this rule as declared")
        return self

    @classmethod
    def _json_schema_rules(cls, schema: dict) -> None:
        no_interval = [s for s in TRIGGER_STATISTICS if s not in INTERVAL_STATISTICS]
        imprecise = {"anyOf": [{"required": ["bound", "below"], "properties": {"bound": {"const": "lower"},
                                                                             "below": {"not": {"type": "null"}}}},
                               {"required": ["bound", "above"], "properties": {"bound": {"const": "upper"},
                                                                             "above": {"not": {"type": "null"}}}}]}
        _add_rules(
            schema,
            _one_given("above", "below", "interval_excludes"),
            {"if": imprecise, "then": {"required": ["accept_imprecision"],
                                       "properties": {"accept_imprecision": {"const": True}}}},
            {"if": {"properties": {"of": {"const": "score"}}},
             "then": {"properties": {"statistic": {"enum": list(SCORE_TRIGGER_STATISTICS)}}},
             "else": {"if": {"required": ["of"], "properties": {"of": {"const": "shadow"}}},
                      "then": {"properties": {"statistic": {"enum": list(SHADOW_TRIGGER_STATISTICS)}}},
                      "else": {"properties": {"statistic": {"enum": list(FEATURE_TRIGGER_STATISTICS)}}}}},
            {"if": {"required": ["statistic"], "properties": {"statistic": {"enum": no_interval}}},
             "then": {"allOf": [{"properties": {"bound": {"const": "estimate"}}}, _none_given("interval_excludes")]}},
        )


def _fires_on_imprecision(bound: str, above, below) -> tuple[str, float, str] | None:
    """``(bound, value, the other bound)`` when a one-sided rule fires on a wide interval: ``below`` on the
    lower bound or ``above`` on the upper bound; None otherwise."""
    if bound == "lower" and below is not None:
        return "lower", below, "upper"
    if bound == "upper" and above is not None:
        return "upper", above, "lower"
    return None


class DriftSection(Strict):
    """The drift review: a reference window against monitoring windows, and the surveillance triggers."""

    reference: WindowSelector = Field(description="the reference window (one window: values or between, no each)",
                                      examples=[{"column": "sample_year", "values": [1995, 1996, 1997]}])
    windows: WindowSelector = Field(description="the monitoring windows compared with the reference",
                                    examples=[{"column": "sample_year", "each": 1}])
    features: tuple[str, ...] = Field((), description="continuous input features: PSI, KS, missingness",
                                      examples=[["age", "creatinine"]])
    categorical: tuple[str, ...] = Field((), description="categorical input features: PSI, chi-square, missingness",
                                         examples=[["sex"]])
    bins: int = Field(10, ge=2, le=50, description="PSI bins: quantiles of the reference (10 = deciles)",
                      examples=[10])
    ks_bins: int = Field(500, ge=100, le=10_000, description="fine reference-quantile bins of the KS statistic",
                         examples=[500])
    multiplicity: Literal[MULTIPLICITY_METHODS] | None = Field(
        None, description="adjustment of the input-drift p-values across features × windows; "
                          "default analysis.multiplicity", examples=["holm"])
    min_rows: int = Field(100, ge=1, description="fewer non-missing values of a feature (or scores) in a window: "
                                                 "its PSI gets no band and a PSI trigger is INSUFFICIENT_EVIDENCE "
                                                 "there (without drift, a window of 45 rows against 3,000 has PSI "
                                                 "> 0.25 one time in five)", examples=[100])
    min_events: int = Field(10, ge=1, description="fewer events in a window's labelled rows: the statistics that "
                                                  "need events (AUROC, sensitivity, O/E, calibration) are "
                                                  "INSUFFICIENT_EVIDENCE there, never FIRED or not fired",
                            examples=[10])
    min_non_events: int = Field(10, ge=1, description="fewer non-events in a window's labelled rows: the statistics "
                                                      "that need non-events (AUROC, specificity, calibration) are "
                                                      "INSUFFICIENT_EVIDENCE there", examples=[10])
    triggers: tuple[Trigger, ...] = Field((), description="surveillance triggers, each with its declared action",
                                          examples=[[{"id": "TR-1", "statistic": "psi", "of": "score", "above": 0.25,
                                                      "in": "any_window", "action": "investigate"}]])

    @model_validator(mode="after")
    def _consistent(self):
        if self.reference.each is not None:
            raise ValueError("drift.reference is one window; each: applies to drift.windows only")
        if self.reference.per is not None:
            raise ValueError("drift.reference is one window (the study cohort's); per: site applies to drift.windows "
                             "only")
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
            if trigger.of in ("score", "any_feature", "shadow"):
                continue
            if trigger.of not in declared:
                raise ValueError(f"trigger {trigger.id}: of: '{trigger.of}' is neither 'score', 'any_feature', 'shadow' nor a "
                                 f"declared drift feature{did_you_mean(trigger.of, declared)} (declared: "
                                 f"{', '.join(declared) or 'none'})")
            if trigger.statistic == "ks" and trigger.of in self.categorical:
                raise ValueError(f"trigger {trigger.id}: ks is computed for continuous features; '{trigger.of}' is "
                                 "categorical (use psi or p_adjusted)")
        return self

    @classmethod
    def _json_schema_rules(cls, schema: dict) -> None:
        properties = schema["properties"]
        reference = properties["reference"]
        properties["reference"] = {"allOf": [{"$ref": reference.pop("$ref")}, _none_given("each", "per"),
                                             {"anyOf": [_given("values"), _given("between")]}], **reference}
        properties["features"]["uniqueItems"] = True
        properties["categorical"]["uniqueItems"] = True


# --- claims and release -------------------------------------------------------------------------

def _gate_pattern(entry: str) -> re.Pattern:
    """The regular expression of a ``supported_by`` entry: ``*`` stands for any text, nothing else is special."""
    return re.compile(".*".join(map(re.escape, entry.split("*"))))


class Claim(Strict):
    """A claim of the product and the gates of the run that support it (one row of the validation matrix).

    ``supported_by`` names gates by id: an acceptance criterion (``AC-1``), a subgroup gate (``SG-1``: every
    one of its subgroup rows; ``SG-1[sex=F]``: one row), a site gate, a drift trigger or a cohort check
    (``LEAK-SPLIT``); ``*`` stands for any text (``LEAK-*``, ``SG-1[age_band=*]``). Every entry must name a
    gate the plan declares. The claim is judged on the run's snapshot and analysis cohort (``judged_on``
    says which part when that is narrower, e.g. the drift windows). The roles of ``required_roles`` must
    sign the run and approve every waiver of a gate that supports the claim (see ``release``).

    Its status in the matrix (``matrix.html``, ``results/matrix.json``) comes from the gates that block (declared
    blocking and judged); non-blocking and NOT_CHECKED gates are listed beside it and decide nothing. NOT
    SUPPORTED: a blocking gate failed; INSUFFICIENT EVIDENCE: otherwise a blocking gate could not be judged, or
    no gate of the claim blocks; SUPPORTED WITH APPROVED WAIVER: the gates that did not pass carry a waiver
    approved by every role it needs; SUPPORTED: every blocking gate passed.
    """

    id: Identifier = Field(description="short identifier of the claim", examples=["CL-1"])
    statement: str = Field(min_length=1, description="the claim as the product states it",
                           examples=["Sensitivity of at least 0.70 for 5-year mortality"])
    population: str = Field(min_length=1, description="the intended population the claim is made for",
                            examples=["Adults aged 50 or more with serum free light chains measured"])
    supported_by: tuple[str, ...] = Field(min_length=1, description="gate ids (or patterns with *) whose verdicts "
                                                                   "support the claim",
                                          examples=[["AC-1", "SG-1"]])
    judged_on: str | None = Field(None, description="the data the claim is judged on, when narrower than the run's "
                                                    "snapshot and analysis cohort; omitted: both",
                                  examples=["validation split, 1995-1997 samples"])
    required_roles: tuple[Identifier, ...] = Field(min_length=1, description="reviewer roles (of release.roles) "
                                                                            "that must sign this claim",
                                                   examples=[["clinical", "quality"]])

    @field_validator("supported_by")
    @classmethod
    def _entries(cls, value):
        for entry in value:
            if not entry.strip() or entry != entry.strip():
                raise ValueError(f"supported_by entries must be gate ids without surrounding spaces; got {entry!r}")
        if dupes := sorted({e for e in value if value.count(e) > 1}):
            raise ValueError(f"supported_by repeats {', '.join(dupes)}")
        return value

    def covers(self, gate_id: str) -> bool:
        """Whether a gate of the run (``AC-1``, ``SG-1[sex=F]``) supports this claim: an entry equal to its id,
        the id of the subgroup gate it is a row of, or a pattern with ``*`` matching it."""
        return any(gate_id == e or gate_id.startswith(e + "[") or ("*" in e and _gate_pattern(e).fullmatch(gate_id))
                   for e in self.supported_by)


class ReleaseSection(Strict):
    """The reviewer roles of the project and what a release needs.

    A run is released (``studylib status``: APPROVED) only when its verdict passes or every failing blocking
    gate has a waiver approved by the roles the waiver needs, and every role that some claim requires has
    signed the run's manifest with a key trusted for that role. A waiver needs the approval of every role
    required by the claims its gate supports (every role of ``roles`` for a gate that supports no claim).
    """

    roles: tuple[Identifier, ...] = Field(min_length=1, description="the reviewer roles of the project; with a "
                                                                   "trusted_keys.yaml each must be a role of one "
                                                                   "of its keys",
                                          examples=[["clinical", "quality"]])

    @field_validator("roles")
    @classmethod
    def _unique(cls, value):
        if dupes := sorted({r for r in value if value.count(r) > 1}):
            raise ValueError(f"roles repeats {', '.join(dupes)}")
        return value


# --- monitoring source ------------------------------------------------------------------------------

class MonitoringColumns(Strict):
    """The roles of the monitoring source's columns (the drift features keep their names)."""

    deployed: str = Field(description="score of the deployed model on each field case", examples=["p_v1"])
    shadow: str | None = Field(None, description="score of the shadow candidate on the same cases (shadow mode); "
                                                 "omitted: no shadow comparison", examples=["p_v2"])
    outcome: str = Field(description="outcome when known (0/1); missing = not yet labelled (label delay: counted "
                                     "and reported, never an event or non-event)", examples=["death_5y"])
    time: str | None = Field(None, description="column with the prediction time", examples=["month"])
    site: str | None = Field(None, description="column naming the site of each prediction", examples=["site"])


class MonitoringSection(Strict):
    """Field data of the deployed model: a locked folder (or glob) of Parquet files reduced in an engine.

    With a monitoring source the drift stage reviews its windows (``drift.windows`` selects them by a
    column of the source, e.g. a hive partition ``month``) against the reference window of the study
    cohort (``drift.reference``); only aggregates leave the engine. The folder is locked like a snapshot
    (``studylib snapshot lock FOLDER``) and verified before anything runs.
    """

    path: str = Field(min_length=1, description="folder of Parquet files (hive partitions such as site=…/month=… "
                                                "allowed) or a glob under a locked folder, relative to the project "
                                                "root", examples=["snapshots/flchain-monitoring"])
    lock: str = Field(pattern=r"^sha256:[0-9a-f]{64}$", description="printed by `studylib snapshot lock` on the folder",
                      examples=["sha256:aea424a56991c9a2dba570586f996165461e625a3b470e105c7f8154c1008830"])
    columns: MonitoringColumns = Field(description="the roles of the source's columns",
                                       examples=[{"deployed": "p_v1", "shadow": "p_v2", "outcome": "death_5y"}])
    deployed_model: Literal[DEPLOYED_MODELS] = Field(
        "candidate", description="which of the study's models is deployed: its score in the cohort's reference "
                                 "window is the reference of output drift", examples=["baseline"])
    engine: Literal[ENGINES] = Field("duckdb", description="duckdb (embedded, out of core) or spark (a cluster); "
                                                           "`studylib run --engine` overrides", examples=["duckdb"])
    master: str | None = Field(None, description="Spark only: local[*] (default), a master URL or sc://host:port",
                               examples=["local[2]"])
    resolution: float | None = Field(None, gt=0.0, le=0.1,
                                     description="round scores to this grid before counting (bounds the distinct "
                                                 "values; the report says so); omitted: exact scores as stored",
                                     examples=[0.001])
    shadow_margin: float = Field(0.05, gt=0.0, lt=1.0,
                                 description="non-inferiority margin of the shadow's AUROC: non-inferior in a window "
                                             "when the lower bound of shadow − deployed is above −margin",
                                 examples=[0.05])

    @model_validator(mode="after")
    def _spark_master(self):
        if self.master is not None and self.engine != "spark":
            raise ValueError("monitoring.master applies to engine: spark")
        return self


# --- the whole study ------------------------------------------------------------------------------

class Study(Strict):
    """A whole study's parameters (the root of the parameter file)."""

    study: StudySection = Field(description="what the study is",
                                examples=[{"id": "flchain-v2-vs-v1", "title": "Mortality model v2 against v1",
                                           "intended_use": "Adults aged 50 or more."}])
    snapshot: SnapshotSection = Field(description="the locked dataset snapshot",
                                      examples=[{"path": "snapshots/flchain",
                                                 "lock": "sha256:aea424a56991c9a2dba570586f996165461e625a3b470e105c"
                                                         "7f8154c1008830"}])
    data: DataSection = Field(description="the roles of the snapshot's columns",
                              examples=[{"id": "person_id", "outcome": "death_5y", "split": "split"}])
    models: ModelsSection = Field(description="the candidate model and the baseline",
                                  examples=[{"candidate": {"score": "p_v2", "name": "flc-risk", "version": "2.0.0",
                                                           "artifact_sha256": "19adada3092ee4727eb69608196e20a0f0c352"
                                                                              "30810e1c1dbd4145478766e421"}}])
    cohort: tuple[CohortStep, ...] = Field((), description="inclusion and exclusion steps, applied in order",
                                           examples=[[{"id": "E1", "label": "Development split",
                                                       "drop": {"column": "split", "op": "==",
                                                                "value": "development"}}]])
    table_one: TableOneSection | None = Field(None, description="Table 1 of the cohort stage; omitted: no Table 1",
                                              examples=[{"continuous": ["age"], "categorical": ["sex"]}])
    analysis: AnalysisSection = Field(description="how the evaluation and subgroup stages analyse",
                                      examples=[{"threshold": 0.1, "split": "validation"}])
    acceptance: tuple[Criterion, ...] = Field((), description="pre-registered acceptance criteria",
                                              examples=[[{"id": "AC-1", "metric": "sensitivity", "bound": "lower",
                                                          "at_least": 0.7}]])
    subgroups: SubgroupsSection = Field(SubgroupsSection(), description="the subgroup analysis plan",
                                        examples=[{"variables": [{"name": "sex", "column": "sex"}]}])
    sites: SitesSection | None = Field(None, description="synthesis across the sites of data.site; omitted: REML "
                                                         "with Hartung–Knapp when data.site is declared, no gates",
                                       examples=[{"method": "reml", "test": "knha"}])
    planning: PlanningSection | None = Field(None, description="anticipated values for the sample-size plan "
                                                               "(`studylib plan`); omitted: no plan",
                                             examples=[{"prevalence": 0.13, "c_statistic": 0.8}])
    drift: DriftSection | None = Field(None, description="the drift review; omitted: the drift stage reports that "
                                                         "none is declared",
                                       examples=[{"reference": {"column": "sample_year", "values": [1995]},
                                                  "windows": {"column": "sample_year", "each": 1}}])
    monitoring: MonitoringSection | None = Field(
        None, description="field data of the deployed model (and a shadow candidate) reviewed by the drift stage; "
                          "omitted: the drift stage reviews the windows of the study cohort",
        examples=[{"path": "snapshots/flchain-monitoring", "lock": "sha256:" + "0" * 64,
                   "columns": {"deployed": "p_v1", "shadow": "p_v2", "outcome": "death_5y"}}])

    release: ReleaseSection | None = Field(None, description="the reviewer roles and what a release needs; "
                                                             "required with claims",
                                           examples=[{"roles": ["clinical", "quality"]}])
    claims: tuple[Claim, ...] = Field((), description="the product's claims, each mapped to the gates that support "
                                                      "it and the roles that must sign it (the validation matrix)",
                                      examples=[[{"id": "CL-1", "statement": "Sensitivity of at least 0.70",
                                                  "population": "Adults aged 50+", "supported_by": ["AC-1", "SG-1"],
                                                  "required_roles": ["clinical"]}]])

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
        if self.sites is not None and self.sites.gates and self.data.site is None:
            raise ValueError("sites.gates need data.site (the column naming each row's site)")
        if self.sites is not None:
            ids = [g.id for g in self.sites.gates]
            taken = {c.id for c in (*self.acceptance, *self.subgroups.gates)}
            dupes = sorted({i for i in ids if ids.count(i) > 1 or i in taken})
            if dupes:
                raise ValueError(f"site gate ids must be unique and differ from criterion ids; repeated: {', '.join(dupes)}")
        if self.monitoring is not None:
            if self.drift is None:
                raise ValueError("monitoring needs a drift: section (its reference window, the windows of the "
                                 "monitoring source, features and triggers)")
            if self.monitoring.deployed_model == "baseline" and self.models.baseline is None:
                raise ValueError("monitoring.deployed_model: baseline needs models.baseline")
        if self.drift is not None and self.drift.windows.per == "site" and (
                self.monitoring is None or self.monitoring.columns.site is None):
            raise ValueError("drift.windows.per: site needs a monitoring source with monitoring.columns.site (the "
                             "column naming each prediction's site)"
                             + ("" if self.monitoring is not None else "; the study cohort's windows are reviewed "
                                                                      "over the whole cohort"))
        shadow = [t.id for t in (self.drift.triggers if self.drift else ()) if t.of == "shadow"]
        if shadow and (self.monitoring is None or self.monitoring.columns.shadow is None):
            raise ValueError(f"trigger(s) {', '.join(shadow)} of: shadow need monitoring.columns.shadow (the shadow "
                             "candidate's score in the monitoring source)")
        for criterion in (*self.acceptance, *self.subgroups.gates):
            if criterion.versus == "baseline" and self.models.baseline is None:
                raise ValueError(f"criterion {criterion.id} compares with the baseline but models.baseline is not declared")
        self._check_claims()
        return self

    def gate_ids(self) -> dict[str, str]:
        """Every gate id the plan declares → its kind (acceptance criterion, subgroup gate, site gate, drift
        trigger, cohort check). A subgroup gate's rows are ``ID[variable=level]``."""
        out = {c: "cohort check" for c in COHORT_CHECKS}
        out |= {c.id: "acceptance criterion" for c in self.acceptance}
        out |= {g.id: "subgroup gate" for g in self.subgroups.gates}
        out |= {g.id: "site gate" for g in (self.sites.gates if self.sites is not None else ())}
        out |= {t.id: "drift trigger" for t in (self.drift.triggers if self.drift is not None else ())}
        return out

    def _check_claims(self) -> None:
        ids = [c.id for c in self.claims]
        if dupes := sorted({i for i in ids if ids.count(i) > 1}):
            raise ValueError(f"claim ids must be unique; repeated: {', '.join(dupes)}")
        if self.claims and self.release is None:
            raise ValueError("claims need release.roles (the reviewer roles their required_roles are taken from)")
        declared = self.gate_ids()
        for claim in self.claims:
            for entry in claim.supported_by:
                head, _, rest = entry.partition("[")
                matched = [d for d in declared if (_gate_pattern(head).fullmatch(d) if "*" in head else d == head)]
                if not matched:
                    raise ValueError(f"claim {claim.id}: supported_by {entry!r} names no declared gate; "
                                     f"declared: {', '.join(declared)}{did_you_mean(head, declared)}")
                if rest and not any(declared[d] == "subgroup gate" for d in matched):
                    raise ValueError(f"claim {claim.id}: supported_by {entry!r}: only subgroup gates have rows "
                                     f"[variable=level]; {head} is a {declared[matched[0]]}")
            if unknown := [r for r in claim.required_roles if r not in self.release.roles]:
                raise ValueError(f"claim {claim.id}: required_roles {', '.join(unknown)} not among release.roles "
                                 f"({', '.join(self.release.roles)})")

    @property
    def required_roles(self) -> tuple[str, ...]:
        """The roles that must sign a release: every role some claim requires, in the order of release.roles."""
        needed = {r for c in self.claims for r in c.required_roles}
        return tuple(r for r in (self.release.roles if self.release else ()) if r in needed)

    @classmethod
    def _json_schema_rules(cls, schema: dict) -> None:
        versus = {"contains": _given("versus")}
        _add_rules(schema, {
            "if": {"anyOf": [{"required": ["acceptance"], "properties": {"acceptance": versus}},
                             {"required": ["subgroups"], "properties": {"subgroups": {
                                 "required": ["gates"], "properties": {"gates": versus}}}}]},
            "then": {"properties": {"models": _given("baseline")}},
        }, {
            "if": {"required": ["drift"], "properties": {"drift": {"type": "object", "required": ["windows"],
                                                                   "properties": {"windows": {
                                                                       "type": "object", **_given("per")}}}}},
            "then": {"allOf": [_given("monitoring"), {"properties": {"monitoring": {"properties": {
                "columns": _given("site")}}}}]},
        })

    def at_alpha(self, alpha: float) -> "Study":
        """The same study with every interval at ``1 − alpha`` (for a rule declaring its ``interval_level``)."""
        if alpha == self.analysis.alpha:
            return self
        return self.model_copy(update={"analysis": self.analysis.model_copy(update={"alpha": alpha})})

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
    def monitoring_path(self) -> Path | None:
        """The monitoring source's path (folder or glob) resolved against the project root; None without one."""
        if self.monitoring is None:
            return None
        path = Path(self.monitoring.path)
        return path if path.is_absolute() else self._root / path

    @property
    def score_columns(self) -> dict[str, str]:
        """Model role → score column, e.g. ``{"candidate": "p_v2", "baseline": "p_v1"}``."""
        out = {"candidate": self.models.candidate.score}
        if self.models.baseline is not None:
            out["baseline"] = self.models.baseline.score
        return out


def json_schema() -> dict:
    """The JSON Schema (draft 2020-12) of a study parameter file, as ``studylib params schema`` prints it."""
    return {"$schema": "https://json-schema.org/draft/2020-12/schema", **Study.model_json_schema()}
