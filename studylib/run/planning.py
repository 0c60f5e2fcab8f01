"""`studylib plan`: the sample size each declared rule needs and whether the locked cohort reaches it.

Reads the plan and the locked snapshot, applies the cohort steps and the analysis split, and counts the
positives and negatives of the cohort and of every declared subgroup. No score is read: the output holds
counts and planned sizes only, so it can be written before any result (pre-registration); a run records
it as ``results/plan.json``.
"""

from __future__ import annotations

from studylib import formatting
from studylib.errors import StudyInputError
from studylib.evidence import workspace
from studylib.judge import planning
from studylib.plan import Study
from studylib.stages.subgroups.groups import OVERALL, subgroups

STAGE = "plan"


def plan_results(study: Study) -> dict:
    """The plan of ``study`` as a JSON-ready dict (``declared: False`` when the plan has no planning section)."""
    if study.planning is None:
        return {"stage": STAGE, "declared": False,
                "reason": "the plan declares no planning section (anticipated prevalence and C-statistic)"}
    cohort = workspace.build_cohort(study).cohort
    if study.analysis.split is not None and study.data.split is not None:
        cohort = cohort[cohort[study.data.split] == study.analysis.split].reset_index(drop=True)
    y = cohort[study.data.outcome].to_numpy()
    requirements = [planning.requirement(c, study, "acceptance") for c in study.acceptance]
    gate_requirements = [planning.requirement(g, study, "subgroup") for g in study.subgroups.gates]
    adequacy = []
    for group in subgroups(cohort, study):
        rows = y[group.rows]
        positives = int((rows == 1).sum())
        negatives = int((rows == 0).sum())
        for req in requirements if group.variable == OVERALL else gate_requirements:
            adequacy.append(planning.adequacy(req, study, variable=group.variable, level=group.level, n=group.n,
                                              positives=positives, negatives=negatives))
    return {"stage": STAGE, "declared": True, "inputs": study.planning.model_dump(mode="json"),
            "precision": planning.precision(study),
            "requirements": [r.to_dict() for r in (*requirements, *gate_requirements)], "adequacy": adequacy}


def plan_text(results: dict) -> str:
    """The plan as text for the terminal: the requirement of each rule, then who reaches it."""
    if not results["declared"]:
        return f"no sample-size plan: {results['reason']}\n"
    lines = ["Precision of the whole cohort (Riley et al. 2021):"]
    for p in results["precision"]:
        lines.append(f"  {p['criterion']:<18} {p['participants']:>8,} participants, {p['events']:>6,} events  "
                     f"({p['target']})")
    lines.append("")
    lines.append("Each criterion and gate:")
    for r in results["requirements"]:
        if r["participants"] is None:
            lines.append(f"  {r['id']:<8} {r['metric']:<24} {r['method']}")
            continue
        lines.append(f"  {r['id']:<8} {r['metric']:<24} {r['participants']:>8,} participants "
                     f"({formatting.count(r['positives'])} positives, {formatting.count(r['negatives'])} negatives): {r['method']}")
    lines.append("")
    lines.append("Who reaches it (counts of the locked cohort, small cells suppressed; no performance is computed):")
    for a in results["adequacy"]:
        state = {True: "reached", False: "NOT reached", None: "—"}[a["reached"]]
        lines.append(f"  {a['id']:<8} {a['variable']} = {a['level']}: n {a['n']}, {a['positives']} positives, "
                     f"{a['negatives']} negatives → {state}")
    return "\n".join(lines) + "\n"


def plan_file(params_file) -> dict:
    """Validate ``params_file``, verify its snapshot and plan it (StudyInputError on bad input)."""
    from studylib.run import runner

    study, _ = runner.prepare(params_file)
    try:
        return plan_results(study)
    except ValueError as exc:
        raise StudyInputError(f"{study.source}: planning: {exc}") from exc
