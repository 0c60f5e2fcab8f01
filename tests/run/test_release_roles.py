"""`params check` on claims and roles: release.roles against trusted_keys.yaml, blocking rules without a claim."""

import yaml
from click.testing import CliRunner

from studylib.cli import main
from studylib.evidence import signoff, trust


def _with_claims(params_file, supported_by=("AC-1", "SG-1")):
    data = yaml.safe_load(params_file.read_text())
    data["release"] = {"roles": ["clinical", "quality"]}
    data["claims"] = [{"id": "CL-1", "statement": "s", "population": "p", "supported_by": list(supported_by),
                       "required_roles": ["clinical"]}]
    params_file.write_text(yaml.safe_dump(data, sort_keys=False))
    return params_file


def _check(params_file):
    return CliRunner().invoke(main, ["params", "check", str(params_file)])


def test_blocking_rule_without_claim_warns(tiny_project):
    result = _check(_with_claims(tiny_project))
    assert result.exit_code == 0, result.output
    assert "warning:" in result.output and "blocking acceptance criterion AC-2 supports no claim" in result.output


def test_unknown_gate_in_a_claim_is_exit_2(tiny_project):
    result = _check(_with_claims(tiny_project, supported_by=("AC-7",)))
    assert result.exit_code == 2 and "supported_by 'AC-7' names no declared gate" in result.output
    assert "Traceback" not in result.output


def test_role_not_in_trusted_keys_is_exit_2(tiny_project):
    params_file = _with_claims(tiny_project)
    root = params_file.parent.parent
    signoff.generate_key(root / "alice")
    (root / "trusted_keys.yaml").write_text(yaml.safe_dump({"format": trust.FORMAT, "keys": [
        {"reviewer": "Alice", "roles": ["clinical"], "public_key": (root / "alice.pub").read_text()}]}))
    result = _check(params_file)
    assert result.exit_code == 2, result.output
    assert "release.roles: role 'quality' is not a role of any key in" in result.output
