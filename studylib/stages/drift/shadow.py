"""Shadow mode: a candidate scored silently beside the deployed model on the same field cases, per window.

From the aggregates of :mod:`studylib.data.reduce` (placement sums of both models, flag pairs at the
operating threshold, each model's score × outcome counts), per monitoring window:

- **discrimination**: both AUROCs and the paired difference shadow − deployed with its DeLong interval
  (exact from the placement sums, :func:`studylib.stats.placement_sums.paired_auroc_from_sums`), and
  non-inferiority at the plan's margin (``monitoring.shadow_margin``): lower bound > −margin;
- **flag agreement**: the paired 2×2 table of flags on every case both models scored (labelled or not),
  the discordance rate with its Wilson interval and McNemar's mid-p test;
- **alert burden**: flag rate of each model and the difference shadow − deployed with Newcombe's paired
  interval;
- **calibration** of the shadow: O/E, calibration-in-the-large and slope from its counts.

A statistic that needs labelled cases is not judged (its ``reason`` says why) in a window with fewer
events than ``drift.min_events`` or non-events than ``drift.min_non_events``; statistics of the flags
need no label and are judged from ``drift.min_rows`` pairs on.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from studylib import stats
from studylib.stages.drift._columns import estimate_columns, quiet
from studylib.stages.drift.labelled import not_judged
from studylib.stats import Estimate
from studylib.stats.placement_sums import PlacementSums, paired_auroc_from_sums

#: statistics of the shadow table a trigger can name (``of: shadow``), and the counts each needs
NEEDS = {"auroc_difference": ("events", "non_events"), "auroc": ("events", "non_events"),
         "oe_ratio": ("events",), "calibration_in_the_large": ("events", "non_events"),
         "calibration_slope": ("events", "non_events")}
FLAG_STATISTICS = ("flag_rate_difference", "discordance_rate", "mcnemar_p", "alert_rate")


def _sums(frame: pd.DataFrame, outcome: int) -> PlacementSums:
    row = frame[frame["outcome"] == outcome]
    if row.empty:
        return PlacementSums.empty()
    r = row.iloc[0]
    return PlacementSums(int(r["cases"]), int(r["sum_a"]), int(r["sum_b"]), int(r["sum_aa"]), int(r["sum_bb"]),
                         int(r["sum_ab"]))


def _flag_table(flags: pd.DataFrame) -> tuple[int, int, int, int]:
    """(both flag, shadow only, deployed only, neither) over the cases both models scored; ``flag_a`` is the
    shadow's flag, ``flag_b`` the deployed model's."""
    scored = flags[flags["flag_a"].notna() & flags["flag_b"].notna()]
    count = {(int(a), int(b)): 0 for a in (0, 1) for b in (0, 1)}
    for r in scored.itertuples():
        count[(int(r.flag_a), int(r.flag_b))] += int(r.n)
    return count[(1, 1)], count[(1, 0)], count[(0, 1)], count[(0, 0)]


def shadow_table(labels: list[str], paired: pd.DataFrame, flags: pd.DataFrame, fits: dict, *, margin: float,
                 alpha: float, ci: str, min_events: int, min_non_events: int, min_rows: int) -> pd.DataFrame:
    """One row per monitoring window (the reference excluded) comparing the shadow with the deployed model.

    Parameters
    ----------
    labels : list of str
        Window labels; ``labels[i - 1]`` is window index ``i`` of the aggregates (0 = the reference).
    paired : DataFrame
        :func:`studylib.data.reduce.paired_sums` with ``score_a`` the shadow and ``score_b`` the deployed
        model, keyed by window index.
    flags : DataFrame
        :func:`studylib.data.reduce.flag_counts`, ``flag_a`` the shadow, ``flag_b`` the deployed model.
    fits : dict
        Window index → the shadow's fit from counts (:func:`studylib.stages.drift.labelled.fit_from_counts`).
    margin : float
        Non-inferiority margin of the AUROC difference.

    Returns
    -------
    DataFrame
        ``window, pairs, positives, negatives, auroc_deployed(+_lower, _upper), auroc_shadow(…),
        auroc_difference(…), difference_p, non_inferior, both_flag, shadow_only, deployed_only, neither,
        discordance_rate(…), mcnemar_p, flag_rate_deployed, flag_rate_shadow, flag_rate_difference(…),
        oe_ratio, calibration_in_the_large, calibration_slope`` (shadow, with intervals), ``reason``.
    """
    rows = []
    for index, label in enumerate(labels, start=1):
        part = paired[paired["window"] == index]
        pos, neg = _sums(part, 1), _sums(part, 0)
        test = quiet(paired_auroc_from_sums, pos, neg, alpha=alpha)
        diff = test.difference
        if math.isfinite(diff.diff) and diff.se == 0:  # identical rankings: the difference is exactly known
            difference = Estimate(diff.diff, diff.diff, diff.diff, 0.0, "delong-paired")
        elif math.isfinite(diff.diff):
            difference = Estimate(diff.diff, diff.lower, diff.upper, diff.se, "delong-paired")
        else:
            difference = Estimate.undefined(diff.reason or "undefined", "delong-paired")
        both, shadow_only, deployed_only, neither = _flag_table(flags[flags["window"] == index])
        pairs = both + shadow_only + deployed_only + neither
        if pairs:
            mc = quiet(stats.mcnemar_from_counts, both, shadow_only, deployed_only, neither, "mid-p", alpha=alpha)
            discordance = quiet(stats.proportion, shadow_only + deployed_only, pairs, alpha=alpha, method=ci)
            burden, p_mc = mc.difference, mc.p_value
        else:
            discordance = burden = Estimate.undefined("no case scored by both models")
            p_mc = math.nan
        reason = not_judged(("auroc",), pos.cases, neg.cases, min_events, min_non_events)
        if not pos.cases + neg.cases:
            reason = "no labelled case scored by both models"
        non_inferior = (None if reason or not math.isfinite(difference.lower)
                        else bool(difference.lower > -margin))
        if pairs < min_rows:
            reason = "; ".join(r for r in (reason, f"fewer than {min_rows} cases scored by both models "
                                                   "(drift.min_rows)") if r)
        fit = fits.get(index)
        undefined = Estimate.undefined("no labelled rows")
        row = {"window": label, "pairs": pairs, "positives": pos.cases, "negatives": neg.cases,
               **estimate_columns("auroc_deployed", test.b), **estimate_columns("auroc_shadow", test.a),
               **estimate_columns("auroc_difference", difference), "difference_p": diff.p_value,
               "non_inferior": non_inferior, "both_flag": both, "shadow_only": shadow_only,
               "deployed_only": deployed_only, "neither": neither,
               **estimate_columns("discordance_rate", discordance), "mcnemar_p": p_mc,
               "flag_rate_deployed": (both + deployed_only) / pairs if pairs else math.nan,
               "flag_rate_shadow": (both + shadow_only) / pairs if pairs else math.nan,
               **estimate_columns("flag_rate_difference", burden),
               **estimate_columns("oe_ratio", fit["oe"] if fit else undefined),
               **estimate_columns("calibration_in_the_large", fit["citl"] if fit else undefined),
               **estimate_columns("calibration_slope", fit["slope"] if fit else undefined),
               "reason": reason}
        rows.append(row)
    return pd.DataFrame(rows)


def statistics(table: pd.DataFrame, alerts: pd.DataFrame, *, min_events: int, min_non_events: int,
               min_rows: int) -> list[dict]:
    """The long rows (``window, of = "shadow", statistic, estimate, lower, upper, reason``) a trigger reads.

    ``alerts``: per window label the shadow's alert rate (``window, alert_rate, alert_rate_lower,
    alert_rate_upper``) over every case it scored.
    """
    out = []
    alert_of = alerts.set_index("window")
    for r in table.to_dict(orient="records"):
        events, non_events = int(r["positives"]), int(r["negatives"])
        few_pairs = f"fewer than {min_rows} cases scored by both models (drift.min_rows)" if r["pairs"] < min_rows else ""
        for name in (*NEEDS, *FLAG_STATISTICS):
            if name in NEEDS:
                needs = NEEDS[name]
                reason = " and ".join(
                    p for p in (f"fewer than {min_events} events (drift.min_events)"
                                if "events" in needs and events < min_events else "",
                                f"fewer than {min_non_events} non-events (drift.min_non_events)"
                                if "non_events" in needs and non_events < min_non_events else "") if p)
                if not events + non_events:
                    reason = "no labelled case scored by both models"
                column = "auroc_shadow" if name == "auroc" else name
            else:
                reason, column = few_pairs, name
            if name == "alert_rate":
                a = alert_of.loc[r["window"]] if r["window"] in alert_of.index else None
                est, lo, hi = ((a["alert_rate"], a["alert_rate_lower"], a["alert_rate_upper"]) if a is not None
                               else (math.nan,) * 3)
            elif name == "mcnemar_p":
                est, lo, hi = r["mcnemar_p"], math.nan, math.nan
            else:
                est, lo, hi = r[column], r[f"{column}_lower"], r[f"{column}_upper"]
            if not reason and not np.isfinite(float(est)):
                reason = "undefined"
            out.append({"window": r["window"], "of": "shadow", "statistic": name, "estimate": float(est),
                        "lower": float(lo), "upper": float(hi), "reason": reason})
    return out
