"""Re-executing an archived run and comparing every number of its results.

Counts and other integers, strings and booleans must be equal; floats must agree within
``|a − b| <= atol + rtol·|b|`` (defaults 1e-9 and 1e-12: the same code on the same snapshot reproduces
to the last digit, the tolerance only absorbs platform differences in floating-point summation).
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from studylib.run import runner
from studylib.errors import StudyInputError

RESULT_FILES = ("results/cohort.json", "results/evaluation.json", "results/subgroups.json",
                "results/subgroups.reviewer.json", "results/drift.json", "verdict.json")


@dataclass(frozen=True)
class Difference:
    """One number (or value) that differs between two runs."""

    file: str
    path: str
    original: object
    reproduced: object

    def __str__(self) -> str:
        return f"{self.file}: {self.path or '(whole file)'}: original {self.original!r}, reproduced {self.reproduced!r}"


def _compare(a, b, path: str, file: str, rtol: float, atol: float, out: list[Difference]) -> None:
    if isinstance(a, dict) and isinstance(b, dict):
        for key in sorted(set(a) | set(b)):
            sub = f"{path}.{key}" if path else str(key)
            if key not in a or key not in b:
                out.append(Difference(file, sub, a.get(key, "<absent>"), b.get(key, "<absent>")))
            else:
                _compare(a[key], b[key], sub, file, rtol, atol, out)
    elif isinstance(a, list) and isinstance(b, list):
        if len(a) != len(b):
            out.append(Difference(file, f"{path} (length)", len(a), len(b)))
        for i, (x, y) in enumerate(zip(a, b)):
            _compare(x, y, f"{path}[{i}]", file, rtol, atol, out)
    elif isinstance(a, float) or isinstance(b, float):
        if isinstance(a, bool) or isinstance(b, bool) or not isinstance(a, (int, float)) or not isinstance(b, (int, float)):
            out.append(Difference(file, path, a, b))
        elif not (a == b or math.isclose(a, b, rel_tol=rtol, abs_tol=atol)):
            out.append(Difference(file, path, a, b))
    elif a != b or type(a) is not type(b):
        out.append(Difference(file, path, a, b))


def compare_runs(original: Path, reproduced: Path, *, rtol: float = 1e-9, atol: float = 1e-12) -> list[Difference]:
    """Every difference between the results JSON (and verdicts) of two run folders."""
    differences: list[Difference] = []
    for name in RESULT_FILES:
        a_path, b_path = Path(original) / name, Path(reproduced) / name
        if not a_path.is_file() and not b_path.is_file():
            continue
        if not a_path.is_file() or not b_path.is_file():
            differences.append(Difference(name, "", "present" if a_path.is_file() else "<absent>",
                                          "present" if b_path.is_file() else "<absent>"))
            continue
        a, b = json.loads(a_path.read_text()), json.loads(b_path.read_text())
        if name == "verdict.json":
            a, b = {"verdict": a.get("verdict"), "exit_code": a.get("exit_code")}, \
                   {"verdict": b.get("verdict"), "exit_code": b.get("exit_code")}
        _compare(a, b, "", name, rtol, atol, differences)
    return differences


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


def reproduce(folder: str | Path, *, rtol: float = 1e-9, atol: float = 1e-12,
              log: Callable[[str], None] = print) -> tuple[runner.RunOutcome, list[Difference]]:
    """Re-execute an archived run from its recorded parameter file and snapshot into a new run, and
    compare the numbers. Relative paths of the archived parameter file resolve against the project
    root the run recorded (:func:`recorded_root`).

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
    outcome = runner.run(archived_params, reports_dir=folder.parent.parent, log=log,
                         reproduces=f"{folder.parent.name}/{folder.name}", root=root)
    return outcome, compare_runs(folder, outcome.folder, rtol=rtol, atol=atol)
