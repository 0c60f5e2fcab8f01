"""Sign-offs anchored to the ledger head, checked against trusted reviewer keys (no study run needed)."""

import json

import pytest
import yaml

from studylib.errors import StudyInputError
from studylib.evidence import ledger, signoff, trust

MANIFEST = "sha256:" + "ab" * 32


@pytest.fixture
def keys(tmp_path):
    for name in ("alice", "mallory"):
        signoff.generate_key(tmp_path / name)
    return tmp_path


def _trusted(keys, roles=("quality",), reviewer="Alice"):
    path = keys / "trusted_keys.yaml"
    path.write_text(yaml.safe_dump({"format": trust.FORMAT, "keys": [
        {"reviewer": reviewer, "roles": list(roles), "public_key": (keys / "alice.pub").read_text()}]}))
    return trust.Trust(trust.load(path))


def _sign(path, keys, *, key="alice", reviewer="Alice", role="quality", decision="approve"):
    entry = signoff.make_entry("s/r1", MANIFEST, reviewer=reviewer, role=role, decision=decision, comment="")
    return ledger.append(path, entry, seal=signoff.sealer(keys / key) if key else None)


def _ledger(tmp_path):
    path = tmp_path / "ledger.jsonl"
    ledger.append(path, {"kind": "run", "run": "s/r1", "manifest_sha256": MANIFEST})
    return path


def test_signed_signoff_verifies_with_trusted_key_and_signs_the_head(tmp_path, keys):
    path = _ledger(tmp_path)
    head = ledger.head(path)
    written = _sign(path, keys)
    assert written["prev"] == head and "prev" in signoff.SIGNED_FIELDS
    checked = signoff.check_entry(written, MANIFEST, _trusted(keys))
    assert checked.state == "verified" and checked.counts and checked.problem is None


def test_unsigned_or_stripped_signoff_fails_only_with_trusted_keys(tmp_path, keys):
    path = _ledger(tmp_path)
    written = _sign(path, keys)
    stripped = {k: v for k, v in written.items() if k not in ("signature", "key_fingerprint")}
    checked = signoff.check_entry(stripped, MANIFEST, _trusted(keys))
    assert checked.state == "invalid" and "not signed (or its signature was stripped)" in checked.problem
    unchecked = signoff.check_entry(stripped, MANIFEST, trust.Trust())
    assert unchecked.state == "unchecked" and unchecked.problem is None and not unchecked.counts


def test_rewriting_the_ledger_before_a_signature_breaks_it(tmp_path, keys):
    """Edit an earlier entry and recompute every hash after it: the chain holds, the signature does not."""
    path = _ledger(tmp_path)
    _sign(path, keys, decision="reject")
    entries = ledger.read(path)
    entries[0]["verdict"] = "PASS"
    previous = ledger.GENESIS
    for entry in entries:
        entry["prev"] = previous
        entry["hash"] = previous = ledger.entry_hash(entry)
    path.write_text("".join(json.dumps(e) + "\n" for e in entries))
    assert ledger.check_chain(path) == []
    checked = signoff.check_entry(ledger.read(path)[1], MANIFEST, _trusted(keys))
    assert checked.state == "invalid" and "signature does not verify" in checked.problem


def test_forged_decision_and_untrusted_key_and_wrong_role_fail(tmp_path, keys):
    path = _ledger(tmp_path)
    forged = dict(_sign(path, keys, decision="reject"), decision="approve")
    assert "signature does not verify" in signoff.check_entry(forged, MANIFEST, _trusted(keys)).problem
    other = _sign(path, keys, key="mallory")
    assert "not among the trusted keys" in signoff.check_entry(other, MANIFEST, _trusted(keys)).problem
    role = _sign(path, keys, role="regulatory")
    assert "trusted for role(s) quality, not regulatory" in signoff.check_entry(role, MANIFEST, _trusted(keys)).problem
    name = _sign(path, keys, reviewer="Bob")
    assert "signed with the key of Alice" in signoff.check_entry(name, MANIFEST, _trusted(keys)).problem


@pytest.mark.parametrize("text, fragment", [
    ("keys: []\n", "expected a mapping with format: studylib-trusted-keys/1"),
    (f"format: {trust.FORMAT}\nkeys: [{{reviewer: A}}]\n", "keys entry 1: expected exactly reviewer, roles and public_key"),
    (f"format: {trust.FORMAT}\nkeys:\n- {{reviewer: A, roles: [], public_key: x}}\n", "roles must be a non-empty list"),
    (f"format: {trust.FORMAT}\nkeys:\n- {{reviewer: A, roles: [qa], public_key: x}}\n", "keys entry 1 (A): not a PEM"),
    (f"format: {trust.FORMAT}\nkeys: []\nrequired: [qa]\n", "unknown key(s) required"),
    ("format: [\n", "not valid YAML"),
])
def test_malformed_trusted_key_file_is_named(tmp_path, text, fragment):
    path = tmp_path / "trusted_keys.yaml"
    path.write_text(text)
    with pytest.raises(StudyInputError, match="trusted_keys.yaml") as info:
        trust.load(path)
    assert fragment in str(info.value)


def test_keygen_into_a_missing_folder_is_one_line(tmp_path):
    with pytest.raises(StudyInputError, match="does not exist; create it first"):
        signoff.generate_key(tmp_path / "missing" / "alice")
