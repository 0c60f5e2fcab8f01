"""Shared fixtures: a small locked project (snapshot + parameter file) built on the fly, one archived run
of it for the whole session, and stub notebooks for the runner's tests."""

from __future__ import annotations

import hashlib
import json
import pickle
import shutil
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from filelock import FileLock

from studylib.data import snapshot

PROJECT_ROOT = Path(__file__).resolve().parent.parent


def tiny_frame(rows: int = 1200, seed: int = 7) -> pd.DataFrame:
    """A small cohort with the demo's columns: ids, split, year, age, sex, outcome and two scores."""
    rng = np.random.default_rng(seed)
    age = rng.integers(50, 95, rows)
    sex = rng.choice(["F", "M"], rows)
    year = rng.choice([1995, 1996, 1997, 1998, 1999], rows, p=[0.2, 0.3, 0.2, 0.15, 0.15])
    risk = 1 / (1 + np.exp(-(-6 + 0.07 * age + 0.3 * (sex == "M"))))
    outcome = (rng.random(rows) < risk).astype(float)
    noise = rng.normal(0, 0.6, rows)
    logit = np.log(risk / (1 - risk))
    split = np.where(year >= 1998, "monitoring", np.where(rng.random(rows) < 0.4, "development", "validation"))
    return pd.DataFrame({
        "person_id": [f"T-{i:05d}" for i in rng.permutation(rows)],
        "sample_year": year.astype("int64"),
        "age": age.astype("int64"),
        "sex": sex,
        "mgus": (rng.random(rows) < 0.02).astype("int64"),
        "death_5y": outcome,
        "split": split,
        "p_v1": 1 / (1 + np.exp(-(logit + rng.normal(0, 1.0, rows)))),
        "p_v2": 1 / (1 + np.exp(-(logit + noise))),
    })


def write_snapshot(folder: Path, frame: pd.DataFrame) -> tuple[str, str]:
    """Write and lock a snapshot; returns (lock hash, model artifact sha256)."""
    folder.mkdir(parents=True, exist_ok=True)
    frame.to_parquet(folder / "data.parquet", index=False)
    (folder / "card.yaml").write_text("name: tiny test snapshot\nsource: SYNTHETIC test data\n")
    artifact = folder / "model.json"
    artifact.write_text(json.dumps({"name": "tiny", "coefficients": [1, 2]}))
    return snapshot.lock(folder), hashlib.sha256(artifact.read_bytes()).hexdigest()


def tiny_params(lock: str, artifact: str) -> dict:
    return {
        "study": {"id": "tiny", "title": "Tiny test study", "intended_use": "tests only"},
        "snapshot": {"path": "snapshots/tiny", "lock": lock},
        "data": {"id": "person_id", "outcome": "death_5y", "split": "split", "time": "sample_year"},
        "models": {
            "candidate": {"score": "p_v2", "name": "tiny", "version": "2", "artifact_sha256": artifact},
            "baseline": {"score": "p_v1", "name": "tiny", "version": "1", "artifact_sha256": artifact},
        },
        "cohort": [
            {"id": "I1", "label": "Not development", "keep": {"column": "split", "op": "!=", "value": "development"}},
            {"id": "E1", "label": "MGUS", "drop": {"column": "mgus", "op": "==", "value": 1}},
        ],
        "analysis": {"threshold": 0.3, "split": "validation", "seed": 1, "n_bootstrap": 200},
        "acceptance": [
            {"id": "AC-1", "metric": "auroc", "bound": "lower", "at_least": 0.5},
            {"id": "AC-2", "metric": "auroc", "versus": "baseline", "non_inferiority_margin": 0.05},
        ],
        "subgroups": {"variables": [{"name": "sex", "column": "sex"},
                                    {"name": "age_band", "column": "age", "cut": [50, 70, 120]}],
                      "min_positives": 5, "min_negatives": 5,
                      "gates": [{"id": "SG-1", "metric": "auroc", "bound": "lower", "at_least": 0.5}]},
        "drift": {"reference": {"column": "sample_year", "values": [1995, 1996, 1997]},
                  "windows": {"column": "sample_year", "each": 1},
                  "triggers": [{"id": "TR-1", "statistic": "psi", "of": "score", "above": 0.25, "in": "any_window",
                                "action": "investigate"}]},
    }


@pytest.fixture
def tiny_project(tmp_path) -> Path:
    """A project folder with params/tiny.yaml and a locked snapshots/tiny; returns the params file."""
    return make_project(tmp_path)


# --------------------------------------------------------------------------------------------------
# Runs: one archived run of the tiny project for the whole session, and stub notebooks for runner tests
# --------------------------------------------------------------------------------------------------

#: Notebooks for the runner's tests, not tests themselves (nbval would otherwise execute them).
collect_ignore = ["stub_notebooks"]

#: Stub notebooks with the four stage file names and parameters (``runner.run(..., notebooks=STUB_NOTEBOOKS)``):
#: real cohort steps and input checks, canned estimates, no tables or figures; a ``stub.json`` in the project
#: root makes a stage sleep or raise (see the notebooks).
STUB_NOTEBOOKS = Path(__file__).resolve().parent / "stub_notebooks"

#: What the session run adds to the tiny project for the tests that read it: markup in the title; a site
#: whose analysed rows hold exactly SMALL_POSITIVES positives and SMALL_NEGATIVES negatives (below the
#: small-cell threshold), a subgroup variable alone and crossed with sex; error analysis by sex and age;
#: and an acceptance criterion that fails (AC-3).
MARKUP_TITLE = 'Tiny <script>alert("x")</script> & study'
SMALL_SITE, SMALL_POSITIVES, SMALL_NEGATIVES = "S9", 3, 6


def make_project(root: Path, frame: pd.DataFrame | None = None, change=lambda params: None) -> Path:
    """A project folder ``root`` with a locked ``snapshots/tiny`` of ``frame`` (default :func:`tiny_frame`)
    and ``params/tiny.yaml`` (:func:`tiny_params`, edited in place by ``change``); returns the params file."""
    lock, artifact = write_snapshot(root / "snapshots" / "tiny", tiny_frame() if frame is None else frame)
    data = tiny_params(lock, artifact)
    change(data)
    (root / "params").mkdir(parents=True, exist_ok=True)
    params_file = root / "params" / "tiny.yaml"
    params_file.write_text(yaml.safe_dump(data, sort_keys=False))
    return params_file


def notebooks_with(folder: Path, *real: str) -> Path:
    """A notebooks folder for ``runner.run(..., notebooks=...)``: the stages named in ``real`` (e.g.
    ``"01_cohort.ipynb"``) are the package's notebooks, the others stubs."""
    from studylib.run import runner

    folder.mkdir(parents=True, exist_ok=True)
    for _, name in runner.STAGES:
        shutil.copyfile((runner.NOTEBOOK_DIR if name in real else STUB_NOTEBOOKS) / name, folder / name)
    return folder


def stub_run_command(params_file: Path, notebooks: Path = STUB_NOTEBOOKS) -> list[str]:
    """A command line that runs a study through the runner with ``notebooks`` in a process of its own,
    logging as ``studylib run`` does (to stderr) and exiting with the run's exit code."""
    code = ("import sys\nfrom pathlib import Path\nfrom studylib.run import runner\n"
            "outcome = runner.run(sys.argv[1], notebooks=Path(sys.argv[2]), log=lambda m: print(m, file=sys.stderr, flush=True))\n"
            "sys.exit(outcome.exit_code)")
    return [sys.executable, "-c", code, str(params_file), str(notebooks)]


def _session_frame(frame: pd.DataFrame) -> pd.DataFrame:
    frame = frame.copy()
    frame["site"] = np.random.default_rng(4).choice(["S1", "S2"], len(frame))
    analysed = (frame.split == "validation") & (frame.mgus == 0)
    pos = frame.index[analysed & (frame.death_5y == 1)][:SMALL_POSITIVES]
    neg = frame.index[analysed & (frame.death_5y == 0)][:SMALL_NEGATIVES]
    frame.loc[pos.union(neg), "site"] = SMALL_SITE
    frame.loc[~analysed & (frame.site == SMALL_SITE), "site"] = "S1"
    return frame


def _session_params(data: dict) -> None:
    data["study"]["title"] = MARKUP_TITLE
    data["subgroups"]["variables"].append({"name": "site", "column": "site"})
    data["subgroups"]["intersections"] = [["sex", "site"]]
    data["subgroups"]["gates"].append({"id": "SG-2", "metric": "sensitivity", "bound": "lower", "at_least": 0.1})
    data["analysis"]["error_analysis"] = {"variables": ["sex", "age"]}
    data["acceptance"].append({"id": "AC-3", "metric": "auroc", "bound": "lower", "at_least": 0.99})


@dataclass(frozen=True)
class ArchivedRun:
    """A study run archived in a project folder: its parameter file and the runner's outcome."""

    params_file: Path
    outcome: object  # studylib.run.runner.RunOutcome

    @property
    def root(self) -> Path:
        return self.params_file.parent.parent

    @property
    def folder(self) -> Path:
        return self.outcome.folder


@pytest.fixture(scope="session")
def archived_run(tmp_path_factory, worker_id) -> ArchivedRun:
    """The tiny project (with the additions above) run once with the real notebooks.

    Read its files only; a test that changes anything copies the project first (``shutil.copytree(
    archived_run.root, ...)``).
    """
    from studylib.run import runner

    def make() -> ArchivedRun:
        params_file = make_project(tmp_path_factory.mktemp("archived"), _session_frame(tiny_frame()), _session_params)
        outcome = runner.run(params_file, log=lambda m: None)
        assert [s.status for s in outcome.stages] == ["ok"] * 4, [s.error for s in outcome.stages]
        return ArchivedRun(params_file, outcome)

    return _made_once(tmp_path_factory, worker_id, "archived_run", make)


@dataclass(frozen=True)
class Reproduction:
    """``studylib reproduce`` of the session run, in a copy of its project."""

    root: Path  # the copy
    original: Path  # the session run's folder in the copy
    reproduced: Path  # the new run's folder
    exit_code: int
    output: str


@pytest.fixture(scope="session")
def reproduced_run(archived_run, tmp_path_factory, worker_id) -> Reproduction:
    """The session run re-executed once by ``studylib reproduce`` (a second real run of the same study)."""
    from click.testing import CliRunner

    from studylib.cli import main

    def make() -> Reproduction:
        root = tmp_path_factory.mktemp("reproduced") / "project"
        shutil.copytree(archived_run.root, root)
        original = root / archived_run.folder.relative_to(archived_run.root)
        result = CliRunner().invoke(main, ["reproduce", str(original)])
        new = [p for p in original.parent.iterdir() if p.is_dir() and p != original]
        assert len(new) == 1, result.output
        return Reproduction(root, original, new[0], result.exit_code, result.output)

    return _made_once(tmp_path_factory, worker_id, "reproduced_run", make)


@pytest.fixture(scope="session")
def wheel(tmp_path_factory, worker_id) -> Path:
    """A wheel of studylib built from a copy of the sources (:func:`tests.installed.build_wheel`)."""
    from tests import installed

    return _made_once(tmp_path_factory, worker_id, "wheel", lambda: installed.build_wheel(
        tmp_path_factory.mktemp("source"), tmp_path_factory.mktemp("wheel")))


@pytest.fixture(scope="session")
def installed(wheel, tmp_path_factory, worker_id) -> Path:
    """A fresh venv holding the wheel, not editable (:func:`tests.installed.install`)."""
    from tests import installed as installing

    return _made_once(tmp_path_factory, worker_id, "installed",
                      lambda: installing.install(wheel, tmp_path_factory.mktemp("venv")))


@dataclass(frozen=True)
class InstalledRun:
    """``studylib run /abs/params/tiny.yaml --reports-dir REPORTS`` of the markup-injection project
    (:mod:`tests.markup`), run by the installed package's ``studylib`` from a folder outside the project."""

    environment: Path  # the venv
    project: Path  # the project root (params/, snapshots/)
    params_file: Path
    elsewhere: Path  # the working folder of the command
    reports: Path
    returncode: int
    stdout: str
    stderr: str

    @property
    def folder(self) -> Path:
        """The run folder (the only run in ``reports``)."""
        (run,) = [p.parent for p in self.reports.glob("*/*/manifest.json")]
        return run


@pytest.fixture(scope="session")
def installed_run(installed, tmp_path_factory, worker_id) -> InstalledRun:
    """The suite's run of the installed package, of the markup-injection project: one run serves the
    installed-package test (``tests/test_install.py``) and the page checks of ``tests/report/test_injection.py``.

    A "studylib" kernel registered for another environment is visible (as `make demo` leaves one in a
    project's .venv); it starts an interpreter that does not exist, so the run fails if it is used."""
    import os
    import subprocess

    from tests import installed as installing
    from tests import markup

    def make() -> InstalledRun:
        top = tmp_path_factory.mktemp("installed-run")
        elsewhere, reports = top / "elsewhere", top / "reports"
        elsewhere.mkdir()
        installing.register_studylib_kernel(top / "jupyter", str(top / "other-venv" / "bin" / "python"))
        params_file = markup.make_project(top / "project").resolve()
        command = installed / ("Scripts/studylib.exe" if os.name == "nt" else "bin/studylib")
        done = subprocess.run([str(command), "run", str(params_file), "--reports-dir", str(reports)], cwd=elsewhere,
                              env=installing.jupyter_env(top / "jupyter"), capture_output=True, text=True,
                              timeout=1800)
        return InstalledRun(installed, top / "project", params_file, elsewhere, reports, done.returncode,
                            done.stdout, done.stderr)

    return _made_once(tmp_path_factory, worker_id, "installed_run", make)


def _made_once(tmp_path_factory, worker_id: str, name: str, make):
    """A session value made once for the whole test session, also under pytest-xdist (``make test`` runs
    ``-n 2 --dist loadfile``): the first worker makes it under a file lock and leaves it pickled in the
    session's shared temporary folder; the others read it (pytest-xdist's documented pattern)."""
    if worker_id == "master":  # no xdist
        return make()
    shared = tmp_path_factory.getbasetemp().parent  # one folder per session, shared by its workers
    stored = shared / f"{name}.pickle"
    with FileLock(str(stored) + ".lock"):
        if stored.is_file():
            return pickle.loads(stored.read_bytes())
        value = make()
        stored.write_bytes(pickle.dumps(value))
        return value
