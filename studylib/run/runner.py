"""Running a study: validate, execute the four stage notebooks with Papermill, render, archive.

The run executes in a staging folder ``.studylib-staging/<run-id>/`` beside ``reports/`` (same file
system), and whatever the outcome ends as ``reports/<study-id>/<run-id>/`` by one atomic rename: the
executed notebooks, their HTML renderings (full, and reviewer without code), the results JSON of every
stage, ``index.html`` and ``manifest.json``. Bad input (exit 2) archives nothing; Ctrl-C removes the
staging folder; a staging folder left by a killed run is removed on the next start.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import secrets
import shutil
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from studylib.run import environment
from studylib.evidence import results as evidence
from studylib.judge import gates
from studylib.evidence import ledger
from studylib.evidence import sbom
from studylib import plan
from studylib.run import preflight
from studylib.run import pages
from studylib.data import snapshot
from studylib.data.hashing import sha256_file

NOTEBOOK_DIR = Path(__file__).resolve().parent.parent / "notebooks"
STAGES = (
    ("cohort", "01_cohort.ipynb"),
    ("evaluation", "02_evaluation.ipynb"),
    ("subgroups", "03_subgroups.ipynb"),
    ("drift", "04_drift.ipynb"),
)
STAGING = ".studylib-staging"
TEMPLATES = Path(__file__).resolve().parent.parent / "report" / "templates"
RESTRICTED_TAG = "restricted"
EXIT_PASS, EXIT_GATE, EXIT_INPUT, EXIT_STAGE = 0, 1, 2, 3


@dataclass
class StageRecord:
    """What happened to one stage of a run."""

    name: str
    notebook: str
    status: str = "not run"  # ok | error | skipped | not run
    seconds: float = 0.0
    error: str = ""


@dataclass
class RunOutcome:
    """The result of :func:`run`."""

    run_id: str
    folder: Path
    verdict: str  # PASS | FAIL | INSUFFICIENT_EVIDENCE | ERROR
    exit_code: int
    stages: list[StageRecord] = field(default_factory=list)
    reproduces: str | None = None  # run key of the run this one re-executes

    @property
    def index(self) -> Path:
        return self.folder / "index.html"


def new_run_id(now: dt.datetime | None = None) -> str:
    """A sortable, unique run id: UTC time plus 6 random hex digits, e.g. ``20261123T121500Z-a1b2c3``."""
    now = now or dt.datetime.now(dt.timezone.utc)
    return now.strftime("%Y%m%dT%H%M%SZ") + "-" + secrets.token_hex(3)


def kernel_name() -> str:
    """The Jupyter kernel the stage notebooks run in: one that starts this interpreter.

    "studylib" (registered by ``make demo``, named in the notebooks' metadata) when its kernel spec
    starts this interpreter; else "python3", the kernel ipykernel provides, which jupyter_client starts
    with this interpreter. So a plain ``pip install studylib`` runs studies without registering a
    kernel, and a "studylib" kernel registered for another environment is never used.
    """
    from jupyter_client.kernelspec import KernelSpecManager, NoSuchKernel

    try:
        argv = KernelSpecManager().get_kernel_spec("studylib").argv
    except NoSuchKernel:
        return "python3"
    return "studylib" if argv and _starts_this_interpreter(argv[0]) else "python3"


def _starts_this_interpreter(executable: str) -> bool:
    """Whether a kernel spec's ``argv[0]`` is this interpreter: a bare ``python``/``python3``/``python3.X``
    (jupyter_client substitutes ``sys.executable``), or the same binary in this interpreter's ``bin``
    folder (a virtual environment's ``python`` and ``python3`` both qualify; another venv's do not)."""
    if executable in {"python", f"python{sys.version_info[0]}", "python{}.{}".format(*sys.version_info[:2])}:
        return True
    here = os.path.abspath(sys.executable)
    there = os.path.abspath(executable)
    return os.path.dirname(there) == os.path.dirname(here) and os.path.realpath(there) == os.path.realpath(here)


def prepare(params_file: str | Path, *, root: str | Path | None = None) -> tuple[plan.Study, snapshot.Snapshot]:
    """Validate the parameter file and verify the snapshot; raises StudyInputError (exit 2).

    ``root``: the project root relative paths resolve against (default: found from the file).
    """
    study = plan.load(params_file, root=root)
    snap = snapshot.verify(study.snapshot_path, study.snapshot.lock)
    preflight.check(study, snap)
    return study, snap


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def clean_stale_staging(staging_root: Path, log: Callable[[str], None]) -> None:
    """Remove staging folders of runs whose process no longer exists (killed runs)."""
    if not staging_root.is_dir():
        return
    for folder in staging_root.iterdir():
        owner = folder / ".owner"
        try:
            pid = int(owner.read_text().strip())
        except (OSError, ValueError):
            pid = -1
        if pid <= 0 or not _pid_alive(pid):
            shutil.rmtree(folder, ignore_errors=True)
            log(f"removed the staging folder of an interrupted run: {folder}")


def _quiet_kernel_manager():
    """A kernel manager whose kernels log only critical messages on stderr.

    ipykernel >= 7 warns on every start that the local TCP transport is unencrypted; the kernel runs
    on the loopback interface of this machine for the duration of one stage, so the warning is noise
    in a pipeline log, as is the "KeyboardInterrupt caught" logged when nbclient interrupts an idle
    kernel at shutdown. A kernel that dies is still reported by nbclient (DeadKernelError).
    """
    from jupyter_client.manager import AsyncKernelManager

    class QuietKernelManager(AsyncKernelManager):
        def format_kernel_cmd(self, extra_arguments=None):
            return super().format_kernel_cmd(extra_arguments) + ["--IPKernelApp.log_level=CRITICAL"]

    return QuietKernelManager


def _execute(notebook: Path, output: Path, parameters: dict, cwd: Path, kernel: str) -> None:
    import papermill

    papermill.execute_notebook(
        str(notebook), str(output), parameters=parameters, kernel_name=kernel, cwd=str(cwd),
        progress_bar=False, log_output=False, request_save_on_cell_execute=False,
        kernel_manager_class=_quiet_kernel_manager(),
    )


def _render(executed: list[Path], folder: Path) -> list[Path]:
    """Render each executed notebook twice: full HTML and reviewer HTML (no code cells)."""
    import nbformat
    from nbconvert import HTMLExporter

    from nbconvert.preprocessors import TagRemovePreprocessor

    options = {"template_name": "studylib", "extra_template_basedirs": [str(TEMPLATES)]}
    full = HTMLExporter(**options)
    reviewer = HTMLExporter(**options, exclude_input=True, exclude_input_prompt=True, exclude_output_prompt=True)
    # cells tagged "restricted" (e.g. unsuppressed small counts) appear in the full rendering only
    reviewer.register_preprocessor(TagRemovePreprocessor(remove_cell_tags={RESTRICTED_TAG}), enabled=True)
    written = []
    for path in executed:
        nb = nbformat.read(path, as_version=4)
        for exporter, suffix in ((full, ".full.html"), (reviewer, ".reviewer.html")):
            body, _ = exporter.from_notebook_node(nb, resources={"metadata": {"name": path.stem}})
            target = folder / (path.stem + suffix)
            target.write_text(body, encoding="utf-8")
            written.append(target)
    return written


def _empty_cohort_reason(staging: Path) -> str:
    """Why the later stages cannot run: the cohort stage froze an empty cohort (its gate fails)."""
    recorded = evidence.read(staging, "cohort") or {}
    if recorded.get("cohort_rows", 1) > 0:
        return ""
    step = recorded.get("emptied_by")
    return f"the analysis cohort is empty (emptied by step {step})" if step else "the analysis cohort is empty"


def _stage_error(exc: BaseException) -> str:
    name = getattr(exc, "ename", type(exc).__name__)
    value = getattr(exc, "evalue", str(exc))
    return f"{name}: {value}".strip()


def run(params_file: str | Path, *, reports_dir: str | Path | None = None, notebooks: Path = NOTEBOOK_DIR,
        log: Callable[[str], None] = print, reproduces: str | None = None,
        root: str | Path | None = None) -> RunOutcome:
    """Run a whole study and archive it. See the module docstring; exit codes in :class:`RunOutcome`.

    ``root`` is the project root relative paths of the parameter file resolve against (default:
    found from the file); the stage notebooks get the same root.

    Raises
    ------
    StudyInputError
        Bad parameters or a snapshot that does not match its lock (nothing is executed or archived).
    """
    started = time.perf_counter()
    study, snap = prepare(params_file, root=root)
    reports = Path(reports_dir) if reports_dir else study.root / "reports"
    if not reports.is_absolute():
        reports = Path.cwd() / reports
    staging_root = reports.parent / STAGING
    clean_stale_staging(staging_root, log)
    run_id = new_run_id()
    staging = staging_root / run_id
    (staging / "notebooks").mkdir(parents=True)
    (staging / ".owner").write_text(str(os.getpid()))
    started_at = dt.datetime.now(dt.timezone.utc)
    try:
        shutil.copyfile(study.source, staging / "params.yaml")
        card = next((snap.path / n for n in snapshot.CARD_NAMES if (snap.path / n).is_file()), None)
        if card is not None:
            shutil.copyfile(card, staging / ("snapshot-card" + card.suffix))
        log(f"studylib run {study.study.id} · run {run_id}")
        kernel = kernel_name()
        records = [StageRecord(name, nb) for name, nb in STAGES]
        executed = []
        failed, skip_reason = False, ""
        for number, record in enumerate(records, start=1):
            if failed:
                continue
            if skip_reason:
                record.status, record.error = "skipped", skip_reason
                log(f"  [{number}/{len(records)}] {record.name:<11} skipped  ({skip_reason})")
                continue
            output = staging / "notebooks" / record.notebook
            t0 = time.perf_counter()
            try:
                parameters = {"study_file": str(study.source), "project_root": str(study.root), "run_dir": str(staging)}
                _execute(notebooks / record.notebook, output, parameters, study.root, kernel)
                record.status = "ok"
            except Exception as exc:  # the stage raised: archive the failed notebook, stop the run
                record.status, record.error, failed = "error", _stage_error(exc), True
            record.seconds = round(time.perf_counter() - t0, 3)
            if output.exists():
                executed.append(output)
            detail = f"  {record.error}" if record.error else ""
            log(f"  [{number}/{len(records)}] {record.name:<11} {record.status:<6} {record.seconds:6.1f} s{detail}")
            if record.name == "cohort" and record.status == "ok":
                skip_reason = _empty_cohort_reason(staging)
        t0 = time.perf_counter()
        _render(executed, staging / "notebooks")
        render_seconds = round(time.perf_counter() - t0, 3)
        if study.source.read_bytes() != (staging / "params.yaml").read_bytes():
            raise RuntimeError(f"{study.source} changed while the study was running; the run is void")
        all_gates = [g for stage, _ in STAGES for g in (evidence.read(staging, stage) or {}).get("gates", [])]
        verdict = "ERROR" if failed else gates.overall(all_gates)
        exit_code = EXIT_STAGE if failed else (EXIT_PASS if verdict == gates.PASS else EXIT_GATE)
        outcome = RunOutcome(run_id, reports / study.study.id / run_id, verdict, exit_code, records, reproduces)
        (staging / "verdict.json").write_text(evidence.dumps({"verdict": verdict, "exit_code": exit_code,
                                                             "gates": all_gates}), encoding="utf-8")
        env = environment.describe()  # git commit, packages, platform: for the index and the manifest
        sbom.write(staging, studylib_version=env["packages"]["studylib"])  # hashed in the manifest below
        pages.write_index(staging, study, snap, outcome, all_gates, env)
        pages.write_checklist(staging, study)
        timings = {r.name: r.seconds for r in records} | {"render": render_seconds,
                                                          "total": round(time.perf_counter() - started, 3)}
        _write_manifest(staging, study, snap, outcome, started_at, timings, env)
        (staging / ".owner").unlink()
        outcome.folder.parent.mkdir(parents=True, exist_ok=True)
        os.rename(staging, outcome.folder)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    ledger.append(ledger.ledger_path(reports), {
        "kind": "run", "run": f"{study.study.id}/{run_id}", "study_id": study.study.id, "verdict": verdict,
        "exit_code": exit_code, "manifest_sha256": "sha256:" + sha256_file(outcome.folder / "manifest.json"),
    })
    pages.write_archive_index(reports)
    return outcome


def _write_manifest(folder: Path, study: plan.Study, snap: snapshot.Snapshot, outcome: RunOutcome,
                    started_at: dt.datetime, timings: dict, env: dict) -> None:
    files = {
        p.relative_to(folder).as_posix(): {"sha256": sha256_file(p), "bytes": p.stat().st_size}
        for p in sorted(folder.rglob("*")) if p.is_file() and p.name not in ("manifest.json", ".owner")
    }
    models = {role: m.model_dump() | {"artifact": snap.file_with_sha256(m.artifact_sha256)}
              for role, m in (("candidate", study.models.candidate), ("baseline", study.models.baseline)) if m}
    manifest = {
        "format": "studylib-run/1",
        "run_id": outcome.run_id,
        "study_id": study.study.id,
        "verdict": outcome.verdict,
        "exit_code": outcome.exit_code,
        "started_at": started_at.isoformat(timespec="seconds"),
        "finished_at": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        "params": {"source": str(study.source), "file": "params.yaml", "sha256": study.sha256},
        "project_root": str(study.root),
        "reproduces": outcome.reproduces,
        "snapshot": {"path": str(snap.path), "lock": snap.lock},
        "models": models,
        "stages": [{"name": r.name, "notebook": r.notebook, "status": r.status, "seconds": r.seconds,
                    "error": r.error} for r in outcome.stages],
        "timings_seconds": timings,
        "environment": env,
        "command": " ".join(sys.argv),
        "files": files,
    }
    evidence.write_text_atomically(folder / "manifest.json", json.dumps(manifest, indent=2, sort_keys=True) + "\n")

