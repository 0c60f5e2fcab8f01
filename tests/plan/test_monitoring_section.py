"""The monitoring: section of a plan and the shadow triggers: what is accepted and what is refused."""

from __future__ import annotations

import copy
from pathlib import Path

import pydantic
import pytest
import yaml

from studylib import plan

DEMO = yaml.safe_load((Path(__file__).resolve().parents[2] / "params" / "demo_monitoring.yaml").read_text())


def _error(data) -> str:
    with pytest.raises(pydantic.ValidationError) as err:
        plan.Study.model_validate(data)
    return str(err.value)


def test_the_demo_monitoring_plan_is_valid():
    study = plan.Study.model_validate(DEMO)
    assert study.monitoring.columns.shadow == "p_v2"
    assert study.monitoring.deployed_model == "baseline"
    assert [t.id for t in study.drift.triggers if t.of == "shadow"] == ["SH-1", "SH-2", "SH-3"]


def test_monitoring_needs_a_drift_section():
    data = copy.deepcopy(DEMO)
    del data["drift"]
    assert "monitoring needs a drift: section" in _error(data)


def test_a_shadow_trigger_needs_a_shadow_score():
    data = copy.deepcopy(DEMO)
    del data["monitoring"]["columns"]["shadow"]
    assert "SH-1, SH-2, SH-3 of: shadow need monitoring.columns.shadow" in _error(data)


def test_a_shadow_statistic_is_not_a_score_statistic():
    data = copy.deepcopy(DEMO)
    data["drift"]["triggers"][0] = {"id": "X", "statistic": "auroc_difference", "of": "score", "above": 0.1,
                                    "action": "investigate"}
    assert "auroc_difference is not computed for the score" in _error(data)


def test_master_applies_to_spark_only():
    data = copy.deepcopy(DEMO)
    data["monitoring"]["master"] = "local[2]"
    assert "monitoring.master applies to engine: spark" in _error(data)
    data["monitoring"]["engine"] = "spark"
    assert plan.Study.model_validate(data).monitoring.master == "local[2]"


def test_unknown_engine_is_refused():
    data = copy.deepcopy(DEMO)
    data["monitoring"]["engine"] = "flink"
    assert "'duckdb' or 'spark'" in _error(data)


def test_a_shadow_rule_on_imprecision_is_refused():
    data = copy.deepcopy(DEMO)
    data["drift"]["triggers"].append({"id": "SH-9", "statistic": "auroc_difference", "of": "shadow", "bound": "lower",
                                      "below": -0.05, "action": "stop_shadow"})
    assert "fires on imprecision" in _error(data)


# --- per-site windows -----------------------------------------------------------------------------------------

def _per_site(data):
    data["drift"]["windows"]["per"] = "site"
    return data


def test_per_site_windows_need_a_site_column():
    data = _per_site(copy.deepcopy(DEMO))
    assert "drift.windows.per: site needs a monitoring source with monitoring.columns.site" in _error(data)
    data["monitoring"]["columns"]["site"] = "site"
    assert plan.Study.model_validate(data).drift.windows.per == "site"


def test_per_site_windows_need_a_monitoring_source():
    data = _per_site(copy.deepcopy(DEMO))
    del data["monitoring"]
    data["drift"]["triggers"] = [t for t in data["drift"]["triggers"] if t.get("of") != "shadow"]
    assert "the study cohort's windows are reviewed over the whole cohort" in _error(data)


def test_the_reference_window_is_not_per_site():
    data = copy.deepcopy(DEMO)
    data["monitoring"]["columns"]["site"] = "site"
    data["drift"]["reference"]["per"] = "site"
    assert "per: site applies to drift.windows only" in _error(data)


def test_per_takes_site_only():
    data = copy.deepcopy(DEMO)
    data["monitoring"]["columns"]["site"] = "site"
    data["drift"]["windows"]["per"] = "region"
    assert "'site'" in _error(data)


def test_json_schema_agrees_on_per_site():
    import jsonschema

    validator = jsonschema.Draft202012Validator(plan.json_schema())
    data = _per_site(copy.deepcopy(DEMO))
    assert not validator.is_valid(data)
    data["monitoring"]["columns"]["site"] = "site"
    assert validator.is_valid(data)
    data["drift"]["reference"]["per"] = "site"
    assert not validator.is_valid(data)
