"""Claims and release roles in the plan: what validation accepts and rejects."""

import copy

import pydantic
import pytest

from studylib import plan
from tests.conftest import tiny_params

TINY = tiny_params("sha256:" + "a" * 64, "b" * 64)


def _with(claims, roles=("clinical", "quality")):
    data = copy.deepcopy(TINY)
    if roles is not None:
        data["release"] = {"roles": list(roles)}
    data["claims"] = claims
    return data


def _claim(**change):
    return {"id": "CL-1", "statement": "AUROC at least 0.5", "population": "adults", "supported_by": ["AC-1", "SG-1"],
            "required_roles": ["clinical"]} | change


def _error(data) -> str:
    with pytest.raises(pydantic.ValidationError) as caught:
        plan.Study.model_validate(data)
    return str(caught.value)


def test_a_claim_maps_to_gates_rows_and_patterns():
    study = plan.Study.model_validate(_with([_claim(supported_by=["AC-1", "SG-1", "LEAK-*", "TR-1"]),
                                             _claim(id="CL-2", supported_by=["SG-1[sex=F]"],
                                                    required_roles=["quality", "clinical"])]))
    one, two = study.claims
    assert one.covers("AC-1") and one.covers("SG-1[age_band=50–70]") and one.covers("LEAK-DUP")
    assert not one.covers("AC-2") and not one.covers("SG-10") and not one.covers("COH-EMPTY")
    assert two.covers("SG-1[sex=F]") and not two.covers("SG-1[sex=M]")
    assert study.required_roles == ("clinical", "quality")  # the order of release.roles


def test_no_claims_no_required_roles():
    assert plan.Study.model_validate(TINY).required_roles == ()


@pytest.mark.parametrize("claim, expected", [
    (_claim(supported_by=[]), "supported_by"),
    (_claim(supported_by=["AC-9"]), "supported_by 'AC-9' names no declared gate"),
    (_claim(supported_by=["ZZ-*"]), "names no declared gate"),
    (_claim(supported_by=["AC-1[sex=F]"]), "only subgroup gates have rows"),
    (_claim(supported_by=["AC-1", "AC-1"]), "repeats AC-1"),
    (_claim(required_roles=["regulatory"]), "required_roles regulatory not among release.roles"),
    (_claim(required_roles=[]), "required_roles"),
    (_claim(statement=""), "statement"),
])
def test_bad_claims_are_rejected(claim, expected):
    assert expected in _error(_with([claim]))


def test_claims_need_release_roles_and_unique_ids():
    assert "claims need release.roles" in _error(_with([_claim()], roles=None))
    assert "claim ids must be unique" in _error(_with([_claim(), _claim()]))
    assert "roles repeats clinical" in _error(_with([_claim()], roles=("clinical", "clinical")))


def test_unknown_gate_id_suggests_the_nearest():
    assert "did you mean 'AC-1'" in _error(_with([_claim(supported_by=["AC_1"])]))


def test_demo_declares_claims_and_roles():
    from pathlib import Path

    study = plan.load(Path(__file__).resolve().parents[2] / "params" / "demo.yaml")
    assert study.release.roles == ("clinical", "quality") and len(study.claims) == 5
    assert study.required_roles == ("clinical", "quality")


def test_cohort_check_ids_are_those_the_cohort_stage_records():
    import re
    from pathlib import Path

    import studylib.stages.cohort.leakage as leakage

    recorded = set(re.findall(r'"((?:COH|LEAK)-[A-Z]+)"', Path(leakage.__file__).read_text(encoding="utf-8")))
    assert recorded == set(plan.COHORT_CHECKS)
