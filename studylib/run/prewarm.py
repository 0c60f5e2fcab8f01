"""Warming the kernels of the later stages while the cohort stage runs.

The evaluation, subgroups and drift stages can start only once the cohort stage has frozen the cohort,
but most of a kernel's first seconds go to starting Python and importing pandas, SciPy, statsmodels,
matplotlib and studylib, none of which depends on the cohort. So the runner launches their kernels at
the start of a run, each importing the modules its notebook imports (:func:`imports_of`) at a lower CPU
priority than the cohort stage (:func:`warm_line`); the notebooks execute once the cohort is frozen.

Warming changes no result: it imports exactly the modules the notebook imports itself, before its
first cell, and defines no name in the notebook's namespace. A module that fails to import here is
left alone, so that the notebook's own import raises in its cell, where the report shows it.
"""

from __future__ import annotations

import ast
import importlib
import json
import os
from pathlib import Path


def imports_of(notebook: str | Path) -> list[str]:
    """The modules the code cells of ``notebook`` import, in order of first appearance.

    ``from a.b import c`` gives ``a.b`` and ``a.b.c`` (``c`` may be a submodule or a name in ``a.b``:
    :func:`load` imports what exists). Lines that are IPython magics or shell escapes are skipped; a
    cell that does not parse as Python is skipped.
    """
    cells = json.loads(Path(notebook).read_text(encoding="utf-8")).get("cells", [])
    found: dict[str, None] = {}
    for cell in cells:
        if cell.get("cell_type") != "code":
            continue
        source = "".join(cell.get("source", []))
        lines = [line for line in source.splitlines() if not line.lstrip().startswith(("%", "!"))]
        try:
            tree = ast.parse("\n".join(lines))
        except SyntaxError:
            continue
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                found.update((alias.name, None) for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                found[node.module] = None
                found.update((f"{node.module}.{alias.name}", None) for alias in node.names if alias.name != "*")
    return list(found)


def warm_line(modules: list[str], *, nice: int = 10) -> str:
    """The line a kernel executes at start-up (IPython ``exec_lines``) to :func:`load` ``modules``."""
    return f"__import__('studylib.run.prewarm', fromlist=['load']).load({modules!r}, nice={int(nice)})"


def load(modules: list[str], *, nice: int = 0) -> None:
    """Lower this process's CPU priority by ``nice`` and import each of ``modules`` that can be imported."""
    if nice and hasattr(os, "nice"):
        os.nice(nice)
    for name in modules:
        try:
            importlib.import_module(name)
        except Exception:  # the notebook's own import raises in its cell, where the report shows it
            continue
