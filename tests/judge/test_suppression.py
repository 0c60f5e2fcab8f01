"""Small-cell suppression: the rules on hand-built rows, and an end-to-end study whose rendered reviewer
HTML, summary page and reviewer results JSON are searched for any count below the threshold."""

from __future__ import annotations

import json
import math
import re

import numpy as np
import pandas as pd
import pytest
from bs4 import BeautifulSoup

from studylib.judge import suppression
from tests.conftest import SMALL_NEGATIVES, SMALL_POSITIVES


def test_shown_count():
    assert [suppression.shown_count(c, 5) for c in (0, 1, 4, 5, 1234, None, float("nan"))] == [
        "0", "<5", "<5", "5", "1,234", "—", "—"]
    assert suppression.shown_count(9, 10) == "<10"


def test_is_small_ignores_zero_missing_and_text():
    assert [suppression.is_small(c, 5) for c in (0, 1, 4, 5, None, "3", float("nan"), 2.0)] == [
        False, True, True, False, False, False, False, True]


@pytest.mark.parametrize("total, a, b, expected", [
    (630, 25, 605, ("630", "25", "605", False)),
    (630, 3, 627, ("630", "<5", "≥626", True)),
    (630, 627, 3, ("630", "≥626", "<5", True)),
    (4, 1, 3, ("<5", "<5", "<5", True)),
    (4, 0, 4, ("<5", "0", "<5", True)),
    (0, 0, 0, ("0", "0", "0", False)),
    (8, 3, 5, ("8", "<5", "≥4", True)),
])
def test_split_counts_complement_rule(total, a, b, expected):
    assert suppression.split_counts(total, a, b, 5) == expected


def test_fraction_disclosive():
    assert suppression.fraction_disclosive(2, 25, 5)       # 2 true positives
    assert suppression.fraction_disclosive(23, 25, 5)      # 2 false negatives
    assert not suppression.fraction_disclosive(0, 25, 5)   # zero is shown
    assert not suppression.fraction_disclosive(25, 25, 5)
    assert not suppression.fraction_disclosive(10, 25, 5)
    assert not suppression.fraction_disclosive(float("nan"), float("nan"), 5)


def test_suppress_table_withholds_disclosive_rows_only():
    frame = pd.DataFrame({
        "level": ["big", "small class", "small numerator", "not a proportion"],
        "n": [500, 300, 400, 400], "positives": [100, 3, 50, 50], "negatives": [400, 297, 350, 350],
        "numerator": [80, 2, 2, np.nan], "denominator": [100, 3, 50, np.nan],
        "estimate": [0.8, 0.67, 0.04, 0.7], "lower": [0.7] * 4, "upper": [0.9] * 4, "se": [0.01] * 4,
    })
    out = suppression.suppress_table(frame, 5)
    assert out.withheld.tolist() == [False, True, True, False]
    assert out.positives.tolist() == ["100", "<5", "50", "50"]
    assert out.negatives.tolist() == ["400", "≥296", "350", "350"]
    assert out.numerator.tolist() == ["80", "<5", "<5", ""]
    assert math.isnan(out.estimate[1]) and math.isnan(out.upper[2]) and out.estimate[3] == 0.7
    assert frame.positives[1] == 3  # the input is not modified


def test_suppress_counts_and_small_counts_walk_nested_results():
    plain = {"n": 3, "rows": [{"positives": 2, "estimate": 0.5, "label": 3}], "table": [{"n": 1}, {"n": 10}]}
    assert suppression.small_counts(plain, 5) == ["n", "rows[0].positives", "table[0].n"]
    safe = suppression.suppress_counts(plain, 5)
    assert safe == {"n": "<5", "rows": [{"positives": "<5", "estimate": 0.5, "label": 3}],
                    "table": [{"n": "<5"}, {"n": 10}]}
    assert suppression.small_counts(safe, 5) == []
    assert plain["n"] == 3  # the input is not modified


def test_suppress_counts_refuses_values_it_cannot_examine():
    with pytest.raises(TypeError, match="plain JSON values; found DataFrame under 'table'.*to_jsonable"):
        suppression.suppress_counts({"n": 10, "table": pd.DataFrame({"n": [1, 10]})}, 5)


# --------------------------------------------------------------------------------------------------
# End to end: nothing below the threshold in what reviewers see
# --------------------------------------------------------------------------------------------------


@pytest.fixture
def small_cell_run(archived_run):
    """The session's tiny study run (conftest): its site 'S9' holds exactly SMALL_POSITIVES positives and
    SMALL_NEGATIVES negatives in the analysed rows, and is a subgroup variable (alone and crossed with sex)."""
    return archived_run.folder


def _count_cells(html: str) -> list[tuple[str, str]]:
    """(column header, cell text) of every table cell under a count column (n, Positives, Negatives)."""
    out = []
    for table in BeautifulSoup(html, "html.parser").find_all("table"):
        header_rows = table.find("thead").find_all("tr") if table.find("thead") else []
        if not header_rows:
            continue
        headers = [th.get_text(strip=True) for th in header_rows[0].find_all("th")]
        body = table.find("tbody") or table
        for tr in body.find_all("tr"):
            cells = [c.get_text(strip=True) for c in tr.find_all(["th", "td"])]
            offset = len(headers) - len(cells)
            for position, text in enumerate(cells):
                column = headers[position + offset] if 0 <= position + offset < len(headers) else ""
                if column in ("n", "Positives", "Negatives"):
                    out.append((column, text))
    return out


def _svg_texts(html: str) -> list[str]:
    """The decoded SVG documents of every figure in a rendered notebook."""
    import base64

    found = re.findall(r"data:image/svg\+xml;base64,([A-Za-z0-9+/=]+)", html)
    inline = re.findall(r"<svg[\s\S]*?</svg>", html)
    return [base64.b64decode(b).decode("utf-8") for b in found] + inline


def test_the_data_really_hold_a_small_cell(small_cell_run):
    restricted = json.loads((small_cell_run / "results" / "subgroups.json").read_text())
    row = next(r for r in restricted["subgroups"] if (r["variable"], r["level"]) == ("site", "S9"))
    assert (row["n"], row["positives"], row["negatives"]) == (9, SMALL_POSITIVES, SMALL_NEGATIVES)
    assert restricted["version"] == "restricted"


def test_reviewer_json_has_no_small_count(small_cell_run):
    reviewer = json.loads((small_cell_run / "results" / "subgroups.reviewer.json").read_text())
    assert reviewer["version"] == "reviewer" and reviewer["small_cell_threshold"] == 5
    assert suppression.small_counts(reviewer, 5) == []
    row = next(r for r in reviewer["subgroups"] if (r["variable"], r["level"]) == ("site", "S9"))
    assert (row["n"], row["positives"], row["negatives"]) == ("9", "<5", "≥5")
    for metric in (m for m in reviewer["metrics"] if (m["variable"], m["level"]) == ("site", "S9")):
        assert metric["estimate"] is None and metric["withheld"] is True
    # the gates (which feed the summary page) carry no small count in their sentences either
    for gate in reviewer["gates"]:
        assert not re.search(r"\b[1-4] (positives|negatives)\b", gate["sentence"]), gate["sentence"]


def test_reviewer_html_tables_and_figure_labels_have_no_small_count(small_cell_run):
    html = (small_cell_run / "notebooks" / "03_subgroups.reviewer.html").read_text()
    cells = _count_cells(html)
    assert cells, "no count columns found in the reviewer HTML"
    for column, text in cells:
        value = text.replace(",", "")
        assert not (value.isdigit() and 1 <= int(value) < 5), (column, text)
    assert ("Positives", "<5") in cells
    # figure labels are SVG text (embedded as base64 images): the small site reads "pos. <5", never "pos. 3"
    figures = _svg_texts(html)
    assert len(figures) >= 10
    labels = "\n".join(figures)
    assert "S9 · n 9 · pos. &lt;5" in labels
    assert not re.search(r"pos\. [1-4]\b", labels)
    assert not re.search(r"\b[1-4] (positives|negatives)\b", html)
    assert "subgroups.reviewer.json" in html and "restricted version" in html


def test_summary_page_and_verdict_have_no_small_count(small_cell_run):
    for name in ("index.html", "verdict.json"):
        text = (small_cell_run / name).read_text()
        assert not re.search(r"\b[1-4] (positives|negatives)\b", text), name
    verdict = json.loads((small_cell_run / "verdict.json").read_text())
    s9 = [g for g in verdict["gates"] if "site=S9]" in g["id"]]
    assert s9 and all(g["verdict"] == "INSUFFICIENT_EVIDENCE" for g in s9)


def test_protect_two_columns_hides_whole_rows_two_at_least():
    from studylib.judge.suppression import protect

    hide = protect([[25, 1], [44, 7], [26, 54]], 5)
    assert hide.tolist() == [[True, True], [False, False], [True, True]]  # smallest other row: 26 < 44
    assert not protect([[25, 10], [44, 7]], 5).any()
    assert not protect([[0, 10], [44, 0]], 5).any()  # zeros identify nobody
    # already hidden rows (a linked table) serve as the complement: nothing more is hidden
    hide = protect([[3, 20], [44, 7], [26, 54]], 5, hidden=[[False, False], [True, True], [False, False]])
    assert hide.tolist() == [[True, True], [True, True], [False, False]]
    # a one-row table: nothing to hide beside it
    assert protect([[3, 20]], 5).tolist() == [[True, True]]


def test_protect_every_hidden_cell_has_another_solution():
    """Brute force over small two-column tables: every hidden cell can take another value consistent
    with the shown cells and all row and column totals (exact recovery is impossible)."""
    import itertools

    from studylib.judge.suppression import protect

    rng = np.random.default_rng(3)
    for _ in range(300):
        k = int(rng.integers(2, 5))
        table = rng.integers(0, 12, (k, 2))
        hide = protect(table, 5)
        cells = list(zip(*np.nonzero(hide)))
        if not cells:
            assert not ((table >= 1) & (table < 5)).any()
            continue
        rows, cols = table.sum(axis=1), table.sum(axis=0)
        for cell in cells:
            found = False
            # move one unit around a rectangle of hidden cells through this cell
            for other_row, other_col in itertools.product(range(k), range(2)):
                corners = [cell, (cell[0], other_col), (other_row, cell[1]), (other_row, other_col)]
                if other_row != cell[0] and other_col != cell[1] and all(hide[c] for c in corners):
                    moved = table.copy()
                    for c, d in zip(corners, (-1, 1, 1, -1)):
                        moved[c] += d
                    ok = (moved >= 0).all() and (moved.sum(axis=1) == rows).all() and (moved.sum(axis=0) == cols).all()
                    for c, d in zip(corners, (1, -1, -1, 1)):
                        moved[c] += 2 * d
                    ok = ok or ((moved >= 0).all())
                    found = found or ok
            assert found, (table, hide)
