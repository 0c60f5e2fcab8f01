"""Waivers of failing blocking gates, the reviewers' decisions on them, and the release state of a run.

A waiver (``studylib waive``) names one gate of a run that blocks and did not pass, with a rationale and a
mitigation plan; it is signed like a sign-off (:mod:`studylib.evidence.signoff`) and appended to the ledger
(``kind: waiver``), and the ledger ``seq`` of its entry is its id. Filing it approves nothing: it counts only
when every role it needs (:func:`studylib.judge.claims.waiver_roles`) has approved it (``studylib signoff RUN
--waiver SEQ --decision approve``: an entry ``kind: waiver_decision`` that signs the waiver's hash; a role's
latest decision counts).

:func:`release_state` reads a run's gates (``verdict.json``), its matrix (``results/matrix.json``: claims and
roles as the plan declared them) and its ledger entries, checks every signature against the trusted keys,
and returns the release decision (:func:`studylib.judge.claims.decide`) with the matrix as it stands now.
Only verified entries count: without trusted keys no signature can be checked, so nothing is approved.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from pathlib import Path

from studylib.data.hashing import sha256_file
from studylib.errors import StudyInputError
from studylib.evidence import ledger, results, signoff, verify
from studylib.evidence import trust as trusted
from studylib.judge import claims as judged
from studylib.judge import gates as verdicts
from studylib.plan import Claim

MATRIX = "matrix"


def _now() -> str:
    return dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")


def run_gates(folder: Path) -> list[dict]:
    """The gates of a run as its ``verdict.json`` records them ([] when it cannot be read)."""
    try:
        recorded = json.loads((Path(folder) / "verdict.json").read_text(encoding="utf-8")).get("gates", [])
    except (OSError, ValueError, AttributeError):
        return []
    return [g for g in recorded if isinstance(g, dict) and "id" in g]


def run_matrix(folder: Path) -> dict:
    """The run's ``results/matrix.json`` (claims, roles); an empty matrix for a run written without one."""
    try:
        return results.read(folder, MATRIX) or {"claims": [], "roles": [], "required_roles": []}
    except (OSError, ValueError):
        return {"claims": [], "roles": [], "required_roles": []}


def claims_of(matrix: dict) -> list[Claim]:
    """The plan's claims as the run's matrix recorded them."""
    return [Claim(id=c["id"], statement=c["statement"], population=c["population"], judged_on=c.get("judged_on"),
                  supported_by=c["supported_by"], required_roles=c["required_roles"]) for c in matrix["claims"]]


def check_role(role: str, matrix: dict) -> None:
    """A role must be one of the plan's ``release.roles`` when the run declares any (exit 2 otherwise)."""
    roles = matrix.get("roles") or []
    if roles and role not in roles:
        raise StudyInputError(f"--role {role!r} is not a role of this run's plan (release.roles: {', '.join(roles)})")


def make_waiver(run: str, manifest_sha256: str, folder: Path, *, gate: str, rationale: str, mitigation: str,
                reviewer: str, role: str) -> dict:
    """The ledger entry of a waiver of ``gate``, before it is sealed and appended.

    Raises
    ------
    StudyInputError
        The gate is not in the run, passed, or does not block; the rationale or mitigation is empty.
    """
    recorded = run_gates(folder)
    failing = judged.failing_blocking(recorded)
    match = next((g for g in recorded if g["id"] == gate), None)
    listed = ", ".join(failing[:12]) + (f" and {len(failing) - 12} more" if len(failing) > 12 else "") or "none"
    if match is None:
        raise StudyInputError(f"--gate {gate!r}: run {run} has no such gate; its failing blocking gates: {listed}")
    if match.get("verdict") == verdicts.PASS:
        raise StudyInputError(f"--gate {gate}: passed in run {run}; only a failing blocking gate is waived "
                              f"(failing blocking gates: {listed})")
    if not judged.decides(match):
        raise StudyInputError(f"--gate {gate}: does not block the release ({match.get('verdict')}, declared "
                              f"non-blocking or not checked); only a failing blocking gate is waived")
    for name, value in (("rationale", rationale), ("mitigation", mitigation), ("reviewer", reviewer), ("role", role)):
        if not value.strip():
            raise StudyInputError(f"--{name} must not be empty")
    return {"kind": "waiver", "run": run, "manifest_sha256": manifest_sha256, "gate": gate, "rationale": rationale,
            "mitigation": mitigation, "reviewer": reviewer, "role": role, "signed_at": _now()}


def find_waiver(entries: list[dict], run: str, waiver: str) -> dict:
    """The waiver entry of ``run`` whose ledger seq is ``waiver`` (``17`` or ``W-17``); StudyInputError otherwise."""
    number = waiver.removeprefix("W-").removeprefix("w-")
    found = [e for e in entries if e.get("kind") == "waiver" and e.get("run") == run and str(e.get("seq")) == number]
    if not found:
        known = ", ".join(str(e.get("seq")) for e in entries if e.get("kind") == "waiver" and e.get("run") == run)
        raise StudyInputError(f"--waiver {waiver}: run {run} has no waiver with that ledger seq "
                              f"(its waivers: {known or 'none'})")
    return found[-1]


def make_decision(run: str, manifest_sha256: str, waiver: dict, *, reviewer: str, role: str, decision: str,
                  comment: str) -> dict:
    """The ledger entry of a reviewer's decision on a waiver (it signs the waiver's hash)."""
    entry = signoff.make_entry(run, manifest_sha256, reviewer=reviewer, role=role, decision=decision, comment=comment)
    return {"kind": "waiver_decision", "run": run, "manifest_sha256": manifest_sha256, "waiver": waiver["seq"],
            "waiver_hash": waiver["hash"], "reviewer": reviewer, "role": role, "decision": decision,
            "comment": comment, "signed_at": entry["signed_at"]}


@dataclass(frozen=True)
class ReleaseState:
    """A run's release decision, its matrix as it stands now, and the notes of checking its ledger entries."""

    run: str
    verdict: str
    decision: judged.Decision
    matrix: dict
    notes: tuple[str, ...] = ()


def release_state(folder: str | Path, *, trust: trusted.Trust | None = None) -> ReleaseState:
    """The release decision of a run folder (see the module docstring).

    Raises
    ------
    StudyInputError
        ``folder`` is not a run folder (no manifest).
    """
    folder = Path(folder).resolve()
    reports = folder.parent.parent
    if not (folder / verify.MANIFEST).is_file():
        raise StudyInputError(f"{folder}: not a run folder (no {verify.MANIFEST})")
    trust = trusted.resolve(reports) if trust is None else trust
    checked = verify.verify_run(folder, trust=trust)
    problems = list(checked.problems)
    if not trust.configured:
        problems.append(f"no trusted keys ({trusted.TRUSTED_KEYS} beside reports/, or --trusted-keys): no signature "
                        "can be checked, so no sign-off or waiver counts")
    key, manifest_hash = checked.run, "sha256:" + sha256_file(folder / verify.MANIFEST)
    entries = [e for e in ledger.read(ledger.ledger_path(reports)) if e.get("run") == key]
    matrix, recorded = run_matrix(folder), run_gates(folder)
    try:
        plan_claims, roles = claims_of(matrix), tuple(matrix.get("roles") or ())
        required = tuple(matrix.get("required_roles") or ())
    except (KeyError, TypeError, ValueError, AttributeError):
        problems.append("results/matrix.json is malformed: the claims and roles of the run cannot be read")
        matrix, plan_claims, roles, required = {"claims": []}, [], (), ()

    def verified(entry: dict) -> bool:
        return signoff.check_entry(entry, manifest_hash, trust).counts

    approvals: dict[str, str] = {}
    signers: dict[str, list[str]] = {}
    for entry in entries:
        if entry.get("kind") == "signoff" and verified(entry):
            approvals[entry["role"]] = entry["decision"]  # a role's latest decision counts
            if entry["decision"] == "approve":
                signers.setdefault(entry["role"], []).append(entry["reviewer"])
    waivers = []
    for entry in (e for e in entries if e.get("kind") == "waiver" and verified(e)):
        latest: dict[str, str] = {}
        for d in entries:
            if (d.get("kind") == "waiver_decision" and d.get("waiver") == entry["seq"]
                    and d.get("waiver_hash") == entry["hash"] and verified(d)):
                latest[d["role"]] = d["decision"]
        needed = judged.waiver_roles(entry["gate"], plan_claims, roles)
        waivers.append(judged.Waiver(entry["seq"], entry["gate"], entry["rationale"], entry["mitigation"], needed,
                                     tuple(r for r in needed if latest.get(r) == "approve")))
    decision = judged.decide(recorded, required, approvals, waivers, problems)
    approved_gates = [w.gate for w in waivers if w.approved]
    rows = judged.matrix(plan_claims, recorded, approved_gates)
    links = {g["id"]: g.get("evidence", "") for c in matrix["claims"] for g in c.get("gates", [])}
    now = judged.record(rows, recorded, plan_claims, roles=roles, required_roles=required, links=links,
                        waivers=waivers, approvals={r: signers.get(r, []) for r in required})
    return ReleaseState(key, _verdict(folder), decision, now, checked.notes)


def _verdict(folder: Path) -> str:
    try:
        return str(json.loads((folder / "verdict.json").read_text(encoding="utf-8")).get("verdict", "?"))
    except (OSError, ValueError, AttributeError):
        return "?"
