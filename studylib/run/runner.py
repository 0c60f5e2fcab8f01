"""Running a study: validate, execute the four stage notebooks with Papermill, render, archive.

The run executes in a staging folder ``.studylib-staging/<run-id>/`` beside ``reports/`` (same file
system), and whatever the outcome ends as ``reports/<study-id>/<run-id>/`` by one atomic rename: the
executed notebooks, their HTML renderings (full, and reviewer without code), the results JSON of every
stage, ``index.html`` and ``manifest.json``. Bad input (exit 2) archives nothing; Ctrl-C removes the
staging folder. Before any kernel starts, the reports and staging folders must be writable with room
for the run and the ledger healthy (:func:`preflight.check_archive`, exit 2). The run's ledger entry
is appended before the rename, and the staging folder is locked by its process
(:mod:`studylib.evidence.staging`): on the next start a staging folder left by a stopped process is
moved into place when the ledger records it, else removed. A failure to write the archive (disk full,
permissions) after the stages ran raises :class:`ArchivingFailed` (exit 4, never 1).
"""

from __future__ import annotations

import datetime as dt
import json
import os
import secrets
import shutil
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from concurrent.futures import FIRST_COMPLETED, ThreadPoolExecutor, wait

from studylib.run import environment
from studylib.evidence import results as evidence
from studylib.judge import gates, suppression
from studylib.evidence import ledger
from studylib.evidence import staging
from studylib.evidence import sbom
from studylib import plan
from studylib.run import kernel_server, planning, preflight
from studylib.run.stages import NOTEBOOK_DIR, STAGES, WARM_UPS, stage_notebooks
from studylib.run import rendering
from studylib.run import pages
from studylib.report import pages as report_pages
from studylib.run import pdf as report_pdf
from studylib.data import snapshot
from studylib.data.hashing import sha256_file

STAGING = staging.STAGING
EXIT_PASS, EXIT_GATE, EXIT_INPUT, EXIT_STAGE, EXIT_ENVIRONMENT = 0, 1, 2, 3, 4


class ArchivingFailed(OSError):
    """The run could not be recorded or moved into ``reports/`` (disk full, permissions): exit 4."""


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
    ledger_head: str = ""  # the ledger's head after this run was recorded (keep it outside reports/)
    gates: list[dict] = field(default_factory=list)  # every judged gate, as verdict.json records them

    @property
    def index(self) -> Path:
        return self.folder / "index.html"

    @property
    def blocking(self) -> list[dict]:
        """The gates that hold the release back, failures first, each with a one-line reason
        (:func:`studylib.report.pages.blocking`)."""
        return report_pages.blocking(self.gates)


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


def prepare(params_file: str | Path, *, root: str | Path | None = None,
            engine: str | None = None) -> tuple[plan.Study, snapshot.Snapshot]:
    """Validate the parameter file and verify the snapshot (and the monitoring source with its engine,
    ``engine`` overriding the plan's); raises StudyInputError (exit 2).

    ``root``: the project root relative paths resolve against (default: found from the file).
    """
    study = plan.load(params_file, root=root)
    snap = snapshot.verify(study.snapshot_path, study.snapshot.lock)
    preflight.check(study, snap)
    preflight.check_monitoring(study, engine)
    return study, snap


def clean_stale_staging(reports: Path, log: Callable[[str], None]) -> None:
    """Finish or remove the staging folders of runs whose process stopped (:func:`staging.sweep`)."""
    staging.sweep(reports, log)


def _quiet_kernel_manager(started: list | None = None, cancelled: threading.Event | None = None,
                          server: "kernel_server.KernelServer | None" = None):
    """A kernel manager whose kernels log only critical messages on stderr; each manager made is appended
    to ``started`` (so that the runner can stop a stage's kernel, :func:`_stop_kernels`).

    Once ``cancelled`` is set (Ctrl-C) no kernel starts, and a kernel whose start was under way is killed
    as soon as its process exists: the runner kills the kernels it can see when it sets the event, and a
    kernel launched a moment later (its process not yet in ``started``) kills itself here, so no stage
    keeps running after an interrupt.

    ipykernel >= 7 warns on every start that the local TCP transport is unencrypted; the kernel runs
    on the loopback interface of this machine for the duration of one stage, so the warning is noise
    in a pipeline log, as is the "KeyboardInterrupt caught" logged when nbclient interrupts an idle
    kernel at shutdown. A kernel that dies is still reported by nbclient (DeadKernelError).

    With a kernel ``server`` (:mod:`studylib.run.kernel_server`) the kernel is forked by it, its modules
    already imported.
    """
    from jupyter_client.manager import AsyncKernelManager

    class QuietKernelManager(AsyncKernelManager):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            if started is not None:
                started.append(self)

        def format_kernel_cmd(self, extra_arguments=None):
            return super().format_kernel_cmd(extra_arguments) + ["--IPKernelApp.log_level=CRITICAL"]

        async def start_kernel(self, **kwargs):
            if cancelled is not None and cancelled.is_set():
                raise RuntimeError("the run was interrupted before this stage's kernel started")
            if server is not None and self.provisioner is None:
                self.provisioner = kernel_server.provisioner(self, server)
            await super().start_kernel(**kwargs)
            if cancelled is not None and cancelled.is_set():
                _stop_kernels([self])

    return QuietKernelManager


def _execute(notebook: Path, output: Path, parameters: dict, cwd: Path, kernel: str,
             started: list | None = None, cancelled: threading.Event | None = None,
             server: "kernel_server.KernelServer | None" = None) -> None:
    import papermill

    # the kernel starts in ``cwd`` (nbclient's resources path): papermill's own ``cwd=`` changes the working
    # directory of this whole process, which stages executing at once in threads would race on
    try:
        papermill.execute_notebook(
            str(notebook), str(output), parameters=parameters, kernel_name=kernel,
            progress_bar=False, log_output=False, request_save_on_cell_execute=False,
            kernel_manager_class=_quiet_kernel_manager(started, cancelled, server),
            resources={"metadata": {"path": str(cwd)}},
        )
    finally:  # a failed stage's notebook is archived too
        if output.is_file():
            _relative_papermill_paths(output, cwd)


def _relative_papermill_paths(executed: Path, root: Path) -> None:
    """Record the notebook's input and output paths in Papermill's metadata relative to the project root
    (the parameters already are): no executed notebook holds an absolute path of the project or of the
    staging folder. An input notebook outside the project (an installed package) keeps its path."""
    import nbformat

    nb = nbformat.read(executed, as_version=4)
    meta = nb.metadata.get("papermill", {})
    for key in ("input_path", "output_path"):
        value = meta.get(key)
        if isinstance(value, str) and value and Path(value).resolve().is_relative_to(Path(root).resolve()):
            meta[key] = _relative(value, root)
    nbformat.write(nb, executed)


def _stop_kernels(managers: list) -> None:
    """Kill the kernels of a stage that is still executing: nbclient then ends it (DeadKernelError)."""
    for manager in list(managers):
        process = getattr(getattr(manager, "provisioner", None), "process", None)
        if process is not None and process.poll() is None:
            process.kill()


class _Reports:
    """Renders and finishes the two reports of each stage as it ends (:mod:`studylib.run.rendering`): in
    processes forked by the run's kernel server when there is one (both reports at once, while the runner
    goes on with the next stage that ends), else in this process.

    :meth:`start` a stage's reports, :meth:`wait` for all of them before the run's pages are written, or
    :meth:`stop` them (Ctrl-C, a failure): nothing writes into the run folder after that. ``seconds``: the
    time spent on each report, added up. :meth:`warm_up` prepares, in a thread while the cohort stage
    executes, what this process will need: the summary page's plots (drawn last, by the runner), and
    without a server nbconvert and its templates (with one, the server prepares them once, before its
    first rendering).
    """

    FUNCTION = "studylib.run.rendering:render_report"

    def __init__(self, staging: Path, study: plan.Study, run_id: str, total: int,
                 server: "kernel_server.KernelServer | None"):
        self.seconds = 0.0
        self._server = server
        # the study is read again from the run's copy of the parameter file (a forked call takes plain values)
        self._given = [str(staging), str(staging / "params.yaml"), str(study.root), run_id]
        self._total = total
        self._cwd = str(study.root)
        self._running: list = []

    def warm_up(self) -> None:
        def prepare() -> None:
            if self._server is None:
                rendering.warm_up()
            import studylib.report.plots.figures  # noqa: F401
            import studylib.report.plots.summary  # noqa: F401

        threading.Thread(target=prepare, name="render-warm-up", daemon=True).start()

    def start(self, record: StageRecord, number: int) -> None:
        args = [*self._given, record.name, record.notebook, number, self._total]
        for variant in rendering.VARIANTS:
            call = self._server.call(self.FUNCTION, [*args, variant], self._cwd) if self._server else None
            if call is None:  # no server (or it is gone): here, now
                self.seconds += rendering.render_report(*args, variant)
            else:
                self._running.append(call)

    def wait(self) -> None:
        while self._running:
            self.seconds += self._running[0].result()
            self._running.pop(0)

    def stop(self) -> None:
        for call in self._running:
            call.kill()
        self._running.clear()


def _discard(staging: Path, record: StageRecord) -> None:
    """Remove what a stage that is recorded as "not run" wrote: its notebook, renderings, results, figures."""
    stem = Path(record.notebook).stem
    leftovers = [*(staging / "notebooks").glob(stem + ".*"), *(staging / "results").glob(record.name + ".*"),
                 *(staging / "figures").glob(record.name + "_*")]
    for path in leftovers:
        path.unlink(missing_ok=True)


def _run_stages(records: list[StageRecord], notebooks: Path, staging: Path, study: plan.Study, kernel: str,
                log: Callable[[str], None], engine: str | None = None, run_id: str = "",
                server: "kernel_server.KernelServer | None" = None) -> tuple[bool, float]:
    """Execute the stage notebooks and render each; returns (a stage raised, seconds spent rendering).

    The cohort stage runs first; the later stages only read the cohort it froze, so they run at once,
    each in a kernel of its own (Papermill in a thread per stage), and each executed notebook is rendered
    and its report finished (:func:`studylib.run.pages.finish_stage_report`) while the others still run.
    A progress line is logged as each stage ends. The records are those of running the stages one after
    another: when a stage raises, the stages after it (in stage order) are stopped or discarded and
    recorded "not run"; an empty cohort skips the later stages.

    (Starting the later stages' kernels with the cohort stage, to import their modules meanwhile, was
    measured on two cores: the cohort stage slowed by as much as the later stages gained.)
    """

    parameters = {"study_file": _relative(study.source, study.root), "project_root": ".",
                  "run_dir": _relative(staging, study.root)}  # the kernel starts in the project root
    render = _Reports(staging, study, run_id, len(records), server)
    kernels: dict[str, list] = {r.name: [] for r in records}
    interrupted = threading.Event()
    total = len(records)

    def execute(record: StageRecord) -> StageRecord:
        output = staging / "notebooks" / record.notebook
        t0 = time.perf_counter()
        if interrupted.is_set():  # Ctrl-C came while this stage's thread was starting
            record.status, record.error = "not run", "interrupted"
            return record
        try:
            given = {**parameters, "engine": engine} if engine and record.name == "drift" else parameters
            _execute(notebooks / record.notebook, output, given, study.root, kernel, kernels[record.name],
                     interrupted, server)
            record.status = "ok"
        except Exception as exc:  # the stage raised: archive the failed notebook, stop the run
            record.status, record.error = "error", _stage_error(exc)
        record.seconds = round(time.perf_counter() - t0, 3)
        return record

    def logged(record: StageRecord) -> StageRecord:
        number = records.index(record) + 1
        detail = f"  {record.error}" if record.error else ""
        log(f"  [{number}/{total}] {record.name:<11} {record.status:<6} {record.seconds:6.1f} s{detail}")
        return record

    def rendered(record: StageRecord) -> None:
        if (staging / "notebooks" / record.notebook).exists():
            render.start(record, records.index(record) + 1)

    first, later = records[0], records[1:]
    render.warm_up()  # while the cohort stage executes
    try:
        stopped = _execute_all(first, later, records, execute, logged, rendered, kernels, interrupted, log, staging,
                               server)
        render.wait()  # before anything of a stage is discarded, and before the run's pages are written
    except BaseException:
        render.stop()
        raise
    if stopped is None:  # the later stages did not run
        return first.status != "ok", round(render.seconds, 3)
    failed = next((r for r in later if r.status == "error" and r.name not in stopped), None)
    if failed is not None:
        for record in later[later.index(failed) + 1:]:
            record.status, record.error, record.seconds = "not run", "", 0.0
            _discard(staging, record)
            log(f"  [{records.index(record) + 1}/{total}] {record.name:<11} not run  ({failed.name} raised)")
    return failed is not None, round(render.seconds, 3)


def _execute_all(first: StageRecord, later: list[StageRecord], records: list[StageRecord], execute, logged,
                 rendered, kernels: dict[str, list], interrupted: threading.Event, log: Callable[[str], None],
                 staging: Path, server: "kernel_server.KernelServer | None") -> set[str] | None:
    """:func:`_run_stages` after its set-up: the cohort stage, then the later ones at once, each rendered as it
    ends. Returns the later stages stopped because a stage before them raised, or None when the later stages
    did not run (the cohort stage raised, or its cohort is empty)."""
    total = len(records)
    logged(execute(first))
    skip_reason = _empty_cohort_reason(staging) if first.name == "cohort" and first.status == "ok" else ""
    if first.status != "ok" or skip_reason or not later:
        rendered(first)
        for number, record in enumerate(later, start=2):
            if skip_reason:
                record.status, record.error = "skipped", skip_reason
                log(f"  [{number}/{total}] {record.name:<11} skipped  ({skip_reason})")
        return None
    stopped: set[str] = set()
    with ThreadPoolExecutor(max_workers=len(later), thread_name_prefix="stage") as pool:
        pending = {}
        try:  # submitting starts the threads: a Ctrl-C while one starts must stop it too
            pending.update({pool.submit(execute, record): record for record in later})
            if server is not None:  # the kernel server forks the later kernels before it renders
                _wait_for_kernels(later, kernels, pending)
            rendered(first)  # while the later stages execute
            while pending:
                done, _ = wait(pending, return_when=FIRST_COMPLETED)
                for future in sorted(done, key=lambda f: records.index(pending[f])):
                    record = pending.pop(future)
                    if record.name in stopped:
                        continue
                    rendered(logged(future.result()))
                    if record.status == "error":  # the stages after it would not have run
                        for other in later[later.index(record) + 1:]:
                            stopped.add(other.name)
                            _stop_kernels(kernels[other.name])
        except BaseException:  # Ctrl-C: stop every kernel so that the threads end, then let the run be removed
            interrupted.set()  # before looking: a kernel starting now kills itself (_quiet_kernel_manager)
            for managers in kernels.values():
                _stop_kernels(managers)
            raise
    return stopped


def _wait_for_kernels(records: list[StageRecord], kernels: dict[str, list], running: dict,
                      timeout: float = 30.0) -> None:
    """Wait until each of the stages ``records`` has its kernel process or has ended (``running``: future →
    record), at most ``timeout`` seconds: the kernel server forks the kernels and the renderings in the order
    asked, so the cohort stage's rendering, asked for first, would hold the later stages' kernels back."""
    deadline = time.monotonic() + timeout
    futures = {record.name: future for future, record in running.items()}

    def started(record: StageRecord) -> bool:
        return futures[record.name].done() or any(
            getattr(getattr(manager, "provisioner", None), "process", None) is not None
            for manager in kernels[record.name])

    while not all(started(r) for r in records) and time.monotonic() < deadline:
        time.sleep(0.005)


def _describe_environment(staging: Path) -> dict:
    """The git commit, packages and platform (:func:`studylib.run.environment.describe`), for the index and the
    manifest, and the SBOM of the environment written into ``staging`` (hashed in the manifest)."""
    env = environment.describe()
    sbom.write(staging, studylib_version=env["packages"]["studylib"])
    return env


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
        root: str | Path | None = None, pdf: bool = False, engine: str | None = None) -> RunOutcome:
    """Run a whole study and archive it. See the module docstring; exit codes in :class:`RunOutcome`.

    ``root`` is the project root relative paths of the parameter file resolve against (default:
    found from the file); the stage notebooks get the same root. ``pdf``: also print ``report.pdf``
    (:mod:`studylib.run.pdf`), hashed into the manifest with every other file. ``engine``: the engine
    that reduces the monitoring source, overriding ``monitoring.engine`` (``--engine``).

    Raises
    ------
    StudyInputError
        Bad parameters or a snapshot that does not match its lock (nothing is executed or archived).
    """
    started = time.perf_counter()
    study, snap = prepare(params_file, root=root, engine=engine)
    reports = Path(reports_dir) if reports_dir else study.root / "reports"
    if not reports.is_absolute():
        reports = Path.cwd() / reports
    staging_root = staging.staging_root(reports)
    preflight.check_archive(reports, staging_root, sum(p.stat().st_size for p in snap.parquet_files))
    clean_stale_staging(reports, log)
    run_id = new_run_id()
    with staging.claim(staging_root, run_id) as folder:
        outcome = _run_in(folder, study, snap, run_id, reports, notebooks, log, reproduces, started, pdf=pdf,
                          engine=engine)
    try:
        pages.write_archive_index(reports)
    except OSError as exc:  # the run is archived and recorded; only the convenience page is stale
        log(f"warning: {reports / 'index.html'} could not be rewritten ({exc.strerror or exc}); "
            "`studylib verify --all` regenerates it")
    return outcome


def _run_in(staging: Path, study: plan.Study, snap: snapshot.Snapshot, run_id: str, reports: Path, notebooks: Path,
            log: Callable[[str], None], reproduces: str | None, started: float, *, pdf: bool = False,
            engine: str | None = None) -> RunOutcome:
    """Execute, render and archive one run in its staging folder (whose lock the caller holds); ``pdf``: also
    print ``report.pdf`` before the manifest is written."""
    (staging / "notebooks").mkdir(parents=True)
    started_at = dt.datetime.now(dt.timezone.utc)
    recorded = None
    server = (kernel_server.shared(stage_notebooks(notebooks), warm=WARM_UPS)
              if kernel_server.enabled() else None)  # imports the notebooks' modules while the run is prepared
    side = ThreadPoolExecutor(max_workers=1, thread_name_prefix="describe")
    described = side.submit(_describe_environment, staging)  # while the stages run
    try:
        shutil.copyfile(study.source, staging / "params.yaml")
        card = next((snap.path / n for n in snapshot.CARD_NAMES if (snap.path / n).is_file()), None)
        if card is not None:
            shutil.copyfile(card, staging / ("snapshot-card" + card.suffix))
        log(f"studylib run {study.study.id} · run {run_id}")
        evidence.record(staging, planning.STAGE, planning.plan_results(study))  # pre-registered sizes: counts only
        kernel = kernel_name()
        records = [StageRecord(name, nb) for name, nb in STAGES]
        failed, render_seconds = _run_stages(records, notebooks, staging, study, kernel, log, engine, run_id,
                                             server)
        if study.source.read_bytes() != (staging / "params.yaml").read_bytes():
            raise RuntimeError(f"{study.source} changed while the study was running; the run is void")
        judged = [stage for stage, _ in STAGES] + ["sites"]   # site gates are recorded with the evaluation stage
        all_gates = [g for stage in judged for g in (evidence.read(staging, stage) or {}).get("gates", [])]
        for gate in all_gates:  # the summary page and verdict.json are reviewer-facing: the one small-cell rule
            gate["sentence"] = suppression.suppress_text(gate.get("sentence", ""), study.study.small_cell_threshold)
        verdict = "ERROR" if failed else gates.overall(all_gates)
        exit_code = EXIT_STAGE if failed else (EXIT_PASS if verdict == gates.PASS else EXIT_GATE)
        outcome = RunOutcome(run_id, reports / study.study.id / run_id, verdict, exit_code, records, reproduces,
                             gates=all_gates)
        (staging / "verdict.json").write_text(evidence.dumps({"verdict": verdict, "exit_code": exit_code,
                                                             "gates": all_gates}), encoding="utf-8")
        env = described.result()
        pages.add_trigger_strips(staging, study, outcome, all_gates)
        pages.write_matrix(staging, study, outcome, all_gates)  # before the summary, which links to it
        pages.write_index(staging, study, snap, outcome, all_gates, env)
        pages.write_checklist(staging, study.study.title, pdf=pdf)  # links report.pdf, printed next
        if pdf:
            report_pdf.build(staging, run=f"{study.study.id}/{run_id}", log=log)
        timings = {r.name: r.seconds for r in records} | {"render": render_seconds,
                                                          "total": round(time.perf_counter() - started, 3)}
        _write_manifest(staging, study, snap, outcome, started_at, timings, env, engine)
        # recorded before it is moved into place: a process stopped between the two leaves a staging
        # folder the ledger vouches for, which the next start moves into place (staging.sweep)
        recorded = ledger.append(ledger.ledger_path(reports), {
            "kind": "run", "run": f"{study.study.id}/{run_id}", "study_id": study.study.id, "verdict": verdict,
            "exit_code": exit_code, "manifest_sha256": "sha256:" + sha256_file(staging / "manifest.json"),
        })
        outcome.folder.parent.mkdir(parents=True, exist_ok=True)
        os.rename(staging, outcome.folder)
    except BaseException as exc:
        wait([described])  # it writes into the staging folder: done before the folder is removed
        if recorded is None:
            shutil.rmtree(staging, ignore_errors=True)
            if isinstance(exc, OSError) and not isinstance(exc, ArchivingFailed):
                raise ArchivingFailed(exc.errno, f"the run could not be archived and was discarded: "
                                                 f"{exc.strerror or exc}", exc.filename) from exc
        elif isinstance(exc, OSError):
            raise ArchivingFailed(exc.errno, f"run {recorded['run']} is recorded in the ledger (seq "
                                             f"{recorded['seq']}) but could not be moved into {reports}: "
                                             f"{exc.strerror or exc}; the next `studylib run` or `studylib "
                                             f"recover` moves it from {staging}", exc.filename) from exc
        raise
    finally:
        side.shutdown()
    outcome.ledger_head = recorded["hash"]
    return outcome


def _relative(path: str | Path, start: Path) -> str:
    """``path`` relative to ``start`` (POSIX separators, ``..`` where needed): no run output records an
    absolute path of the machine it ran on."""
    return Path(os.path.relpath(Path(path).resolve(), Path(start).resolve())).as_posix()


def _command(argv: list[str], root: Path) -> str:
    """The command line of the run as the manifest records it: the program by name, and every argument
    that names an existing file or folder relative to the project root."""
    words = [Path(argv[0]).name if argv else ""]
    words += [_relative(a, root) if not a.startswith("-") and os.path.isabs(a) and os.path.exists(a) else a
              for a in argv[1:]]
    return " ".join(words)


def _write_manifest(folder: Path, study: plan.Study, snap: snapshot.Snapshot, outcome: RunOutcome,
                    started_at: dt.datetime, timings: dict, env: dict, engine: str | None = None) -> None:
    files = {
        p.relative_to(folder).as_posix(): {"sha256": sha256_file(p), "bytes": p.stat().st_size}
        for p in sorted(folder.rglob("*")) if p.is_file() and p.name != "manifest.json"
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
        "params": {"source": _relative(study.source, study.root), "file": "params.yaml", "sha256": study.sha256},
        "project_root": _relative(study.root, outcome.folder),
        "reproduces": outcome.reproduces,
        "snapshot": {"path": _relative(snap.path, study.root), "lock": snap.lock},
        **({"monitoring": {"path": study.monitoring.path, "lock": study.monitoring.lock,
                           "engine": engine or study.monitoring.engine,
                           "master": study.monitoring.master}} if study.monitoring else {}),
        "models": models,
        "stages": [{"name": r.name, "notebook": r.notebook, "status": r.status, "seconds": r.seconds,
                    "error": r.error} for r in outcome.stages],
        "timings_seconds": timings,
        "environment": env,
        "command": _command(sys.argv, study.root),
        "files": files,
    }
    evidence.write_text_atomically(folder / "manifest.json", json.dumps(manifest, indent=2, sort_keys=True) + "\n")

