"""The four stages of a study and their notebooks (package data), in the order they run."""

from __future__ import annotations

from pathlib import Path

__all__ = ["NOTEBOOK_DIR", "STAGES", "WARM_UPS", "stage_notebooks"]

NOTEBOOK_DIR = Path(__file__).resolve().parent.parent / "notebooks"
STAGES = (
    ("cohort", "01_cohort.ipynb"),
    ("evaluation", "02_evaluation.ipynb"),
    ("subgroups", "03_subgroups.ipynb"),
    ("drift", "04_drift.ipynb"),
)
#: what the run's kernel server prepares, once the kernels are forked, for the reports it renders
#: (:mod:`studylib.run.rendering`)
WARM_UPS = ("studylib.run.rendering:warm_up",)


def stage_notebooks(folder: Path = NOTEBOOK_DIR) -> list[Path]:
    """The stage notebooks of ``folder`` (default: the package's), in stage order."""
    return [folder / name for _, name in STAGES]
