"""Faults around runs: two runs at once, and a run killed with SIGKILL mid-execution (stub notebooks:
the runner's staging, archiving and ledger are under test, not the stages)."""

import json
import os
import shutil
import signal
import subprocess
import time

import pytest

from studylib.evidence import ledger
from studylib.run import runner
from studylib.evidence import verify
from tests.conftest import STUB_NOTEBOOKS, stub_run_command

pytestmark = pytest.mark.e2e


def _start(params_file, **kw):
    return subprocess.Popen(stub_run_command(params_file), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, **kw)


def test_two_runs_started_together_both_complete(tiny_project):
    first, second = _start(tiny_project), _start(tiny_project)
    outputs = [p.communicate(timeout=600) for p in (first, second)]
    assert first.returncode in (0, 1) and second.returncode in (0, 1), outputs
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
    staging = list((root / runner.STAGING).iterdir())
    assert len(staging) == 1, "the killed run's staging folder is outside reports/"
    messages = []
    runner.run(tiny_project, notebooks=STUB_NOTEBOOKS, log=messages.append)  # the next start removes it
    assert any("interrupted run" in m for m in messages)
    assert not any(p.name == staging[0].name for p in (root / runner.STAGING).iterdir())
    assert verify.verify_all(root / "reports").ok
