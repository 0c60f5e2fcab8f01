"""The committed notebooks are clean: no outputs, a tagged parameters cell, no logic of their own."""

from pathlib import Path

import nbformat
import pytest

NOTEBOOKS = sorted((Path(__file__).resolve().parent.parent / "studylib" / "notebooks").glob("*.ipynb"))


def test_four_stage_notebooks():
    assert [p.name for p in NOTEBOOKS] == ["01_cohort.ipynb", "02_evaluation.ipynb", "03_subgroups.ipynb", "04_drift.ipynb"]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_no_outputs_and_parameters_cell(path):
    nb = nbformat.read(path, as_version=4)
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert all(not c.outputs and c.execution_count is None for c in code), f"{path.name} has outputs; strip them"
    tagged = [c for c in code if "parameters" in c.metadata.get("tags", [])]
    assert len(tagged) == 1, "exactly one cell tagged 'parameters'"
    assert "study_file" in tagged[0].source and "run_dir" in tagged[0].source
    for cell in code:
        assert "\ndef " not in "\n" + cell.source and "\nclass " not in "\n" + cell.source, \
            f"{path.name}: logic belongs in studylib/, not in the notebook"
