"""The archive of runs under ``reports/``: listing runs with their verdicts, sign-off state and release decision."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from studylib.data.hashing import sha256_file
from studylib.evidence import ledger
from studylib.evidence import signoff
from studylib.evidence import trust as trusted
from studylib.evidence import verify
from studylib.evidence import waivers

_PAST = {"approve": "approved", "reject": "rejected"}


@dataclass(frozen=True)
class RunSummary:
    """One archived run as listed by ``studylib runs``.

    ``signoffs`` are the run's sign-off entries of the ledger, each with ``status`` added: "verified"
    (signed by a key trusted for its role), "unchecked" (no trusted keys configured) or "invalid: why".
    """

    study: str
    run_id: str
    started_at: str
    verdict: str
    signoffs: tuple[dict, ...]
    release: str = ""  # the release decision (studylib status): APPROVED, or NOT APPROVED and how much is missing

    @property
    def signoff_state(self) -> str:
        """"unsigned", or each reviewer's latest decision, e.g. "approved by A (QA); rejected by B (clinical)".

        Only a verified decision reads as "approved"/"rejected"; an unchecked one says so, and an invalid
        one (unsigned or stripped with trusted keys configured, bad signature) never reads as a decision.
        """
        if not self.signoffs:
            return "unsigned"
        latest: dict[str, dict] = {}
        for entry in self.signoffs:
            latest[entry["reviewer"]] = entry
        out = []
        for e in latest.values():
            decision = _PAST.get(e.get("decision"), str(e.get("decision")))
            if e["status"] == "verified":
                out.append(f"{decision} by {e['reviewer']} ({e['role']})")
            elif e["status"] == "unchecked":
                out.append(f"{decision} by {e['reviewer']} ({e['role']}; signature not checked)")
            else:
                out.append(f"INVALID sign-off by {e['reviewer']} ({e['role']}), not counted")
        return "; ".join(out)


def _text(manifest: dict, key: str, default: str) -> str:
    value = manifest.get(key)
    return value if isinstance(value, str) else default


def list_runs(reports: str | Path, *, trust: trusted.Trust | None = None) -> list[RunSummary]:
    """Every run folder under ``reports`` with the verdict from its manifest and sign-offs from the ledger.

    ``trust``: the reviewer keys (default: the project's ``trusted_keys.yaml`` when there is one). A run
    whose manifest is malformed is listed as such; it does not affect the others.
    """
    reports = Path(reports)
    trust = trusted.resolve(reports) if trust is None else trust
    path = ledger.ledger_path(reports)
    entries = ledger.read(path)
    broken = bool(ledger.check_chain(path))
    out = []
    for folder in verify.run_folders(reports):
        key = verify.run_key(folder)
        manifest, _ = verify.read_manifest(folder)
        manifest_hash = "sha256:" + sha256_file(folder / verify.MANIFEST) if manifest is not None else None
        signoffs = []
        for entry in (e for e in entries if e.get("kind") == "signoff" and e.get("run") == key):
            checked = signoff.check_entry(entry, manifest_hash, trust)
            status = checked.state if checked.state != "invalid" else f"invalid: {checked.problem}"
            if broken:
                status = "invalid: the ledger's hash chain is broken"
            signoffs.append({**entry, "reviewer": str(entry.get("reviewer")), "role": str(entry.get("role")),
                             "status": status})
        release = "NOT APPROVED (malformed manifest)"
        if manifest is not None:
            decision = waivers.release_state(folder, trust=trust).decision
            release = decision.decision + (f" ({len(decision.missing)} missing)" if decision.missing else "")
        manifest = manifest or {}
        out.append(RunSummary(folder.parent.name, folder.name, _text(manifest, "started_at", "?"),
                              _text(manifest, "verdict", "malformed manifest"), tuple(signoffs), release))
    return sorted(out, key=lambda r: (r.started_at, r.run_id))
