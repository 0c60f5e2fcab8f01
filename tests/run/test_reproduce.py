"""Which project root a reproduction resolves the archived plan against (the runs themselves: tests/evidence)."""

from studylib.run.reproduce import recorded_root


def test_recorded_root_when_it_exists(tmp_path):
    assert recorded_root({"project_root": str(tmp_path)}) == tmp_path


def test_no_root_when_the_recorded_one_is_gone_or_absent(tmp_path):
    assert recorded_root({"project_root": str(tmp_path / "moved")}) is None
    assert recorded_root({"project_root": None}) is None
    assert recorded_root({}) is None
    assert recorded_root([]) is None


def test_recorded_root_relative_to_the_run_folder(tmp_path):
    run = tmp_path / "reports" / "tiny" / "run-1"
    run.mkdir(parents=True)
    assert recorded_root({"project_root": "../../.."}, run) == tmp_path.resolve()
    assert recorded_root({"project_root": "../../../gone"}, run) is None


# --- the engine: a run made with --engine spark is reproduced on Spark unless --engine says otherwise --------

import json
from types import SimpleNamespace

import pytest

from studylib.run import reproduce as reproducer


def _run_folder(tmp_path, manifest_monitoring):
    folder = tmp_path / "reports" / "study" / "run-1"
    folder.mkdir(parents=True)
    manifest = {"snapshot": {"lock": "sha256:" + "1" * 64}}
    if manifest_monitoring is not None:
        manifest["monitoring"] = manifest_monitoring
    (folder / "manifest.json").write_text(json.dumps(manifest))
    (folder / "params.yaml").write_text("study: {}\n")
    return folder


@pytest.fixture
def engines_used(monkeypatch):
    used = []

    def run(params_file, *, reports_dir=None, log=print, reproduces=None, root=None, engine=None):
        used.append(engine)
        return SimpleNamespace(folder=reports_dir / "study" / "run-2")

    monkeypatch.setattr(reproducer.runner, "prepare",
                        lambda params, root=None: (None, SimpleNamespace(lock="sha256:" + "1" * 64)))
    monkeypatch.setattr(reproducer.runner, "run", run)
    monkeypatch.setattr(reproducer, "compare_runs", lambda a, b, rtol, atol: [])
    return used


@pytest.mark.parametrize("recorded, given, expected, said", [
    ({"engine": "spark", "master": None}, None, "spark", "engine: spark, as recorded in the original run's manifest"),
    ({"engine": "spark"}, "duckdb", "duckdb", "engine: duckdb (--engine); the original run used spark"),
    ({"engine": "duckdb"}, None, "duckdb", "engine: duckdb, as recorded"),
    (None, None, None, None),  # no monitoring source: nothing to re-apply, nothing said
])
def test_reproduce_reapplies_the_recorded_engine_and_an_explicit_one_overrides(tmp_path, engines_used, recorded,
                                                                                given, expected, said):
    lines = []
    reproducer.reproduce(_run_folder(tmp_path, recorded), engine=given, log=lines.append)
    assert engines_used == [expected]
    if said is None:
        assert not any(line.startswith("engine") for line in lines)
    else:
        assert any(line.startswith(said) for line in lines), lines


def test_recorded_engine_of_old_or_odd_manifests():
    assert reproducer.recorded_engine({}) is None
    assert reproducer.recorded_engine({"monitoring": {"engine": ""}}) is None
    assert reproducer.recorded_engine({"monitoring": "spark"}) is None
    assert reproducer.recorded_engine({"monitoring": {"engine": "spark"}}) == "spark"


def test_cli_reproduce_passes_engine(tmp_path, monkeypatch):
    from click.testing import CliRunner

    from studylib.cli import main

    seen = {}

    def fake(folder, *, rtol, atol, engine=None, log=print):
        seen["engine"] = engine
        return SimpleNamespace(folder=tmp_path / "new", ledger_head="h"), []

    monkeypatch.setattr(reproducer, "reproduce", fake)
    result = CliRunner().invoke(main, ["reproduce", str(tmp_path), "--engine", "duckdb"])
    assert result.exit_code == 0, result.output
    assert seen == {"engine": "duckdb"}
