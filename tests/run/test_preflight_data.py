"""Issue 15: the outcome and site columns are checked before any kernel starts (exit 2 at ``params check``).

A text outcome used to stop the evaluation stage after the cohort ran (exit 3); a site column with
missing values used to crash Table 1 by site (exit 3) and later dropped those rows silently.
"""

from __future__ import annotations

import numpy as np
from click.testing import CliRunner

from studylib.cli import main
from tests.conftest import make_project, tiny_frame


def _check(params_file):
    result = CliRunner().invoke(main, ["params", "check", str(params_file)])
    assert "Traceback" not in result.output
    return result


def test_a_text_outcome_is_refused(tmp_path):
    frame = tiny_frame()
    frame["death_5y"] = frame["death_5y"].map({0.0: "no", 1.0: "yes"})
    result = _check(make_project(tmp_path, frame))
    assert result.exit_code == 2, result.output
    assert "data.outcome: column 'death_5y' must hold 0/1 (numbers or true/false); it is large_string" in result.output


def test_an_outcome_other_than_0_and_1_is_refused(tmp_path):
    frame = tiny_frame()
    frame.loc[frame.index[:3], "death_5y"] = 2.0
    result = _check(make_project(tmp_path, frame))
    assert result.exit_code == 2, result.output
    assert "data.outcome: column 'death_5y' must hold 0 and 1 only; 3 rows hold other values (e.g. 2.0)" \
        in result.output


def test_missing_outcomes_are_left_to_the_cohort_stage(tmp_path):
    frame = tiny_frame()
    frame.loc[frame.index[:3], "death_5y"] = np.nan
    assert _check(make_project(tmp_path, frame)).exit_code == 0


def test_a_site_column_with_missing_values_is_refused(tmp_path):
    frame = tiny_frame()
    frame["site"] = np.where(np.arange(len(frame)) % 7 == 0, None, np.where(np.arange(len(frame)) % 2, "A", "B"))
    result = _check(make_project(tmp_path, frame, lambda p: p["data"].update(site="site")))
    assert result.exit_code == 2, result.output
    assert "data.site: column 'site' has no site in 172 of 1,200 rows (e.g. rows 1, 8, 15, 22, 29 of the snapshot)" \
        in result.output


def test_a_complete_site_column_passes(tmp_path):
    frame = tiny_frame()
    frame["site"] = np.where(np.arange(len(frame)) % 2, "A", "B")
    assert _check(make_project(tmp_path, frame, lambda p: p["data"].update(site="site"))).exit_code == 0
