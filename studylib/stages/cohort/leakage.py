"""Leakage and integrity checks of the cohort stage, each judged as a gate.

- ``COH-EMPTY``: the analysis cohort is not empty (else: the step that emptied it);
- ``LEAK-SPLIT``: no patient id in more than one split (development vs validation) — whole snapshot;
- ``LEAK-INPUTS``: at most ``data.shared_inputs_max_percent`` of the analysis cohort's rows have a model-input
  vector (the values of ``data.features``) identical to a row of another split of the snapshot — the same
  patient under another id (e.g. one id per source row of a trial with two rows per patient);
- ``LEAK-DUP``: no exact duplicate rows — analysis cohort;
- ``LEAK-KEY``: no duplicate patient-encounter key (``data.id`` + ``data.encounter``; one row per
  patient when no encounter column is declared) — analysis cohort;
- ``LEAK-TIME``: no record whose ``data.time`` is after its ``data.label_time`` — analysis cohort;
- ``LEAK-WINDOW``: no record whose ``data.time`` is outside ``data.collection_window`` — analysis cohort;
- ``LEAK-OUTCOME``: neither the outcome nor a declared post-outcome column (``data.post_outcome``) is a
  model input feature (``data.features``) — parameters.

Split leakage is checked on the whole snapshot: the model saw its development rows whether or not the
cohort keeps them. The other data checks are on the analysis cohort, so that rows a declared cohort
step excluded do not fail the study. A check whose inputs are not declared (no label-time column, no
collection window) does not apply: it is listed with the reason and gives no gate.

Each failed check names the offending pseudonymous ids: how many, and the first few in sorted order.
"""

from __future__ import annotations

import heapq
from dataclasses import dataclass

import numpy as np
import pandas as pd

from studylib import formatting
from studylib.judge import gates
from studylib.stages.cohort.build import CohortResult, coerce_value
from studylib.plan import Study

STAGE = "cohort"
#: how many offending ids a message shows
SHOWN_IDS = 5


@dataclass(frozen=True)
class Finding:
    """The outcome of one leakage or integrity check.

    ``offending_rows`` / ``offending_patients`` count what broke the rule, ``examples`` are the first
    few offending ids (sorted). A check that does not apply has ``applies=False`` and a ``sentence``
    giving the reason.
    """

    id: str
    subject: str
    rule: str
    scope: str
    applies: bool
    offending_rows: int = 0
    offending_patients: int = 0
    examples: tuple[str, ...] = ()
    sentence: str = ""
    tolerated_rows: int = 0

    @property
    def passed(self) -> bool:
        return self.offending_rows <= self.tolerated_rows

    @property
    def verdict(self) -> str:
        if not self.applies:
            return gates.NOT_CHECKED
        return gates.PASS if self.passed else gates.FAIL

    def gate(self) -> gates.Gate:
        """The finding as a gate: blocking for a check that applies, NOT_CHECKED (with the reason) otherwise."""
        if not self.applies:
            return gates.Gate(self.id, STAGE, self.subject, self.rule or "not checked", gates.NOT_CHECKED,
                              blocks=False, sentence=self.sentence)
        return gates.check(self.id, STAGE, self.subject, self.passed, rule=self.rule, sentence=self.sentence)


def _ids_text(ids: tuple[str, ...], total: int) -> str:
    shown = ", ".join(ids)
    return shown + (f" and {total - len(ids)} more" if total > len(ids) else "")


def _offenders(frame: pd.DataFrame, mask: np.ndarray, id_column: str) -> tuple[int, int, tuple[str, ...]]:
    """Rows, distinct patients and the first few sorted ids among the rows selected by ``mask``."""
    if not mask.any():
        return 0, 0, ()
    ids = pd.unique(frame[id_column].to_numpy()[mask])
    examples = tuple(heapq.nsmallest(SHOWN_IDS, (str(i) for i in ids)))
    return int(mask.sum()), len(ids), examples


def _finding(id, subject, rule, scope, frame, mask, id_column, *, what: str, clean: str) -> Finding:
    rows, patients, examples = _offenders(frame, mask, id_column)
    if rows:
        sentence = (f"{formatting.count(rows)} {what} ({formatting.count(patients)} patient(s)): "
                    f"{_ids_text(examples, patients)}.")
    else:
        sentence = clean
    return Finding(id, subject, rule, scope, True, rows, patients, examples, sentence)


def empty_cohort(result: CohortResult) -> Finding:
    """COH-EMPTY: fails when no row remains; the sentence names the step that emptied the cohort."""
    emptied = result.emptied_by
    n = len(result.cohort)
    if n:
        sentence = (f"{formatting.count(n)} rows ({formatting.count(result.patients)} patients) remain after "
                    f"{len(result.steps)} step(s).")
    elif emptied:
        label = next(s.label for s in result.steps if s.id == emptied)
        sentence = f"Step {emptied} ({label}) excluded every remaining row; the later stages have nothing to analyse."
    else:
        sentence = "The snapshot has no rows."
    return Finding("COH-EMPTY", "analysis cohort is not empty", "at least one row remains after all cohort steps",
                   "analysis cohort", True, 0 if n else 1, 0, (emptied,) if emptied else (), sentence)


def split_overlap(frame: pd.DataFrame, *, id_column: str, split_column: str) -> Finding:
    """LEAK-SPLIT: rows of patients whose id appears in more than one split."""
    repeated = frame[id_column].duplicated(keep=False).to_numpy()
    mask = np.zeros(len(frame), dtype=bool)
    if repeated.any():
        sub = frame.loc[repeated, [id_column, split_column]]
        splits = sub.groupby(id_column, sort=False, dropna=False)[split_column].transform("nunique")
        mask[np.flatnonzero(repeated)[splits.to_numpy() > 1]] = True
    return _finding("LEAK-SPLIT", "no patient in more than one split",
                    f"every {id_column} belongs to exactly one {split_column}", "whole snapshot", frame, mask,
                    id_column, what="rows of patients in more than one split",
                    clean="Every patient belongs to exactly one split.")


def _input_hashes(frame: pd.DataFrame, features: tuple[str, ...]) -> np.ndarray:
    """A 64-bit hash of each row's values of ``features`` (missing values hash alike)."""
    return pd.util.hash_pandas_object(frame[list(features)], index=False).to_numpy()


def shared_inputs(source: pd.DataFrame, cohort: pd.DataFrame, *, id_column: str, split_column: str,
                  features: tuple[str, ...], max_percent: float = 0.0) -> Finding:
    """LEAK-INPUTS: rows of the analysis cohort whose model-input vector occurs in another split.

    The vector of a row is its values of ``features``, compared by a 64-bit hash
    (:func:`pandas.util.hash_pandas_object`; two different vectors collide with probability about
    ``2^-64`` per pair). A cohort row is counted when a row of the snapshot (``source``) in a different
    split has the same vector: the model sees the same input, so the same patient may be present
    twice under different ids (LEAK-SPLIT cannot see that). Rows whose features are all missing
    carry no vector and are not counted. Coarse features (integers, bands) also coincide by chance
    between different patients; the sentence gives, as the chance level, the share of the cohort's
    own rows that share their vector with another row of the same split, and the plan may tolerate up
    to ``max_percent`` of the cohort (``data.shared_inputs_max_percent``).
    """
    usable = ~source[list(features)].isna().all(axis=1).to_numpy()
    splits = source[split_column].astype("string").fillna("<missing>")
    n_splits = pd.Series(splits.to_numpy()[usable]).groupby(_input_hashes(source, features)[usable]).nunique()
    in_cohort = _input_hashes(cohort, features)
    cohort_usable = ~cohort[list(features)].isna().all(axis=1).to_numpy()
    # the cohort's rows are rows of the snapshot, so their own split is among their vector's splits
    mask = cohort_usable & (n_splits.reindex(in_cohort).fillna(0).to_numpy() > 1)
    cohort_split = cohort[split_column].astype("string").fillna("<missing>").to_numpy()
    n = len(cohort)
    tolerated = int(np.floor(max_percent / 100 * n + 1e-9))
    rows, patients, examples = _offenders(cohort, mask, id_column)
    within = pd.Series(in_cohort[cohort_usable]).groupby(cohort_split[cohort_usable]).transform(
        lambda h: h.duplicated(keep=False)).sum() if cohort_usable.any() else 0
    chance = (f" For comparison, {formatting.count(int(within))} cohort rows ({formatting.percent(within / n, 2)}) "
              "share their vector with another row of their own split: the level at which these features "
              "coincide by chance." if n else "")
    limit = f"at most {max_percent:g} % of the analysis cohort" if max_percent else "no row of the analysis cohort"
    rule = f"{limit} has a model-input vector ({', '.join(features)}) identical to a row of another {split_column}"
    if rows:
        sentence = (f"{formatting.count(rows)} of {formatting.count(n)} rows ({formatting.percent(rows / n, 2)}; "
                    f"{formatting.count(patients)} patient(s)) have the model-input vector of a row in another "
                    f"split: {_ids_text(examples, patients)}.{chance}")
    else:
        sentence = "No row of the analysis cohort has the model-input vector of a row in another split."
    return Finding("LEAK-INPUTS", "no model-input vector shared across splits", rule, "analysis cohort vs snapshot",
                   True, rows, patients, examples, sentence, tolerated)


def duplicate_rows(frame: pd.DataFrame, *, id_column: str) -> Finding:
    """LEAK-DUP: rows identical to an earlier row in every column (the later copies are counted).

    Only rows whose id repeats can be exact duplicates, so the full-row comparison runs on those alone.
    """
    repeated = frame[id_column].duplicated(keep=False).to_numpy()
    mask = np.zeros(len(frame), dtype=bool)
    if repeated.any():
        mask[np.flatnonzero(repeated)[frame[repeated].duplicated().to_numpy()]] = True
    return _finding("LEAK-DUP", "no exact duplicate rows", "no two rows are identical in every column",
                    "analysis cohort", frame, mask, id_column, what="exact duplicate row(s)",
                    clean="No two rows are identical.")


def duplicate_keys(frame: pd.DataFrame, *, id_column: str, encounter: str | None) -> Finding:
    """LEAK-KEY: rows repeating an earlier row's patient-encounter key (patient id alone when
    ``encounter`` is None: one row per patient)."""
    key = [id_column] if encounter is None else [id_column, encounter]
    mask = frame.duplicated(subset=key).to_numpy() if len(frame) else np.zeros(0, dtype=bool)
    if encounter is None:
        rule, what = f"{id_column} is unique (one row per patient; declare data.encounter otherwise)", \
            "row(s) repeating a patient id"
    else:
        rule, what = f"({id_column}, {encounter}) is unique", "row(s) repeating a patient-encounter key"
    return _finding("LEAK-KEY", "no duplicate patient-encounter key", rule, "analysis cohort", frame, mask,
                    id_column, what=what, clean=f"Every {' + '.join(key)} key is unique.")


def time_after_label(frame: pd.DataFrame, *, id_column: str, time: str, label_time: str) -> Finding:
    """LEAK-TIME: records whose event or prediction time is after the time of their label."""
    event, label = frame[time], frame[label_time]
    if pd.api.types.is_datetime64_any_dtype(event.dtype) != pd.api.types.is_datetime64_any_dtype(label.dtype):
        event, label = pd.to_datetime(event), pd.to_datetime(label)
    mask = np.asarray((event > label).fillna(False), dtype=bool)
    return _finding("LEAK-TIME", "no prediction after the label", f"{time} <= {label_time} on every record",
                    "analysis cohort", frame, mask, id_column, what=f"record(s) with {time} after {label_time}",
                    clean=f"No record has {time} after {label_time}.")


def outside_window(frame: pd.DataFrame, *, id_column: str, time: str, window: tuple) -> Finding:
    """LEAK-WINDOW: records whose time is outside the declared collection window (inclusive bounds).

    Records with a missing time are not counted here (the missingness report shows them).
    """
    series = frame[time]
    first, last = coerce_value(list(window), series)
    mask = np.asarray(((series < first) | (series > last)).fillna(False), dtype=bool)
    return _finding("LEAK-WINDOW", "records inside the collection window",
                    f"{first} <= {time} <= {last}", "analysis cohort", frame, mask, id_column,
                    what=f"record(s) with {time} outside [{first}, {last}]",
                    clean=f"Every {time} is within the declared collection window [{first}, {last}].")


def outcome_in_features(*, outcome: str, features: tuple[str, ...], post_outcome: tuple[str, ...] = ()) -> Finding:
    """LEAK-OUTCOME: the outcome column, or a column known only after the outcome, among the features."""
    leaked = [f for f in features if f == outcome or f in post_outcome]
    rule = f"neither {outcome} nor a post-outcome column is a model input feature"
    if not features:
        return Finding("LEAK-OUTCOME", "outcome not among model inputs", rule, "parameters", False,
                       sentence="Not checked: data.features (the model input features) is not declared.")
    sentence = (f"Label leakage: {', '.join(leaked)} listed among the model input features." if leaked else
                f"None of the {len(features)} model input features is the outcome or a post-outcome column.")
    return Finding("LEAK-OUTCOME", "outcome not among model inputs", rule, "parameters", True,
                   len(leaked), 0, tuple(leaked), sentence)


def _not_checked(id: str, subject: str, reason: str) -> Finding:
    return Finding(id, subject, "", "analysis cohort", False, sentence=f"Not checked: {reason}.")


def check_study(source: pd.DataFrame, result: CohortResult, study: Study) -> tuple[Finding, ...]:
    """Every leakage and integrity check that the study's declarations allow (see the module docstring).

    Parameters
    ----------
    source
        The snapshot rows (before the cohort steps).
    result
        The cohort built from ``source``.
    study
        The study parameters (``data`` section: id, split, encounter, time, label_time,
        collection_window, outcome, features, post_outcome).
    """
    data = study.data
    cohort = result.cohort
    findings = [empty_cohort(result)]
    if data.split is not None:
        findings.append(split_overlap(source, id_column=data.id, split_column=data.split))
    else:
        findings.append(_not_checked("LEAK-SPLIT", "no patient in more than one split",
                                     "data.split (the column naming the split) is not declared"))
    if data.split is not None and data.features:
        findings.append(shared_inputs(source, cohort, id_column=data.id, split_column=data.split,
                                      features=data.features, max_percent=data.shared_inputs_max_percent))
    else:
        missing = " and ".join(k for k, v in (("data.split", data.split), ("data.features", data.features)) if not v)
        findings.append(_not_checked("LEAK-INPUTS", "no model-input vector shared across splits",
                                     f"{missing} (needed to compare model inputs across splits) not declared"))
    findings.append(duplicate_rows(cohort, id_column=data.id))
    findings.append(duplicate_keys(cohort, id_column=data.id, encounter=data.encounter))
    if data.label_time is not None:
        findings.append(time_after_label(cohort, id_column=data.id, time=data.time, label_time=data.label_time))
    else:
        findings.append(_not_checked("LEAK-TIME", "no prediction after the label",
                                     "data.label_time (when the label was established) is not declared"))
    if data.collection_window is not None:
        findings.append(outside_window(cohort, id_column=data.id, time=data.time, window=data.collection_window))
    else:
        findings.append(_not_checked("LEAK-WINDOW", "records inside the collection window",
                                     "data.collection_window is not declared"))
    findings.append(outcome_in_features(outcome=data.outcome, features=data.features, post_outcome=data.post_outcome))
    return tuple(findings)


def gates_of(findings) -> list[gates.Gate]:
    """The gates of every check, in order: those that do not apply as NOT_CHECKED with the reason."""
    return [f.gate() for f in findings]
