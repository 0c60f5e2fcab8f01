"""Reviewer sign-offs on a run, appended to the ledger, optionally signed with an Ed25519 key.

The signed payload is the canonical JSON of ``run, manifest_sha256, reviewer, role, decision, comment,
signed_at, prev`` (for a waiver and a decision on a waiver, the fields of :data:`SIGNED`, which begin with
their ``kind``): ``prev`` is the ledger head the sign-off is appended to (signed under the ledger's
lock, :func:`studylib.evidence.ledger.append`), so truncating or rewriting anything before a signed
sign-off breaks its signature. The entry stores the signature and the fingerprint of the raw public
key; the verifier checks it against the keys it trusts (:mod:`studylib.evidence.trust`; a key stored
in the ledger itself would prove nothing).
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from studylib.data.hashing import canonical_json
from studylib.errors import StudyInputError
from studylib.evidence import trust as trusted

DECISIONS = ("approve", "reject")
SIGNED_FIELDS = ("run", "manifest_sha256", "reviewer", "role", "decision", "comment", "signed_at", "prev")
#: the signed fields of each kind of signed ledger entry: sign-offs of a run, waivers of a gate
#: (:mod:`studylib.evidence.waivers`) and reviewers' decisions on a waiver
SIGNED = {
    "signoff": SIGNED_FIELDS,
    "waiver": ("kind", "run", "manifest_sha256", "gate", "rationale", "mitigation", "reviewer", "role", "signed_at",
               "prev"),
    "waiver_decision": ("kind", "run", "manifest_sha256", "waiver", "waiver_hash", "reviewer", "role", "decision",
                        "comment", "signed_at", "prev"),
}


def payload(entry: dict) -> bytes:
    """The bytes a signed entry's signature covers (:data:`SIGNED` of its kind)."""
    return canonical_json({k: entry[k] for k in SIGNED[entry.get("kind", "signoff")]})


def _serialization():
    from cryptography.hazmat.primitives import serialization

    return serialization


def generate_key(private_path: Path) -> Path:
    """Write a new Ed25519 private key (PEM, PKCS8) and its public key beside it (``.pub``)."""
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    ser = _serialization()
    key = Ed25519PrivateKey.generate()
    private_path = Path(private_path)
    if private_path.exists():
        raise StudyInputError(f"{private_path}: already exists; refusing to overwrite a key")
    if not private_path.parent.is_dir():
        raise StudyInputError(f"{private_path}: the folder {private_path.parent} does not exist; create it first")
    fd = os.open(private_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)  # never readable by others
    with os.fdopen(fd, "wb") as handle:
        handle.write(key.private_bytes(ser.Encoding.PEM, ser.PrivateFormat.PKCS8, ser.NoEncryption()))
    public_path = private_path.with_name(private_path.name + ".pub")
    public_path.write_bytes(key.public_key().public_bytes(ser.Encoding.PEM, ser.PublicFormat.SubjectPublicKeyInfo))
    return public_path


def load_private(path: Path):
    ser = _serialization()
    try:
        key = ser.load_pem_private_key(Path(path).read_bytes(), password=None)
    except (OSError, ValueError, TypeError) as exc:
        raise StudyInputError(f"{path}: not a readable unencrypted PEM private key ({exc})") from None
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    if not isinstance(key, Ed25519PrivateKey):
        raise StudyInputError(f"{path}: expected an Ed25519 private key; got {type(key).__name__}")
    return key


def make_entry(run: str, manifest_sha256: str, *, reviewer: str, role: str, decision: str,
               comment: str) -> dict:
    """The ledger entry of a sign-off, before it is sealed (:func:`sealer`) and appended."""
    if decision not in DECISIONS:
        raise StudyInputError(f"decision must be one of {', '.join(DECISIONS)}; got {decision!r}")
    for name, value in (("reviewer", reviewer), ("role", role)):
        if not value.strip():
            raise StudyInputError(f"--{name} must not be empty")
    return {"kind": "signoff", "run": run, "manifest_sha256": manifest_sha256, "reviewer": reviewer, "role": role,
            "decision": decision, "comment": comment,
            "signed_at": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")}


def sealer(key_path: Path) -> Callable[[dict], dict]:
    """The ``seal`` for :func:`studylib.evidence.ledger.append`: signs the entry, including the ledger
    head it is appended to (``prev``). The key is read now, so a bad key fails before anything is written."""
    key = load_private(key_path)

    def seal(entry: dict) -> dict:
        return {"signature": key.sign(payload(entry)).hex(), "key_fingerprint": trusted.fingerprint(key.public_key())}

    return seal


@dataclass(frozen=True)
class SignoffCheck:
    """One sign-off checked: ``state`` verified | unchecked (no trusted keys) | invalid."""

    state: str
    problem: str | None = None
    note: str | None = None

    @property
    def counts(self) -> bool:
        """Whether the decision counts: signed by a trusted key for its role."""
        return self.state == "verified"


def describe(entry: dict) -> str:
    who = f"by {entry.get('reviewer')} ({entry.get('role')}"
    if entry.get("kind") == "waiver":
        return f"waiver seq {entry.get('seq')} of gate {entry.get('gate')} {who})"
    if entry.get("kind") == "waiver_decision":
        return f"decision seq {entry.get('seq')} on waiver {entry.get('waiver')} {who}, {entry.get('decision')})"
    return f"sign-off seq {entry.get('seq')} {who}, {entry.get('decision')})"


def check_entry(entry: dict, manifest_sha256: str, trust: trusted.Trust) -> SignoffCheck:
    """Check one signed entry (sign-off, waiver, decision on a waiver) against the run's manifest hash and the
    trusted keys.

    With trusted keys configured, an unsigned sign-off (or one whose signature was stripped), a key not
    trusted, a key not trusted for the role or reviewer, or a signature that does not verify is a
    problem; without them, the signature cannot be judged and the sign-off is "unchecked" (a note).
    """
    from cryptography.exceptions import InvalidSignature

    who = describe(entry)
    if entry.get("manifest_sha256") != manifest_sha256:
        return SignoffCheck("invalid", f"{who} signed a different manifest ({entry.get('manifest_sha256')})")
    if not trust.configured:
        what = "is not signed with a key" if "signature" not in entry else "signature not checked"
        return SignoffCheck("unchecked", note=f"{who} {what} (no trusted keys: commit {trusted.TRUSTED_KEYS} "
                                              "or pass --public-key)")
    if "signature" not in entry:
        return SignoffCheck("invalid", f"{who} is not signed (or its signature was stripped); with trusted keys "
                                       f"({trust.sources}) an unsigned sign-off does not count")
    key = trust.key(entry.get("key_fingerprint"))
    if key is None:
        return SignoffCheck("invalid", f"{who}: signed with key {entry.get('key_fingerprint')}, which is not among "
                                       f"the trusted keys ({trust.sources})")
    if key.roles and entry.get("role") not in key.roles:
        return SignoffCheck("invalid", f"{who}: the key of {key.reviewer} is trusted for role(s) "
                                       f"{', '.join(key.roles)}, not {entry.get('role')}")
    if key.reviewer is not None and entry.get("reviewer") != key.reviewer:
        return SignoffCheck("invalid", f"{who}: signed with the key of {key.reviewer}")
    try:
        key.public_key.verify(bytes.fromhex(entry["signature"]), payload(entry))
    except (InvalidSignature, ValueError, KeyError, TypeError):
        return SignoffCheck("invalid", f"{who}: signature does not verify (the entry, or the ledger before it, "
                                       "was altered, or it was signed with another key)")
    return SignoffCheck("verified", note=f"{who}: signature verified")
