"""Warming the later stages' kernels: the modules a notebook imports, nothing else, no name defined."""

import json
import subprocess
import sys

from studylib.run import prewarm
from studylib.run.runner import NOTEBOOK_DIR


def _notebook(tmp_path, *sources, kind="code"):
    path = tmp_path / "n.ipynb"
    path.write_text(json.dumps({"cells": [{"cell_type": kind, "source": s} for s in sources]}))
    return path


def test_imports_of_lists_modules_and_imported_names_in_order_and_skips_magics(tmp_path):
    path = _notebook(tmp_path, "%matplotlib inline\nimport pandas as pd, json\n!ls",
                     "from studylib.report import display\nfrom studylib.stats.roc import auroc\nimport pandas",
                     "def f(:\n  pass", "from . import local\nfrom x import *")
    assert prewarm.imports_of(path) == ["pandas", "json", "studylib.report", "studylib.report.display",
                                        "studylib.stats.roc", "studylib.stats.roc.auroc", "x"]


def test_markdown_cells_are_not_read(tmp_path):
    assert prewarm.imports_of(_notebook(tmp_path, "import os", kind="markdown")) == []


def test_the_stage_notebooks_warm_their_studylib_modules():
    for notebook in sorted(NOTEBOOK_DIR.glob("0*.ipynb")):
        modules = prewarm.imports_of(notebook)
        assert "studylib.report.display" in modules and "studylib.plan" in modules, notebook.name


def test_the_warm_line_imports_what_exists_and_defines_no_name():
    line = prewarm.warm_line(["studylib.formatting", "no_such_module_xyz", "studylib.formatting.not_a_module"],
                             nice=0)
    probe = (f"import sys\nbefore = set(globals())\nexec({line!r})\n"
             "print(sorted(set(globals()) - before - {'before'}), 'studylib.formatting' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True).stdout
    assert out.split() == ["[]", "True"]


def test_load_lowers_the_priority_of_its_process_only_when_asked():
    probe = ("import os\nfrom studylib.run import prewarm\nbefore = os.nice(0)\nprewarm.load([], nice=0)\n"
             "same = os.nice(0)\nprewarm.load([], nice=3)\nprint(same - before, os.nice(0) - before)")
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True).stdout
    assert out.split() == ["0", "3"]
