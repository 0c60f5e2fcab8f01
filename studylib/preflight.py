"""Checks of a study's parameters against its snapshot, before any kernel starts.

Every column the parameter file names must exist in the snapshot's manifest schema, every value a
cohort step compares with must fit the column's type, and every model artifact hash must name a file
of the snapshot. All problems are collected and reported together (exit 2).
"""

from __future__ import annotations

from studylib.errors import ParameterError, closest
from studylib.params import Condition, Study
from studylib.snapshot import Snapshot

_NUMERIC_PREFIXES = ("int", "uint", "float", "double", "decimal", "halffloat")


def _is_numeric(arrow_type: str) -> bool:
    return arrow_type.startswith(_NUMERIC_PREFIXES)


def _is_text(arrow_type: str) -> bool:
    return arrow_type in ("string", "large_string", "string_view") or arrow_type.startswith("dictionary")


class _Problems:
    def __init__(self, study: Study, schema: dict[str, str]):
        self.study, self.schema, self.items = study, schema, []

    def column(self, where: str, column: str | None) -> bool:
        if column is None or column in self.schema:
            return True
        existing = ", ".join(closest(column, self.schema, n=0))
        self.items.append(f"{where}: unknown column '{column}'; columns that exist (closest first): {existing}")
        return False

    def value_fits(self, where: str, column: str, value) -> None:
        arrow_type = self.schema[column]
        values = value if isinstance(value, list) else [value]
        for v in values:
            if v is None:
                continue
            if _is_numeric(arrow_type) and (isinstance(v, bool) or not isinstance(v, (int, float))):
                self.items.append(f"{where}: column '{column}' is numeric ({arrow_type}); value {v!r} is not a number")
            elif _is_text(arrow_type) and not isinstance(v, str):
                self.items.append(f"{where}: column '{column}' holds text ({arrow_type}); value {v!r} is not text "
                                  f"(quote it in the YAML: \"{v}\")")

    def condition(self, where: str, condition: Condition) -> None:
        if condition.column is not None:
            if self.column(where, condition.column) and condition.value is not None:
                self.value_fits(where, condition.column, condition.value)
            return
        for sub in condition.all or condition.any:
            self.condition(where, sub)


def check(study: Study, snap: Snapshot) -> None:
    """Raise :class:`ParameterError` listing every parameter that does not fit the snapshot."""
    problems = _Problems(study, snap.schema)
    source = study.source
    data = study.data
    for key in ("id", "outcome", "split", "time", "site"):
        problems.column(f"{source}: data.{key}", getattr(data, key))
    if study.analysis.split is not None and data.split is None:
        problems.items.append(f"{source}: analysis.split: names a split ('{study.analysis.split}') but data.split "
                              "(the column holding the split) is not declared")
    for feature in data.features:
        problems.column(f"{source}: data.features", feature)
    if data.outcome in data.features:
        problems.items.append(f"{source}: data.features: the outcome column '{data.outcome}' is listed as a model "
                              "input feature (label leakage); remove it")
    for role, model in (("candidate", study.models.candidate), ("baseline", study.models.baseline)):
        if model is None:
            continue
        if problems.column(f"{source}: models.{role}.score", model.score) and not _is_numeric(snap.schema[model.score]):
            problems.items.append(f"{source}: models.{role}.score: column '{model.score}' must be numeric; "
                                  f"it is {snap.schema[model.score]}")
        if snap.file_with_sha256(model.artifact_sha256) is None:
            problems.items.append(
                f"{source}: models.{role}.artifact_sha256: no file of snapshot {snap.path} has SHA-256 "
                f"{model.artifact_sha256.removeprefix('sha256:')}; the model artifact must be locked in the snapshot"
            )
    for step in study.cohort:
        problems.condition(f"{source}: cohort step {step.id}", step.condition)
    for variable in study.subgroups.variables:
        where = f"{source}: subgroups variable {variable.name}"
        if problems.column(where, variable.column) and variable.cut and not _is_numeric(snap.schema[variable.column]):
            problems.items.append(f"{where}: cut points need a numeric column; '{variable.column}' is "
                                  f"{snap.schema[variable.column]}")
    _evaluation_checks(problems, study)
    if study.drift is not None:
        problems.column(f"{source}: drift.reference.column", study.drift.reference.column)
        problems.column(f"{source}: drift.windows.column", study.drift.windows.column)
        for feature in (*study.drift.features, *study.drift.categorical):
            problems.column(f"{source}: drift.features", feature)
    if problems.items:
        raise ParameterError("\n".join(problems.items))


def _evaluation_checks(problems: _Problems, study: Study) -> None:
    """The evaluation plan against the snapshot (issue 6): error-analysis variables exist, and the
    baseline is a different score column from the candidate (a paired comparison of a model with
    itself is void)."""
    source = study.source
    for column in study.analysis.error_analysis.variables:
        problems.column(f"{source}: analysis.error_analysis.variables", column)
    baseline = study.models.baseline
    if baseline is not None and baseline.score == study.models.candidate.score:
        problems.items.append(f"{source}: models.baseline.score: '{baseline.score}' is also the candidate's score "
                              "column; the baseline's predictions must be their own column")
