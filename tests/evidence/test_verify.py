"""Tamper evidence, sign-offs, reproduction and the runs listing on a real (tiny) archived run."""

import json
import shutil

import pytest
import yaml
from click.testing import CliRunner

from studylib.evidence import archive
from studylib.run import runner
from studylib.evidence import verify
from studylib.cli import main
from tests.conftest import notebooks_with

pytestmark = pytest.mark.e2e


@pytest.fixture
def archived(archived_run):
    """The session's tiny study run (conftest); tests work on copies of its project folder."""
    return archived_run.root


@pytest.fixture
def project(archived, tmp_path):
    copy = tmp_path / "project"
    shutil.copytree(archived, copy)
    manifest_paths = list((copy / "reports").glob("*/*/manifest.json"))
    for path in manifest_paths:  # the copy's runs find the copy's project root (recorded relative to the run)
        data = json.loads(path.read_text())
        assert (path.parent / data["project_root"]).resolve() == copy.resolve()
    return copy


def _run_folder(project):
    return next(p for p in (project / "reports").glob("tiny/*") if p.is_dir())


def _cli(*args):
    return CliRunner().invoke(main, [str(a) for a in args])


def test_untouched_run_verifies(project):
    result = _cli("verify", _run_folder(project))
    assert result.exit_code == 0, result.output
    assert result.output.startswith("OK")


@pytest.mark.parametrize("name", ["notebooks/02_evaluation.ipynb", "results/evaluation.json", "index.html",
                                  "notebooks/03_subgroups.reviewer.html"])
def test_changed_byte_is_named(project, name):
    path = _run_folder(project) / name
    raw = bytearray(path.read_bytes())
    raw[len(raw) // 2] ^= 0x01
    path.write_bytes(bytes(raw))
    result = _cli("verify", _run_folder(project))
    assert result.exit_code == 1
    assert f"altered file: {name}" in result.output


def test_deleted_file_is_named(project):
    (_run_folder(project) / "results" / "drift.json").unlink()
    result = _cli("verify", _run_folder(project))
    assert result.exit_code == 1 and "missing file: results/drift.json" in result.output


def test_extra_file_is_named(project):
    (_run_folder(project) / "results" / "planted.json").write_text("{}")
    result = _cli("verify", _run_folder(project))
    assert result.exit_code == 1 and "extra file not in the manifest: results/planted.json" in result.output


def test_altered_manifest_detected_against_ledger(project):
    folder = _run_folder(project)
    manifest = json.loads((folder / "manifest.json").read_text())
    manifest["verdict"] = "PASS" if manifest["verdict"] != "PASS" else "FAIL"
    (folder / "manifest.json").write_text(json.dumps(manifest))
    result = _cli("verify", folder)
    assert result.exit_code == 1 and "altered file: manifest.json (ledger records" in result.output


def test_deleted_ledger_line_and_missing_run_detected(project):
    ledger_file = project / "reports" / "ledger.jsonl"
    ledger_file.write_text("")
    result = _cli("verify", _run_folder(project))
    assert result.exit_code == 1 and "is not in the ledger" in result.output


def test_verify_all_detects_removed_run_folder(project):
    shutil.rmtree(_run_folder(project))
    result = _cli("verify", "--all", "--reports-dir", project / "reports")
    assert result.exit_code == 1 and "is in the ledger (seq 1) but its folder is missing" in result.output


def test_signoff_signed_and_verified_and_wrong_key_fails(project, tmp_path):
    folder = _run_folder(project)
    assert _cli("keygen", tmp_path / "alice").exit_code == 0
    assert _cli("keygen", tmp_path / "mallory").exit_code == 0
    result = _cli("signoff", folder, "--reviewer", "Alice", "--role", "quality", "--decision", "approve",
                  "--comment", "looks <fine>", "--key", tmp_path / "alice")
    assert result.exit_code == 0, result.output
    good = _cli("verify", folder, "--public-key", tmp_path / "alice.pub")
    assert good.exit_code == 0 and "signature verified" in good.output
    wrong = _cli("verify", folder, "--public-key", tmp_path / "mallory.pub")
    assert wrong.exit_code == 1 and "not among the trusted keys" in wrong.output
    listed = archive.list_runs(project / "reports")
    assert listed[0].signoff_state == "approved by Alice (quality; signature not checked)"
    page = (project / "reports" / "index.html").read_text()
    assert "approved by Alice (quality)" in page and "signature not checked" in page and "looks &lt;fine&gt;" in page
    # the project commits Alice's key for the quality role: her sign-off counts, and it is verified by default
    (project / "trusted_keys.yaml").write_text(yaml.safe_dump({"format": "studylib-trusted-keys/1", "keys": [
        {"reviewer": "Alice", "roles": ["quality"], "public_key": (tmp_path / "alice.pub").read_text()}]}))
    assert archive.list_runs(project / "reports")[0].signoff_state == "approved by Alice (quality)"
    trusted = _cli("verify", folder)
    assert trusted.exit_code == 0 and "signature verified" in trusted.output


def test_forged_signature_detected(project, tmp_path):
    folder = _run_folder(project)
    _cli("keygen", tmp_path / "alice")
    _cli("signoff", folder, "--reviewer", "Alice", "--role", "quality", "--decision", "reject", "--key", tmp_path / "alice")
    ledger_file = project / "reports" / "ledger.jsonl"
    lines = ledger_file.read_text().splitlines()
    entry = json.loads(lines[-1])
    entry["decision"] = "approve"  # forge the decision and re-hash the entry so the chain still holds
    from studylib.evidence import ledger

    entry["hash"] = ledger.entry_hash(entry)
    ledger_file.write_text("\n".join(lines[:-1] + [json.dumps(entry)]) + "\n")
    result = _cli("verify", folder, "--public-key", tmp_path / "alice.pub")
    assert result.exit_code == 1 and "signature does not verify" in result.output


def test_signoff_refused_on_tampered_run(project):
    folder = _run_folder(project)
    (folder / "index.html").write_text("tampered")
    result = _cli("signoff", folder, "--reviewer", "Bob", "--role", "clinical", "--decision", "approve")
    assert result.exit_code == 1 and "refusing to sign off" in result.output


def test_reproduce_equal_then_different_after_parameter_change(reproduced_run, tmp_path):
    # `studylib reproduce` of the session run (conftest), in a copy of its project
    assert reproduced_run.exit_code == 0, reproduced_run.output
    assert "REPRODUCED" in reproduced_run.output
    from studylib.run import reproduce

    project = tmp_path / "project"
    shutil.copytree(reproduced_run.root, project)
    folder = project / reproduced_run.original.relative_to(reproduced_run.root)
    # change a parameter, run again: reproduce's comparison names the numbers that changed
    params_file = project / "params" / "tiny.yaml"
    data = yaml.safe_load(params_file.read_text())
    data["analysis"]["threshold"] = 0.5
    params_file.write_text(yaml.safe_dump(data, sort_keys=False))
    # the stages the threshold reaches are run for real; subgroups and drift are stubs (tests/stub_notebooks)
    notebooks = notebooks_with(tmp_path / "notebooks", "01_cohort.ipynb", "02_evaluation.ipynb")
    changed = runner.run(params_file, notebooks=notebooks, log=lambda m: None)
    differences = reproduce.compare_runs(folder, changed.folder)
    by_file = {}
    for d in differences:
        by_file.setdefault(d.file, set()).add(d.path)
    assert "results/cohort.json" not in by_file  # the cohort does not depend on the threshold
    assert any("sensitivity" in p for p in by_file["results/evaluation.json"])
    assert "n" not in by_file["results/evaluation.json"]  # the count of analysed patients did not change
    assert verify.verify_all(project / "reports").ok
