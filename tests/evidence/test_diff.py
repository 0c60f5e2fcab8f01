"""``studylib diff``: the differences that matter between two run folders, and its exit codes."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import yaml
from click.testing import CliRunner

from studylib.cli import main
from studylib.data.hashing import sha256_file
from studylib.evidence import diff


def _write(path: Path, value) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(value) if path.suffix == ".json" else yaml.safe_dump(value))


def _run(folder: Path, *, threshold=0.3, lock="sha256:aa", version="2.0.0", pandas="3.1.0",
         verdict="PASS", auroc=0.8, gate_lower=0.72) -> Path:
    """A minimal run folder: what ``diff`` reads, no notebooks."""
    _write(folder / "params.yaml", {"analysis": {"threshold": threshold}, "acceptance": [{"id": "AC-1", "at_least": 0.7}]})
    gate = {"id": "AC-1", "subject": "auroc (candidate)", "rule": "lower 95% bound >= 0.70", "verdict": verdict,
            "estimate": auroc, "lower": gate_lower, "upper": 0.9, "blocks": True}
    _write(folder / "verdict.json", {"verdict": verdict, "exit_code": 0 if verdict == "PASS" else 1, "gates": [gate]})
    _write(folder / "results" / "evaluation.json", {"estimates": {"auroc": {"estimate": auroc}}, "gates": [gate]})
    _write(folder / "sbom.cdx.json", {"bomFormat": "CycloneDX", "components": [{"name": "pandas", "version": pandas}],
                                      "metadata": {"component": {"name": "studylib", "version": "0.1.0",
                                                                 "hashes": [{"alg": "SHA-256", "content": "ab"}]}}})
    _write(folder / "manifest.json", {
        "format": "studylib-run/1", "run_id": folder.name, "started_at": folder.name,
        "params": {"sha256": sha256_file(folder / "params.yaml")}, "snapshot": {"path": "/x", "lock": lock},
        "models": {"candidate": {"name": "m", "version": version, "artifact_sha256": version}},
        "environment": {"code": {"commit": "c0", "dirty": False}}, "timings_seconds": {"total": 1.0},
    })
    return folder


def test_two_runs_of_the_same_study_and_environment_are_the_same(tmp_path):
    result = diff.diff_runs(_run(tmp_path / "a"), _run(tmp_path / "b"))
    assert result.same and result.changes == ()
    assert diff.render_text(result).startswith("SAME")


def test_each_kind_of_difference_is_listed(tmp_path):
    a = _run(tmp_path / "a")
    b = _run(tmp_path / "b", threshold=0.4, lock="sha256:bb", version="2.0.1", pandas="3.2.0", verdict="FAIL",
             auroc=0.7, gate_lower=0.65)
    result = diff.diff_runs(a, b)
    found = {(c.kind, c.what): (c.a, c.b) for c in result.changes}
    assert found[("plan", "analysis.threshold")] == (0.3, 0.4)
    assert ("plan", "params.yaml sha256") in found
    assert found[("snapshot", "lock")] == ("sha256:aa", "sha256:bb")
    assert found[("model", "candidate version")] == ("2.0.0", "2.0.1")
    assert found[("model", "candidate artifact_sha256")] == ("2.0.0", "2.0.1")
    assert found[("package", "pandas")] == ("3.1.0", "3.2.0")
    assert found[("verdict", "verdict")] == ("PASS", "FAIL")
    assert found[("gate", "AC-1 (auroc (candidate)) verdict")] == ("PASS", "FAIL")
    assert found[("gate", "AC-1 (auroc (candidate)) lower")] == (0.72, 0.65)
    assert found[("result", "results/evaluation.json: estimates.auroc.estimate")] == (0.8, 0.7)
    assert not any(c.what.startswith("results/evaluation.json: gates") for c in result.changes)  # listed as gates
    text = diff.render_text(result)
    assert text.startswith("DIFFERENT") and "pandas: 3.1.0 -> 3.2.0" in text


def test_floats_within_tolerance_are_the_same_and_a_removed_gate_is_listed(tmp_path):
    a = _run(tmp_path / "a", auroc=0.8)
    b = _run(tmp_path / "b", auroc=0.8 + 1e-13)
    assert diff.diff_runs(a, b).same
    verdict = json.loads((b / "verdict.json").read_text())
    verdict["gates"] = []
    (b / "verdict.json").write_text(json.dumps(verdict))
    assert [(c.kind, c.what, c.a, c.b) for c in diff.diff_runs(a, b).changes] == [
        ("gate", "AC-1 (auroc (candidate))", "PASS", None)]


def test_a_run_without_sbom_compares_the_manifest_packages(tmp_path):
    a, b = _run(tmp_path / "a"), _run(tmp_path / "b")
    for folder, version in ((a, "3.1.0"), (b, "3.1.1")):
        (folder / "sbom.cdx.json").unlink()
        manifest = json.loads((folder / "manifest.json").read_text())
        manifest["environment"]["packages"] = {"pandas": version}
        (folder / "manifest.json").write_text(json.dumps(manifest))
    assert [(c.kind, c.what) for c in diff.diff_runs(a, b).changes] == [("package", "pandas")]


def test_not_a_run_folder_exits_2_without_traceback(tmp_path):
    result = CliRunner().invoke(main, ["diff", str(_run(tmp_path / "a")), str(tmp_path)])
    assert result.exit_code == 2 and "not a studylib run folder" in result.output
    assert "Traceback" not in result.output


def test_diff_of_two_runs_of_different_plans_lists_the_changed_criteria(archived_run, tmp_path):
    """The session run against a copy re-planned with a lower AC-3 bound: plan key, gate and verdict."""
    original = archived_run.folder
    changed = tmp_path / "changed"
    shutil.copytree(original, changed)
    params = yaml.safe_load((changed / "params.yaml").read_text())
    index = next(i for i, c in enumerate(params["acceptance"]) if c["id"] == "AC-3")
    params["acceptance"][index]["at_least"] = 0.5
    (changed / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False))
    manifest = json.loads((changed / "manifest.json").read_text())
    manifest["params"]["sha256"] = sha256_file(changed / "params.yaml")
    (changed / "manifest.json").write_text(json.dumps(manifest))
    verdict = json.loads((changed / "verdict.json").read_text())
    gate = next(g for g in verdict["gates"] if g["id"] == "AC-3")
    before = gate["verdict"]
    gate["verdict"], gate["rule"] = "PASS", gate["rule"].replace("0.99", "0.50")
    (changed / "verdict.json").write_text(json.dumps(verdict))

    same = CliRunner().invoke(main, ["diff", str(original), str(original)])
    assert same.exit_code == 0 and same.output.startswith("SAME"), same.output
    result = CliRunner().invoke(main, ["diff", str(original), str(changed)])
    assert result.exit_code == 1, result.output
    assert f"plan     acceptance[{index}].at_least: 0.99 -> 0.5" in result.output
    assert f"AC-3 ({gate['subject']}) verdict: {before} -> PASS" in result.output
    listed = json.loads(CliRunner().invoke(main, ["diff", "--json", str(original), str(changed)]).output)
    kinds = {c["kind"] for c in listed["changes"]}
    assert kinds == {"plan", "gate"} and listed["same"] is False  # same environment, snapshot and models


def test_reproduce_compares_the_planned_sizes_and_the_site_synthesis(archived_run, tmp_path):
    """``studylib reproduce`` compares results/plan.json and results/sites.json like the stages' results: a
    changed planned size, or a site synthesis present in one run only, is a difference."""
    original = tmp_path / "original"
    shutil.copytree(archived_run.folder, original)
    sites = {"stage": "sites", "column": "site", "pooled": [{"measure": "auroc", "estimate": 0.8, "tau2": 0.01}]}
    _write(original / "results" / "sites.json", sites)
    changed = tmp_path / "changed"
    shutil.copytree(original, changed)
    assert diff.compare_runs(original, changed) == []
    plan = json.loads((changed / "results" / "plan.json").read_text())
    plan["declared"] = not plan["declared"]
    _write(changed / "results" / "plan.json", plan)
    sites["pooled"][0]["tau2"] = 0.02
    _write(changed / "results" / "sites.json", sites)
    found = {(d.file, d.path) for d in diff.compare_runs(original, changed)}
    assert found == {("results/plan.json", "declared"), ("results/sites.json", "pooled[0].tau2")}
    (changed / "results" / "sites.json").unlink()
    found = {(d.file, d.path, d.reproduced) for d in diff.compare_runs(original, changed)}
    assert ("results/sites.json", "", "<absent>") in found
