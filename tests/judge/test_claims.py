"""Claim status and the release decision, on gate lists (pure)."""

import pytest

from studylib.judge import claims
from studylib.plan import Claim


def _claim(*supported_by, roles=("clinical", "quality")):
    return Claim(id="CL-1", statement="s", population="p", supported_by=list(supported_by), required_roles=list(roles))


def _gate(id, verdict="PASS", blocks=True):
    return {"id": id, "stage": "evaluation", "verdict": verdict, "blocks": blocks}


@pytest.mark.parametrize("gates, status", [
    ([_gate("AC-1"), _gate("SG-1[sex=F]")], claims.SUPPORTED),
    ([_gate("AC-1"), _gate("SG-1[sex=F]", "FAIL")], claims.NOT_SUPPORTED),
    ([_gate("AC-1"), _gate("SG-1[sex=F]", "INSUFFICIENT_EVIDENCE")], claims.INSUFFICIENT),
    ([_gate("AC-1", "FAIL"), _gate("SG-1[sex=F]", "INSUFFICIENT_EVIDENCE")], claims.NOT_SUPPORTED),  # FAIL first
    ([_gate("AC-1"), _gate("SG-1[sex=F]", "FAIL", blocks=False)], claims.SUPPORTED),  # non-blocking: context only
    ([_gate("AC-1", "NOT_CHECKED", blocks=False)], claims.INSUFFICIENT),  # nothing decides
    ([_gate("AC-2", "FAIL")], claims.INSUFFICIENT),  # none of its gates in the run
])
def test_claim_status_from_its_gates(gates, status):
    assert claims.claim_status(_claim("AC-1", "SG-1"), gates).status == status


def test_an_approved_waiver_supports_with_waiver_but_not_other_failures():
    gates = [_gate("AC-1"), _gate("SG-1[sex=F]", "FAIL")]
    row = claims.claim_status(_claim("AC-1", "SG-1"), gates, approved_waivers=["SG-1[sex=F]"])
    assert row.status == claims.WAIVED and row.waived == ("SG-1[sex=F]",)
    gates.append(_gate("SG-1[sex=M]", "INSUFFICIENT_EVIDENCE"))
    assert claims.claim_status(_claim("AC-1", "SG-1"), gates, ["SG-1[sex=F]"]).status == claims.INSUFFICIENT


def test_reasons_name_the_gates():
    row = claims.claim_status(_claim("AC-1"), [_gate("AC-1", "FAIL")])
    assert row.reason == "AC-1 failed"
    row = claims.claim_status(_claim("TR-1"), [_gate("TR-1", "INSUFFICIENT_EVIDENCE", blocks=False)])
    assert "TR-1 does not block (could not be judged)" in row.reason


def test_waiver_roles_and_unclaimed_gates():
    one = _claim("AC-1", roles=("clinical",))
    assert claims.waiver_roles("AC-1", [one], ("clinical", "quality")) == ("clinical",)
    assert claims.waiver_roles("AC-9", [one], ("clinical", "quality")) == ("clinical", "quality")
    assert claims.unclaimed([one], [_gate("AC-1"), _gate("AC-2"), _gate("TR-1", "FAIL", blocks=False)]) == ("AC-2",)


GATES = [_gate("AC-1"), _gate("SG-1[sex=F]", "FAIL"), _gate("TR-1", "FAIL", blocks=False)]
ROLES = ("clinical", "quality")


def test_release_needs_every_role_and_a_waiver_approved_by_all():
    both = {"clinical": "approve", "quality": "approve"}
    no_waiver = claims.decide(GATES, ROLES, both, [])
    assert not no_waiver.approved and no_waiver.unwaived == ("SG-1[sex=F]",)
    assert "gate SG-1[sex=F] did not pass and has no waiver" in no_waiver.missing
    one_role = claims.Waiver(7, "SG-1[sex=F]", "r", "m", needed=ROLES, approved_by=("clinical",))
    partly = claims.decide(GATES, ROLES, both, [one_role])
    assert not partly.approved and "gate SG-1[sex=F]: waiver 7 lacks the approval of quality" in partly.missing
    all_roles = claims.Waiver(7, "SG-1[sex=F]", "r", "m", needed=ROLES, approved_by=ROLES)
    assert claims.decide(GATES, ROLES, both, [all_roles]).approved


def test_release_names_roles_missing_or_rejecting_and_problems():
    decision = claims.decide([_gate("AC-1")], ROLES, {"clinical": "reject"}, [], problems=["bad signature"])
    assert decision.missing == ("role quality has not signed the run", "role clinical rejected the run",
                                "verification: bad signature")
    assert claims.decide([_gate("AC-1")], ROLES, {"clinical": "approve", "quality": "approve"}, []).approved
    assert not claims.decide([_gate("AC-1")], (), {}, []).approved  # no required roles: nothing can approve


def test_unsupported_criteria_warns_on_blocking_rules_without_claim():
    import copy

    from studylib import plan
    from tests.conftest import tiny_params

    data = copy.deepcopy(tiny_params("sha256:" + "a" * 64, "b" * 64))
    data["release"] = {"roles": ["clinical"]}
    data["claims"] = [{"id": "CL-1", "statement": "s", "population": "p", "supported_by": ["AC-1", "SG-1[sex=F]"],
                       "required_roles": ["clinical"]}]
    warnings = claims.unsupported_criteria(plan.Study.model_validate(data))
    assert warnings == ("blocking acceptance criterion AC-2 supports no claim (add it to a claim's supported_by, or "
                        "say why in the plan)",)  # SG-1 is supported through one row; TR-1 investigates (not blocking)
