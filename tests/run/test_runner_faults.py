"""Faults around runs: two runs at once, and a run killed with SIGKILL mid-execution (stub notebooks:
the runner's staging, archiving and ledger are under test, not the stages)."""

import errno
import functools
import json
import os
import shutil
import signal
import subprocess
import sys
import time
import types

import pytest
from click.testing import CliRunner

from studylib.cli import main

from studylib.evidence import ledger
from studylib.run import runner
from studylib.evidence import verify
from tests.conftest import STUB_NOTEBOOKS, stub_run_command

pytestmark = pytest.mark.e2e


def _start(params_file, **kw):
    return subprocess.Popen(stub_run_command(params_file), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, **kw)


def test_two_runs_started_together_both_complete(tiny_project):
    """Two runs of one project at once in two processes: one in a process of its own, the other in this one,
    started as soon as the first has begun (its first line: its run id claimed, its staging folder locked)."""
    other = _start(tiny_project)
    begun = other.stderr.readline()
    here = runner.run(tiny_project, notebooks=STUB_NOTEBOOKS, log=lambda m: None)
    _, rest = other.communicate(timeout=600)
    assert other.returncode in (0, 1) and here.exit_code in (0, 1), begun + rest
    assert begun.startswith("studylib run tiny"), begun + rest
    reports = tiny_project.parent.parent / "reports"
    folders = sorted(p for p in (reports / "tiny").iterdir() if p.is_dir())
    assert len(folders) == 2 and folders[0].name != folders[1].name
    entries = ledger.read(ledger.ledger_path(reports))
    assert sorted(e["run"] for e in entries) == sorted(f"tiny/{f.name}" for f in folders)
    assert verify.verify_all(reports).ok


def test_sigkill_mid_run_leaves_no_partial_run_and_intact_ledger(archived_run, tmp_path):
    root = tmp_path / "project"
    shutil.copytree(archived_run.root, root)  # the session's project: one complete run and its ledger entry
    tiny_project = root / "params" / "tiny.yaml"
    ledger_before = (root / "reports" / "ledger.jsonl").read_bytes()
    (root / "stub.json").write_text(json.dumps({"evaluation": {"sleep": 300}}))  # still running when killed
    process = _start(tiny_project, start_new_session=True)
    deadline = time.time() + 300
    for line in process.stderr:
        if "[1/4]" in line or time.time() > deadline:
            break
    os.killpg(process.pid, signal.SIGKILL)  # the run and its kernel, as an OOM killer or a CI timeout would
    process.wait(timeout=60)
    (root / "stub.json").unlink()
    runs = [p for p in (root / "reports" / "tiny").iterdir() if p.is_dir()]
    assert len(runs) == 1, "only the complete run is archived"
    assert (root / "reports" / "ledger.jsonl").read_bytes() == ledger_before
    staging = [p for p in (root / runner.STAGING).iterdir() if p.is_dir()]
    assert len(staging) == 1, "the killed run's staging folder is outside reports/"
    assert verify.verify_all(root / "reports").ok  # an unrecorded staging folder is no run: nothing to repair
    messages = []
    runner.run(tiny_project, notebooks=STUB_NOTEBOOKS, log=messages.append)  # the next start removes it
    assert any("interrupted run" in m for m in messages)
    assert not any(p.name == staging[0].name for p in (root / runner.STAGING).iterdir())
    assert verify.verify_all(root / "reports").ok


def _killing_command(params_file, patch: str) -> list[str]:
    """A stub run in a process of its own, with ``patch`` (Python) applied to the runner's modules first."""
    code = ("import os, signal, sys, types\nfrom pathlib import Path\nfrom studylib.run import runner\n"
            "from studylib.evidence import ledger\n" + patch +
            "\noutcome = runner.run(sys.argv[1], notebooks=Path(sys.argv[2]), log=lambda m: None)\n"
            "sys.exit(outcome.exit_code)")
    return [sys.executable, "-c", code, str(params_file), str(STUB_NOTEBOOKS)]


def _problems(reports):
    check = verify.verify_all(reports)
    return list(check.problems) + [p for r in check.runs for p in r.problems]


def test_sigkill_between_ledger_append_and_rename_is_finished_by_recover(tiny_project):
    root = tiny_project.parent.parent
    patch = ("runner.os = types.SimpleNamespace(**{**vars(os), "
             "'rename': lambda *a: os.kill(os.getpid(), signal.SIGKILL)})")
    process = subprocess.run(_killing_command(tiny_project, patch), capture_output=True, text=True, timeout=600)
    assert process.returncode == -signal.SIGKILL, process.stderr
    reports = root / "reports"
    entries = ledger.read(ledger.ledger_path(reports))
    assert [e["kind"] for e in entries] == ["run"]
    assert any("is recorded in the ledger (seq 1) but its folder is still in staging" in p for p in _problems(reports))
    result = CliRunner().invoke(main, ["recover", "--reports-dir", str(reports)])
    assert result.exit_code == 0 and "finished archiving run" in result.output, result.output
    assert (reports / entries[0]["run"] / "manifest.json").is_file()
    assert verify.verify_all(reports).ok


def test_crash_mid_write_of_the_ledger_line_leaves_no_run_and_is_repaired(tiny_project):
    root = tiny_project.parent.parent
    patch = ("def _half(fd, data):\n    os.write(fd, data[: len(data) // 2]); os.kill(os.getpid(), signal.SIGKILL)\n"
             "ledger.os = types.SimpleNamespace(**{**vars(os), 'write': _half})")
    process = subprocess.run(_killing_command(tiny_project, patch), capture_output=True, text=True, timeout=600)
    assert process.returncode == -signal.SIGKILL, process.stderr
    reports = root / "reports"
    assert ledger.read(ledger.ledger_path(reports)) == [] and not (reports / "tiny").exists()
    assert any("ends with an incomplete line" in p for p in _problems(reports))
    result = CliRunner().invoke(main, ["recover", "--reports-dir", str(reports)])
    assert result.exit_code == 0, result.output
    assert "removed the staging folder of an interrupted run" in result.output and "set aside" in result.output
    assert verify.verify_all(reports).ok and not any((root / runner.STAGING).iterdir())


def test_enospc_at_the_append_exits_4_and_a_malformed_manifest_elsewhere_harms_no_later_run(tiny_project, monkeypatch):
    root = tiny_project.parent.parent
    reports = root / "reports"
    (reports / "other" / "20000101T000000Z-bad000").mkdir(parents=True)
    (reports / "other" / "20000101T000000Z-bad000" / "manifest.json").write_text("[1, 2")
    real_write = os.write

    def full_disk(fd, data):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(runner, "run", functools.partial(runner.run, notebooks=STUB_NOTEBOOKS))
    monkeypatch.setattr(ledger, "os", types.SimpleNamespace(**{**vars(os), "write": full_disk}))
    result = CliRunner().invoke(main, ["run", str(tiny_project)])
    assert result.exit_code == 4, result.output
    assert "error: environment: the run could not be archived and was discarded: No space left" in result.output
    assert "Traceback" not in result.output and not (reports / "tiny").exists()
    assert not any((root / runner.STAGING).iterdir())
    monkeypatch.setattr(ledger, "os", os)
    assert real_write is os.write
    result = CliRunner().invoke(main, ["run", str(tiny_project)])
    assert result.exit_code in (0, 1), result.output
    head = ledger.head(ledger.ledger_path(reports))
    assert f"ledger head: {head}" in result.output
    folder = next((reports / "tiny").iterdir())
    result = CliRunner().invoke(main, ["signoff", str(folder), "--reviewer", "B", "--role", "clinical",
                                       "--decision", "approve"])
    assert result.exit_code == 0, result.output
    check = verify.verify_all(reports)
    assert [r.run for r in check.runs if not r.ok] == ["other/20000101T000000Z-bad000"]
    assert "malformed manifest.json" in next(r for r in check.runs if not r.ok).problems[0]


@pytest.mark.parametrize("control, marker", [
    ({"evaluation": {"sleep": 300}}, "[1/4]"),  # while the later stages execute
    ({"cohort": {"sleep": 300}}, "studylib run"),  # while the cohort executes and the later kernels wait for it
], ids=["later-stages", "cohort"])
def test_ctrl_c_to_the_process_group_exits_130_quietly(tiny_project, control, marker):
    root = tiny_project.parent.parent
    (root / "stub.json").write_text(json.dumps(control))
    # Ctrl-C as from a terminal: a process started in the background by a shell without job control (`make test
    # &` in a script) inherits SIGINT ignored, and would keep it so
    code = ("import functools, signal, sys\nfrom pathlib import Path\nfrom studylib.run import runner\nfrom studylib import cli\n"
            "signal.signal(signal.SIGINT, signal.default_int_handler)\n"
            "runner.run = functools.partial(runner.run, notebooks=Path(sys.argv[2]))\n"
            "from studylib.run import kernel_server, stages\n"  # the early start, for the stub notebooks
            "cli._start_kernel_server = lambda _: kernel_server.shared(stages.stage_notebooks(Path(sys.argv[2])), "
            "warm=stages.WARM_UPS)\n"
            "cli.main(['run', sys.argv[1]])")
    process = subprocess.Popen([sys.executable, "-c", code, str(tiny_project), str(STUB_NOTEBOOKS)],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True)
    lines = []
    for line in process.stderr:
        lines.append(line)
        if marker in line:
            break
    os.killpg(process.pid, signal.SIGINT)  # as Ctrl-C in a terminal: the run and its kernel
    _, rest = process.communicate(timeout=300)
    stderr = "".join(lines) + rest
    assert process.returncode == 130, stderr
    assert "interrupted" in stderr
    assert "Task exception was never retrieved" not in stderr and "Traceback" not in stderr
    assert not (root / "reports" / "tiny").exists() or not any((root / "reports" / "tiny").iterdir())
