"""Where a notebook stage finds its inputs and puts its outputs.

A stage notebook gets ``study_file`` and ``run_dir`` as parameters. Under ``studylib run`` the run
folder is the staging folder of the run; in JupyterLab it defaults to a scratch folder
``.scratch/<study-id>/`` in the project, so that a scientist can run the stages one after the other.

Every stage after the cohort stage analyses the frozen analysis cohort that the cohort stage wrote to
the run folder; :func:`frozen_cohort` is the one place that checks its bytes against the hash the
cohort stage recorded, for :func:`analysis_cohort` (rows in pandas) and :func:`analysis_source` (the
Parquet path, for DuckDB to scan in place).
"""

from __future__ import annotations

import warnings
from pathlib import Path

import pandas as pd

from studylib.stages.cohort import build as cohort
from studylib.evidence import results as evidence
from studylib.data import snapshot
from studylib.plan import Study

SCRATCH = ".scratch"


def run_folder(study: Study, run_dir: str | Path | None) -> Path:
    """The folder a stage writes into (created if needed)."""
    folder = Path(run_dir) if run_dir else study.root / SCRATCH / study.study.id
    if not folder.is_absolute():
        folder = study.root / folder
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def open_snapshot(study: Study) -> snapshot.Snapshot:
    """Verify the study's snapshot against its lock hash (raises SnapshotError on any mismatch)."""
    return snapshot.verify(study.snapshot_path, study.snapshot.lock)


def build_cohort(study: Study) -> cohort.CohortResult:
    """Read the locked snapshot and apply the study's cohort steps."""
    data = open_snapshot(study).read()
    return cohort.apply(data, study.cohort, id_column=study.data.id)


def frozen_cohort(run_dir: str | Path) -> Path | None:
    """The frozen analysis cohort of a run, its bytes checked against the hash the cohort stage recorded.

    Parameters
    ----------
    run_dir : path
        The run folder.

    Returns
    -------
    Path or None
        ``run_dir/cohort.parquet`` when the cohort stage recorded its SHA-256 in ``run_dir`` and the
        file is there; None when the cohort stage has not run in this folder.

    Raises
    ------
    RuntimeError
        The file's bytes differ from the recorded hash (names both hashes and the fix).
    """
    run_dir = Path(run_dir)
    recorded = evidence.read(run_dir, "cohort")
    path = run_dir / cohort.FROZEN_COHORT
    if not (recorded and recorded.get("cohort_sha256") and path.is_file()):
        return None
    # Note: one of three SHA-256 helpers (also data/scan.file_sha256 and the inline hashes of
    # stages/cohort/build.freeze/read_frozen); the hashing module of issue 12 keeps one.
    actual = snapshot.sha256_file(path)
    if actual != recorded["cohort_sha256"]:
        raise RuntimeError(f"{path}: frozen cohort does not match the hash recorded by the cohort stage; expected "
                           f"sha256:{recorded['cohort_sha256']}, got sha256:{actual}. Re-run the cohort stage.")
    return path


def _rebuilt(study: Study) -> pd.DataFrame:
    warnings.warn("the cohort stage has not run in this run folder; rebuilding the cohort from the snapshot",
                  stacklevel=3)
    return build_cohort(study).cohort


def analysis_cohort(study: Study, run_dir: str | Path) -> pd.DataFrame:
    """The frozen analysis cohort written by the cohort stage, checked against its recorded hash.

    When the cohort stage has not run in this run folder (a later notebook opened on its own), the
    cohort is rebuilt from the snapshot with a warning.

    Raises
    ------
    RuntimeError
        The frozen cohort's bytes differ from the hash the cohort stage recorded (:func:`frozen_cohort`).
    """
    path = frozen_cohort(run_dir)
    return pd.read_parquet(path) if path is not None else _rebuilt(study)


def analysis_source(study: Study, run_dir: str | Path) -> Path | pd.DataFrame:
    """The frozen analysis cohort as a Parquet path (hash checked), for DuckDB to scan in place.

    When the cohort stage has not run in ``run_dir`` (a notebook opened on its own) the cohort is
    rebuilt in memory with a warning, as :func:`analysis_cohort` does.

    Raises
    ------
    RuntimeError
        The frozen cohort's bytes differ from the hash the cohort stage recorded (:func:`frozen_cohort`).
    """
    path = frozen_cohort(run_dir)
    return path if path is not None else _rebuilt(study)
