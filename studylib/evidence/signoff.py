"""Reviewer sign-offs on a run, appended to the ledger, optionally signed with an Ed25519 key.

The signed payload is the canonical JSON of ``run, manifest_sha256, reviewer, role, decision, comment,
signed_at``. The ledger entry stores the signature and the SHA-256 fingerprint of the raw public key;
``studylib verify --public-key KEY.pub`` checks the signature against the keys the verifier trusts
(a key stored in the ledger itself would prove nothing).
"""

from __future__ import annotations

import datetime as dt
import hashlib
from pathlib import Path

from studylib.errors import StudyInputError
from studylib.data.hashing import canonical_json

DECISIONS = ("approve", "reject")
SIGNED_FIELDS = ("run", "manifest_sha256", "reviewer", "role", "decision", "comment", "signed_at")


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
    private_path.write_bytes(key.private_bytes(ser.Encoding.PEM, ser.PrivateFormat.PKCS8, ser.NoEncryption()))
    private_path.chmod(0o600)
    public_path = private_path.with_name(private_path.name + ".pub")
    public_path.write_bytes(key.public_key().public_bytes(ser.Encoding.PEM, ser.PublicFormat.SubjectPublicKeyInfo))
    return public_path


def _load_private(path: Path):
    ser = _serialization()
    try:
        key = ser.load_pem_private_key(Path(path).read_bytes(), password=None)
    except (OSError, ValueError, TypeError) as exc:
        raise StudyInputError(f"{path}: not a readable unencrypted PEM private key ({exc})") from None
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    if not isinstance(key, Ed25519PrivateKey):
        raise StudyInputError(f"{path}: expected an Ed25519 private key; got {type(key).__name__}")
    return key


def _load_public(path: Path):
    try:
        return _serialization().load_pem_public_key(Path(path).read_bytes())
    except (OSError, ValueError) as exc:
        raise StudyInputError(f"{path}: not a readable PEM public key ({exc})") from None


def fingerprint(public_key) -> str:
    ser = _serialization()
    raw = public_key.public_bytes(ser.Encoding.Raw, ser.PublicFormat.Raw)
    return "sha256:" + hashlib.sha256(raw).hexdigest()


def make_entry(run: str, manifest_sha256: str, *, reviewer: str, role: str, decision: str, comment: str,
               key_path: Path | None = None) -> dict:
    """The ledger entry of a sign-off (signed when ``key_path`` is given)."""
    if decision not in DECISIONS:
        raise StudyInputError(f"decision must be one of {', '.join(DECISIONS)}; got {decision!r}")
    for name, value in (("reviewer", reviewer), ("role", role)):
        if not value.strip():
            raise StudyInputError(f"--{name} must not be empty")
    entry = {"kind": "signoff", "run": run, "manifest_sha256": manifest_sha256, "reviewer": reviewer, "role": role,
             "decision": decision, "comment": comment,
             "signed_at": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")}
    if key_path is not None:
        key = _load_private(key_path)
        payload = canonical_json({k: entry[k] for k in SIGNED_FIELDS})
        entry["signature"] = key.sign(payload).hex()
        entry["key_fingerprint"] = fingerprint(key.public_key())
    return entry


def check_entry(entry: dict, manifest_sha256: str, public_keys: tuple[Path, ...]) -> tuple[str | None, str | None]:
    """Check one sign-off entry against the run's manifest hash and the trusted public keys.

    Returns ``(problem, note)``: a problem fails verification; a note is informational (e.g. an
    unsigned sign-off, or a signature not checked because no public key was given).
    """
    from cryptography.exceptions import InvalidSignature

    who = f"sign-off seq {entry.get('seq')} by {entry.get('reviewer')} ({entry.get('decision')})"
    if entry.get("manifest_sha256") != manifest_sha256:
        return f"{who} signed a different manifest ({entry.get('manifest_sha256')})", None
    if "signature" not in entry:
        return None, f"{who} is not signed with a key"
    if not public_keys:
        return None, f"{who}: signature not checked (pass --public-key)"
    keys = {fingerprint(k): k for k in (_load_public(p) for p in public_keys)}
    key = keys.get(entry.get("key_fingerprint"))
    if key is None:
        return f"{who}: signed with key {entry.get('key_fingerprint')}, which is not among the given public keys", None
    try:
        key.verify(bytes.fromhex(entry["signature"]), canonical_json({k: entry[k] for k in SIGNED_FIELDS}))
    except (InvalidSignature, ValueError, KeyError):
        return f"{who}: signature does not verify (the entry was altered or signed with another key)", None
    return None, f"{who}: signature verified"
