"""The validation matrix and the release decision: pure functions of the run's gates, the plan's claims,
the waivers and the sign-offs.

A claim's status follows from the gates of the run that support it (``Claim.covers``):

- A gate decides a claim only when it blocks (declared blocking and judged: ``blocks`` in verdict.json).
  A non-blocking gate (a drift trigger whose action is to investigate, a trigger that could not be
  judged) and a NOT_CHECKED gate are listed beside the claim and decide nothing: the plan said their
  outcome does not hold a release back, so it does not hold a claim back either.
- **NOT SUPPORTED**: a deciding gate FAILed and carries no approved waiver.
- **INSUFFICIENT EVIDENCE**: otherwise, when a deciding gate is INSUFFICIENT_EVIDENCE without an approved
  waiver; or when no gate decides the claim (none of its gates is in the run, e.g. a stage raised; or
  all of them are non-blocking or NOT_CHECKED), with that reason.
- **SUPPORTED WITH APPROVED WAIVER**: otherwise, when a deciding gate did not pass but its waiver is
  approved by every role it needs.
- **SUPPORTED**: every deciding gate passed.

So a claim is NOT SUPPORTED or INSUFFICIENT EVIDENCE exactly when a gate that holds the release back (and is
not waived) supports it.

The release decision (:func:`decide`) is APPROVED only when every blocking gate of the run passed or carries
an approved waiver (a *failing* blocking gate is one that blocks and did not pass: FAIL or
INSUFFICIENT_EVIDENCE), every required role approved the run's manifest with a signature that verifies
against a key trusted for that role, the latest decision of no required role is a rejection, and no
sign-off or waiver of the run fails verification. Each missing piece is listed.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from studylib.judge import gates
from studylib.judge.triggers import BLOCKING_ACTIONS

SUPPORTED = "SUPPORTED"
NOT_SUPPORTED = "NOT SUPPORTED"
INSUFFICIENT = "INSUFFICIENT EVIDENCE"
WAIVED = "SUPPORTED WITH APPROVED WAIVER"
CLAIM_STATUSES = (SUPPORTED, WAIVED, INSUFFICIENT, NOT_SUPPORTED)
APPROVED, NOT_APPROVED = "APPROVED", "NOT APPROVED"


@dataclass(frozen=True)
class Waiver:
    """A waiver of one failing blocking gate: its ledger ``seq``, the roles it needs and those that approved it."""

    seq: int
    gate: str
    rationale: str
    mitigation: str
    needed: tuple[str, ...]
    approved_by: tuple[str, ...] = ()

    @property
    def approved(self) -> bool:
        """Approved by every role it needs (and it needs at least one)."""
        return bool(self.needed) and set(self.needed) <= set(self.approved_by)

    @property
    def missing(self) -> tuple[str, ...]:
        return tuple(r for r in self.needed if r not in self.approved_by)


@dataclass(frozen=True)
class ClaimRow:
    """One claim of the matrix: its gates (as recorded in verdict.json), its status and why."""

    id: str
    statement: str
    population: str
    judged_on: str | None
    required_roles: tuple[str, ...]
    gates: tuple[Mapping, ...]
    status: str
    reason: str
    waived: tuple[str, ...] = ()  # ids of deciding gates that did not pass but carry an approved waiver


def decides(gate: Mapping) -> bool:
    """Whether a gate decides the claims it supports: it blocks (declared blocking and judged)."""
    return bool(gate.get("blocks", True)) and gate.get("verdict") in gates.VERDICTS


def claim_status(claim, run_gates: Sequence[Mapping], approved_waivers: Iterable[str] = ()) -> ClaimRow:
    """The status of one claim from the gates of the run (see the module docstring).

    Parameters
    ----------
    claim : studylib.plan.Claim
        The claim as the plan declares it.
    run_gates : sequence of mapping
        Every gate of the run as recorded in verdict.json (id, verdict, blocks, ...).
    approved_waivers : iterable of str
        Ids of gates whose waiver is approved by every role it needs.

    Returns
    -------
    ClaimRow

    Examples
    --------
    >>> from studylib.plan import Claim
    >>> claim = Claim(id="CL-1", statement="s", population="p", supported_by=["AC-1"], required_roles=["clinical"])
    >>> claim_status(claim, [{"id": "AC-1", "verdict": "FAIL", "blocks": True}]).status
    'NOT SUPPORTED'
    """
    waived_ok = set(approved_waivers)
    mine = tuple(g for g in run_gates if claim.covers(str(g.get("id", ""))))
    deciding = [g for g in mine if decides(g)]
    failed = [g["id"] for g in deciding if g["verdict"] == gates.FAIL and g["id"] not in waived_ok]
    short = [g["id"] for g in deciding if g["verdict"] == gates.INSUFFICIENT and g["id"] not in waived_ok]
    waived = tuple(g["id"] for g in deciding if g["verdict"] != gates.PASS and g["id"] in waived_ok)
    if not mine:
        status, reason = INSUFFICIENT, (f"no gate of this run matches {', '.join(claim.supported_by)} (a stage "
                                        "that did not run records none)")
    elif not deciding:
        status, reason = INSUFFICIENT, ("no gate that blocks supports it: " + "; ".join(
            f"{g['id']} {'not checked' if g.get('verdict') == gates.NOT_CHECKED else 'does not block'}"
            + (" (could not be judged)" if g.get("verdict") == gates.INSUFFICIENT else "")
            for g in mine[:6]) + (f"; and {len(mine) - 6} more" if len(mine) > 6 else ""))
    elif failed:
        status, reason = NOT_SUPPORTED, f"{_ids(failed)} failed"
    elif short:
        status, reason = INSUFFICIENT, f"{_ids(short)} could not be judged (insufficient evidence)"
    elif waived:
        status, reason = WAIVED, f"{_ids(waived)} did not pass; waived with the approval of every required role"
    else:
        status, reason = SUPPORTED, f"all {len(deciding)} deciding gate{'s' if len(deciding) != 1 else ''} passed"
    return ClaimRow(claim.id, claim.statement, claim.population, claim.judged_on, tuple(claim.required_roles), mine,
                    status, reason, waived)


def _ids(ids: Sequence[str], shown: int = 4) -> str:
    return ", ".join(ids[:shown]) + (f" and {len(ids) - shown} more" if len(ids) > shown else "")


def matrix(claims: Sequence, run_gates: Sequence[Mapping], approved_waivers: Iterable[str] = ()) -> tuple[ClaimRow, ...]:
    """Every claim with its status (:func:`claim_status`), in the order the plan declares them."""
    approved = tuple(approved_waivers)
    return tuple(claim_status(c, run_gates, approved) for c in claims)


def unclaimed(claims: Sequence, run_gates: Sequence[Mapping]) -> tuple[str, ...]:
    """Ids of the run's blocking gates that support no claim."""
    return tuple(g["id"] for g in run_gates if decides(g) and not any(c.covers(str(g["id"])) for c in claims))


def waiver_roles(gate_id: str, claims: Sequence, roles: Sequence[str]) -> tuple[str, ...]:
    """The roles whose approval a waiver of ``gate_id`` needs: every role required by the claims the gate
    supports, or every role of the release (``roles``) when it supports none; in the order of ``roles``."""
    needed = {r for c in claims if c.covers(gate_id) for r in c.required_roles}
    return tuple(r for r in roles if r in needed) if needed else tuple(roles)


def failing_blocking(run_gates: Sequence[Mapping]) -> tuple[str, ...]:
    """Ids of the gates that hold a release back: they block and did not pass."""
    return tuple(g["id"] for g in run_gates if decides(g) and g["verdict"] != gates.PASS)


def unsupported_criteria(study) -> tuple[str, ...]:
    """Warnings for ``params check``: each blocking rule of the plan (acceptance criterion, subgroup gate,
    site gate, trigger with a blocking action) that supports no claim, when the plan declares claims."""
    if not study.claims:
        return ()
    rules = [(c.id, "acceptance criterion") for c in study.acceptance]
    rules += [(g.id, "subgroup gate") for g in study.subgroups.gates]
    rules += [(g.id, "site gate") for g in (study.sites.gates if study.sites is not None else ())]
    rules += [(t.id, "trigger") for t in (study.drift.triggers if study.drift is not None else ())
              if t.action in BLOCKING_ACTIONS]

    def supported(rule_id: str) -> bool:  # the rule itself, or one of its subgroup rows
        return any(c.covers(rule_id) or c.covers(rule_id + "[")
                   or any(e.startswith(rule_id + "[") for e in c.supported_by) for c in study.claims)

    return tuple(f"blocking {kind} {rule_id} supports no claim (add it to a claim's supported_by, or say why in the "
                 "plan)" for rule_id, kind in rules if not supported(rule_id))


@dataclass(frozen=True)
class Decision:
    """The release decision of a run and exactly what is missing."""

    decision: str
    required_roles: tuple[str, ...]
    signed_roles: tuple[str, ...]
    missing_roles: tuple[str, ...]
    rejected_roles: tuple[str, ...]
    unwaived: tuple[str, ...]  # failing blocking gates without an approved waiver
    waivers: tuple[Waiver, ...]
    problems: tuple[str, ...]  # sign-offs and waivers that fail verification, run files that changed
    missing: tuple[str, ...] = field(default=())

    @property
    def approved(self) -> bool:
        return self.decision == APPROVED


def decide(run_gates: Sequence[Mapping], required_roles: Sequence[str], approvals: Mapping[str, str],
           waivers: Sequence[Waiver], problems: Sequence[str] = ()) -> Decision:
    """The release decision of a run.

    Parameters
    ----------
    run_gates : sequence of mapping
        Every gate of the run (verdict.json).
    required_roles : sequence of str
        The roles that must sign (:attr:`studylib.plan.Study.required_roles` of the run's plan).
    approvals : mapping
        Role → the latest decision ("approve" or "reject") of a verified sign-off of the run's manifest for
        that role (sign-offs that do not verify are left out by the caller and named in ``problems``).
    waivers : sequence of Waiver
        The run's waivers with the roles that approved each (verified approvals only).
    problems : sequence of str
        What failed verification (run files, sign-offs, waivers): any problem means NOT APPROVED.

    Returns
    -------
    Decision
    """
    approved_gates = {w.gate for w in waivers if w.approved}
    unwaived = tuple(g for g in failing_blocking(run_gates) if g not in approved_gates)
    signed = tuple(r for r in required_roles if approvals.get(r) == "approve")
    rejected = tuple(r for r in required_roles if approvals.get(r) == "reject")
    absent = tuple(r for r in required_roles if r not in approvals)
    missing = []
    if not required_roles:
        missing.append("the plan declares no required roles (release.roles and claims with required_roles): no "
                       "release can be approved without them")
    missing += [f"role {r} has not signed the run" for r in absent]
    missing += [f"role {r} rejected the run" for r in rejected]
    pending = {w.gate: w for w in waivers if not w.approved}
    for gate_id in unwaived:
        waiver = pending.get(gate_id)
        if waiver is None:
            missing.append(f"gate {gate_id} did not pass and has no waiver")
        else:
            missing.append(f"gate {gate_id}: waiver {waiver.seq} lacks the approval of {', '.join(waiver.missing)}")
    missing += [f"verification: {p}" for p in problems]
    return Decision(APPROVED if not missing else NOT_APPROVED, tuple(required_roles), signed, absent + rejected,
                    rejected, unwaived, tuple(waivers), tuple(problems), tuple(missing))


_GATE_FIELDS = ("id", "stage", "subject", "verdict", "blocks", "estimate", "lower", "upper", "rule", "test", "sentence")


def record(rows: Sequence[ClaimRow], run_gates: Sequence[Mapping], claims: Sequence, *, roles: Sequence[str],
           required_roles: Sequence[str], links: Mapping[str, str] | None = None,
           waivers: Sequence[Waiver] = (), approvals: Mapping[str, Sequence[str]] | None = None) -> dict:
    """The matrix as ``results/matrix.json`` holds it (and ``studylib status --json`` with the ledger applied).

    ``links`` maps a gate id to its evidence (the anchor of its row in the stage report); ``approvals`` maps a
    role to the reviewers whose verified approval of the run's manifest counts for it (None: the matrix is
    written with the run, before any sign-off can exist).
    """
    links = links or {}
    by_id = {c.id: c for c in claims}
    out = []
    for row in rows:
        given = None if approvals is None else {r: list(approvals.get(r, ())) for r in row.required_roles}
        out.append({
            "id": row.id, "statement": row.statement, "population": row.population, "judged_on": row.judged_on,
            "supported_by": list(by_id[row.id].supported_by), "required_roles": list(row.required_roles),
            "signed_by": given, "status": row.status, "reason": row.reason, "waived": list(row.waived),
            "gates": [{k: g.get(k) for k in _GATE_FIELDS} | {"decides": decides(g), "evidence": links.get(g["id"], "")}
                      for g in row.gates]})
    return {"format": "studylib-matrix/1", "roles": list(roles), "required_roles": list(required_roles),
            "claims": out, "unclaimed": list(unclaimed(claims, run_gates)),
            "waivers": [{"seq": w.seq, "gate": w.gate, "rationale": w.rationale, "mitigation": w.mitigation,
                         "needed": list(w.needed), "approved_by": list(w.approved_by), "approved": w.approved}
                        for w in waivers]}
