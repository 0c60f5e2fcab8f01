"""The ``studylib`` command line.

Exit codes of ``studylib run``: 0 every gate passed; 1 a gate failed or had insufficient evidence;
2 bad input, or a reports folder that cannot take the run (nothing was executed); 3 a stage raised an
error (the failed run is archived), or an unexpected error; 4 the environment failed (disk full,
permissions) while the run was archived; 130 interrupted (Ctrl-C).
One top-level handler (:class:`_Main`) turns every error into one line on stderr without a
traceback; ``--debug`` shows the traceback.
"""

from __future__ import annotations

import logging
import sys
from pathlib import Path

import click

from studylib import __version__
from studylib.errors import StudyInputError

RUN_HELP = """Run a whole study: validate PARAMS_FILE, verify its snapshot, execute the four stage
notebooks, render them and archive the run under reports/<study-id>/<run-id>/. Prints the ledger
head after the run (keep it outside reports/ for `studylib verify --all --head`).

\b
Exit codes:
  0    every gate passed
  1    a gate failed or had insufficient evidence
  2    bad input (parameters, snapshot or lock), or reports/ or its staging folder not
       writable, too little free space, a damaged ledger; nothing was executed
  3    a stage raised an error (the failed run is archived), or an unexpected error
  4    the environment failed while archiving (disk full, permissions): the message says
       whether the run was discarded or is recorded and finished by `studylib recover`
  130  interrupted (Ctrl-C): the run was discarded
"""

EXIT_INPUT, EXIT_UNEXPECTED, EXIT_ENVIRONMENT, EXIT_INTERRUPTED = 2, 3, 4, 130


class _Context:
    debug = False


def _fail_input(exc: Exception, debug: bool) -> None:
    if debug:
        raise exc
    click.echo(f"error: {exc}", err=True)
    sys.exit(EXIT_INPUT)


def _os_error(exc: OSError) -> str:
    where = f": {exc.filename}" if exc.filename else ""
    return f"{exc.strerror or exc}{where}"


class _Main(click.Group):
    """The command group with the one top-level error handler: user errors exit 2, environment
    failures (any OSError: disk full, permissions, read-only folders) exit 4, anything unexpected
    exits 3, Ctrl-C exits 130; one line on stderr each, the traceback only with ``--debug``. Never 1,
    which pipelines read as "a gate failed"."""

    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except (click.exceptions.Exit, click.ClickException, click.Abort):
            raise
        except KeyboardInterrupt:
            logging.getLogger("asyncio").setLevel(logging.CRITICAL)  # tasks cut short by Ctrl-C: no noise
            click.echo("interrupted", err=True)
            sys.exit(EXIT_INTERRUPTED)
        except Exception as exc:
            if ctx.params.get("debug"):
                raise
            if isinstance(exc, StudyInputError):
                click.echo(f"error: {exc}", err=True)
                sys.exit(EXIT_INPUT)
            if isinstance(exc, OSError):
                click.echo(f"error: environment: {_os_error(exc)}", err=True)
                sys.exit(EXIT_ENVIRONMENT)
            click.echo(f"error: unexpected {type(exc).__name__}: {exc} (run with --debug for the traceback)",
                       err=True)
            sys.exit(EXIT_UNEXPECTED)


@click.group(cls=_Main, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="studylib")
@click.option("--debug", is_flag=True, help="Show Python tracebacks for errors.")
@click.pass_context
def main(ctx: click.Context, debug: bool) -> None:
    """studylib: validation studies of clinical AI models on locked snapshots."""
    ctx.obj = _Context()
    ctx.obj.debug = debug


@main.command(help=RUN_HELP)
@click.argument("params_file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--reports-dir", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Where run archives go (default: reports/ in the project root of PARAMS_FILE).")
@click.option("--json", "as_json", is_flag=True,
              help="Print one JSON object on stdout: verdict, exit_code, run_folder, verdict_json, index_html "
                   "and the blocking gates (id, stage, verdict, reason).")
@click.option("--pdf", is_flag=True, help="Also print report.pdf (summary, checklist, stage reports; needs "
                                        "headless Chromium), hashed into the manifest.")
@click.option("--quiet", "-q", is_flag=True, help="No progress on stderr; with --json only the JSON, else only "
                                                  "the verdict line. Errors are still printed.")
@click.option("--engine", default=None, help="Engine that reduces the monitoring source: duckdb or spark "
                                             "(overrides monitoring.engine of the plan).")
@click.pass_obj
def run(obj: _Context, params_file: Path, reports_dir: Path | None, as_json: bool, pdf: bool, quiet: bool,
        engine: str | None) -> None:
    _start_kernel_server(params_file)
    from studylib.run import runner

    log = (lambda m: None) if quiet else (lambda m: click.echo(m, err=True))
    try:
        if pdf:
            from studylib.run import pdf as report_pdf

            if report_pdf.chromium() is None:
                raise StudyInputError("--pdf needs headless Chromium: install it (Debian: apt-get install chromium) "
                                      "or set STUDYLIB_CHROMIUM to the browser's executable")
        outcome = runner.run(params_file, reports_dir=reports_dir, log=log, pdf=pdf, engine=engine)
    except KeyboardInterrupt:
        logging.getLogger("asyncio").setLevel(logging.CRITICAL)  # tasks cut short by Ctrl-C: no noise
        click.echo("interrupted: the run was discarded (nothing was archived)", err=True)
        sys.exit(EXIT_INTERRUPTED)
    _report_run(outcome, as_json=as_json, quiet=quiet)
    sys.exit(outcome.exit_code)


def _start_kernel_server(params_file: Path) -> None:
    """Start the kernel server of the stage notebooks (:func:`studylib.run.kernel_server.shared`) as soon as
    the parameter file is known to be valid, before the runner's own imports: the server imports what the
    cohort notebook needs on the other core meanwhile, and its first kernel is ready about a second earlier.
    The runner finds the server started. Invalid parameters start nothing: the runner reports them (exit 2)."""
    from studylib import plan
    from studylib.run import kernel_server, stages

    if not kernel_server.enabled():
        return
    try:
        plan.load(params_file)
    except StudyInputError:
        return
    kernel_server.shared(stages.stage_notebooks(), warm=stages.WARM_UPS)


def _report_run(outcome, *, as_json: bool, quiet: bool) -> None:
    """What ``studylib run`` prints about a finished run: the verdict, the report, and each blocking gate
    with a one-line reason (or all of it as one JSON object)."""
    import json

    verdict_file = outcome.folder / "verdict.json"
    blocking = outcome.blocking
    if as_json:
        click.echo(json.dumps({"verdict": outcome.verdict, "exit_code": outcome.exit_code,
                               "ledger_head": outcome.ledger_head,
                               "run_id": outcome.run_id, "run_folder": str(outcome.folder),
                               "verdict_json": str(verdict_file), "index_html": str(outcome.index),
                               "failing_gates": blocking,
                               "stage_errors": [{"stage": r.name, "error": r.error}
                                                for r in outcome.stages if r.status == "error"]},
                              ensure_ascii=False, indent=None if quiet else 2))
        return
    if not quiet:
        click.echo(f"ledger head: {outcome.ledger_head}")
    click.echo(f"verdict: {outcome.verdict}")
    if quiet:
        return
    click.echo(f"report:  {outcome.index}")
    for record in outcome.stages:
        if record.status == "error":
            click.echo(f"  stage {record.name} raised: {record.error}")
    if blocking:
        click.echo(f"blocking gates ({len(blocking)}):")
        width = max(len(g["id"]) for g in blocking)
        for g in blocking:
            click.echo(f"  {g['id']:<{width}}  {g['verdict']:<21}  {g['reason']}")


@main.command("plan")
@click.argument("params_file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="Print the plan as JSON (as a run records it in results/plan.json).")
@click.pass_obj
def plan_command(obj: _Context, params_file: Path, as_json: bool) -> None:
    """Sample size per criterion and gate, and whether the locked cohort and each subgroup reaches it.

    Counts only: no score is read and no performance is computed. Exit 2 on bad input.
    """
    import json

    from studylib.run import planning

    try:
        results = planning.plan_file(params_file)
    except StudyInputError as exc:
        _fail_input(exc, obj.debug)
    if as_json:
        click.echo(json.dumps(results, indent=2, ensure_ascii=False))
    else:
        click.echo(planning.plan_text(results), nl=False)


@main.group()
def params() -> None:
    """Check study parameter files; print their schema."""


@params.command("check")
@click.argument("params_file", type=click.Path(dir_okay=False, path_type=Path))
@click.pass_obj
def params_check(obj: _Context, params_file: Path) -> None:
    """Validate PARAMS_FILE against the schema and its snapshot, without running anything."""
    from studylib.judge import claims
    from studylib.run import runner

    try:
        study, snap = runner.prepare(params_file)
    except StudyInputError as exc:
        _fail_input(exc, obj.debug)
    for warning in claims.unsupported_criteria(study):
        click.echo(f"warning: {study.source}: {warning}", err=True)
    click.echo(f"{study.source}: OK (study {study.study.id}, snapshot {snap.lock}, {snap.rows:,} rows)")


@params.command("schema")
@click.option("--format", "output", type=click.Choice(["json", "markdown"]), default="json", show_default=True,
              help="json: the JSON Schema (for editors); markdown: the reference page docs/params.md.")
def params_schema(output: str) -> None:
    """Print the JSON Schema of parameter files, or their reference page."""
    import json

    from studylib import plan

    if output == "markdown":
        click.echo(plan.reference_markdown(), nl=False)
    else:
        click.echo(json.dumps(plan.json_schema(), indent=2, ensure_ascii=False))


@main.group()
def snapshot() -> None:
    """Lock and verify dataset snapshots."""


@snapshot.command("lock")
@click.argument("directory", type=click.Path(file_okay=False, path_type=Path))
@click.pass_obj
def snapshot_lock(obj: _Context, directory: Path) -> None:
    """Write DIRECTORY/manifest.json and print the lock hash for the parameter file.

    Warns on stderr for each field of the dataset card (card.yaml) that is missing or empty."""
    from studylib.data import card
    from studylib.data import snapshot as snap

    try:
        click.echo(snap.lock(directory))
        for warning in card.check(directory):
            click.echo(f"warning: {warning}", err=True)
    except StudyInputError as exc:
        _fail_input(exc, obj.debug)


@snapshot.command("verify")
@click.argument("directory", type=click.Path(file_okay=False, path_type=Path))
@click.option("--lock", "expected", default=None, help="Expected lock hash (sha256:...).")
@click.pass_obj
def snapshot_verify(obj: _Context, directory: Path, expected: str | None) -> None:
    """Check every file of DIRECTORY against its manifest (and the manifest against --lock)."""
    from studylib.data import snapshot as snap

    try:
        verified = snap.verify(directory, expected)
    except StudyInputError as exc:
        _fail_input(exc, obj.debug)
    click.echo(f"{directory}: OK ({len(verified.manifest['files'])} files, {verified.rows:,} rows, lock {verified.lock})")


def _default_reports() -> Path:
    """The reports folder of the project the working directory is in, for commands without a parameter file.

    ``studylib run`` archives into ``reports/`` of the parameter file's project root; here that is the
    nearest ``reports/`` holding a ledger at or above the working directory, else ``./reports``. Never
    the folder of the installed package (site-packages).
    """
    from studylib.evidence import ledger

    cwd = Path.cwd()
    for folder in (cwd, *cwd.parents):
        if ledger.ledger_path(folder / "reports").is_file():
            return folder / "reports"
    return cwd / "reports"


_TRUSTED_KEYS_HELP = ("Trusted reviewer keys (YAML: reviewer, roles, public_key per key); default: trusted_keys.yaml "
                      "beside the reports folder when it exists. With trusted keys, an unsigned sign-off fails.")


def _head(ctx, param, value: str | None) -> str | None:
    import re

    if value is not None and not re.fullmatch(r"sha256:[0-9a-f]{64}", value):
        raise click.BadParameter(f"expected sha256: and 64 hex digits (as printed by run and signoff); got {value[:80]!r}")
    return value


def _trust(reports: Path, trusted_keys: Path | None, public_keys: tuple[Path, ...]):
    from studylib.evidence import trust

    return trust.resolve(reports, trusted_keys=trusted_keys, public_keys=public_keys)


@main.command()
@click.argument("run_dir", required=False, type=click.Path(path_type=Path))
@click.option("--all", "check_all", is_flag=True, help="Verify every run under --reports-dir and the whole ledger.")
@click.option("--reports-dir", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="With --all: the reports folder (default: the nearest reports/ with a ledger at or "
                   "above the working directory, else ./reports).")
@click.option("--head", callback=_head, default=None,
              help="The ledger head recorded outside the reports folder (printed by run and signoff): the ledger "
                   "must still contain it, so truncating or rewriting anything up to it fails.")
@click.option("--trusted-keys", type=click.Path(dir_okay=False, path_type=Path), default=None, help=_TRUSTED_KEYS_HELP)
@click.option("--public-key", "public_keys", multiple=True, type=click.Path(dir_okay=False, exists=True, path_type=Path),
              help="Also trust this Ed25519 public key (PEM) for any role; repeatable.")
def verify(run_dir: Path | None, check_all: bool, reports_dir: Path | None, head: str | None,
           trusted_keys: Path | None, public_keys: tuple[Path, ...]) -> None:
    """Re-hash every file of RUN_DIR against its manifest and the manifest against the ledger; or check a
    release dossier (a folder or .zip written by `studylib dossier`) offline against its own hashes, the
    run manifest, the ledger chain and the sign-offs' signatures (with --trusted-keys/--public-key when
    given, else the keys stored in the dossier).

    Exit 0 when everything matches; 1 naming each altered, missing or extra file, each broken ledger
    entry and each bad or (with trusted keys) unsigned sign-off; 2 for a missing reports folder or a
    malformed trusted-key file. With --all, reports/index.html is regenerated when it does not match
    the ledger (and that is reported as a problem).
    """
    from studylib.evidence import dossier
    from studylib.evidence import ledger
    from studylib.evidence import verify as verifier

    if check_all == (run_dir is not None):
        raise click.UsageError("give either RUN_DIR (or a dossier) or --all")
    if run_dir is not None and dossier.is_dossier(run_dir):
        if head is not None:
            raise click.UsageError("--head applies to a run folder; a dossier's ledger head is in its README")
        _verify_dossier(dossier.verify(run_dir, trusted_keys=trusted_keys, public_keys=public_keys))
    if run_dir is not None and run_dir.exists() and not run_dir.is_dir():
        raise StudyInputError(f"{run_dir}: not a run folder or a dossier (a folder holding dossier.json, or a .zip "
                              "written by `studylib dossier`)")
    notes = []
    if check_all:
        reports = (reports_dir or _default_reports()).resolve()
        result = verifier.verify_all(reports, trust=_trust(reports, trusted_keys, public_keys), head=head)
        checks, problems, notes = result.runs, list(result.problems), list(result.notes)
        if reports.is_dir() and ledger.ledger_path(reports).is_file():
            from studylib.run import pages

            try:
                if pages.refresh_archive_index(reports):
                    problems.append(f"{reports / 'index.html'} did not match the ledger (edited, or left stale by an "
                                    "interrupted run); regenerated from the ledger")
            except OSError as exc:  # a read-only copy under audit
                problems.append(f"{reports / 'index.html'} does not match the ledger and could not be regenerated "
                                f"({_os_error(exc)})")
    else:
        reports = run_dir.resolve().parent.parent
        checks = (verifier.verify_run(run_dir, trust=_trust(reports, trusted_keys, public_keys)),)
        problems = []
        if head is not None:
            path = ledger.ledger_path(reports)
            bad, notes = verifier.check_head(path, head, ledger.read(path))
            problems += bad
    for problem in problems:
        click.echo(f"FAIL ledger: {problem}")
    for note in notes:
        click.echo(f"note: {note}")
    for check in checks:
        click.echo(f"{'OK  ' if check.ok else 'FAIL'} {check.run}")
        for problem in check.problems:
            click.echo(f"     {problem}")
        for note in check.notes:
            click.echo(f"     note: {note}")
    click.echo(f"ledger head: {ledger.head(ledger.ledger_path(reports))}")
    sys.exit(0 if not problems and all(c.ok for c in checks) else 1)


def _verify_dossier(check) -> None:
    """Print the outcome of checking a dossier and exit 0 (everything matches) or 1."""
    for problem in check.problems:
        click.echo(f"FAIL {problem}")
    for note in check.notes:
        click.echo(f"note: {note}")
    what = f"dossier of {check.run}" if check.run else "dossier"
    click.echo(f"{'OK  ' if check.ok else 'FAIL'} {what}: {check.path}"
               + (f" ({len(check.problems)} problem(s))" if check.problems else ""))
    if check.digest:
        click.echo(f"dossier digest: {check.digest}")
    sys.exit(0 if check.ok else 1)


@main.command("dossier")
@click.argument("run_dir", type=click.Path(path_type=Path))
@click.option("--out", required=True, type=click.Path(path_type=Path),
              help="The dossier to write: a new folder, or a new FILE.zip. Never overwritten.")
@click.option("--trusted-keys", type=click.Path(dir_okay=False, path_type=Path), default=None, help=_TRUSTED_KEYS_HELP
              + " The file is stored in the dossier.")
def dossier_command(run_dir: Path, out: Path, trusted_keys: Path | None) -> None:
    """Assemble the release dossier of RUN_DIR: the validation report (summary, checklist, matrix, reviewer
    renderings, PDF), manifest, SBOM, plan, dataset card, snapshot lock, model identifiers and artifact
    hashes, the run's ledger entries (sign-offs, waivers) with the chain from genesis, the trusted keys,
    the rollback path (drift triggers and actions) and a README indexing every file with its SHA-256.

    \b
    The same run gives byte-identical output; it is written under a temporary name and renamed.
    Exit codes:
      0  written (the dossier digest, SHA-256 of dossier.json, is printed: keep it)
      1  the run fails verification (each problem named; nothing written)
      2  not a run folder, --out exists, or its folder is missing or not writable
    """
    from studylib.evidence import dossier

    try:
        built = dossier.build(run_dir, out, trusted_keys=trusted_keys)
    except dossier.RunNotVerified as exc:
        click.echo(f"error: {exc}:", err=True)
        for problem in exc.problems:
            click.echo(f"  {problem}", err=True)
        sys.exit(1)
    for note in built.notes:
        click.echo(f"note: {note}", err=True)
    click.echo(f"dossier: {built.path} ({built.files} files)")
    click.echo(f"dossier digest: {built.digest}")


@main.command()
@click.option("--reports-dir", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="The reports folder (default: the nearest reports/ with a ledger at or above the working "
                   "directory, else ./reports).")
def recover(reports_dir: Path | None) -> None:
    """Bring the reports folder back to a verifiable state after a crash, recording each step in the
    ledger: finish a run recorded but left in staging, remove unrecorded staging folders, set aside an
    incomplete last ledger line, and move run folders the ledger does not record to
    reports/.quarantine/ (never deleted). A broken hash chain is not touched (exit 2)."""
    from studylib.evidence import recovery
    from studylib.run import pages

    reports = reports_dir or _default_reports()
    head = recovery.recover(reports, log=click.echo)
    pages.write_archive_index(reports)
    click.echo(f"ledger head: {head}")


@main.command()
@click.argument("run_dir", type=click.Path(file_okay=False, exists=True, path_type=Path))
@click.option("--rtol", type=float, default=1e-9, show_default=True, help="Relative tolerance for floats.")
@click.option("--atol", type=float, default=1e-12, show_default=True, help="Absolute tolerance for floats.")
@click.option("--engine", default=None, help="Engine that reduces the monitoring source: duckdb or spark "
                                             "(default: the engine the original run recorded).")
@click.pass_obj
def reproduce(obj: _Context, run_dir: Path, rtol: float, atol: float, engine: str | None) -> None:
    """Re-execute RUN_DIR from its recorded parameters and snapshot into a new run and compare every
    number of the results (counts exactly, floats within tolerance). A monitoring source is reduced on
    the engine the run recorded unless --engine is given. Exit 0 equal, 1 different, 2 the snapshot
    no longer matches its lock."""
    from studylib.run import reproduce as reproducer

    try:
        outcome, differences = reproducer.reproduce(run_dir, rtol=rtol, atol=atol, engine=engine,
                                                    log=lambda m: click.echo(m, err=True))
    except StudyInputError as exc:
        _fail_input(exc, obj.debug)
    click.echo(f"new run: {outcome.folder}")
    click.echo(f"ledger head: {outcome.ledger_head}")
    if differences:
        click.echo(f"DIFFERENT: {len(differences)} value(s) differ from {run_dir}")
        for difference in differences[:200]:
            click.echo(f"  {difference}")
        sys.exit(1)
    click.echo("REPRODUCED: every number of the results equals the original")


@main.command("diff")
@click.argument("run_a", type=click.Path(file_okay=False, exists=True, path_type=Path))
@click.argument("run_b", type=click.Path(file_okay=False, exists=True, path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="Print the differences as JSON.")
@click.option("--rtol", type=float, default=1e-9, show_default=True, help="Relative tolerance for floats.")
@click.option("--atol", type=float, default=1e-12, show_default=True, help="Absolute tolerance for floats.")
@click.pass_obj
def diff(obj: _Context, run_a: Path, run_b: Path, as_json: bool, rtol: float, atol: float) -> None:
    """The differences that matter between two run folders: plan (hash and changed keys), snapshot
    lock, models and artifact hashes, code, package versions (SBOMs), the verdict, every gate and
    every result value that changed. Run ids, timings and paths are not compared.

    \b
    Exit codes (for pipelines: `studylib diff A B` fails when anything that matters changed):
      0  no difference
      1  the runs differ
      2  a folder is not a run folder
    """
    import json

    from studylib.evidence import diff as differ

    try:
        result = differ.diff_runs(run_a, run_b, rtol=rtol, atol=atol)
    except StudyInputError as exc:
        _fail_input(exc, obj.debug)
    if as_json:
        click.echo(json.dumps(result.to_json(), indent=2, default=str))
    else:
        click.echo(differ.render_text(result), nl=False)
    sys.exit(0 if result.same else 1)


def _verified_run(run_dir: Path, trust, action: str):
    """The run's verification, refusing (exit 1) a run whose files, manifest or ledger fail it."""
    from studylib.evidence import verify as verifier

    check = verifier.verify_run(run_dir, trust=trust)
    if not check.ok:
        click.echo(f"error: refusing to {action} {check.run}: it fails verification:", err=True)
        for problem in check.problems:
            click.echo(f"  {problem}", err=True)
        sys.exit(1)
    return check


def _trusted_signer(trust, key_path: Path | None, reviewer: str | None, role: str | None) -> tuple[str, str]:
    """The reviewer name and role an entry signed with ``key_path`` is made under, refusing (exit 2) a key that
    would not count: with trusted keys, the key must be trusted for that reviewer and role. Without
    ``--reviewer``/``--role`` the key's own name and (single) role are used."""
    from studylib.evidence import signoff as signer
    from studylib.evidence import trust as trusted

    key = None
    if trust.configured:
        if key_path is None:
            raise StudyInputError(f"trusted keys are configured ({trust.sources}): sign with --key; an unsigned "
                                  "entry would not count")
        key = trust.key(trusted.fingerprint(signer.load_private(key_path).public_key()))
    reviewer = reviewer or (key.reviewer if key is not None else None)
    if role is None and key is not None and len(key.roles) == 1:
        role = key.roles[0]
    if not reviewer:
        raise StudyInputError("--reviewer is needed (the key is not in a trusted-key file that names its reviewer)")
    if not role:
        raise StudyInputError("--role is needed (the key is trusted for several roles, or for none)")
    if trust.configured and (key is None or (key.roles and role not in key.roles) or key.reviewer not in (None, reviewer)):
        raise StudyInputError(f"{key_path}: this key is not trusted for {reviewer} as {role} in {trust.sources}; "
                              "add its .pub to the trusted-key file (reviewer, roles, public_key) first")
    return reviewer, role


def _append_signed(reports: Path, entry: dict, key_path: Path | None) -> dict:
    from studylib.evidence import ledger
    from studylib.evidence import signoff as signer
    from studylib.run import pages

    written = ledger.append(ledger.ledger_path(reports), entry,
                            seal=signer.sealer(key_path) if key_path is not None else None)
    try:
        pages.write_archive_index(reports)
    except OSError as exc:  # the entry is recorded; only the convenience page is stale
        click.echo(f"warning: {reports / 'index.html'} could not be rewritten ({_os_error(exc)}); "
                   "`studylib verify --all` regenerates it", err=True)
    return written


@main.command()
@click.argument("run_dir", type=click.Path(file_okay=False, exists=True, path_type=Path))
@click.option("--reviewer", default=None, help="Name of the reviewer (default: the name the trusted-key file gives the key).")
@click.option("--role", default=None, help="Role, e.g. clinical, quality, regulatory (default: the key's role when "
                                           "it has one).")
@click.option("--decision", required=True, type=click.Choice(["approve", "reject"]))
@click.option("--comment", default="", help="Free-text comment.")
@click.option("--waiver", default=None, help="Decide on this waiver of the run (its ledger seq, as `studylib waive` "
                                             "printed it) instead of on the run.")
@click.option("--key", "key_path", type=click.Path(dir_okay=False, exists=True, path_type=Path), default=None,
              help="Ed25519 private key (PEM) to sign the entry (required when trusted keys are configured).")
@click.option("--trusted-keys", type=click.Path(dir_okay=False, path_type=Path), default=None, help=_TRUSTED_KEYS_HELP)
def signoff(run_dir: Path, reviewer: str | None, role: str | None, decision: str, comment: str, waiver: str | None,
            key_path: Path | None, trusted_keys: Path | None) -> None:
    """Append a reviewer's decision on RUN_DIR (or, with --waiver, on one of its waivers) to the ledger;
    refused when the run fails verification (exit 1) or the key would not count (exit 2).

    A signed sign-off signs the run's manifest hash and the ledger head it is appended to; the new head
    is printed. `studylib status RUN_DIR` says whether the release is approved.
    """
    from studylib.data.hashing import sha256_file
    from studylib.evidence import ledger
    from studylib.evidence import signoff as signer
    from studylib.evidence import waivers

    reports = run_dir.resolve().parent.parent
    trust = _trust(reports, trusted_keys, ())
    check = _verified_run(run_dir, trust, "sign off")
    reviewer, role = _trusted_signer(trust, key_path, reviewer, role)
    waivers.check_role(role, waivers.run_matrix(check.folder))
    manifest = "sha256:" + sha256_file(check.folder / "manifest.json")
    if waiver is not None:
        waived = waivers.find_waiver(ledger.read(ledger.ledger_path(reports)), check.run, waiver)
        entry = waivers.make_decision(check.run, manifest, waived, reviewer=reviewer, role=role, decision=decision,
                                      comment=comment)
        what = f"waiver {waived['seq']} (gate {waived['gate']}) of {check.run}"
    else:
        entry = signer.make_entry(check.run, manifest, reviewer=reviewer, role=role, decision=decision,
                                  comment=comment)
        what = check.run
    written = _append_signed(reports, entry, key_path)
    signed = " (signed)" if "signature" in written else ""
    click.echo(f"{'approved' if decision == 'approve' else 'rejected'} {what} as {reviewer} ({role}){signed}: "
               f"ledger entry {written['seq']}")
    click.echo(f"ledger head: {written['hash']}")


@main.command()
@click.argument("run_dir", type=click.Path(file_okay=False, exists=True, path_type=Path))
@click.option("--gate", required=True, help="The failing blocking gate to waive, e.g. AC-5 or 'SG-1[sex=F]'.")
@click.option("--rationale", required=True, help="Why the release may go ahead although the gate did not pass.")
@click.option("--mitigation", required=True, help="The plan that mitigates the risk the gate guards against.")
@click.option("--key", "key_path", required=True, type=click.Path(dir_okay=False, exists=True, path_type=Path),
              help="Ed25519 private key (PEM) that signs the waiver.")
@click.option("--role", default=None, help="The role the waiver is filed under (default: the key's role when it has one).")
@click.option("--reviewer", default=None, help="Name of the reviewer (default: the name the trusted-key file gives the key).")
@click.option("--trusted-keys", type=click.Path(dir_okay=False, path_type=Path), default=None, help=_TRUSTED_KEYS_HELP)
def waive(run_dir: Path, gate: str, rationale: str, mitigation: str, key_path: Path, role: str | None,
          reviewer: str | None, trusted_keys: Path | None) -> None:
    """File a signed waiver of one failing blocking gate of RUN_DIR, with its rationale and mitigation plan,
    in the ledger. It counts only once every role it needs (the roles of the claims the gate supports) has
    approved it: `studylib signoff RUN_DIR --waiver SEQ --decision approve --key ...`.

    \b
    Exit codes: 0 filed; 1 the run fails verification; 2 bad input (no such gate, a gate that passed or
    does not block, a key not trusted for the reviewer and role).
    """
    from studylib.data.hashing import sha256_file
    from studylib.evidence import waivers

    reports = run_dir.resolve().parent.parent
    trust = _trust(reports, trusted_keys, ())
    check = _verified_run(run_dir, trust, "waive a gate of")
    reviewer, role = _trusted_signer(trust, key_path, reviewer, role)
    waivers.check_role(role, waivers.run_matrix(check.folder))
    entry = waivers.make_waiver(check.run, "sha256:" + sha256_file(check.folder / "manifest.json"), check.folder,
                                gate=gate, rationale=rationale, mitigation=mitigation, reviewer=reviewer, role=role)
    written = _append_signed(reports, entry, key_path)
    click.echo(f"waiver {written['seq']} of gate {gate} in {check.run} filed by {reviewer} ({role}); it counts once "
               f"every role it needs approves it (studylib signoff {run_dir} --waiver {written['seq']} --decision "
               "approve ...)")
    click.echo(f"ledger head: {written['hash']}")


@main.command()
@click.argument("run_dir", type=click.Path(file_okay=False, exists=True, path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="Print the decision and the matrix as it stands now as JSON.")
@click.option("--trusted-keys", type=click.Path(dir_okay=False, path_type=Path), default=None, help=_TRUSTED_KEYS_HELP)
def status(run_dir: Path, as_json: bool, trusted_keys: Path | None) -> None:
    """The release decision of RUN_DIR: APPROVED or NOT APPROVED, and exactly what is missing (roles that have
    not signed, gates failing without an approved waiver, entries that fail verification), with each
    claim's status and each waiver.

    APPROVED only when every blocking gate passed or carries a waiver approved by every role it needs, and
    every role the plan's claims require approved the run's manifest with a key trusted for that role.

    \b
    Exit codes: 0 APPROVED; 1 NOT APPROVED; 2 not a run folder, or a malformed trusted-key file.
    """
    import json

    from studylib.evidence import waivers

    reports = run_dir.resolve().parent.parent
    state = waivers.release_state(run_dir, trust=_trust(reports, trusted_keys, ()))
    decision = state.decision
    if as_json:
        click.echo(json.dumps({"run": state.run, "verdict": state.verdict, "decision": decision.decision,
                               "required_roles": list(decision.required_roles),
                               "signed_roles": list(decision.signed_roles), "missing": list(decision.missing),
                               "unwaived_gates": list(decision.unwaived), "matrix": state.matrix},
                              indent=2, ensure_ascii=False, default=str))
    else:
        click.echo(f"{state.run}: {decision.decision}")
        click.echo(f"verdict: {state.verdict}")
        click.echo(f"required roles: {', '.join(decision.required_roles) or 'none declared'}; signed: "
                   f"{', '.join(decision.signed_roles) or 'none'}")
        if decision.missing:
            click.echo("missing:")
            for item in decision.missing:
                click.echo(f"  - {item}")
        if state.matrix["claims"]:
            click.echo("claims:")
            width = max(len(c["id"]) for c in state.matrix["claims"])
            for c in state.matrix["claims"]:
                click.echo(f"  {c['id']:<{width}}  {c['status']:<30}  {c['reason']}")
        for w in decision.waivers:
            click.echo(f"waiver {w.seq} of {w.gate}: {'APPROVED' if w.approved else 'not approved'} (approved by "
                       f"{', '.join(w.approved_by) or 'nobody'}; needs {', '.join(w.needed)})")
    sys.exit(0 if decision.approved else 1)


@main.command("pdf")
@click.argument("run_dir", type=click.Path(file_okay=False, exists=True, path_type=Path))
@click.pass_obj
def pdf_command(obj: _Context, run_dir: Path) -> None:
    """Print RUN_DIR/report.pdf: the summary, the reporting checklist and the four reviewer stage reports in
    one PDF with bookmarks (headless Chromium). The manifest records its hash and the ledger the new
    manifest; a run with sign-offs is refused (they signed the manifest without it)."""
    from studylib.run import pages
    from studylib.run import pdf as report_pdf

    try:
        path = report_pdf.add_to_run(run_dir, log=lambda m: click.echo(m, err=True))
    except StudyInputError as exc:
        _fail_input(exc, obj.debug)
    pages.write_archive_index(path.parent.parent.parent)
    click.echo(f"pdf: {path}")


@main.command()
@click.argument("private_key", type=click.Path(dir_okay=False, path_type=Path))
def keygen(private_key: Path) -> None:
    """Write a new Ed25519 key pair for signing sign-offs: PRIVATE_KEY and PRIVATE_KEY.pub."""
    from studylib.evidence import signoff as signer

    public = signer.generate_key(private_key)
    click.echo(f"private key: {private_key} (keep it secret)\npublic key:  {public} (add it to trusted_keys.yaml "
               "with the reviewer's name and roles)")


@main.command()
@click.option("--reports-dir", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="The reports folder (default: the nearest reports/ with a ledger at or above the working "
                   "directory, else ./reports).")
@click.option("--trusted-keys", type=click.Path(dir_okay=False, path_type=Path), default=None, help=_TRUSTED_KEYS_HELP)
def runs(reports_dir: Path | None, trusted_keys: Path | None) -> None:
    """List archived runs: study, date, verdict, release decision (`studylib status`) and sign-off state (only
    sign-offs signed by a trusted key for their role read as decisions)."""
    from studylib.evidence import archive

    reports = reports_dir or _default_reports()
    listed = archive.list_runs(reports, trust=_trust(reports, trusted_keys, ()))
    if not listed:
        click.echo("no runs")
        return
    click.echo(f"{'study':<28} {'run':<24} {'started (UTC)':<26} {'verdict':<22} {'release':<26} sign-off")
    for r in listed:
        click.echo(f"{r.study:<28} {r.run_id:<24} {r.started_at:<26} {r.verdict:<22} {r.release:<26} {r.signoff_state}")


@main.command()
@click.option("--rows", type=click.IntRange(min=100), default=100_000, show_default=True)
@click.option("--seed", type=int, default=0, show_default=True)
@click.option("--files", type=click.IntRange(min=1), default=1, show_default=True, help="Parquet part files.")
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), required=True)
def synth(rows: int, seed: int, files: int, out: Path) -> None:
    """Write a SYNTHETIC locked snapshot (same schema as the demo) for tests and benchmarks."""
    from studylib.data import synth as generator

    click.echo(generator.write_snapshot(out, rows, seed=seed, files=files))


def entry() -> None:
    """The ``studylib`` console script: :func:`main`, then an exit without the interpreter's teardown.

    Once a command has returned, its files are written and closed and its exit handlers have run (the
    kernel server is stopped), the interpreter would still release every module and object one by one:
    0.9 s of CPU after a study run, which imported pandas, SciPy, Jupyter and nbconvert. The console script
    flushes the output, runs the exit handlers and ends the process with the command's exit code
    (``os._exit``). ``main`` itself (Click's test runner, ``python -m studylib.cli``) exits as usual.
    """
    import atexit
    import os
    import threading

    try:
        main()
        code = 0
    except SystemExit as exc:
        if exc.code is None or isinstance(exc.code, int):
            code = exc.code or 0
        else:  # sys.exit("message"): the message on stderr, exit 1, as the interpreter does
            print(exc.code, file=sys.stderr)
            code = 1
    for thread in threading.enumerate():  # as at interpreter exit: non-daemon threads are waited for
        if thread is not threading.main_thread() and not thread.daemon:
            thread.join()
    atexit._run_exitfuncs()
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):  # a closed pipe (`studylib runs | head`): nothing more can be said
            pass
    os._exit(code)


if __name__ == "__main__":
    main()
