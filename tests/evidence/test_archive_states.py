"""Every state a reports folder can be left in by a crash, a full disk or a hand, on hand-made run
folders (no study run): what ``verify`` says about each, and how ``recover`` and the next start repair it."""

import json
import shutil

import pytest
import yaml
from click.testing import CliRunner

from studylib.cli import main
from studylib.data.hashing import sha256_file
from studylib.evidence import archive, ledger, signoff, staging, trust, verify


def _folder(root, study, run_id, verdict="PASS"):
    folder = root / study / run_id
    (folder / "results").mkdir(parents=True)
    (folder / "results" / "x.json").write_text('{"n": 1}')
    files = {"results/x.json": {"sha256": sha256_file(folder / "results" / "x.json"), "bytes": 8}}
    manifest = {"study_id": study, "run_id": run_id, "verdict": verdict, "started_at": run_id, "files": files}
    (folder / "manifest.json").write_text(json.dumps(manifest))
    return folder


def _record(reports, folder):
    return ledger.append(ledger.ledger_path(reports), {
        "kind": "run", "run": verify.run_key(folder), "manifest_sha256": "sha256:" + sha256_file(folder / "manifest.json")})


def _archived(reports, study="s", run_id="r1", **kw):
    folder = _folder(reports, study, run_id, **kw)
    _record(reports, folder)
    return folder


@pytest.fixture
def reports(tmp_path):
    reports = tmp_path / "reports"
    _archived(reports)
    assert verify.verify_all(reports).ok
    return reports


def _cli(*args):
    return CliRunner().invoke(main, [str(a) for a in args])


def _problems(reports, **kw):
    check = verify.verify_all(reports, **kw)
    return list(check.problems) + [p for r in check.runs for p in r.problems]


def test_recorded_run_left_in_staging_is_named_and_moved_into_place(reports):
    """The process stopped after the ledger append and before the rename (SIGKILL, rename failure)."""
    folder = _folder(staging.staging_root(reports), "s", "r2")  # staging/s/r2 → move to staging/r2
    pending = staging.staging_root(reports) / "r2"
    folder.rename(pending)
    shutil.rmtree(staging.staging_root(reports) / "s")
    ledger.append(ledger.ledger_path(reports), {"kind": "run", "run": "s/r2",
                                               "manifest_sha256": "sha256:" + sha256_file(pending / "manifest.json")})
    assert any("s/r2 is recorded in the ledger (seq 2) but its folder is still in staging" in p
               for p in _problems(reports))
    messages = []
    staging.sweep(reports, messages.append)
    assert "finished archiving run s/r2" in messages[0] and (reports / "s" / "r2").is_dir()
    assert verify.verify_all(reports).ok


def test_unrecorded_run_folder_fails_until_recover_quarantines_it(reports):
    """A folder in reports/ the ledger does not record: a hand-made run, or its entry cut off the ledger."""
    _folder(reports, "s", "r9")
    result = _cli("verify", "--all", "--reports-dir", reports)
    assert result.exit_code == 1 and "run s/r9 is not in the ledger" in result.output and "studylib recover" in result.output
    result = _cli("recover", "--reports-dir", reports)
    assert result.exit_code == 0 and "quarantined run s/r9" in result.output
    assert (reports / ".quarantine" / "s" / "r9" / "manifest.json").is_file()
    result = _cli("verify", "--all", "--reports-dir", reports)
    assert result.exit_code == 0, result.output
    assert "run s/r9 was quarantined" in result.output
    assert [r.run_id for r in archive.list_runs(reports)] == ["r1"]


def test_torn_last_line_fails_until_set_aside(reports):
    """A crash mid-write of a ledger line, or a ledger cut mid-line."""
    with open(ledger.ledger_path(reports), "a") as handle:
        handle.write('{"kind": "signoff", "dec')
    assert any("ends with an incomplete line (24 bytes" in p for p in _problems(reports))
    assert _cli("recover", "--reports-dir", reports).exit_code == 0
    check = verify.verify_all(reports)
    assert check.ok and any("set aside" in n for n in check.notes)


@pytest.mark.parametrize("text", ["{not json", "[]", '{"files": {"a": 1}}'])
def test_malformed_manifest_affects_only_its_run(reports, text):
    (_archived(reports, run_id="r2") / "manifest.json").write_text(text)
    check = verify.verify_all(reports)
    by_run = {r.run: r for r in check.runs}
    assert by_run["s/r1"].ok and not by_run["s/r2"].ok
    assert by_run["s/r2"].problems[0].startswith("malformed manifest.json")
    listed = {r.run_id: r for r in archive.list_runs(reports)}
    assert listed["r2"].verdict == "malformed manifest" and listed["r1"].verdict == "PASS"
    result = _cli("runs", "--reports-dir", reports)
    assert result.exit_code == 0 and "malformed manifest" in result.output


def test_verify_all_on_a_missing_reports_folder_is_an_error(tmp_path):
    result = _cli("verify", "--all", "--reports-dir", tmp_path / "nowhere")
    assert result.exit_code == 2 and "no such reports folder" in result.output and "Traceback" not in result.output


def test_head_kept_elsewhere_detects_truncated_last_lines(reports, tmp_path):
    """Deleting the last entries is caught by the head a pipeline kept; without it only what left a trace."""
    signoff.generate_key(tmp_path / "alice")
    folder = reports / "s" / "r1"
    entry = signoff.make_entry("s/r1", "sha256:" + sha256_file(folder / "manifest.json"), reviewer="A",
                               role="quality", decision="reject", comment="")
    kept = ledger.append(ledger.ledger_path(reports), entry, seal=signoff.sealer(tmp_path / "alice"))["hash"]
    lines = ledger.ledger_path(reports).read_text().splitlines(keepends=True)
    ledger.ledger_path(reports).write_text("".join(lines[:-1]))  # the "reject" disappears
    assert verify.verify_all(reports).ok  # undetectable without an anchor outside the folder
    result = _cli("verify", "--all", "--reports-dir", reports, "--head", kept)
    assert result.exit_code == 1 and f"the expected head {kept} is not in the ledger" in result.output
    result = _cli("verify", folder, "--head", kept)
    assert result.exit_code == 1 and "is not in the ledger" in result.output
    assert _cli("verify", "--all", "--reports-dir", reports, "--head", "sha256:xyz").exit_code == 2
    ledger.ledger_path(reports).write_text("")  # the run entry itself removed: its folder is left unrecorded
    assert any("run s/r1 is not in the ledger" in p for p in _problems(reports))


def test_runs_and_index_never_show_an_unsigned_approval_as_one(reports, tmp_path):
    signoff.generate_key(tmp_path / "alice")
    (reports.parent / "trusted_keys.yaml").write_text(yaml.safe_dump({"format": trust.FORMAT, "keys": [
        {"reviewer": "Alice", "roles": ["quality"], "public_key": (tmp_path / "alice.pub").read_text()}]}))
    folder = reports / "s" / "r1"
    result = _cli("signoff", folder, "--reviewer", "Mallory", "--role", "quality", "--decision", "approve")
    assert result.exit_code == 2 and "sign with --key" in result.output
    entry = signoff.make_entry("s/r1", "sha256:" + sha256_file(folder / "manifest.json"), reviewer="Mallory",
                               role="quality", decision="approve", comment="")
    ledger.append(ledger.ledger_path(reports), entry)  # appended by hand, unsigned
    result = _cli("runs", "--reports-dir", reports)
    assert "INVALID sign-off by Mallory (quality), not counted" in result.output and "approved" not in result.output
    result = _cli("verify", "--all", "--reports-dir", reports)
    assert result.exit_code == 1 and "is not signed (or its signature was stripped)" in result.output
    page = (reports / "index.html").read_text()  # regenerated by verify: it did not exist
    assert "INVALID sign-off (not counted)" in page and "approved by" not in page
    result = _cli("signoff", folder, "--reviewer", "Alice", "--role", "quality", "--decision", "approve",
                  "--key", tmp_path / "alice")
    assert result.exit_code == 1 and "refusing to sign off" in result.output  # the run carries a forged entry


def test_verify_all_regenerates_an_edited_runs_page(reports):
    assert _cli("verify", "--all", "--reports-dir", reports).exit_code == 1  # index.html was never written
    assert _cli("verify", "--all", "--reports-dir", reports).exit_code == 0
    page = reports / "index.html"
    page.write_text(page.read_text().replace("r1", "r1 approved by the regulator"))
    result = _cli("verify", "--all", "--reports-dir", reports)
    assert result.exit_code == 1 and "index.html did not match the ledger" in result.output
    assert "regulator" not in page.read_text()


def test_recover_refuses_a_broken_chain(reports):
    path = ledger.ledger_path(reports)
    path.write_text(path.read_text().replace('"s/r1"', '"s/rX"'))
    result = _cli("recover", "--reports-dir", reports)
    assert result.exit_code == 2 and "restore it from a copy" in result.output and "line 1" in result.output


def test_keygen_into_missing_folder_is_one_line(tmp_path):
    result = _cli("keygen", tmp_path / "missing" / "alice")
    assert result.exit_code == 2 and result.output.count("\n") == 1 and "does not exist" in result.output


def test_verify_all_on_a_read_only_copy_reports_a_stale_page_without_failing_on_the_write(reports, monkeypatch):
    from studylib.evidence import results

    def read_only(path, text):
        raise PermissionError(13, "Read-only file system", str(path))

    monkeypatch.setattr(results, "write_text_atomically", read_only)
    result = _cli("verify", "--all", "--reports-dir", reports)
    assert result.exit_code == 1 and "does not match the ledger and could not be regenerated (Read-only" in result.output
