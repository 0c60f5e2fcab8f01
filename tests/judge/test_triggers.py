"""Surveillance triggers: each type fires on a planted shift and stays quiet on a stationary stream;
the rule on hand-built statistics tables (runs, unjudgeable windows, any_feature, blocking, words)."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from studylib.judge import gates, triggers
from studylib.plan import Trigger
from studylib.stages.drift import review as drift
from tests.stages.drift.streams import MONTHLY, PLANTED, TRIGGERS, stream, study

WINDOWS = ["2001", "2002", "2003", "2004"]


def _table(rows) -> pd.DataFrame:
    """A long statistics table from ``(window, of, statistic, estimate, lower, upper)`` tuples."""
    return pd.DataFrame(rows, columns=["window", "of", "statistic", "estimate", "lower", "upper"])


def _plan(*trigger_specs, features=("x1", "x2")):
    return study({**MONTHLY, "features": list(features), "categorical": [], "triggers": list(trigger_specs)})


# --- end to end on synthetic streams -----------------------------------------------------------------

def _judge(frame, trigger):
    plan = study({**MONTHLY, "triggers": [trigger]})
    review = drift.review(frame, plan)
    return triggers.judge_triggers(review.statistics, review.monitoring_labels, plan)[0]


@pytest.fixture(scope="module")
def stationary():
    """Every trigger judged on one stationary stream (one review: the statistics do not depend on which
    triggers the plan declares)."""
    plan = study({**MONTHLY, "triggers": [TRIGGERS[name] for name in sorted(TRIGGERS)]})
    review = drift.review(stream(np.random.default_rng(21), 1500), plan)
    judged = triggers.judge_triggers(review.statistics, review.monitoring_labels, plan)
    return dict(zip(sorted(TRIGGERS), judged))


@pytest.mark.parametrize("name", sorted(TRIGGERS))
def test_trigger_fires_on_planted_shift_and_is_quiet_on_stationary_data(name, stationary):
    trigger = TRIGGERS[name]
    quiet = stationary[name]
    assert quiet.id == trigger["id"] and quiet.verdict == gates.PASS, quiet.sentence
    shifted = stream(np.random.default_rng(22), 1500, shift_from=8, **PLANTED[name])
    if name == "missing":
        late = shifted.month >= "2024-09"
        shifted.loc[late & (np.random.default_rng(1).random(len(shifted)) < 0.3), "x2"] = np.nan
    fired = _judge(shifted, trigger)
    assert fired.verdict == gates.FAIL, fired.sentence
    assert fired.blocks == (trigger["action"] in ("revalidate", "suspend"))
    assert "2024-09" in fired.sentence and trigger["action"].replace("_", " ") in fired.sentence
    assert not any(m in fired.sentence.split("FIRED")[1].split(")")[0] for m in ("2024-07", "2024-08"))


def test_trigger_that_cannot_be_judged_is_insufficient_and_does_not_block():
    frame = stream(np.random.default_rng(3), 200).assign(death_5y=np.nan)
    gate = _judge(frame, TRIGGERS["auroc"])
    assert gate.verdict == gates.INSUFFICIENT and not gate.blocks


# --- the rule on hand-built tables -----------------------------------------------------------------

def test_consecutive_trigger_needs_a_run_and_an_undefined_window_breaks_it():
    trigger = Trigger.model_validate(TRIGGERS["slope"])
    assert triggers._fired(trigger, [True, False, True, False]) == []
    assert triggers._fired(trigger, [False, True, True, False]) == [1, 2]
    assert triggers._fired(trigger, [True, None, True]) == []
    any_two = Trigger.model_validate({**TRIGGERS["psi"], "count": 2})
    assert triggers._fired(any_two, [True, False, True]) == [0, 2]


def test_psi_trigger_fires_in_the_window_above_the_threshold_and_names_the_action():
    table = _table([(w, "score", "psi", v, math.nan, math.nan) for w, v in zip(WINDOWS, (0.05, 0.31, 0.12, 0.02))])
    [gate] = triggers.judge_triggers(table, WINDOWS, _plan(TRIGGERS["psi"]))
    assert gate.verdict == gates.FAIL and not gate.blocks  # investigate does not block
    assert gate.sentence.startswith("FIRED in window(s) 2002 (psi 0.310)")
    assert triggers.ACTION_TEXT["investigate"] in gate.sentence
    assert gate.rule == "psi of score: estimate > 0.25 in any window → investigate"
    assert (gate.estimate, gate.stage, gate.subject) == (0.31, "drift", "psi of score")


def test_quiet_trigger_names_the_window_closest_to_firing():
    rows = [("2001", "score", "auroc", 0.80, 0.75, 0.85), ("2002", "score", "auroc", 0.78, 0.72, 0.84),
            ("2003", "score", "auroc", 0.79, 0.70, 0.86), ("2004", "score", "auroc", 0.81, 0.74, 0.88)]
    [gate] = triggers.judge_triggers(_table(rows), WINDOWS, _plan(TRIGGERS["auroc"]))
    assert gate.verdict == gates.PASS and gate.blocks  # suspend blocks when it fires
    assert gate.sentence == "Did not fire; the window closest to firing is 2002 with auroc 0.780 (95% CI 0.720–0.840)."


def test_a_window_that_cannot_be_judged_makes_a_quiet_trigger_insufficient_not_pass():
    """Issue 13 item 10: an undefined statistic (or an empty window, or too few events) in a window
    where the trigger did not fire is INSUFFICIENT_EVIDENCE with the reason, never 'not fired'."""
    rows = [("2001", "score", "auroc", 0.80, 0.75, 0.85), ("2002", "score", "auroc", 0.78, 0.72, 0.84),
            ("2003", "score", "auroc", math.nan, math.nan, math.nan), ("2004", "score", "auroc", 0.81, 0.74, 0.88)]
    [gate] = triggers.judge_triggers(_table(rows), WINDOWS, _plan(TRIGGERS["auroc"]))
    assert gate.verdict == gates.INSUFFICIENT and not gate.blocks
    assert gate.sentence == ("Not judged in window(s) 2003 (undefined): the trigger could have fired there. It did not "
                             "fire in the windows judged; the window closest to firing is 2002 with auroc 0.780 "
                             "(95% CI 0.720–0.840).")
    reasons = ["", "fewer than 10 events (drift.min_events)", "empty window", ""]
    few = _table(rows).assign(estimate=[0.8, 0.5, math.nan, 0.81], lower=[0.75, 0.2, math.nan, 0.74],
                              upper=[0.85, 0.65, math.nan, 0.88], reason=reasons)
    [gate] = triggers.judge_triggers(few, WINDOWS, _plan(TRIGGERS["auroc"]))  # 2002's upper bound 0.65 < 0.70
    assert gate.verdict == gates.INSUFFICIENT and not gate.blocks
    assert "2002 (fewer than 10 events (drift.min_events)); 2003 (empty window)" in gate.sentence


def test_blocking_trigger_fires_on_a_run_of_consecutive_windows():
    rows = [(w, "score", "calibration_slope", est, lo, hi) for w, (est, lo, hi) in
            zip(WINDOWS, ((1.0, 0.8, 1.2), (0.6, 0.4, 0.8), (0.5, 0.3, 0.7), (0.9, 0.7, 1.1)))]
    [gate] = triggers.judge_triggers(_table(rows), WINDOWS, _plan(TRIGGERS["slope"]))
    assert gate.verdict == gates.FAIL and gate.blocks and gate.blocking_failure
    assert "window(s) 2002, 2003" in gate.sentence and "95% CI 0.400–0.800" in gate.sentence
    broken = [r if r[0] != "2003" else ("2003", "score", "calibration_slope", math.nan, math.nan, math.nan) for r in rows]
    [quiet] = triggers.judge_triggers(_table(broken), WINDOWS, _plan(TRIGGERS["slope"]))
    assert quiet.verdict == gates.INSUFFICIENT and "Not judged in window(s) 2003" in quiet.sentence  # 2002-2003?
    cleared = [r if r[0] != "2002" else ("2002", "score", "calibration_slope", 1.0, 0.8, 1.2) for r in broken]
    [clear] = triggers.judge_triggers(_table(cleared), WINDOWS, _plan(TRIGGERS["slope"]))
    assert clear.verdict == gates.PASS  # 2003 between two quiet windows cannot complete a run of two
    assert "Not judged in window(s) 2003 (undefined), which could not have made it fire." in clear.sentence


def test_any_feature_fires_for_the_first_feature_and_counts_the_others():
    rows = [(w, f, "p_adjusted", p, math.nan, math.nan)
            for f, ps in (("x1", (0.5, 0.2, 0.01, 0.3)), ("x2", (0.04, 0.6, 0.7, 0.8))) for w, p in zip(WINDOWS, ps)]
    [gate] = triggers.judge_triggers(_table(rows), WINDOWS, _plan(TRIGGERS["adjusted"]))
    assert gate.verdict == gates.FAIL
    assert gate.sentence.startswith("FIRED for x1 in window(s) 2003 (and 1 more feature(s)) (p_adjusted 0.010)")


def test_statistic_undefined_everywhere_is_insufficient_evidence():
    rows = [(w, "score", "auroc", math.nan, math.nan, math.nan) for w in WINDOWS]
    [gate] = triggers.judge_triggers(_table(rows), WINDOWS, _plan(TRIGGERS["auroc"]))
    assert gate.verdict == gates.INSUFFICIENT and not gate.blocks
    assert gate.sentence == "Could not be judged in any monitoring window: 2001, 2002, 2003, 2004 (undefined)."
    [none] = triggers.judge_triggers(_table([]), [], _plan(TRIGGERS["auroc"]))
    assert none.verdict == gates.INSUFFICIENT and "(none declared)" in none.sentence


def test_p_values_read_as_on_every_page():
    """The formatter audit (issue 14): a p-value below 0.001 reads "<0.001" in the sentence, as in every table."""
    rows = [(w, "x1", "p_adjusted", p, math.nan, math.nan) for w, p in zip(WINDOWS, (0.5, 0.00012, 0.3, 0.4))]
    [gate] = triggers.judge_triggers(_table(rows), WINDOWS, _plan({**TRIGGERS["adjusted"], "of": "x1"}))
    assert "(p_adjusted <0.001)" in gate.sentence


def test_a_study_without_drift_is_an_error():
    plan = _plan(TRIGGERS["psi"]).model_copy(update={"drift": None})
    with pytest.raises(ValueError, match="declares no drift"):
        triggers.judge_triggers(_table([]), WINDOWS, plan)


# --- relative_to: reference (a drift check, not a calibration check) ----------------------------------

SLOPE_TR = {"id": "TR-2", "statistic": "calibration_slope", "relative_to": "reference", "interval_excludes": 0.0,
            "in": "consecutive_windows", "count": 2, "action": "revalidate"}
Z = 1.959963984540054


def _slope_rows(reference, windows):
    """Rows of calibration slopes with Wald intervals: (estimate, se) for the reference and each window."""
    rows = [(triggers.REFERENCE, "score", "calibration_slope", reference[0], reference[0] - Z * reference[1],
             reference[0] + Z * reference[1])]
    rows += [(w, "score", "calibration_slope", e, e - Z * se, e + Z * se) for w, (e, se) in zip(WINDOWS, windows)]
    return _table(rows)


def test_relative_trigger_is_a_two_sample_wald_test_against_the_reference():
    """Every window at the reference's slope 0.886 (its slope is not 1): quiet, where "interval excludes 1"
    fires; a drop to 0.6 in two consecutive windows fires. The difference interval is written out."""
    plan = _plan(SLOPE_TR)
    at_reference = _slope_rows((0.886, 0.045), [(0.886, 0.04)] * 4)
    gate = triggers.judge_triggers(at_reference, WINDOWS, plan)[0]
    assert gate.verdict == gates.PASS, gate.sentence
    assert "window − reference" in gate.rule and "two-sample Wald test" in gate.rule
    absolute = _plan({**SLOPE_TR, "relative_to": None, "interval_excludes": 1.0})
    assert triggers.judge_triggers(at_reference, WINDOWS, absolute)[0].verdict == gates.FAIL  # the calibration check
    dropped = _slope_rows((0.886, 0.045), [(0.88, 0.04), (0.6, 0.05), (0.62, 0.05), (0.9, 0.05)])
    gate = triggers.judge_triggers(dropped, WINDOWS, plan)[0]
    assert gate.verdict == gates.FAIL and gate.blocks and "2002, 2003" in gate.sentence
    d, se = 0.6 - 0.886, math.sqrt(0.05 ** 2 + 0.045 ** 2)
    assert (gate.estimate, gate.lower, gate.upper) == pytest.approx((d, d - Z * se, d + Z * se), abs=1e-9)


AUC_TR = {**SLOPE_TR, "id": "TR-A", "statistic": "auroc", "action": "suspend"}


def _auc_rows(reference, windows):
    """AUROC rows as the drift stage writes them: DeLong Wald intervals clipped to [0, 1]."""
    def row(window, e, se):
        return window, "score", "auroc", e, max(0.0, e - Z * se), min(1.0, e + Z * se)
    return _table([row(triggers.REFERENCE, *reference)] + [row(w, e, se) for w, (e, se) in zip(WINDOWS, windows)])


def _logit_interval(auc, se):  # written out here, independently of stats.roc.auroc_logit_interval
    centre, spread = math.log(auc) - math.log(1 - auc), Z * se / (auc * (1 - auc))
    return 1 / (1 + math.exp(spread - centre)), 1 / (1 + math.exp(-centre - spread))


def test_relative_auroc_trigger_uses_logit_intervals_of_each_window():
    """A small window whose AUROC is high by chance: 0.87 (DeLong SE 0.05) in two consecutive windows against
    the reference's 0.75 (SE 0.01). The two-sample Wald interval, 0.12 ± 1.96·0.051, excludes 0 and would fire;
    the MOVER interval from the logit-scale intervals includes it (Zou & Donner 2008, Pepe 2003 §5.2.2)."""
    rows = _auc_rows((0.75, 0.01), [(0.87, 0.05), (0.87, 0.05), (0.75, 0.05), (0.75, 0.05)])
    wald_lower = 0.12 - Z * math.hypot(0.05, 0.01)
    assert wald_lower > 0
    gate = triggers.judge_triggers(rows, WINDOWS, _plan(AUC_TR))[0]
    assert gate.verdict == gates.PASS, gate.sentence
    assert "MOVER interval from logit-scale DeLong intervals" in gate.rule
    (wl, wu), (rl, ru) = _logit_interval(0.87, 0.05), _logit_interval(0.75, 0.01)
    indexed = rows.set_index("window").assign(reason="")
    table = triggers.relative_to_reference(indexed.loc[WINDOWS], indexed.loc[triggers.REFERENCE], 0.05, "auroc")
    lower = 0.12 - math.sqrt((0.87 - wl) ** 2 + (ru - 0.75) ** 2)
    upper = 0.12 + math.sqrt((wu - 0.87) ** 2 + (0.75 - rl) ** 2)
    assert (table["lower"].iloc[0], table["upper"].iloc[0]) == pytest.approx((lower, upper), abs=1e-12)
    assert lower < 0 < upper
    # a real drop still fires: 0.60 (SE 0.04) in two consecutive windows
    dropped = _auc_rows((0.75, 0.01), [(0.75, 0.04), (0.60, 0.04), (0.60, 0.04), (0.75, 0.04)])
    gate = triggers.judge_triggers(dropped, WINDOWS, _plan(AUC_TR))[0]
    assert gate.verdict == gates.FAIL and gate.blocks and "2002, 2003" in gate.sentence


def test_relative_auroc_recovers_the_se_from_the_unclipped_half():
    """0.96 with SE 0.03: the stage's Wald interval 0.901–1 is clipped above, so the SE comes from the lower
    half; the same interval unclipped gives the same difference interval."""
    clipped = _auc_rows((0.75, 0.01), [(0.96, 0.03)] * 4).set_index("window").assign(reason="")
    unclipped = clipped.copy()
    unclipped.loc[WINDOWS[0], "upper"] = 0.96 + Z * 0.03
    assert clipped.loc[WINDOWS[0], "upper"] == 1.0
    one = triggers.relative_to_reference(clipped.loc[list(WINDOWS)], clipped.loc["reference"], 0.05, "auroc")
    two = triggers.relative_to_reference(unclipped.loc[list(WINDOWS)], unclipped.loc["reference"], 0.05, "auroc")
    assert one.iloc[0][["lower", "upper"]].tolist() == pytest.approx(two.iloc[0][["lower", "upper"]].tolist(),
                                                                     abs=1e-12)


def test_relative_trigger_without_a_reference_value_is_insufficient():
    rows = _slope_rows((math.nan, math.nan), [(0.6, 0.05)] * 4)
    gate = triggers.judge_triggers(rows, WINDOWS, _plan(SLOPE_TR))[0]
    assert gate.verdict == gates.INSUFFICIENT and "reference window's value is undefined" in gate.sentence
    gate = triggers.judge_triggers(_slope_rows((0.9, 0.05), [(0.6, 0.05)] * 4).query("window != 'reference'"),
                                   WINDOWS, _plan(SLOPE_TR))[0]
    assert gate.verdict == gates.INSUFFICIENT


def test_relative_to_reference_applies_to_wald_statistics_of_the_score_only():
    with pytest.raises(ValueError, match="relative_to: reference compares .* not to psi of score"):
        Trigger.model_validate({"id": "T", "statistic": "psi", "relative_to": "reference", "above": 0.1,
                                "action": "investigate"})
    assert Trigger.model_validate(SLOPE_TR).relative_to == "reference"


def test_a_blocking_trigger_that_cannot_be_judged_does_not_block_now_but_can_block():
    """Issue 14: "Can block" is the declared ability; a revalidate/suspend trigger that could not be judged
    counts toward no verdict and still reads "Can block: yes" (it read "no")."""
    from studylib.report import vocabulary

    frame = stream(np.random.default_rng(3), 200).assign(death_5y=np.nan)
    for action, declared in (("revalidate", True), ("investigate", False)):
        gate = _judge(frame, {**TRIGGERS["auroc"], "action": action})
        assert gate.verdict == gates.INSUFFICIENT and not gate.blocks and gate.can_block is declared
        assert vocabulary.blocking_columns(gate) == {vocabulary.BLOCKS: "no", vocabulary.CAN_BLOCK: "yes" if declared else "no"}
        record = gate.__dict__
        assert not vocabulary.blocks(record) and vocabulary.can_block(record) is declared
    assert vocabulary.can_block({"blocks": False}) is False  # a record written before can_block existed


# --- per-site windows: each site's windows are a series of their own -----------------------------------------

SITE_WINDOWS = [f"{s} · {w}" for s in ("A", "B") for w in WINDOWS]


def _site_table(rows) -> pd.DataFrame:
    """``(site, window, of, statistic, estimate, lower, upper)`` tuples → a long table with a site column."""
    frame = pd.DataFrame([(f"{s} · {w}", s, *rest) for s, w, *rest in rows],
                         columns=["window", "site", "of", "statistic", "estimate", "lower", "upper"])
    return frame


def test_per_site_trigger_fires_at_one_site_and_names_it():
    slopes = {"A": ((1.0, 0.8, 1.2),) * 4, "B": ((1.0, 0.8, 1.2), (0.6, 0.4, 0.8), (0.5, 0.3, 0.7), (1.0, 0.8, 1.2))}
    rows = [(s, w, "score", "calibration_slope", *v) for s in slopes for w, v in zip(WINDOWS, slopes[s])]
    [gate] = triggers.judge_triggers(_site_table(rows), SITE_WINDOWS, _plan(TRIGGERS["slope"]))
    assert gate.verdict == gates.FAIL and gate.blocks
    assert gate.sentence.startswith("FIRED at site B in window(s) B · 2002, B · 2003 (calibration_slope 0.600")


def test_a_run_does_not_cross_sites():
    """A's last window and B's first are adjacent in the listing but not consecutive windows of one site."""
    low, ok = (0.5, 0.3, 0.7), (1.0, 0.8, 1.2)
    slopes = {"A": (ok, ok, ok, low), "B": (low, ok, ok, ok)}
    rows = [(s, w, "score", "calibration_slope", *v) for s in slopes for w, v in zip(WINDOWS, slopes[s])]
    [gate] = triggers.judge_triggers(_site_table(rows), SITE_WINDOWS, _plan(TRIGGERS["slope"]))
    assert gate.verdict == gates.PASS, gate.sentence


def test_per_site_trigger_lists_every_site_it_fired_at():
    rows = [(s, w, "x1", "p_adjusted", p, math.nan, math.nan)
            for s, ps in (("A", (0.5, 0.01, 0.3, 0.4)), ("B", (0.5, 0.6, 0.7, 0.02))) for w, p in zip(WINDOWS, ps)]
    [gate] = triggers.judge_triggers(_site_table(rows), SITE_WINDOWS, _plan({**TRIGGERS["adjusted"], "of": "x1"}))
    assert gate.sentence.startswith("FIRED at site A in window(s) A · 2002 (fired at 2 sites: A, B)")


def test_relative_trigger_per_site_reads_the_intervals_at_their_level():
    """Per-site intervals are Bonferroni-adjusted (level 1 − alpha/S): the reference's SE is read at that level,
    and the words say it."""
    alpha = 0.05 / 10
    z = 2.807033768343811  # norm.ppf(1 - alpha / 2)
    rows = [(triggers.REFERENCE, None, "score", "calibration_slope", 0.9, 0.9 - z * 0.04, 0.9 + z * 0.04)]
    rows += [(f"{s} · {w}", s, "score", "calibration_slope", e, e - z * 0.05, e + z * 0.05)
             for s, es in (("A", (0.9, 0.9, 0.9, 0.9)), ("B", (0.9, 0.6, 0.6, 0.9))) for w, e in zip(WINDOWS, es)]
    frame = pd.DataFrame(rows, columns=["window", "site", "of", "statistic", "estimate", "lower", "upper"])
    [gate] = triggers.judge_triggers(frame, SITE_WINDOWS, _plan(SLOPE_TR), alpha=alpha)
    assert gate.verdict == gates.FAIL and "at site B" in gate.sentence and "99.5% CI" in gate.sentence
    d, se = 0.6 - 0.9, math.sqrt(0.05 ** 2 + 0.04 ** 2)
    assert (gate.estimate, gate.lower, gate.upper) == pytest.approx((d, d - z * se, d + z * se), abs=1e-9)
