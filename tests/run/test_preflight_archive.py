"""Where a run goes, checked before any kernel starts: exit 2 naming the path or ledger line, nothing
executed (no stage line logged, no staging folder left). And the CLI's exit codes for failures that are
not a gate: input 2, unexpected 3, environment 4, Ctrl-C 130, never 1."""

import errno
from collections import namedtuple
from pathlib import Path

import pytest
from click.testing import CliRunner

from studylib.cli import main
from studylib.errors import StudyInputError
from studylib.evidence import ledger
from studylib.run import preflight, runner
from tests.conftest import STUB_NOTEBOOKS


def _refused(tiny_project, fragment, **kw):
    messages = []
    with pytest.raises(StudyInputError) as info:
        runner.run(tiny_project, notebooks=STUB_NOTEBOOKS, log=messages.append, **kw)
    assert fragment in str(info.value), str(info.value)
    assert messages == []  # nothing started
    root = tiny_project.parent.parent
    staging = root / runner.STAGING
    assert not staging.is_dir() or not any(staging.iterdir())
    return str(info.value)


def test_reports_folder_not_writable(tiny_project):
    if not Path("/sys").is_dir():
        pytest.skip("needs /sys (a folder nobody can create files in)")
    _refused(tiny_project, "/sys/studylib-reports: not writable", reports_dir="/sys/studylib-reports")


def test_staging_folder_not_creatable(tiny_project):
    (tiny_project.parent.parent / runner.STAGING).write_text("a file in the way")
    _refused(tiny_project, f"{runner.STAGING}: not writable")


def test_too_little_free_space(tiny_project, monkeypatch):
    usage = namedtuple("usage", "total used free")
    monkeypatch.setattr(preflight.shutil, "disk_usage", lambda path: usage(10**9, 10**9 - 2**20, 2**20))
    _refused(tiny_project, "reports: only 1 MiB free; a run of this study needs about 6")


def test_corrupted_last_ledger_line(tiny_project):
    path = ledger.ledger_path(tiny_project.parent.parent / "reports")
    ledger.append(path, {"kind": "run", "run": "tiny/x"})
    with open(path, "a") as handle:
        handle.write('{"kind": "run", "run": "tiny/y"\n')
    _refused(tiny_project, "ledger.jsonl line 2: not valid JSON")


def test_malformed_trusted_key_file(tiny_project):
    (tiny_project.parent.parent / "trusted_keys.yaml").write_text("keys: 3\n")
    _refused(tiny_project, "trusted_keys.yaml: expected a mapping")


@pytest.mark.parametrize("error, code, fragment", [
    (StudyInputError("params/x.yaml: bad"), 2, "error: params/x.yaml: bad"),
    (ValueError("a bug"), 3, "error: unexpected ValueError: a bug (run with --debug for the traceback)"),
    (PermissionError(errno.EACCES, "Permission denied", "/r/index.html"), 4,
     "error: environment: Permission denied: /r/index.html"),
    (OSError(errno.ENOSPC, "No space left on device"), 4, "error: environment: No space left on device"),
    (KeyboardInterrupt(), 130, "interrupted: the run was discarded"),
])
def test_exit_codes_are_never_1_for_failures(tiny_project, monkeypatch, error, code, fragment):
    def fail(*args, **kwargs):
        raise error

    monkeypatch.setattr(runner, "run", fail)
    result = CliRunner().invoke(main, ["run", str(tiny_project)])
    assert result.exit_code == code, result.output
    assert fragment in result.output and "Traceback" not in result.output
    if code != 130:
        debug = CliRunner().invoke(main, ["--debug", "run", str(tiny_project)])
        assert debug.exception is error


def test_keygen_refuses_to_overwrite_and_runs_lists_an_empty_folder(tmp_path):
    (tmp_path / "alice").write_text("")
    result = CliRunner().invoke(main, ["keygen", str(tmp_path / "alice")])
    assert result.exit_code == 2 and "already exists" in result.output
    result = CliRunner().invoke(main, ["runs", "--reports-dir", str(tmp_path / "nothing")])
    assert result.exit_code == 0 and result.output == "no runs\n"
