"""The reviewer keys a verifier trusts: a committed public-key file, ``trusted_keys.yaml``.

A sign-off counts as an approval only when it is signed by a key of this file trusted for the
sign-off's role. The file lives in the project root (beside ``reports/``) and is committed, so a
verifier takes it from the repository, not from the folder under audit (``--trusted-keys`` names
another copy)::

    format: studylib-trusted-keys/1
    keys:
      - reviewer: A. Smith          # the name a sign-off with this key must carry
        roles: [quality, clinical]  # the roles this key may sign for
        public_key: |               # `studylib keygen` writes it (KEY.pub)
          -----BEGIN PUBLIC KEY-----
          MCowBQYDK2VwAyEA...
          -----END PUBLIC KEY-----

Keys given with ``--public-key`` are trusted for any role and any reviewer name. Once any key is
trusted, an unsigned sign-off (or one whose signature was stripped) is a failure, not a note.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

from studylib.errors import StudyInputError

TRUSTED_KEYS = "trusted_keys.yaml"
FORMAT = "studylib-trusted-keys/1"
_KEY_FIELDS = {"reviewer", "roles", "public_key"}
_MAX_BYTES = 1_000_000


@dataclass(frozen=True)
class TrustedKey:
    """One trusted Ed25519 public key: whose it is and which roles it signs for (empty: any)."""

    fingerprint: str
    public_key: object
    reviewer: str | None = None
    roles: tuple[str, ...] = ()
    source: str = ""


@dataclass(frozen=True)
class Trust:
    """The keys a verifier trusts; ``configured`` when there is at least one."""

    keys: tuple[TrustedKey, ...] = ()

    @property
    def configured(self) -> bool:
        return bool(self.keys)

    def key(self, fingerprint: str | None) -> TrustedKey | None:
        return next((k for k in self.keys if k.fingerprint == fingerprint), None)

    @property
    def sources(self) -> str:
        return ", ".join(dict.fromkeys(k.source for k in self.keys))


def fingerprint(public_key) -> str:
    """``sha256:`` + SHA-256 of the raw 32-byte Ed25519 public key."""
    from cryptography.hazmat.primitives import serialization as ser

    raw = public_key.public_bytes(ser.Encoding.Raw, ser.PublicFormat.Raw)
    return "sha256:" + hashlib.sha256(raw).hexdigest()


def parse_public_key(pem: bytes, where: str):
    """An Ed25519 public key from PEM bytes; StudyInputError naming ``where`` otherwise."""
    from cryptography.hazmat.primitives import serialization as ser
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

    try:
        key = ser.load_pem_public_key(pem)
    except (ValueError, TypeError) as exc:
        raise StudyInputError(f"{where}: not a PEM public key ({exc})") from None
    if not isinstance(key, Ed25519PublicKey):
        raise StudyInputError(f"{where}: expected an Ed25519 public key (studylib keygen); got {type(key).__name__}")
    return key


def from_public_keys(paths) -> tuple[TrustedKey, ...]:
    """Keys given on the command line (``--public-key KEY.pub``): trusted for any role."""
    out = []
    for path in paths:
        try:
            pem = Path(path).read_bytes()
        except OSError as exc:
            raise StudyInputError(f"{path}: cannot read the public key ({exc.strerror})") from None
        key = parse_public_key(pem, str(path))
        out.append(TrustedKey(fingerprint(key), key, source=str(path)))
    return tuple(out)


def load(path: str | Path) -> tuple[TrustedKey, ...]:
    """The keys of a trusted-key file (see the module docstring).

    Raises
    ------
    StudyInputError
        The file cannot be read or does not have the documented form (names the file and the entry).
    """
    import yaml

    path = Path(path)
    try:
        if path.stat().st_size > _MAX_BYTES:
            raise StudyInputError(f"{path}: larger than {_MAX_BYTES} bytes; not a trusted-key file")
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise StudyInputError(f"{path}: cannot read the trusted-key file ({exc.strerror})") from None
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        raise StudyInputError(f"{path}: not valid YAML ({str(exc).splitlines()[0]})") from None
    return parse(data, str(path))


def parse(data, path: str) -> tuple[TrustedKey, ...]:
    """The keys of a trusted-key document already read as YAML (:func:`load`); ``path`` names it in errors."""
    if not isinstance(data, dict) or data.get("format") != FORMAT or not isinstance(data.get("keys"), list):
        raise StudyInputError(f"{path}: expected a mapping with format: {FORMAT} and a list keys: (reviewer, roles, "
                              "public_key per entry)")
    if unknown := sorted(set(data) - {"format", "keys"}):
        raise StudyInputError(f"{path}: unknown key(s) {', '.join(map(str, unknown))}; expected format and keys")
    out = []
    for number, item in enumerate(data["keys"], start=1):
        where = f"{path}: keys entry {number}"
        if not isinstance(item, dict) or set(item) != _KEY_FIELDS:
            raise StudyInputError(f"{where}: expected exactly reviewer, roles and public_key")
        reviewer, roles, pem = item["reviewer"], item["roles"], item["public_key"]
        if not (isinstance(reviewer, str) and reviewer.strip()):
            raise StudyInputError(f"{where}: reviewer must be a non-empty name")
        if not (isinstance(roles, list) and roles and all(isinstance(r, str) and r.strip() for r in roles)):
            raise StudyInputError(f"{where} ({reviewer}): roles must be a non-empty list of role names")
        if not isinstance(pem, str):
            raise StudyInputError(f"{where} ({reviewer}): public_key must be the PEM text of KEY.pub")
        key = parse_public_key(pem.encode(), f"{where} ({reviewer})")
        out.append(TrustedKey(fingerprint(key), key, reviewer, tuple(roles), str(path)))
    return tuple(out)


def default_path(reports: str | Path) -> Path:
    """The project's trusted-key file: ``trusted_keys.yaml`` beside ``reports/``."""
    return Path(reports).resolve().parent / TRUSTED_KEYS


def resolve(reports: str | Path, *, trusted_keys: str | Path | None = None, public_keys=()) -> Trust:
    """The keys to trust when verifying ``reports``: ``trusted_keys`` (default: the project's file when it
    exists) plus the ``public_keys`` given on the command line."""
    path = Path(trusted_keys) if trusted_keys is not None else default_path(reports)
    keys = load(path) if trusted_keys is not None or path.is_file() else ()
    return Trust(keys + from_public_keys(public_keys))
