"""Bad subgroup input is stopped before execution (exit 2): parameters and preflight against the snapshot."""

from __future__ import annotations

import pytest
import yaml

from studylib import plan
from studylib.data import snapshot
from studylib.errors import ParameterError
from studylib.run import preflight


@pytest.mark.parametrize("change, message", [
    ({"variables": [{"name": "a", "column": "age", "cut": [50, 40]}]}, "cut points must be strictly increasing"),
    ({"variables": [{"name": "a", "column": "age", "cut": [50, 60, 70], "labels": ["x"]}]}, "labels needs 2 entries"),
    ({"variables": [{"name": "a", "column": "age", "cut": [50, 60], "reference": "60+"}]}, "is not one of its bands"),
    ({"variables": [{"name": "a", "column": "age"}], "gates": [{"id": "G", "metric": "auroc", "relative_to": "overall"}]},
     "exactly one of max_below"),
    ({"variables": [{"name": "a", "column": "age"}], "gates": [{"id": "G", "metric": "auprc", "bound": "lower",
                                                                "at_least": 0.5}]}, "not computed per subgroup"),
    ({"variables": [{"name": "a", "column": "age"}], "gates": [{"id": "G", "metric": "auroc", "relative_to": "reference",
                                                                "max_below": 0.1}]}, "no subgroup variable declares"),
    ({"variables": [{"name": "a", "column": "age"}], "intersections": [["a", "b"]]}, "unknown variable 'b'"),
])
def test_bad_subgroup_parameters_are_rejected(tiny_project, change, message):
    data = yaml.safe_load(tiny_project.read_text())
    data["subgroups"] = change
    tiny_project.write_text(yaml.safe_dump(data))
    with pytest.raises(ParameterError, match=message):
        plan.load(tiny_project)


def test_integer_reference_may_be_unquoted():
    variable = plan.SubgroupVariable(name="grade", column="grade", reference=3)
    assert variable.reference == "3"


def test_missing_subgroup_column_is_exit_2_naming_the_variable(tiny_project):
    data = yaml.safe_load(tiny_project.read_text())
    data["subgroups"]["variables"].append({"name": "vendor", "column": "scanner_vendor"})
    tiny_project.write_text(yaml.safe_dump(data))
    study = plan.load(tiny_project)
    snap = snapshot.verify(study.snapshot_path, study.snapshot.lock)
    with pytest.raises(ParameterError, match=r"subgroups variable vendor: unknown column 'scanner_vendor'"):
        preflight.check(study, snap)


def test_reference_level_absent_from_snapshot_is_exit_2(tiny_project):
    data = yaml.safe_load(tiny_project.read_text())
    data["subgroups"]["variables"][0]["reference"] = "X"
    tiny_project.write_text(yaml.safe_dump(data))
    study = plan.load(tiny_project)
    snap = snapshot.verify(study.snapshot_path, study.snapshot.lock)
    with pytest.raises(ParameterError, match=r"reference level 'X' does not occur in column 'sex'; levels: F, M"):
        preflight.check(study, snap)


def test_cli_exit_2_for_missing_subgroup_column(tiny_project):
    from click.testing import CliRunner

    from studylib.cli import main

    data = yaml.safe_load(tiny_project.read_text())
    data["subgroups"]["variables"][1]["column"] = "agee"
    tiny_project.write_text(yaml.safe_dump(data))
    result = CliRunner().invoke(main, ["run", str(tiny_project)])
    assert result.exit_code == 2
    assert "subgroups variable age_band: unknown column 'agee'" in result.output
