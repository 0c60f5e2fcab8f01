"""Machine-readable results of each stage, written into the run folder.

Each stage ends with :func:`record`, which writes ``results/<stage>.json``: canonical JSON (sorted
keys, NaN as ``null``) with no timestamps, so that the same study on the same snapshot gives
byte-identical results files on every run. A stage whose results hold counts of people also writes
the reviewer version ``results/<stage>.reviewer.json`` (:func:`record_reviewer`), small cells suppressed.
"""

from __future__ import annotations

import dataclasses
import json
import math
import os
from pathlib import Path

import numpy as np
import pandas as pd

from studylib.judge import suppression

RESULTS_DIR = "results"
STAGES = ("cohort", "evaluation", "subgroups", "drift")
#: results a run records besides the stages': the sample-size plan (before the stages), the synthesis
#: across sites (with the evaluation stage) and the validation matrix (after them)
RECORDS = (*STAGES, "plan", "sites", "matrix")


def to_jsonable(value):
    """Convert results (dataclasses, numpy scalars/arrays, DataFrames, NaN) into plain JSON values."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: to_jsonable(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, dict):
        return {str(k): to_jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set)):
        return [to_jsonable(v) for v in value]
    if isinstance(value, pd.DataFrame):
        return [to_jsonable(r) for r in value.to_dict(orient="records")]
    if isinstance(value, pd.Series):
        return to_jsonable(value.to_dict())
    if isinstance(value, np.ndarray):
        return [to_jsonable(v) for v in value.tolist()]
    if isinstance(value, (np.bool_, bool)):
        return bool(value)
    if isinstance(value, (np.integer,)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        value = float(value)
        return value if math.isfinite(value) else None
    if value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, (pd.Timestamp,)):
        return value.isoformat()
    if hasattr(value, "model_dump"):
        return to_jsonable(value.model_dump(mode="json", by_alias=True))
    return value


def dumps(results) -> str:
    """Canonical JSON text of results (sorted keys, two-space indent, trailing newline)."""
    return json.dumps(to_jsonable(results), indent=2, sort_keys=True, ensure_ascii=False, allow_nan=False) + "\n"


def write_text_atomically(path: Path, text: str) -> Path:
    """Write ``text`` (UTF-8) to ``path`` whole or not at all: beside it as ``<name>.tmp``, then renamed,
    so a reader or a crash never leaves half a file. Creates the folder; returns ``path``."""
    return write_bytes_atomically(path, text.encode("utf-8"))


FIGURES_DIR = "figures"


def write_bytes_atomically(path: Path, data: bytes) -> Path:
    """Write ``data`` to ``path`` whole or not at all (beside it as ``<name>.tmp``, then renamed)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_bytes(data)
    os.replace(tmp, path)
    return path


def figure_saver(run_dir: str | Path):
    """The function a notebook hands to the figure renderers to keep each figure in the run folder.

    The returned ``save(name, files)`` writes ``run_dir/figures/<name>.<suffix>`` for each
    ``{suffix: bytes}`` (atomically) and returns the paths relative to ``run_dir`` (POSIX), which is
    how the manifest and the stage results name them.
    """
    run_dir = Path(run_dir)

    def save(name: str, files) -> list[str]:
        if not name or "/" in name or "\\" in name or name.startswith("."):
            raise ValueError(f"figure name '{name}' must be a plain file name (no folders)")
        written = []
        for suffix, data in files.items():
            path = write_bytes_atomically(run_dir / FIGURES_DIR / f"{name}.{suffix}", data)
            written.append(path.relative_to(run_dir).as_posix())
        return written

    return save


def results_path(run_dir: str | Path, stage: str) -> Path:
    if stage not in RECORDS:
        raise ValueError(f"unknown stage '{stage}'; expected one of {', '.join(RECORDS)}")
    return Path(run_dir) / RESULTS_DIR / f"{stage}.json"


def record(run_dir: str | Path, stage: str, results: dict) -> Path:
    """Write a stage's results atomically to ``run_dir/results/<stage>.json`` and return the path.

    ``results`` should hold a ``gates`` list (see :mod:`studylib.gates`); everything else is free-form
    but must be deterministic (no timestamps, no absolute paths).
    """
    return write_text_atomically(results_path(run_dir, stage), dumps({"stage": stage, **results}))


def read(run_dir: str | Path, stage: str) -> dict | None:
    """A stage's recorded results, or None when the stage has not recorded any."""
    path = results_path(run_dir, stage)
    return json.loads(path.read_text(encoding="utf-8")) if path.is_file() else None


def reviewer_path(run_dir: str | Path, stage: str) -> Path:
    """``run_dir/results/<stage>.reviewer.json``: the reviewer version beside the restricted results."""
    return results_path(run_dir, stage).with_suffix(".reviewer.json")


def record_reviewer(run_dir: str | Path, stage: str, results: dict, threshold: int) -> Path:
    """Write the reviewer version of a stage's results, with every count key passed through the safety net.

    ``results`` should already hold suppressed tables (:func:`studylib.judge.suppression.suppress_table`);
    any small count still found under a count key is replaced by ``"<T"``
    (:func:`studylib.judge.suppression.suppress_counts`). The file carries ``"version": "reviewer"`` and
    the threshold, and is canonical JSON (deterministic, like ``results/<stage>.json``).
    """
    body = suppression.suppress_counts(
        to_jsonable({"stage": stage, "version": "reviewer", "small_cell_threshold": threshold, **results}), threshold)
    left = suppression.small_counts(body, threshold)
    if left:  # cannot happen after suppress_counts; kept as a guard against future edits
        raise AssertionError(f"small counts left in the reviewer results: {', '.join(left[:5])}")
    return write_text_atomically(reviewer_path(run_dir, stage), dumps(body))
