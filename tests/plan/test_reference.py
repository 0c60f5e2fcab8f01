"""The reference page docs/params.md is generated from the schema and committed: it must be current."""

from pathlib import Path

from studylib import plan
from studylib.plan import reference

PAGE = Path(__file__).resolve().parents[2] / "docs" / "params.md"


def test_committed_reference_page_is_current():
    assert PAGE.is_file(), f"{PAGE} is missing; write it with `{reference.COMMAND}`"
    assert PAGE.read_text(encoding="utf-8") == reference.markdown(), \
        f"{PAGE} is out of date with studylib/plan/schema.py; regenerate it with `{reference.COMMAND}`"


def _keys(schema, definition, prefix, seen):
    for key, prop in definition["properties"].items():
        path = f"{prefix}.{key}" if prefix else key
        yield path
        model, depth = reference._model_of(prop)
        if model is not None and model not in seen:
            yield from _keys(schema, schema["$defs"][model], path + "[]" * depth, seen | {model})


def test_every_key_has_a_row():
    """Every key has its own row, or lies under a row that refers to keys described before ("as ...")."""
    page = reference.markdown()
    rows = {line.split(" | ")[0].removeprefix("| "): line.split(" | ")[1]
            for line in page.splitlines() if line.startswith("| ")}
    referring = [key for key, kind in rows.items() if ", as `" in kind]
    schema = plan.json_schema()
    keys = set(_keys(schema, schema, "", frozenset()))
    missing = [k for k in keys - set(rows) if not any(k.startswith(r + ".") or k.startswith(r + "[]")
                                                      for r in referring)]
    assert not missing
    for key in ("acceptance[].between", "drift.triggers[].in", "subgroups.gates[].relative_to",
                "cohort[].keep.all", "analysis.error_analysis.list_misses", "table_one.categorical"):
        assert key in rows


def test_rows_give_type_default_description_and_example():
    rows = {line.split(" | ")[0].removeprefix("| "): line.split(" | ")[1:]
            for line in reference.markdown().splitlines() if line.startswith("| ") and "---" not in line}
    assert rows["analysis.threshold"] == ["number in [0, 1]", "required",
                                          "pre-specified operating threshold; positive iff score >= threshold",
                                          "`0.1` |"]
    assert rows["analysis.ci_method"][:2] == ["one of: `wilson`, `clopper-pearson`, `agresti-coull`, `jeffreys`",
                                              "`wilson`"]
    assert rows["subgroups.min_positives"][:2] == ["integer ≥ 0", "`20`"]
    assert rows["acceptance[].interval_within"][0] == "[number, number]"
    assert rows["drift.windows"][0] == "mapping, as `drift.reference`"
