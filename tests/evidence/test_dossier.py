"""The release dossier: assembled from a copy of the session run (with a signed sign-off), verified offline
after unpacking elsewhere, refused after one byte changes, byte-identical when rebuilt; bad input exits 2."""

import json
import shutil
import zipfile
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from studylib.cli import main
from studylib.errors import StudyInputError
from studylib.evidence import dossier, ledger, signoff, trust


@pytest.fixture(scope="module")
def signed(archived_run, tmp_path_factory):
    """A copy of the session project whose run carries a signed sign-off, trusted_keys.yaml beside reports/,
    and the run's dossier as a folder and as a zip."""
    root = tmp_path_factory.mktemp("dossier") / "project"
    shutil.copytree(archived_run.root, root)
    folder = root / archived_run.folder.relative_to(archived_run.root)
    keys = root.parent / "keys"
    keys.mkdir()
    for name in ("alice", "mallory"):
        signoff.generate_key(keys / name)
    (root / trust.TRUSTED_KEYS).write_text(yaml.safe_dump({"format": trust.FORMAT, "keys": [
        {"reviewer": "A. Smith", "roles": ["quality"], "public_key": (keys / "alice.pub").read_text()}]}))
    result = CliRunner().invoke(main, ["signoff", str(folder), "--reviewer", "A. Smith", "--role", "quality",
                                       "--decision", "approve", "--key", str(keys / "alice")])
    assert result.exit_code == 0, result.output
    out = root.parent / "out"
    out.mkdir()
    for name in ("d", "d.zip"):
        result = CliRunner().invoke(main, ["dossier", str(folder), "--out", str(out / name)])
        assert result.exit_code == 0, result.output
    return root, folder, keys, out


def _verify(path, *args):
    return CliRunner().invoke(main, ["verify", str(path), *args])


def _files(path: Path) -> set[str]:
    return {p.relative_to(path).as_posix() for p in path.rglob("*") if p.is_file()}


def test_dossier_holds_the_report_evidence_and_ledger_and_leaves_restricted_files_out(signed):
    root, folder, _, out = signed
    names = _files(out / "d")
    for name in ("README.md", "SHA256SUMS", "dossier.json", "rollback.md", "ledger.jsonl", "trusted_keys.yaml",
                 "snapshot/manifest.json", "run/index.html", "run/checklist.html", "run/manifest.json",
                 "run/sbom.cdx.json", "run/params.yaml", "run/verdict.json", "run/snapshot-card.yaml",
                 "run/results/subgroups.reviewer.json", "run/notebooks/02_evaluation.reviewer.html"):
        assert name in names, name
    assert not [n for n in names if n.endswith((".parquet", ".ipynb", ".full.html"))]
    assert "run/results/subgroups.json" not in names  # restricted: its reviewer version is in
    assert any(n.startswith("run/figures/") for n in names)
    readme = (out / "d" / "README.md").read_text()
    index = json.loads((out / "d" / "dossier.json").read_text())
    for name in names - {"README.md", "SHA256SUMS", "dossier.json"}:  # every file indexed with its hash
        assert f"`{name}` | `{index['files'][name]['sha256']}`" in readme
    manifest = json.loads((folder / "manifest.json").read_text())
    assert manifest["models"]["candidate"]["artifact_sha256"] in readme
    assert index["models"] == manifest["models"] and index["snapshot"]["lock"] == manifest["snapshot"]["lock"]
    entries = ledger.parse((out / "d" / "ledger.jsonl").read_bytes())
    assert entries[-1]["kind"] == "signoff" and entries[-1]["seq"] == index["ledger"]["entries"][-1]
    assert "A. Smith (quality)" in readme
    rollback = (out / "d" / "rollback.md").read_text()
    assert "| TR-1 | investigate | investigate the cause" in rollback and "| no |" in rollback


def test_rollback_names_each_action_and_says_when_there_is_none():
    params = b"drift:\n  triggers:\n    - {id: TR-9, statistic: auroc, action: suspend}\n"
    verdict = json.dumps({"gates": [{"id": "TR-9", "verdict": "FAIL", "rule": "auroc below 0.7"}]}).encode()
    text = dossier.rollback_text({"run/params.yaml": params, "run/verdict.json": verdict})
    assert "| TR-9 | suspend | suspend the model's use until the cause is resolved | yes | auroc below 0.7 | FIRED |" in text
    assert "declares no drift triggers" in dossier.rollback_text({"run/params.yaml": b"study: {}\n"})


def test_dossier_verifies_after_unpacking_and_copying_elsewhere(signed, tmp_path):
    root, _, keys, out = signed
    with zipfile.ZipFile(out / "d.zip") as archive:
        archive.extractall(tmp_path / "unzipped")
    (unpacked,) = (tmp_path / "unzipped").iterdir()
    shutil.copytree(out / "d", tmp_path / "copied")
    for path in (out / "d.zip", unpacked, tmp_path / "copied"):
        result = _verify(path)
        assert result.exit_code == 0, result.output
        assert "signature verified" in result.output and "keys stored in the dossier" in result.output
    result = _verify(out / "d.zip", "--trusted-keys", str(root / trust.TRUSTED_KEYS))
    assert result.exit_code == 0 and "keys stored" not in result.output, result.output


def test_dossier_is_byte_identical_when_rebuilt(signed):
    _, folder, _, out = signed
    result = CliRunner().invoke(main, ["dossier", str(folder), "--out", str(out / "again.zip")])
    assert result.exit_code == 0, result.output
    assert (out / "again.zip").read_bytes() == (out / "d.zip").read_bytes()
    digest = result.output.split("dossier digest: ")[1].strip()
    assert digest == "sha256:" + dossier._sha((out / "d" / "dossier.json").read_bytes())
    (out / "again.zip").unlink()


def _flip(path: Path, at: float = 0.5) -> None:
    data = bytearray(path.read_bytes())
    data[int(len(data) * at)] ^= 0x01
    path.write_bytes(bytes(data))


@pytest.mark.parametrize("name", ["run/index.html", "run/manifest.json", "run/sbom.cdx.json", "run/params.yaml",
                                  "run/snapshot-card.yaml", "ledger.jsonl", "dossier.json", "README.md",
                                  "SHA256SUMS", "rollback.md", "trusted_keys.yaml", "snapshot/manifest.json"])
def test_one_changed_byte_in_any_file_is_named(signed, tmp_path, name):
    copy = shutil.copytree(signed[3] / "d", tmp_path / "d")
    _flip(copy / name)
    result = _verify(copy)
    assert result.exit_code == 1 and name in result.output, result.output


@pytest.mark.parametrize("at", [0.0, 0.001, 0.3, 0.5, 0.9, 0.995, 0.9999])
def test_one_changed_byte_anywhere_in_the_zip_is_refused(signed, tmp_path, at):
    copy = tmp_path / "d.zip"
    shutil.copyfile(signed[3] / "d.zip", copy)
    _flip(copy, at)
    result = _verify(copy)
    assert result.exit_code == 1 and "FAIL" in result.output and "Traceback" not in result.output, result.output


def test_a_removed_or_added_file_is_named(signed, tmp_path):
    copy = shutil.copytree(signed[3] / "d", tmp_path / "d")
    (copy / "run" / "verdict.json").unlink()
    (copy / "run" / "notes.txt").write_text("planted")
    result = _verify(copy)
    assert result.exit_code == 1
    assert "missing file: run/verdict.json" in result.output and "extra file not in dossier.json: run/notes.txt" in result.output


def _reseal(copy: Path) -> None:
    """A forger's dossier: every hash of the index and SHA256SUMS recomputed after an edit."""
    index = json.loads((copy / "dossier.json").read_text())
    for name in index["files"]:
        index["files"][name]["sha256"] = dossier._sha((copy / name).read_bytes())
    (copy / "dossier.json").write_bytes(dossier.index_bytes(index))


def _rewrite_ledger(path: Path, change) -> None:
    entries = ledger.parse(path.read_bytes())
    change(entries)
    previous = ledger.GENESIS
    for entry in entries:
        entry["prev"] = previous
        entry["hash"] = previous = ledger.entry_hash(entry)
    path.write_text("".join(json.dumps(e, sort_keys=True) + "\n" for e in entries))


def test_a_stripped_signature_is_refused_even_when_every_hash_is_recomputed(signed, tmp_path):
    copy = shutil.copytree(signed[3] / "d", tmp_path / "d")
    _rewrite_ledger(copy / "ledger.jsonl", lambda es: es[-1].pop("signature"))
    _reseal(copy)
    result = _verify(copy)
    assert result.exit_code == 1 and "not signed (or its signature was stripped)" in result.output, result.output


def test_a_flipped_decision_is_refused_and_an_untrusted_key_is_named(signed, tmp_path):
    root, _, keys, out = signed
    copy = shutil.copytree(out / "d", tmp_path / "d")
    _rewrite_ledger(copy / "ledger.jsonl", lambda es: es[-1].update(decision="reject"))
    _reseal(copy)
    result = _verify(copy)
    assert result.exit_code == 1 and "signature does not verify" in result.output, result.output
    result = _verify(out / "d.zip", "--public-key", str(keys / "mallory.pub"))
    assert result.exit_code == 1 and "not among the trusted keys" in result.output, result.output


def test_the_ledger_stops_at_the_runs_last_entry(signed, tmp_path):
    root, folder, _, _ = signed
    project = shutil.copytree(root, tmp_path / "project")
    run = project / folder.relative_to(root)
    ledger.append(ledger.ledger_path(run.parent.parent), {"kind": "run", "run": "other/x", "manifest_sha256": "x"})
    files, _, _ = dossier.assemble(run)
    entries = ledger.parse(files["ledger.jsonl"])
    assert entries[-1]["kind"] == "signoff" and all(e.get("run") != "other/x" for e in entries)


def test_bad_input_exits_2_and_writes_nothing(signed, tmp_path):
    root, folder, _, out = signed
    cases = [
        ([str(tmp_path / "no-such-run"), "--out", str(tmp_path / "a.zip")], "not a run folder"),
        ([str(folder), "--out", str(out / "d.zip")], "already exists"),
        ([str(folder), "--out", str(tmp_path / "missing" / "a.zip")], "does not exist"),
        ([str(folder), "--out", str(root / "params" / "tiny.yaml" / "a.zip")], "does not exist"),
        ([str(folder), "--out", str(folder / "d.zip")], "inside the reports folder"),
    ]
    for args, message in cases:
        result = CliRunner().invoke(main, ["dossier", *args])
        assert result.exit_code == 2 and message in result.output, (args, result.output)
        assert "Traceback" not in result.output
    assert not (tmp_path / "a.zip").exists()
    for path, message in ((root / "params" / "tiny.yaml", "not a run folder or a dossier"),):
        result = _verify(path)
        assert result.exit_code == 2 and message in result.output, result.output
    with pytest.raises(StudyInputError, match="not a dossier"):
        dossier.verify(root / "params")


def test_a_run_that_fails_verification_gets_no_dossier(signed, tmp_path):
    root, folder, _, _ = signed
    project = shutil.copytree(root, tmp_path / "project")
    run = project / folder.relative_to(root)
    (run / "verdict.json").write_text("{}")
    result = CliRunner().invoke(main, ["dossier", str(run), "--out", str(tmp_path / "d.zip")])
    assert result.exit_code == 1 and "altered file: verdict.json" in result.output, result.output
    assert not list(tmp_path.glob("*d.zip*"))


def test_matrix_and_pdf_go_in_when_a_run_has_them_and_restricted_files_stay_out():
    listed = {"matrix.html", "results/matrix.json", "report.pdf", "results/subgroups.json",
              "results/subgroups.reviewer.json", "cohort.parquet", "notebooks/01_cohort.ipynb",
              "notebooks/01_cohort.full.html", "notebooks/01_cohort.reviewer.html"}
    kept = {name for name in listed if dossier.included(name, listed)}
    assert kept == {"matrix.html", "results/matrix.json", "report.pdf", "results/subgroups.reviewer.json",
                    "notebooks/01_cohort.reviewer.html"}
    assert "validation matrix" in dossier.purpose("run/matrix.html")
    assert "cohort stage report" in dossier.purpose("run/notebooks/01_cohort.reviewer.html")
