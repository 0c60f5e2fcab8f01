"""Where a notebook stage finds its inputs and puts its outputs.

A stage notebook gets ``study_file`` and ``run_dir`` as parameters. Under ``studylib run`` the run
folder is the staging folder of the run; in JupyterLab it defaults to a scratch folder
``.scratch/<study-id>/`` in the project, so that a scientist can run the stages one after the other.
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


def analysis_cohort(study: Study, run_dir: str | Path) -> pd.DataFrame:
    """The frozen analysis cohort written by the cohort stage, checked against its recorded hash.

    When the cohort stage has not run in this run folder (a later notebook opened on its own), the
    cohort is rebuilt from the snapshot with a warning.
    """
    run_dir = Path(run_dir)
    recorded = evidence.read(run_dir, "cohort")
    if recorded and recorded.get("cohort_sha256") and (run_dir / cohort.FROZEN_COHORT).is_file():
        return cohort.read_frozen(run_dir, recorded["cohort_sha256"])
    warnings.warn("the cohort stage has not run in this run folder; rebuilding the cohort from the snapshot",
                  stacklevel=2)
    return build_cohort(study).cohort
