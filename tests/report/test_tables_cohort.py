"""The cohort stage's reviewer tables: step counts, integrity gates, missingness and Table 1 as text,
with small counts suppressed, and the escaped display Styler."""

import pandas as pd

from studylib.report.tables import cohort as tables
from studylib.stages.cohort import build as cohort
from studylib.stages.cohort import leakage, missingness
from studylib.stages.cohort import table_one as T
from tests.stages.cohort import test_build, test_leakage, test_missingness, test_table_one


# --- cohort steps and integrity gates --------------------------------------------------------------

def test_steps_table_shows_patients_only_when_they_differ_from_rows():
    shown = tables.steps_table(cohort.apply(test_build.FRAME, test_build.STEPS, id_column="pid"))
    assert shown["Step"].tolist() == ["—", "I1", "E1"]
    assert shown.loc[1, "Excluded"] == "1 rows (1 patients)"
    assert shown.loc[2, "Rule"] == "exclude if (sex == 'F' and age < 60)"
    one_each = test_build.FRAME.drop(index=1)
    assert tables.steps_table(cohort.apply(one_each, test_build.STEPS, id_column="pid")).loc[2, "Remaining"] == "3"


def test_integrity_table_lists_every_check():
    frame = test_leakage._clean()
    study = test_leakage._study(split="split", features=["year"])
    findings = leakage.check_study(frame, cohort.apply(frame, study.cohort, id_column="pid"), study)
    table = tables.integrity_table(findings)
    assert table.columns.tolist() == ["Gate", "Check", "Rows checked", "Verdict", "Offending", "Detail"]
    assert table["Gate"].tolist() == [f.id for f in findings]
    assert "data.label_time" in table.loc[5, "Detail"] and table.loc[5, "Offending"] == ""  # not checked
    assert table.loc[2, "Gate"] == "LEAK-INPUTS" and table.loc[2, "Verdict"] == "FAIL"  # year repeats across splits
    assert table.loc[0, "Offending"] == "" and table.loc[1, "Offending"] == "0"  # COH-EMPTY has no count


# --- missingness -----------------------------------------------------------------------------------

def test_missingness_table_with_suppression():
    report = missingness.report(test_missingness._frame(), by="split", order=["val", "dev"], flag_percent=10)
    shown = tables.missingness_table(report, threshold=5, reference=("dev",))
    assert shown.columns.tolist() == ["Column", "val", "dev (reference)"]
    assert shown.set_index("Column").loc["x"].tolist() == ["6 (30.0%) ⚠", "<5"]
    assert shown.set_index("Column").loc["s"].tolist() == ["0", "0"]


def test_missingness_summary_sentence():
    report = missingness.report(test_missingness._frame(), by="split", flag_percent=5)
    assert tables.missingness_summary(report, flag_percent=5, threshold=5) == \
        "⚠ Missing in more than 5% of a group: x (dev <5 values, val 30%)."
    clean = missingness.report(test_missingness._frame(), by="split", columns=["s"], flag_percent=5)
    assert tables.missingness_summary(clean, flag_percent=5, threshold=5) == \
        "No column is missing in more than 5% of any group."


# --- Table 1 ---------------------------------------------------------------------------------------

def test_table_one_known_answers_as_text():
    shown = tables.table_one(test_table_one.hand_built())
    assert shown["Characteristic"].tolist() == ["n", "X, median [IQR]", "\u2003missing, n (%)", "C, n (%)",
                                                "\u2003u", "\u2003v"]
    assert shown["a"].tolist() == ["6", "3.50 [2.25–4.75]", "0", "", "5 (83.3%)", "1 (16.7%)"]
    assert shown["b"].tolist() == ["6", "10.00 [10.00–10.00]", "1 (16.7%)", "", "6 (100.0%)", "0"]  # decimals per row


def test_table_one_small_cells_shown_suppressed_with_a_complement():
    t = test_table_one.small_cells()
    shown = tables.table_one(t).set_index("Characteristic")
    assert shown.loc["n"].tolist() == ["20", "<5"]
    assert shown.loc["\u2003F", "a"] == "<5"          # primary
    assert shown.loc["\u2003M", "a"] == "≥5"          # complement: 20 - 17 would give F away
    assert shown.loc["\u2003I", "a"] == "<5" and shown.loc["\u2003II", "a"] == "<5"  # two primaries: no complement
    assert shown.loc["\u2003III", "a"] == "16 (80.0%)"
    assert shown.loc["\u2003F", "b"] == "" and shown.loc["X, mean ± SD", "b"] == "<5 values"  # group below threshold
    assert shown.loc["X, mean ± SD", "a"] == "1.00 ± 0.00"
    assert "Counts from 1 to 4 are shown as \"<5\"" in tables.table_one_caption(t)


def test_table_one_missing_row():
    t = T.describe(test_table_one._frame(), by="split", variables=(test_table_one.CREAT,), threshold=5)
    assert tables.table_one(t)["Characteristic"].tolist() == ["n", "Creatinine, median [IQR]", "\u2003missing, n (%)"]


def test_table_one_group_order_smd_header_reference_marker_and_caption():
    frame = test_table_one._frame()
    t = T.describe(frame, by="split", variables=(test_table_one.AGE, test_table_one.SEX, test_table_one.Y),
                   order=["validation", "development"], smd_between=("development", "validation"),
                   reference=("development",), notes=("note.",))
    shown = tables.table_one(t)
    assert shown.columns.tolist() == ["Characteristic", "validation", "development (reference)",
                                      "SMD development vs validation"]
    assert shown.loc[shown.Characteristic == "\u2003" + "1", "validation"].item().endswith("%)")  # 1.0 shown as 1
    assert shown.loc[shown.Characteristic == "Age (years), mean ± SD", "SMD development vs validation"].item() == \
        f"{t.smd.set_index('variable').loc['age', 'smd']:.2f}"
    caption = tables.table_one_caption(t)
    assert caption.endswith("note.") and "between development and validation (Austin 2009" in caption
    missing_group = T.describe(frame[frame.split == "validation"], by="split", variables=(test_table_one.AGE,),
                               smd_between=("development", "validation"))
    assert tables.table_one(missing_group).iloc[1, -1] == "—"


def test_table_one_empty_frame():
    t = T.describe(test_table_one._frame().iloc[:0], by="split", variables=(test_table_one.AGE, test_table_one.SEX),
                   smd_between=("development", "validation"))
    assert tables.table_one(t)["Characteristic"].tolist()[0] == "n"


# --- the display Styler ----------------------------------------------------------------------------

def test_styled_table_renders():
    html = tables.styled(pd.DataFrame({"Gate": ["G"], "Verdict": ["FAIL"], "n": ["3"]})).to_html()
    assert "FAIL" in html and "#a3161a" in html and "text-align: left" in html


def test_styled_table_escapes_markup_in_cells_and_headers():
    payload = "<img src=x onerror=alert(1)>"
    html = tables.styled(pd.DataFrame({payload: [payload], "Verdict": ["PASS"]}), caption="Table").to_html()
    assert "<img" not in html and "&lt;img src=x onerror=alert(1)&gt;" in html


def test_settings_say_which_values_came_from_defaults():
    """Issue 13 item 11: the cohort page labels the plan's defaults, as the evaluation page does."""
    from studylib.plan import Study
    from tests.conftest import tiny_params

    raw = tiny_params("sha256:" + "0" * 64, "0" * 64)
    raw["data"]["missing_flag_percent"] = 20
    values = tables.settings_table(Study.model_validate(raw)).set_index("Plan item")["Value"]
    assert values["Missingness flag"] == "a column missing in more than 20% of a split"
    assert values["Shared model inputs across splits (LEAK-INPUTS)"] == "at most 1.0% of the rows (default)"
    assert values["Label time (LEAK-TIME)"] == "not declared (LEAK-TIME not checked)"


def test_integrity_table_follows_the_small_cell_rule():
    """Issue 14: the demo's cohort page read "2 of 4,788 rows (0.04%; 2 patient(s))" (LEAK-INPUTS)."""
    from studylib.stages.cohort.leakage import Finding

    finding = Finding("LEAK-INPUTS", "s", "r", "analysis cohort", True, offending_rows=2, offending_patients=2,
                      sentence="2 of 4,788 rows (0.04%; 2 patient(s)) have the vector")
    row = tables.integrity_table([finding], threshold=5).iloc[0]
    assert row["Offending"] == "<5" and "2 patient" not in row["Detail"] and "<5 patient" in row["Detail"]
