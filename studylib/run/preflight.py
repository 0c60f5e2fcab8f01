"""Checks of a study's parameters against its snapshot, before any kernel starts.

Every column the parameter file names must exist in the snapshot's manifest schema, every value a
cohort step compares with must fit the column's type, and every model artifact hash must name a file
of the snapshot. All problems are collected and reported together (exit 2).

:func:`check_archive` checks where the run will go: the reports and staging folders writable, room
on their file system, and a ledger that can be appended to (exit 2 naming the path or line).
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
import tempfile
from pathlib import Path

from studylib import formatting
from studylib.errors import ParameterError, StudyInputError, did_you_mean
from studylib.plan import Condition, Study
from studylib.plan.messages import MAX_PROBLEMS, echo, listing
from studylib.data.snapshot import Snapshot

_NUMERIC_PREFIXES = ("int", "uint", "float", "double", "decimal", "halffloat")


def _is_numeric(arrow_type: str) -> bool:
    return arrow_type.startswith(_NUMERIC_PREFIXES)


def _is_text(arrow_type: str) -> bool:
    return arrow_type in ("string", "large_string", "string_view") or arrow_type.startswith("dictionary")


def closest_columns(word: str, columns) -> list[str]:
    """Every column, the likeliest meant by ``word`` first.

    Case-insensitive similarity (difflib ratio), raised for a column that contains the word or is
    contained in it, shares a ``_``-separated token with it, or has its letters in order (an
    abbreviation such as ``pid`` for ``person_id``); ties in name order.
    """
    import difflib
    import re

    w = word.lower()
    tokens = set(re.split(r"[\W_]+", w)) - {""}

    def score(name: str) -> float:
        n = name.lower()
        value = difflib.SequenceMatcher(None, w, n).ratio()
        if w == n:
            value += 3
        elif w in n or n in w:
            value += 1
        if tokens & (set(re.split(r"[\W_]+", n)) - {""}):
            value += 0.5
        letters = iter(n)
        if all(c in letters for c in w):
            value += 0.3
        return value

    return sorted(columns, key=lambda name: (-score(name), name))


def _is_date_like(value) -> bool:
    """A YAML date/datetime, or text in ISO 8601 form."""
    if isinstance(value, (dt.date, dt.datetime)):
        return True
    if isinstance(value, str):
        try:
            dt.datetime.fromisoformat(value)
        except ValueError:
            return False
        return True
    return False


def _kind(arrow_type: str) -> str:
    """numeric | text | time | bool | other: what values of a column compare with."""
    if arrow_type == "bool":
        return "bool"
    if _is_numeric(arrow_type):
        return "numeric"
    if arrow_type.startswith(("timestamp", "date")):
        return "time"
    return "text" if _is_text(arrow_type) else "other"


class _Problems:
    def __init__(self, study: Study, schema: dict[str, str]):
        self.study, self.schema, self.items = study, schema, []

    def column(self, where: str, column: str | None) -> bool:
        if column is None or column in self.schema:
            return True
        if len(self.items) >= MAX_PROBLEMS:  # not listed: no need to rank the columns
            self.items.append(f"{where}: unknown column {echo(column)}")
            return False
        existing = ", ".join(closest_columns(column, self.schema))
        self.items.append(f"{where}: unknown column {echo(column)}; columns that exist (closest first): {existing}")
        return False

    def value_fits(self, where: str, column: str, value) -> None:
        arrow_type = self.schema[column]
        values = value if isinstance(value, list) else [value]
        for v in values:
            if v is None:
                continue
            if _is_numeric(arrow_type) and (isinstance(v, bool) or not isinstance(v, (int, float))):
                self.items.append(f"{where}: column '{column}' is numeric ({arrow_type}); value {echo(v)} is not a number")
            elif _is_text(arrow_type) and not isinstance(v, (str, dt.date)):
                self.items.append(f"{where}: column '{column}' holds text ({arrow_type}); value {echo(v)} is not text "
                                  f"(quote it in the YAML: \"{echo(v, quote=False)}\")")
            elif arrow_type.startswith(("timestamp", "date")) and not _is_date_like(v):
                self.items.append(f"{where}: column '{column}' holds dates ({arrow_type}); value {echo(v)} is not a "
                                  "date (write it as 2024-01-31 or '2024-01-31T08:00:00')")
            elif arrow_type == "bool" and not isinstance(v, bool):
                self.items.append(f"{where}: column '{column}' is boolean; value {echo(v)} is not true or false")

    def condition(self, where: str, condition: Condition) -> None:
        if condition.column is not None:
            if self.column(where, condition.column) and condition.value is not None:
                self.value_fits(where, condition.column, condition.value)
            return
        for sub in condition.all or condition.any:
            self.condition(where, sub)


def _subgroup_checks(problems: _Problems, study: Study, snap: Snapshot) -> None:
    """Subgroup variables: the column exists (the message names the variable), cut points need a numeric
    column, and a declared reference level of a column used as is occurs in the snapshot."""
    source = study.source
    references = []
    for variable in study.subgroups.variables:
        where = f"{source}: subgroups variable {variable.name}"
        if not problems.column(where, variable.column):
            continue
        if variable.cut and not _is_numeric(snap.schema[variable.column]):
            problems.items.append(f"{where}: cut points need a numeric column; '{variable.column}' is "
                                  f"{snap.schema[variable.column]}")
        elif variable.cut is None and variable.reference is not None:
            references.append((where, variable))
    if references:
        from studylib.stages.subgroups.groups import levels

        data = snap.read(columns=sorted({v.column for _, v in references}))
        for where, variable in references:
            found = list(levels(data, variable).cat.categories)
            if variable.reference not in found:
                shown = ", ".join(found[:20]) + (" ..." if len(found) > 20 else "")
                problems.items.append(f"{where}: reference level {echo(variable.reference)} does not occur in column "
                                      f"'{variable.column}'{did_you_mean(variable.reference, found)}; levels: {shown}")


def check(study: Study, snap: Snapshot) -> None:
    """Raise :class:`ParameterError` listing every parameter that does not fit the snapshot."""
    problems = _Problems(study, snap.schema)
    source = study.source
    data = study.data
    _cohort_checks(problems, study, snap)
    if study.analysis.split is not None and data.split is None:
        problems.items.append(f"{source}: analysis.split: names a split ('{study.analysis.split}') but data.split "
                              "(the column holding the split) is not declared")
    for feature in dict.fromkeys(data.features):
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
    _subgroup_checks(problems, study, snap)
    _data_checks(problems, study, snap)
    _evaluation_checks(problems, study)
    if study.drift is not None:
        _drift_checks(problems, study, snap)
    _role_checks(problems, study)
    if problems.items:
        raise ParameterError(listing(problems.items))


def _role_checks(problems: _Problems, study: Study) -> None:
    """release.roles against the project's trusted reviewer keys (``trusted_keys.yaml`` in the project root,
    where present): a role no trusted key signs for could never approve a release."""
    from studylib.evidence import trust

    path = study.root / trust.TRUSTED_KEYS
    if study.release is None or not path.is_file():
        return
    known = {role for key in trust.load(path) for role in key.roles}
    for role in study.release.roles:
        if role not in known:
            problems.items.append(f"{study.source}: release.roles: role '{role}' is not a role of any key in {path} "
                                  f"(roles there: {', '.join(sorted(known)) or 'none'}){did_you_mean(role, known)}; "
                                  "add the reviewer's key for it, or correct the role")


def check_monitoring(study: Study, engine: str | None = None) -> Snapshot | None:
    """Verify the monitoring source (lock, files), its columns and values, and its engine; None without one.

    ``engine`` overrides ``monitoring.engine`` (``studylib run --engine``). Raises a
    :class:`StudyInputError` (exit 2) naming the file, key or column: files changed after locking, a
    column or partition that does not exist, scores outside [0, 1], a shadow column missing on every row,
    an unknown engine, PySpark or Java missing, or a Spark master that cannot be reached.
    """
    if study.monitoring is None:
        if engine not in (None, "duckdb"):
            raise ParameterError(f"{study.source}: --engine {engine} applies to a monitoring source, and the plan "
                                 "declares none (monitoring:)")
        return None
    from studylib.data import engine as engines, monitoring

    locked = monitoring.verify(study.monitoring_path, study.monitoring.lock)
    found = monitoring.problems(study, locked)
    if found:
        raise ParameterError(listing(found))
    name = engine or study.monitoring.engine
    try:
        engines.check_reachable(name, study.monitoring.master)
    except engines.EngineError as exc:
        raise engines.EngineError(f"{study.source}: monitoring.engine: {exc}") from None
    return locked


def _cohort_checks(problems: _Problems, study: Study, snap: Snapshot) -> None:
    """The data section and Table 1 against the snapshot (issue 5: cohort construction).

    The patient-id and split columns get their own message (the cohort stage cannot run without
    them); the time columns must be comparable with each other and with the collection window; Table 1
    variables must exist and continuous ones be numeric.
    """
    source, data, schema = study.source, study.data, snap.schema
    for key, role in (("id", "pseudonymous patient-id column"), ("split", "column naming the data split")):
        column = getattr(data, key)
        if column is not None and column not in schema:
            existing = ", ".join(closest_columns(column, schema))
            problems.items.append(f"{source}: data.{key}: the snapshot has no column '{column}' (the {role}); "
                                  f"columns that exist (closest first): {existing}")
    for key in ("outcome", "time", "site", "encounter", "label_time"):
        problems.column(f"{source}: data.{key}", getattr(data, key))
    for column in data.post_outcome:
        problems.column(f"{source}: data.post_outcome", column)
    time_ok = data.time is not None and data.time in schema
    if time_ok and data.label_time is not None and data.label_time in schema:
        kinds = {_kind(schema[data.time]), _kind(schema[data.label_time])}
        if len(kinds) > 1 and kinds != {"time", "text"}:
            problems.items.append(
                f"{source}: data.label_time: '{data.label_time}' ({schema[data.label_time]}) cannot be compared "
                f"with data.time '{data.time}' ({schema[data.time]}); both must be numbers, dates or ISO text")
    if time_ok and data.collection_window is not None:
        problems.value_fits(f"{source}: data.collection_window", data.time, list(data.collection_window))
    if study.table_one is not None:
        for variable in study.table_one.continuous:
            where = f"{source}: table_one.continuous"
            if problems.column(where, variable.column) and _kind(schema[variable.column]) != "numeric":
                problems.items.append(f"{where}: '{variable.column}' is {schema[variable.column]}, not numeric; "
                                      "list it under table_one.categorical")
        for variable in study.table_one.categorical:
            problems.column(f"{source}: table_one.categorical", variable.column)
        if data.split is None and "smd_between" in study.table_one.model_fields_set:
            problems.items.append(f"{source}: table_one.smd_between: compares splits but data.split (the column "
                                  "holding the split) is not declared")


def _data_checks(problems: _Problems, study: Study, snap: Snapshot) -> None:
    """The values of the outcome and site columns (issue 15), read before any kernel starts.

    The outcome must be a number or boolean column holding 0 and 1 only (missing values are left to the
    cohort stage, which reports them): a text outcome such as 'yes'/'no' would stop the evaluation stage
    after the cohort ran. The site column must name a site on every row: Table 1 by site would silently
    leave out rows without one.
    """
    import pandas as pd

    source, data, schema = study.source, study.data, snap.schema
    wanted = [c for c in (data.outcome, data.site) if c is not None and c in schema]
    if not wanted:
        return
    outcome_ok = data.outcome not in schema or _kind(schema[data.outcome]) in ("numeric", "bool")
    if not outcome_ok:
        problems.items.append(f"{source}: data.outcome: column {echo(data.outcome)} must hold 0/1 (numbers or "
                              f"true/false); it is {schema[data.outcome]}")
    frame = snap.read(columns=list(dict.fromkeys(wanted)))
    if outcome_ok and data.outcome in frame:
        values = pd.to_numeric(frame[data.outcome].dropna().astype("float64"))
        bad = values[~values.isin((0.0, 1.0))]
        if len(bad):
            shown = ", ".join(echo(float(v), 20) for v in pd.unique(bad)[:5])
            problems.items.append(
                f"{source}: data.outcome: column {echo(data.outcome)} must hold 0 and 1 only; "
                f"{formatting.count(len(bad))} rows hold other values (e.g. {shown})")
    if data.site is not None and data.site in frame:
        missing = frame[data.site].isna()
        if missing.any():
            rows = ", ".join(str(i + 1) for i in missing.to_numpy().nonzero()[0][:5])
            problems.items.append(
                f"{source}: data.site: column {echo(data.site)} has no site in {formatting.count(int(missing.sum()))} "
                f"of {formatting.count(len(frame))} rows (e.g. rows {rows} of the snapshot); give every row a site "
                "(e.g. 'unknown') and lock the snapshot again")


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


def _is_time(arrow_type: str) -> bool:
    return arrow_type.startswith(("timestamp", "date"))


def _drift_checks(problems: _Problems, study: Study, snap: Snapshot) -> None:
    """The drift section against the snapshot: declared features exist (continuous ones are numeric),
    window values fit their column and occur in it (a typo would be an empty window that can never be
    judged), and a timestamp window column parses (examples of bad values)."""
    source, drift = study.source, study.drift
    for name, column in (("features", f) for f in drift.features):
        if problems.column(f"{source}: drift.{name}", column) and not _is_numeric(snap.schema[column]):
            problems.items.append(f"{source}: drift.features: '{column}' is {snap.schema[column]}, not numeric; "
                                  "list it under drift.categorical")
    for column in drift.categorical:
        problems.column(f"{source}: drift.categorical", column)
    selectors = (("reference", drift.reference),) + ((("windows", drift.windows),) if study.monitoring is None else ())
    for key, selector in selectors:  # with a monitoring source, its windows are checked there (check_monitoring)
        where = f"{source}: drift.{key}"
        if not problems.column(f"{where}.column", selector.column):
            continue
        arrow_type = snap.schema[selector.column]
        if selector.period is None:
            before = len(problems.items)
            for values in (selector.values, selector.between):
                if values is not None:
                    problems.value_fits(where, selector.column, list(values))
            if selector.values is not None and len(problems.items) == before:
                _values_occur(problems, f"{where}.values", selector.column, selector.values, snap)
            elif selector.between is not None and len(problems.items) == before:
                _range_has_rows(problems, where, selector, snap)
            continue
        if not (_is_time(arrow_type) or _is_text(arrow_type)):
            problems.items.append(f"{where}: period: {selector.period} needs a date, timestamp or text column; "
                                  f"'{selector.column}' is {arrow_type} (for a column of years or other values, "
                                  "omit period and select values)")
            continue
        if _is_text(arrow_type):
            from studylib.data.scan import Scanner

            with Scanner(snap.parquet_files, memory_limit="512MB") as scan:
                bad, examples, total = scan.unparseable(selector)
            if bad:
                shown = ", ".join(repr(e) for e in examples)
                problems.items.append(
                    f"{where}.column: '{selector.column}' does not parse as a timestamp in "
                    f"{formatting.count(bad)} of {formatting.count(total)} "
                    f"non-missing rows (e.g. {shown}); expected ISO dates, 'YYYY-MM' or 'YYYY'"
                    + (f" or the declared format {selector.format!r}" if selector.format else
                       ", or declare format: (a strptime format such as '%d/%m/%Y')"))
                continue
        if selector.values is not None or selector.between is not None:
            _range_has_rows(problems, where, selector, snap)


def _range_has_rows(problems: _Problems, where: str, selector, snap: Snapshot) -> None:
    """A ``between:`` range, and each declared calendar period, holds rows of the snapshot (DuckDB scan of
    the locked snapshot's window keys); the error names the key, the value and what the data covers.

    An empty declared range or period is a window that can never be judged: a typo (2204 for 2024) or a
    plan written for other data. A ``between:`` range that overlaps the data is accepted even when some
    periods inside it are empty (each is its own window, INSUFFICIENT_EVIDENCE with the reason).
    """
    from studylib.data.scan import Scanner, in_range

    with Scanner(snap.parquet_files, memory_limit="512MB") as scan:
        found = scan.key_counts(selector)
    keys = [str(k) if selector.period else k for k, _ in found]
    unit = f"{selector.period}s" if selector.period else "values"
    covers = (f"the data cover {keys[0]} to {keys[-1]} ({formatting.count(len(keys))} {unit}, "
              f"{formatting.count(sum(n for _, n in found))} rows)" if keys else "the column holds no value")
    what = f"column '{selector.column}'" + (f" by {selector.period}" if selector.period else "")
    if selector.between is not None:
        low, high = (str(v) for v in selector.between) if selector.period else selector.between
        if not any(in_range(k, low, high) for k in keys):
            problems.items.append(f"{where}.between: {list(selector.between)!r} selects no row of {what} "
                                  f"(a window that can never be judged); {covers}")
        return
    if selector.period is not None:
        present = set(keys)
        missing = [v for v in selector.values if str(v) not in present]
        if missing:
            problems.items.append(f"{where}.values: {', '.join(map(repr, missing))} "
                                  f"{'has' if len(missing) == 1 else 'have'} no row in {what} "
                                  f"(a window that can never be judged); {covers}")


def _values_occur(problems: _Problems, where: str, column: str, declared, snap: Snapshot) -> None:
    """Every declared window value occurs in ``column`` of the snapshot; the error lists the values that do."""
    found = snap.read(columns=[column])[column].dropna().unique().tolist()
    present = set(found)
    missing = [v for v in declared if v not in present]
    if not missing:
        return
    try:
        found = sorted(found)
    except TypeError:  # mixed types that do not sort: first-seen order
        pass
    shown = ", ".join(map(str, found[:30])) + (f" ... ({len(found)} values)" if len(found) > 30 else "")
    hint = did_you_mean(str(missing[0]), [str(v) for v in found]) if isinstance(missing[0], str) else ""
    problems.items.append(f"{where}: {', '.join(map(repr, missing))} never occur{'s' if len(missing) == 1 else ''} "
                          f"in column '{column}' of the snapshot{hint} (a window that can never be judged); "
                          f"values that exist: {shown}")


#: free space a run needs in the reports folder's file system beyond its snapshot's size (executed
#: notebooks with figures, their HTML renderings, results JSON; a demo run takes a few MB)
MIN_FREE_BYTES = 64 * 2**20


class ArchiveNotUsable(StudyInputError):
    """The reports folder, its staging folder or its ledger cannot take a run (exit 2, nothing ran)."""


def _writable_problem(folder: Path) -> str | None:
    """Why a file cannot be created in ``folder`` (created when missing), or None."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
        fd, probe = tempfile.mkstemp(prefix=".studylib-probe-", dir=folder)
        os.close(fd)
        os.unlink(probe)
    except OSError as exc:
        return f"{folder}: not writable ({exc.strerror or exc}); a run is staged and archived here"
    return None


def check_archive(reports: Path, staging_root: Path, snapshot_bytes: int = 0) -> None:
    """Before any kernel starts: the reports and staging folders are writable, their file system has
    room for the run, and the ledger can be appended to.

    Raises
    ------
    ArchiveNotUsable
        One line per problem, each naming the path (or the ledger line) and what is wrong.
    """
    from studylib.evidence import ledger

    from studylib.evidence import trust

    problems = [p for p in (_writable_problem(reports), _writable_problem(staging_root)) if p]
    try:
        trust.resolve(reports)  # the runs page after the run reads the project's trusted keys
    except StudyInputError as exc:
        problems.append(str(exc))
    if not problems:
        needed = MIN_FREE_BYTES + 2 * snapshot_bytes
        free = shutil.disk_usage(reports).free
        if free < needed:
            problems.append(f"{reports}: only {free // 2**20} MiB free; a run of this study needs about "
                            f"{-(-needed // 2**20)} MiB (free some space or pass --reports-dir)")
        path = ledger.ledger_path(reports)
        broken = ledger.check_chain(path)
        problems += [f"{path} line {b.line}: {b.problem}; the ledger must be restored from a copy before runs are "
                     "added to it (`studylib verify --all` lists every problem)" for b in broken]
    if problems:
        raise ArchiveNotUsable("\n".join(problems))
