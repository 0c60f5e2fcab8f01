"""Where a notebook stage finds its inputs and puts its outputs.

A stage notebook gets ``study_file`` and ``run_dir`` as parameters. Under ``studylib run`` the run
folder is the staging folder of the run; in JupyterLab it defaults to a scratch folder
``.scratch/<study-id>/`` in the project, so that a scientist can run the stages one after the other.

The cohort stage freezes its analysis cohort here (:func:`freeze`) and records the file's SHA-256.
Every stage after the cohort stage analyses the frozen analysis cohort that the cohort stage wrote to
the run folder; :func:`frozen_cohort` is the one place that checks its bytes against the hash the
cohort stage recorded, for :func:`analysis_cohort` (rows in pandas) and :func:`analysis_source` (the
Parquet path, for DuckDB to scan in place).
"""

from __future__ import annotations

import os
from pathlib import Path

import pandas as pd

from studylib.stages.cohort import build as cohort
from studylib.evidence import results as evidence
from studylib.data import snapshot
from studylib.data.hashing import sha256_file
from studylib.plan import Study

SCRATCH = ".scratch"
#: the frozen analysis cohort in a run folder
FROZEN_COHORT = "cohort.parquet"


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
    path = run_dir / FROZEN_COHORT
    if not (recorded and recorded.get("cohort_sha256") and path.is_file()):
        return None
    return _checked(path, recorded["cohort_sha256"])


def _checked(path: Path, expected_sha256: str) -> Path:
    """``path`` when its SHA-256 is ``expected_sha256`` (hex); else a RuntimeError naming both hashes."""
    actual = sha256_file(path)
    if actual != expected_sha256:
        raise RuntimeError(f"{path}: frozen cohort does not match the hash recorded by the cohort stage; expected "
                           f"sha256:{expected_sha256}, got sha256:{actual}. Re-run the cohort stage.")
    return path


#: printed (a note on stdout, not a warning on stderr) when a later stage runs without the cohort stage
REBUILT_NOTE = ("Note: the cohort stage has not run in this run folder, so the analysis cohort is rebuilt from "
                "the snapshot (expected when a stage notebook is run on its own).")


def _rebuilt(study: Study) -> pd.DataFrame:
    print(REBUILT_NOTE)
    return build_cohort(study).cohort


def analysis_cohort(study: Study, run_dir: str | Path) -> pd.DataFrame:
    """The frozen analysis cohort written by the cohort stage, checked against its recorded hash.

    When the cohort stage has not run in this run folder (a later notebook opened on its own), the
    cohort is rebuilt from the snapshot, with a note (:data:`REBUILT_NOTE`) on stdout.

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
    rebuilt in memory with a note, as :func:`analysis_cohort` does.

    Raises
    ------
    RuntimeError
        The frozen cohort's bytes differ from the hash the cohort stage recorded (:func:`frozen_cohort`).
    """
    path = frozen_cohort(run_dir)
    return path if path is not None else _rebuilt(study)


def freeze(cohort: pd.DataFrame, run_dir: str | Path) -> str:
    """Write the analysis cohort to ``run_dir/cohort.parquet`` and return its SHA-256 (hex).

    The file's bytes depend only on the rows (no timestamps in the Parquet metadata), so the same
    cohort gives the same hash on every run.
    """
    import pyarrow as pa
    import pyarrow.parquet as pq

    path = Path(run_dir) / FROZEN_COHORT
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")  # written whole, then renamed: a reader never sees half a file
    pq.write_table(pa.Table.from_pandas(cohort, preserve_index=False), tmp, compression="zstd")
    os.replace(tmp, path)
    return sha256_file(path)


def read_frozen(run_dir: str | Path, expected_sha256: str) -> pd.DataFrame:
    """Read the frozen cohort of a run, refusing it when its bytes differ from the recorded hash.

    Raises
    ------
    RuntimeError
        The file's SHA-256 is not ``expected_sha256`` (hex); the message gives both hashes.
    """
    return pd.read_parquet(_checked(Path(run_dir) / FROZEN_COHORT, expected_sha256))
