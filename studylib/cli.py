"""The ``studylib`` command line.

Exit codes of ``studylib run``: 0 every gate passed; 1 a gate failed or had insufficient evidence;
2 bad input (nothing was executed); 3 a stage raised an error (the failed run is archived) or the
run could not be archived (nothing was archived).
User errors print one line (or one line per problem) on stderr without a traceback; ``--debug``
shows the traceback.
"""

from __future__ import annotations

import sys
from pathlib import Path

import click

from studylib import __version__
from studylib.errors import StudyInputError

RUN_HELP = """Run a whole study: validate PARAMS_FILE, verify its snapshot, execute the four stage
notebooks, render them and archive the run under reports/<study-id>/<run-id>/.

\b
Exit codes:
  0  every gate passed
  1  a gate failed or had insufficient evidence
  2  bad input (parameters, snapshot or lock); nothing was executed
  3  a stage raised an error (the failed run is archived), or archiving the run failed
     (nothing was archived)
"""


class _Context:
    debug = False


def _fail_input(exc: Exception, debug: bool) -> None:
    if debug:
        raise exc
    click.echo(f"error: {exc}", err=True)
    sys.exit(2)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
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
@click.pass_obj
def run(obj: _Context, params_file: Path, reports_dir: Path | None) -> None:
    from studylib.run import runner

    try:
        outcome = runner.run(params_file, reports_dir=reports_dir, log=lambda m: click.echo(m, err=True))
    except StudyInputError as exc:
        _fail_input(exc, obj.debug)
    except KeyboardInterrupt:
        click.echo("interrupted: the run was discarded (nothing was archived)", err=True)
        sys.exit(130)
    except Exception as exc:  # rendering or archiving failed after the stages: never exit 1 (a gate)
        if obj.debug:
            raise
        click.echo(f"error: the run could not be archived and was discarded: {type(exc).__name__}: {exc}",
                   err=True)
        sys.exit(3)
    click.echo(f"verdict: {outcome.verdict}")
    click.echo(f"report:  {outcome.index}")
    sys.exit(outcome.exit_code)


@main.group()
def params() -> None:
    """Check study parameter files; print their schema."""


@params.command("check")
@click.argument("params_file", type=click.Path(dir_okay=False, path_type=Path))
@click.pass_obj
def params_check(obj: _Context, params_file: Path) -> None:
    """Validate PARAMS_FILE against the schema and its snapshot, without running anything."""
    from studylib.run import runner

    try:
        study, snap = runner.prepare(params_file)
    except StudyInputError as exc:
        _fail_input(exc, obj.debug)
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


@main.command()
@click.argument("run_dir", required=False, type=click.Path(file_okay=False, path_type=Path))
@click.option("--all", "check_all", is_flag=True, help="Verify every run under --reports-dir and the whole ledger.")
@click.option("--reports-dir", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="With --all: the reports folder (default: the nearest reports/ with a ledger at or "
                   "above the working directory, else ./reports).")
@click.option("--public-key", "public_keys", multiple=True, type=click.Path(dir_okay=False, exists=True, path_type=Path),
              help="Trusted Ed25519 public key (PEM) to check sign-off signatures; repeatable.")
def verify(run_dir: Path | None, check_all: bool, reports_dir: Path | None, public_keys: tuple[Path, ...]) -> None:
    """Re-hash every file of RUN_DIR against its manifest and the manifest against the ledger.

    Exit 0 when everything matches; 1 naming each altered, missing or extra file, each broken ledger
    entry and each bad signature.
    """
    from studylib.evidence import verify as verifier

    if check_all == (run_dir is not None):
        raise click.UsageError("give either RUN_DIR or --all")
    try:
        if check_all:
            result = verifier.verify_all(reports_dir or _default_reports(), public_keys=public_keys)
            checks, problems = result.runs, list(result.problems)
        else:
            checks, problems = (verifier.verify_run(run_dir, public_keys=public_keys),), []
    except StudyInputError as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(2)
    for problem in problems:
        click.echo(f"FAIL ledger: {problem}")
    for check in checks:
        click.echo(f"{'OK  ' if check.ok else 'FAIL'} {check.run}")
        for problem in check.problems:
            click.echo(f"     {problem}")
        for note in check.notes:
            click.echo(f"     note: {note}")
    sys.exit(0 if not problems and all(c.ok for c in checks) else 1)


@main.command()
@click.argument("run_dir", type=click.Path(file_okay=False, exists=True, path_type=Path))
@click.option("--rtol", type=float, default=1e-9, show_default=True, help="Relative tolerance for floats.")
@click.option("--atol", type=float, default=1e-12, show_default=True, help="Absolute tolerance for floats.")
@click.pass_obj
def reproduce(obj: _Context, run_dir: Path, rtol: float, atol: float) -> None:
    """Re-execute RUN_DIR from its recorded parameters and snapshot into a new run and compare every
    number of the results (counts exactly, floats within tolerance). Exit 0 equal, 1 different,
    2 the snapshot no longer matches its lock."""
    from studylib.run import reproduce as reproducer

    try:
        outcome, differences = reproducer.reproduce(run_dir, rtol=rtol, atol=atol,
                                                    log=lambda m: click.echo(m, err=True))
    except StudyInputError as exc:
        _fail_input(exc, obj.debug)
    click.echo(f"new run: {outcome.folder}")
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


@main.command()
@click.argument("run_dir", type=click.Path(file_okay=False, exists=True, path_type=Path))
@click.option("--reviewer", required=True, help="Name of the reviewer.")
@click.option("--role", required=True, help="Role, e.g. clinical, quality, regulatory.")
@click.option("--decision", required=True, type=click.Choice(["approve", "reject"]))
@click.option("--comment", default="", help="Free-text comment.")
@click.option("--key", "key_path", type=click.Path(dir_okay=False, exists=True, path_type=Path), default=None,
              help="Ed25519 private key (PEM) to sign the entry.")
@click.pass_obj
def signoff(obj: _Context, run_dir: Path, reviewer: str, role: str, decision: str, comment: str,
            key_path: Path | None) -> None:
    """Append a reviewer's decision on RUN_DIR to the ledger (refused when the run fails verification)."""
    from studylib.evidence import ledger
    from studylib.run import pages
    from studylib.evidence import signoff as signer
    from studylib.evidence import verify as verifier
    from studylib.data.hashing import sha256_file

    check = verifier.verify_run(run_dir)
    if not check.ok:
        click.echo(f"error: refusing to sign off {check.run}: it fails verification:", err=True)
        for problem in check.problems:
            click.echo(f"  {problem}", err=True)
        sys.exit(1)
    try:
        entry = signer.make_entry(check.run, "sha256:" + sha256_file(check.folder / "manifest.json"),
                                  reviewer=reviewer, role=role, decision=decision, comment=comment, key_path=key_path)
    except StudyInputError as exc:
        _fail_input(exc, obj.debug)
    reports = check.folder.parent.parent
    written = ledger.append(ledger.ledger_path(reports), entry)
    pages.write_archive_index(reports)
    signed = " (signed)" if "signature" in written else ""
    click.echo(f"{'approved' if decision == 'approve' else 'rejected'} {check.run} as {reviewer} ({role}){signed}: ledger entry {written['seq']}")


@main.command()
@click.argument("private_key", type=click.Path(dir_okay=False, path_type=Path))
@click.pass_obj
def keygen(obj: _Context, private_key: Path) -> None:
    """Write a new Ed25519 key pair for signing sign-offs: PRIVATE_KEY and PRIVATE_KEY.pub."""
    from studylib.evidence import signoff as signer

    try:
        public = signer.generate_key(private_key)
    except StudyInputError as exc:
        _fail_input(exc, obj.debug)
    click.echo(f"private key: {private_key} (keep it secret)\npublic key:  {public} (give it to verifiers)")


@main.command()
@click.option("--reports-dir", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="The reports folder (default: the nearest reports/ with a ledger at or above the working "
                   "directory, else ./reports).")
def runs(reports_dir: Path | None) -> None:
    """List archived runs: study, date, verdict and sign-off state."""
    from studylib.evidence import archive

    listed = archive.list_runs(reports_dir or _default_reports())
    if not listed:
        click.echo("no runs")
        return
    click.echo(f"{'study':<28} {'run':<24} {'started (UTC)':<26} {'verdict':<22} sign-off")
    for r in listed:
        click.echo(f"{r.study:<28} {r.run_id:<24} {r.started_at:<26} {r.verdict:<22} {r.signoff_state}")


@main.command()
@click.option("--rows", type=click.IntRange(min=100), default=100_000, show_default=True)
@click.option("--seed", type=int, default=0, show_default=True)
@click.option("--files", type=click.IntRange(min=1), default=1, show_default=True, help="Parquet part files.")
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), required=True)
def synth(rows: int, seed: int, files: int, out: Path) -> None:
    """Write a SYNTHETIC locked snapshot (same schema as the demo) for tests and benchmarks."""
    from studylib.data import synth as generator

    click.echo(generator.write_snapshot(out, rows, seed=seed, files=files))


if __name__ == "__main__":
    main()
