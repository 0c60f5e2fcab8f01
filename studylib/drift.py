"""Drift review: a reference window against monitoring windows, with declared surveillance triggers."""

from __future__ import annotations

import numpy as np
import pandas as pd

from studylib import gates, stats
from studylib.params import DriftSection, Study, Trigger

REFERENCE = "reference"
#: actions that block a release (the run exits 1 when such a trigger fires)
BLOCKING_ACTIONS = ("revalidate", "suspend")


def windows(frame: pd.DataFrame, drift: DriftSection) -> list[tuple[str, np.ndarray]]:
    """The reference window and each monitoring window as ``(label, row mask)``, in time order.

    Monitoring windows are the values of the window column outside the reference, grouped ``each``
    consecutive values at a time (e.g. ``each: 1`` → one window per sample year).
    """
    ref_column = frame[drift.reference.column]
    reference = ref_column.isin(list(drift.reference.values or [])).to_numpy()
    out = [(REFERENCE, reference)]
    column = frame[drift.windows.column]
    values = sorted(column[~reference & column.notna().to_numpy()].unique())
    if drift.windows.values:
        values = [v for v in values if v in set(drift.windows.values)]
    each = drift.windows.each or 1
    for start in range(0, len(values), each):
        chunk = values[start:start + each]
        label = str(chunk[0]) if len(chunk) == 1 else f"{chunk[0]}–{chunk[-1]}"
        out.append((label, column.isin(chunk).to_numpy() & ~reference))
    return out


def score_drift(frame: pd.DataFrame, study: Study) -> pd.DataFrame:
    """Per window: n, mean score, PSI and KS of the candidate score against the reference window."""
    score = study.models.candidate.score
    masks = windows(frame, study.drift)
    reference = frame.loc[masks[0][1], score].to_numpy(dtype=float)
    rows = []
    for label, mask in masks:
        current = frame.loc[mask, score].to_numpy(dtype=float)
        if label == REFERENCE or current.size == 0:
            psi = ks = p = np.nan
        else:
            psi = stats.psi(reference, current)
            test = stats.ks_test(reference, current)
            ks, p = test.statistic, test.p_value
        rows.append({"window": label, "n": int(mask.sum()),
                     "mean_score": float(current.mean()) if current.size else np.nan,
                     "psi": psi, "ks": ks, "ks_p_value": p})
    return pd.DataFrame(rows)


def _fires(trigger: Trigger, values: list[float]) -> list[bool]:
    if trigger.above is not None:
        return [v > trigger.above for v in values]
    if trigger.below is not None:
        return [v < trigger.below for v in values]
    return [False for _ in values]


def judge_triggers(table: pd.DataFrame, study: Study) -> list[gates.Gate]:
    """Evaluate each declared trigger over the monitoring windows of ``table``.

    A trigger that fires is a FAIL gate that blocks when its action is "revalidate" or "suspend";
    triggers on statistics absent from ``table`` are reported as INSUFFICIENT_EVIDENCE, not blocking.
    """
    monitoring = table[table.window != REFERENCE]
    judged = []
    for trigger in study.drift.triggers:
        blocks = trigger.action in BLOCKING_ACTIONS
        rule = f"{trigger.statistic} of {trigger.of} " + (
            f"> {trigger.above:g}" if trigger.above is not None else
            f"< {trigger.below:g}" if trigger.below is not None else f"interval excludes {trigger.interval_excludes:g}"
        ) + f" in {trigger.in_.replace('_', ' ')} → {trigger.action}"
        if trigger.statistic not in monitoring.columns:
            judged.append(gates.Gate(trigger.id, "drift", f"{trigger.statistic} of {trigger.of}", rule,
                                     gates.INSUFFICIENT, blocks=False,
                                     sentence=f"{trigger.statistic} per window is not computed by this stage yet."))
            continue
        values = monitoring[trigger.statistic].tolist()
        fired = _fires(trigger, values)
        if trigger.in_ == "consecutive_windows":
            run = best = 0
            for f in fired:
                run = run + 1 if f else 0
                best = max(best, run)
            fired_any = best >= trigger.count
        else:
            fired_any = any(fired)
        where = [w for w, f in zip(monitoring.window, fired) if f]
        worst = max(values) if trigger.above is not None else min(values)
        sentence = (f"Fired in window(s) {', '.join(map(str, where))}: action '{trigger.action}'." if fired_any
                    else "Did not fire in any monitoring window.")
        judged.append(gates.Gate(trigger.id, "drift", f"{trigger.statistic} of {trigger.of}", rule,
                                 gates.FAIL if fired_any else gates.PASS, estimate=worst, blocks=blocks,
                                 sentence=sentence))
    return judged
