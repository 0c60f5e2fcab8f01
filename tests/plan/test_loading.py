import json

import pytest

from studylib import plan
from studylib.errors import ParameterError


def test_tiny_project_loads(tiny_project):
    study = plan.load(tiny_project)
    assert study.study.id == "tiny"
    assert study.root == tiny_project.parent.parent
    assert study.snapshot_path == tiny_project.parent.parent / "snapshots" / "tiny"
    assert study.score_columns == {"candidate": "p_v2", "baseline": "p_v1"}
    assert len(study.sha256) == 64


def test_malformed_yaml_gives_line(tmp_path):
    path = tmp_path / "bad.yaml"
    path.write_text("study:\n  id: x\n  title: [unclosed\nsnapshot: {}\n")
    with pytest.raises(ParameterError, match=r"bad.yaml:\d+: not valid YAML"):
        plan.load(path)


def test_missing_file(tmp_path):
    with pytest.raises(ParameterError, match="parameter file not found"):
        plan.load(tmp_path / "nope.yaml")


def test_not_a_mapping(tmp_path):
    path = tmp_path / "list.yaml"
    path.write_text("- study\n- data\n")
    with pytest.raises(ParameterError, match=r"list.yaml: expected a mapping of sections .*; got list"):
        plan.load(path)


def test_given_root_resolves_relative_paths(tiny_project, tmp_path):
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    study = plan.load(tiny_project, root=elsewhere)
    assert study.root == elsewhere
    assert study.snapshot_path == elsewhere / "snapshots" / "tiny"
    assert plan.load(tiny_project, root="").root == tiny_project.parent.parent  # empty: found from the file


def test_a_run_manifest_beside_the_file_is_not_read(tiny_project, tmp_path):
    """The plan layer knows nothing of run folders: the caller passes a recorded root."""
    run_folder = tmp_path / "reports" / "tiny" / "run-1"
    run_folder.mkdir(parents=True)
    archived = run_folder / "params.yaml"
    archived.write_bytes(tiny_project.read_bytes())
    (run_folder / "manifest.json").write_text(json.dumps({"project_root": str(tiny_project.parent.parent)}))
    assert plan.load(archived).root == run_folder
    assert plan.project_root(archived) == run_folder


def test_project_root_is_nearest_pyproject(tmp_path):
    (tmp_path / "pyproject.toml").write_text("")
    nested = tmp_path / "studies" / "a"
    nested.mkdir(parents=True)
    assert plan.project_root(nested / "x.yaml") == tmp_path


def test_relative_path_found_from_a_subfolder(tiny_project, monkeypatch):
    notebooks = tiny_project.parent.parent / "notebooks"
    notebooks.mkdir()
    monkeypatch.chdir(notebooks)
    assert plan.resolve_params_path("params/tiny.yaml") == tiny_project
