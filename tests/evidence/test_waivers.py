"""Claims, waivers, required roles and the release decision, end to end through the CLI on a copy of the
session run (no new study run): the copy's plan gains claims and roles, and its matrix is rewritten and
re-recorded in a fresh ledger as the runner would have written it."""

import json
import shutil
from pathlib import Path
from types import SimpleNamespace

import pytest
import yaml
from click.testing import CliRunner

from studylib import plan
from studylib.cli import main
from studylib.data.hashing import sha256_file
from studylib.evidence import ledger, signoff, trust
from studylib.judge import claims as judged
from studylib.run import pages, runner

ROLES = ["clinical", "quality"]


def _cli(*args):
    return CliRunner().invoke(main, [str(a) for a in args])


def _rerecord(folder: Path) -> None:
    """Re-hash every file of the run into its manifest and record it in a fresh ledger."""
    manifest = json.loads((folder / "manifest.json").read_text())
    manifest["files"] = {p.relative_to(folder).as_posix(): {"sha256": sha256_file(p), "bytes": p.stat().st_size}
                         for p in sorted(folder.rglob("*")) if p.is_file() and p.name != "manifest.json"}
    (folder / "manifest.json").write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n")
    reports = folder.parent.parent
    for name in ("ledger.jsonl", "ledger.jsonl.lock"):
        (reports / name).unlink(missing_ok=True)
    ledger.append(ledger.ledger_path(reports), {"kind": "run", "run": f"{folder.parent.name}/{folder.name}",
                                                "manifest_sha256": "sha256:" + sha256_file(folder / "manifest.json")})


@pytest.fixture
def project(archived_run, tmp_path):
    """A copy of the session run whose plan declares two claims and the roles clinical and quality, and a
    trusted-key file: Alice signs for clinical, Bob for quality; Mallory's key is not trusted."""
    root = tmp_path / "project"
    shutil.copytree(archived_run.root, root)
    folder = root / archived_run.folder.relative_to(archived_run.root)
    params = yaml.safe_load((folder / "params.yaml").read_text())
    params["release"] = {"roles": ROLES}
    params["claims"] = [
        {"id": "CL-1", "statement": "discriminates", "population": "adults", "supported_by": ["AC-1", "AC-3"],
         "required_roles": ROLES},
        {"id": "CL-2", "statement": "no leakage", "population": "adults", "supported_by": ["LEAK-*"],
         "required_roles": ["quality"]}]
    (folder / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False))
    study = plan.load(folder / "params.yaml", root=root)
    gates = json.loads((folder / "verdict.json").read_text())["gates"]
    stages = [SimpleNamespace(name=n, notebook=nb, status="ok") for n, nb in runner.STAGES]
    pages.write_matrix(folder, study, SimpleNamespace(run_id=folder.name, stages=stages), gates)
    _rerecord(folder)
    keys = tmp_path / "keys"
    keys.mkdir()
    for name in ("alice", "bob", "mallory"):
        signoff.generate_key(keys / name)
    (root / "trusted_keys.yaml").write_text(yaml.safe_dump({"format": trust.FORMAT, "keys": [
        {"reviewer": "Alice", "roles": ["clinical"], "public_key": (keys / "alice.pub").read_text()},
        {"reviewer": "Bob", "roles": ["quality"], "public_key": (keys / "bob.pub").read_text()}]}))
    return SimpleNamespace(root=root, folder=folder, keys=keys, gates=gates,
                           failing=judged.failing_blocking(gates))


def _status(project):
    result = _cli("status", project.folder, "--json")
    assert result.exit_code in (0, 1), result.output
    return result.exit_code, json.loads(result.output)


def _sign_run(project, *names):
    for name in names:
        result = _cli("signoff", project.folder, "--decision", "approve", "--key", project.keys / name)
        assert result.exit_code == 0, result.output


def test_matrix_written_with_the_run_files(project):
    matrix = json.loads((project.folder / "results" / "matrix.json").read_text())
    assert [c["id"] for c in matrix["claims"]] == ["CL-1", "CL-2"] and matrix["required_roles"] == ROLES
    one = matrix["claims"][0]
    assert "AC-3" in project.failing and one["status"] == judged.NOT_SUPPORTED and one["reason"].startswith("AC-3")
    assert one["signed_by"] is None  # sign-offs come after the run
    assert [g["id"] for g in one["gates"]] == ["AC-1", "AC-3"]
    assert one["gates"][1]["evidence"].endswith("reviewer.html#gate-AC-3")
    page = (project.folder / "matrix.html").read_text()
    assert "CL-1" in page and "NOT SUPPORTED" in page and "#gate-AC-3" in page


def test_waiver_needs_every_role_and_the_release_every_signature(project):
    code, before = _status(project)
    assert code == 1 and before["decision"] == "NOT APPROVED"
    assert "role clinical has not signed the run" in before["missing"]
    assert "gate AC-3 did not pass and has no waiver" in before["missing"]
    _sign_run(project, "alice", "bob")
    seqs = {}
    for gate in project.failing:
        filed = _cli("waive", project.folder, "--gate", gate, "--rationale", "known limitation",
                     "--mitigation", "monitor monthly", "--key", project.keys / "alice")
        assert filed.exit_code == 0, filed.output
        seqs[gate] = ledger.read(ledger.ledger_path(project.folder.parent.parent))[-1]["seq"]
    for gate, seq in seqs.items():  # one role is not enough
        assert _cli("signoff", project.folder, "--waiver", seq, "--decision", "approve",
                    "--key", project.keys / "alice").exit_code == 0
    code, partly = _status(project)
    assert code == 1 and f"gate AC-3: waiver {seqs['AC-3']} lacks the approval of quality" in partly["missing"]
    assert partly["matrix"]["claims"][0]["status"] == judged.NOT_SUPPORTED
    for gate, seq in seqs.items():
        assert _cli("signoff", project.folder, "--waiver", f"W-{seq}", "--decision", "approve",
                    "--key", project.keys / "bob").exit_code == 0
    code, after = _status(project)
    assert after["matrix"]["claims"][0]["status"] == judged.WAIVED
    assert code == 0 and after["decision"] == "APPROVED" and after["missing"] == [], after["missing"]
    assert after["matrix"]["claims"][0]["signed_by"] == {"clinical": ["Alice"], "quality": ["Bob"]}
    text = _cli("status", project.folder)
    assert text.exit_code == 0 and "APPROVED" in text.output and "waiver" in text.output
    listed = _cli("runs", "--reports-dir", project.folder.parent.parent)
    assert "APPROVED" in listed.output and "NOT APPROVED" not in listed.output
    assert _cli("verify", project.folder).exit_code == 0


def test_waive_refuses_a_passing_or_unknown_gate(project):
    passing = next(g["id"] for g in project.gates if g["verdict"] == "PASS" and g.get("blocks", True))
    for gate, expected in ((passing, "passed in run"), ("NOPE-1", "has no such gate")):
        result = _cli("waive", project.folder, "--gate", gate, "--rationale", "r", "--mitigation", "m",
                      "--key", project.keys / "alice")
        assert result.exit_code == 2 and expected in result.output and "Traceback" not in result.output


def test_untrusted_key_and_unknown_role_refused(project):
    result = _cli("signoff", project.folder, "--reviewer", "Mallory", "--role", "clinical", "--decision", "approve",
                  "--key", project.keys / "mallory")
    assert result.exit_code == 2 and "not trusted" in result.output
    result = _cli("signoff", project.folder, "--role", "quality", "--decision", "approve",
                  "--key", project.keys / "alice")
    assert result.exit_code == 2 and "not trusted for Alice as quality" in result.output
    result = _cli("waive", project.folder, "--gate", "AC-3", "--rationale", "r", "--mitigation", "m",
                  "--key", project.keys / "alice", "--role", "regulatory")
    assert result.exit_code == 2


def test_forged_waiver_approval_fails_verify_and_status(project):
    """A rejection of a waiver turned into an approval (hash chain recomputed) fails its signature; re-attributed
    to Bob it fails the role of Alice's key."""
    _sign_run(project, "alice", "bob")
    assert _cli("waive", project.folder, "--gate", "AC-3", "--rationale", "r", "--mitigation", "m",
                "--key", project.keys / "alice").exit_code == 0
    path = ledger.ledger_path(project.folder.parent.parent)
    seq = ledger.read(path)[-1]["seq"]
    assert _cli("signoff", project.folder, "--waiver", seq, "--decision", "reject",
                "--key", project.keys / "alice").exit_code == 0
    lines = path.read_text().splitlines()
    original = json.loads(lines[-1])
    for change, expected in (({"decision": "approve"}, "signature does not verify"),
                             ({"reviewer": "Bob", "role": "quality"}, "trusted for role(s) clinical, not quality")):
        forged = original | change
        forged["hash"] = ledger.entry_hash(forged)
        path.write_text("\n".join(lines[:-1] + [json.dumps(forged)]) + "\n")
        result = _cli("verify", project.folder)
        assert result.exit_code == 1 and expected in result.output, result.output
    code, state = _status(project)
    assert code == 1 and any(m.startswith("verification:") for m in state["missing"])


def test_signoff_of_a_tampered_run_refused_and_earlier_signoffs_fail(project):
    _sign_run(project, "alice")
    verdict = project.folder / "verdict.json"
    verdict.write_text(verdict.read_text().replace('"FAIL"', '"PASS"'))
    result = _cli("signoff", project.folder, "--decision", "approve", "--key", project.keys / "bob")
    assert result.exit_code == 1 and "refusing to sign off" in result.output and "altered file: verdict.json" in result.output
    result = _cli("waive", project.folder, "--gate", "AC-3", "--rationale", "r", "--mitigation", "m",
                  "--key", project.keys / "alice")
    assert result.exit_code == 1 and "refusing to waive" in result.output
    code, state = _status(project)
    assert code == 1 and any("altered file: verdict.json" in m for m in state["missing"])


def test_no_trusted_keys_nothing_counts(project):
    _sign_run(project, "alice", "bob")
    (project.root / "trusted_keys.yaml").unlink()
    code, state = _status(project)
    assert code == 1 and any("no trusted keys" in m for m in state["missing"])


def test_malformed_matrix_is_named_not_a_crash(project):
    (project.folder / "results" / "matrix.json").write_text('{"claims": [{"id": 1}]}')
    code, state = _status(project)
    assert code == 1 and any("results/matrix.json is malformed" in m for m in state["missing"])


def test_a_dossier_checks_waiver_signatures_too(project, tmp_path):
    """The release dossier verifies the waivers it carries as `verify` does a run: a waiver whose rationale a
    forger edits (every hash of the ledger and the dossier recomputed) is refused."""
    from tests.evidence.test_dossier import _reseal, _rewrite_ledger

    gate = project.failing[0]
    assert _cli("waive", project.folder, "--gate", gate, "--rationale", "known limitation", "--mitigation",
                "monitor monthly", "--key", project.keys / "alice").exit_code == 0
    out = tmp_path / "dossier"
    built = _cli("dossier", project.folder, "--out", out)
    assert built.exit_code == 0, built.output
    assert _cli("verify", out).exit_code == 0
    _rewrite_ledger(out / "ledger.jsonl", lambda es: es[-1].update(rationale="no limitation"))
    _reseal(out)
    result = _cli("verify", out)
    assert result.exit_code == 1 and "signature does not verify" in result.output, result.output
