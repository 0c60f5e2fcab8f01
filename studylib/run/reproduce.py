"""Re-executing an archived run and comparing every number of its results.

Counts and other integers, strings and booleans must be equal; floats must agree within
``|a − b| <= atol + rtol·|b|`` (defaults 1e-9 and 1e-12: the same code on the same snapshot reproduces
to the last digit, the tolerance only absorbs platform differences in floating-point summation).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

from studylib.evidence.diff import Difference, compare_runs
from studylib.run import runner
from studylib.errors import StudyInputError


def recorded_root(manifest: dict, folder: str | Path = ".") -> Path | None:
    """The project root a run recorded in its manifest, when that folder still exists (else None: the
    root is then found from the parameter file, as for any parameter file).

    The manifest records the root relative to the run folder ``folder`` (e.g. ``../../..``), so a
    project copied or moved with its runs reproduces from its new place; manifests of older runs hold
    an absolute path, which is used as it is.
    """
    recorded = manifest.get("project_root") if isinstance(manifest, dict) else None
    if not isinstance(recorded, str) or not recorded:
        return None
    root = (Path(folder) / recorded).resolve()
    return root if root.is_dir() else None


def recorded_engine(manifest: dict) -> str | None:
    """The engine that reduced the run's monitoring source, as its manifest recorded it (None: no
    monitoring source, or a manifest from before engines were recorded)."""
    monitoring = manifest.get("monitoring") if isinstance(manifest, dict) else None
    engine = monitoring.get("engine") if isinstance(monitoring, dict) else None
    return engine if isinstance(engine, str) and engine else None


def reproduce(folder: str | Path, *, rtol: float = 1e-9, atol: float = 1e-12, engine: str | None = None,
              log: Callable[[str], None] = print) -> tuple[runner.RunOutcome, list[Difference]]:
    """Re-execute an archived run from its recorded parameter file and snapshot into a new run, and
    compare the numbers. Relative paths of the archived parameter file resolve against the project
    root the run recorded (:func:`recorded_root`).

    The monitoring source is reduced on the engine the run recorded (a run made with ``--engine spark``
    is reproduced on Spark), unless ``engine`` is given (``studylib reproduce --engine``); ``log`` says
    which, and why.

    Raises
    ------
    StudyInputError
        The folder is not a run, or its snapshot no longer matches the recorded lock hash.
    """
    folder = Path(folder).resolve()
    archived_params = folder / "params.yaml"
    if not (folder / "manifest.json").is_file() or not archived_params.is_file():
        raise StudyInputError(f"{folder}: not a studylib run folder (manifest.json and params.yaml expected)")
    manifest = json.loads((folder / "manifest.json").read_text())
    root = recorded_root(manifest, folder)
    study, snap = runner.prepare(archived_params, root=root)
    if snap.lock != manifest["snapshot"]["lock"]:
        raise StudyInputError(f"{folder}: the run used snapshot lock {manifest['snapshot']['lock']}, "
                              f"the snapshot now has {snap.lock}; refusing to reproduce")
    recorded = recorded_engine(manifest)
    if engine is not None:
        log(f"engine: {engine} (--engine)" + (f"; the original run used {recorded}" if recorded else ""))
    elif recorded is not None:
        engine = recorded
        log(f"engine: {engine}, as recorded in the original run's manifest")
    outcome = runner.run(archived_params, reports_dir=folder.parent.parent, log=log,
                         reproduces=f"{folder.parent.name}/{folder.name}", root=root, engine=engine)
    return outcome, compare_runs(folder, outcome.folder, rtol=rtol, atol=atol)
