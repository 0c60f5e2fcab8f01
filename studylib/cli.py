"""The ``studylib`` command line.

Exit codes of ``studylib run``: 0 every gate passed; 1 a gate failed or had insufficient evidence;
2 bad input (nothing was executed); 3 a stage raised an error (the failed run is archived).
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
  3  a stage raised an error; the failed run is archived
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
              help="Where run archives go (default: reports/ in the project root).")
@click.pass_obj
def run(obj: _Context, params_file: Path, reports_dir: Path | None) -> None:
    from studylib import runner

    try:
        outcome = runner.run(params_file, reports_dir=reports_dir, log=lambda m: click.echo(m, err=True))
    except StudyInputError as exc:
        _fail_input(exc, obj.debug)
    except KeyboardInterrupt:
        click.echo("interrupted: the run was discarded (nothing was archived)", err=True)
        sys.exit(130)
    click.echo(f"verdict: {outcome.verdict}")
    click.echo(f"report:  {outcome.index}")
    sys.exit(outcome.exit_code)


@main.group()
def params() -> None:
    """Check study parameter files."""


@params.command("check")
@click.argument("params_file", type=click.Path(dir_okay=False, path_type=Path))
@click.pass_obj
def params_check(obj: _Context, params_file: Path) -> None:
    """Validate PARAMS_FILE against the schema and its snapshot, without running anything."""
    from studylib import runner

    try:
        study, snap = runner.prepare(params_file)
    except StudyInputError as exc:
        _fail_input(exc, obj.debug)
    click.echo(f"{study.source}: OK (study {study.study.id}, snapshot {snap.lock}, {snap.rows:,} rows)")


@main.group()
def snapshot() -> None:
    """Lock and verify dataset snapshots."""


@snapshot.command("lock")
@click.argument("directory", type=click.Path(file_okay=False, path_type=Path))
@click.pass_obj
def snapshot_lock(obj: _Context, directory: Path) -> None:
    """Write DIRECTORY/manifest.json and print the lock hash for the parameter file."""
    from studylib import snapshot as snap

    try:
        click.echo(snap.lock(directory))
    except StudyInputError as exc:
        _fail_input(exc, obj.debug)


@snapshot.command("verify")
@click.argument("directory", type=click.Path(file_okay=False, path_type=Path))
@click.option("--lock", "expected", default=None, help="Expected lock hash (sha256:...).")
@click.pass_obj
def snapshot_verify(obj: _Context, directory: Path, expected: str | None) -> None:
    """Check every file of DIRECTORY against its manifest (and the manifest against --lock)."""
    from studylib import snapshot as snap

    try:
        verified = snap.verify(directory, expected)
    except StudyInputError as exc:
        _fail_input(exc, obj.debug)
    click.echo(f"{directory}: OK ({len(verified.manifest['files'])} files, {verified.rows:,} rows, lock {verified.lock})")


@main.command()
@click.option("--rows", type=click.IntRange(min=100), default=100_000, show_default=True)
@click.option("--seed", type=int, default=0, show_default=True)
@click.option("--files", type=click.IntRange(min=1), default=1, show_default=True, help="Parquet part files.")
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), required=True)
def synth(rows: int, seed: int, files: int, out: Path) -> None:
    """Write a SYNTHETIC locked snapshot (same schema as the demo) for tests and benchmarks."""
    from studylib import synth as generator

    click.echo(generator.write_snapshot(out, rows, seed=seed, files=files))


if __name__ == "__main__":
    main()
