"""The validation matrix page and the summary's claims, rendered from data (no run)."""

from pathlib import Path

from studylib import plan
from studylib.judge import claims
from studylib.report import pages

DEMO = plan.load(Path(__file__).resolve().parents[2] / "params" / "demo.yaml")
GATES = [
    {"id": "AC-1", "stage": "evaluation", "subject": "sensitivity (candidate)", "verdict": "PASS", "blocks": True,
     "estimate": 0.75, "lower": 0.70, "upper": 0.79, "rule": "lower 95% bound ≥ 0.7"},
    {"id": "AC-5", "stage": "evaluation", "subject": "calibration slope (candidate)", "verdict": "FAIL", "blocks": True,
     "estimate": 0.886, "lower": 0.798, "upper": 0.974, "rule": "95% interval within [0.8, 1.2]"},
    {"id": "TR-1", "stage": "drift", "subject": "psi of score", "verdict": "FAIL", "blocks": False,
     "estimate": 0.87, "rule": "psi > 0.25 in any window → investigate"},
]


def _matrix():
    rows = claims.matrix(DEMO.claims, GATES)
    return claims.record(rows, GATES, DEMO.claims, roles=DEMO.release.roles, required_roles=DEMO.required_roles,
                         links={"AC-5": "notebooks/02_evaluation.reviewer.html#gate-AC-5"})


def test_matrix_page_shows_claims_statuses_gates_and_evidence_links():
    page = pages.render_matrix(DEMO, "r1", _matrix())
    assert page.count('class="badge FAIL">✘ NOT SUPPORTED') == 1  # CL-3 in the table of claims
    assert '<div class="verdict FAIL" role="status">✘ NOT SUPPORTED<small>AC-5 failed.</small>' in page
    assert 'href="notebooks/02_evaluation.reviewer.html#gate-AC-5"' in page
    assert "0.886 (0.798–0.974)" in page and "? INSUFFICIENT EVIDENCE" in page
    assert "1 fired" in page and "no (does not block)" in page  # TR-1 is listed for CL-5 but decides nothing
    assert 'href="index.html"' in page and 'href="checklist.html"' in page
    assert "studylib status" in page  # sign-offs come after the run


def test_matrix_statuses_of_the_demo_claims():
    statuses = {c["id"]: c["status"] for c in _matrix()["claims"]}
    assert statuses == {"CL-1": claims.SUPPORTED, "CL-2": claims.INSUFFICIENT, "CL-3": claims.NOT_SUPPORTED,
                        "CL-4": claims.INSUFFICIENT, "CL-5": claims.INSUFFICIENT}


def test_no_claims_page_says_so():
    empty = claims.record((), GATES, (), roles=(), required_roles=())
    page = pages.render_matrix(DEMO, "r1", empty)
    assert "The plan declares no claims" in page
