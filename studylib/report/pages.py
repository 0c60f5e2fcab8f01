"""The HTML pages of a run, rendered from Jinja2 templates: ``index.html`` (verdict, gates, links to the
stage reports, identities, environment), ``checklist.html`` (reporting items and the artifacts that
answer them) and the runs page ``reports/index.html``.

Pages are self-contained (inline CSS, no scripts, no external resources), readable at phone width and
in print, with headings, table headers and a verdict given in words as well as colour. The templates
(package data, ``templates/pages/``) are autoescaped with undefined names as errors, so every string
from data or parameters shows as text.

Each function takes data and returns the page as a string; the run layer (:mod:`studylib.run.pages`)
gathers the data (run folder, archive, ledger) and writes the files.
"""

from __future__ import annotations

import functools
import itertools
from collections.abc import Iterable, Mapping, Sequence
from pathlib import PurePath

from studylib import formatting
from studylib.judge import gates, suppression
from studylib.report.checklist import ItemStatus

_MARK = {gates.PASS: "✔ PASS", gates.FAIL: "✘ FAIL", gates.INSUFFICIENT: "? INSUFFICIENT EVIDENCE"}
_EXPLAIN = {
    "PASS": "Every blocking gate passed.",
    "FAIL": "At least one blocking gate failed.",
    "INSUFFICIENT_EVIDENCE": "No gate failed, but at least one blocking gate could not be judged for lack of evidence.",
    "ERROR": "A stage raised an error; the failed notebook is archived below.",
}
_DIRTY = {True: " (uncommitted changes)", False: " (clean)", None: ""}
_DECISION = {"approve": "approved", "reject": "rejected"}


@functools.cache
def _environment():
    import jinja2

    return jinja2.Environment(loader=jinja2.PackageLoader("studylib.report", "templates/pages"),
                              autoescape=True, undefined=jinja2.StrictUndefined, trim_blocks=True,
                              lstrip_blocks=True, keep_trailing_newline=True)


def _render(template: str, **context) -> str:
    return _environment().get_template(template).render(**context)


def _mark(verdict: str) -> str:
    return _MARK.get(verdict, verdict)


def _summary(all_gates: Sequence[Mapping]) -> list[dict]:
    rows = []
    for stage in dict.fromkeys(g["stage"] for g in all_gates):
        of_stage = [g for g in all_gates if g["stage"] == stage]
        counts = {v: sum(g["verdict"] == v for g in of_stage) for v in gates.VERDICTS}
        blocking = [g["id"] for g in of_stage if g.get("blocks", True) and g["verdict"] != gates.PASS]
        shown = ", ".join(blocking[:8]) + (f" and {len(blocking) - 8} more" if len(blocking) > 8 else "")
        rows.append({"stage": stage, "gates": len(of_stage), "passed": counts[gates.PASS],
                     "failed": counts[gates.FAIL], "insufficient": counts[gates.INSUFFICIENT], "blocking": shown})
    return rows


def _gate_rows(all_gates: Sequence[Mapping], threshold: int) -> list[dict]:
    return [{"stage": g["stage"], "id": g["id"], "subject": g["subject"], "verdict": g["verdict"],
             "mark": _mark(g["verdict"]),
             # a statistic judged without an interval (PSI, a p-value) shows alone; a PASS or FAIL without
             # an estimate had it withheld by the small-cell rule (the gate's sentence says so)
             "estimate": suppression.withheld_label(threshold) if _withheld(g) else
             formatting.interval(g.get("estimate"), g.get("lower"), g.get("upper"), no_interval=""),
             "rule": g["rule"], "blocks": g.get("blocks", True)} for g in all_gates]


def _withheld(gate: Mapping) -> bool:
    return (gate["verdict"] in (gates.PASS, gates.FAIL) and gate.get("estimate") is None
            and "withheld" in gate.get("sentence", ""))


def _stage_rows(records: Iterable) -> list[dict]:
    rows = []
    for record in records:
        rows.append({"name": record.name, "status": record.status, "error": record.error,
                     "seconds": f"{formatting.number(record.seconds, 1)} s", "notebook": str(record.notebook),
                     "stem": PurePath(record.notebook).stem})
    return rows


def render_index(study, snap, outcome, all_gates: Sequence[Mapping], env: Mapping, *, params_text: str,
                 card_file: str = "snapshot-card.yaml") -> str:
    """The summary page ``index.html`` of a run.

    Parameters
    ----------
    study : studylib.plan.Study
        The validated parameters of the run.
    snap : studylib.data.snapshot.Snapshot
        The locked snapshot (path, lock, rows).
    outcome : studylib.run.runner.RunOutcome
        Run id, verdict, exit code and the stage records (name, notebook, status, seconds, error).
    all_gates : sequence of dict
        Every gate of the run as recorded in the stages' results (stage, id, subject, verdict,
        estimate, lower, upper, rule, blocks).
    env : mapping
        :func:`studylib.run.environment.describe` of the run (also recorded in its manifest).
    params_text : str
        The parameter file as run (shown verbatim).
    card_file : str
        Name of the dataset card in the run folder, linked from the page.

    Returns
    -------
    str
        The page.
    """
    code = env["code"]
    models = [{"role": role, "name": m.name, "version": m.version, "score": m.score,
               "artifact_sha256": m.artifact_sha256}
              for role, m in (("candidate", study.models.candidate), ("baseline", study.models.baseline))
              if m is not None]
    return _render(
        "index.html.j2",
        study=study.study, run_id=outcome.run_id, level=formatting.confidence_level(study.analysis.alpha),
        verdict={"name": outcome.verdict, "mark": _mark(outcome.verdict),
                 "explanation": _EXPLAIN.get(outcome.verdict, ""), "exit_code": outcome.exit_code},
        summary=_summary(all_gates), gates=_gate_rows(all_gates, study.study.small_cell_threshold), stages=_stage_rows(outcome.stages),
        snapshot={"path": study.snapshot.path, "lock": snap.lock, "rows": formatting.count(snap.rows)}, card_file=card_file,
        params={"name": study.source.name, "sha256": study.sha256, "text": params_text}, models=models,
        env={"commit": code["commit"] or "not a git checkout", "state": _DIRTY[code["dirty"]],
             "python": env["python"], "platform": env["platform"],
             "packages": ", ".join(f"{k} {v}" for k, v in env["packages"].items())},
    )


def render_archive(runs: Sequence) -> str:
    """The runs page ``reports/index.html``: every run, newest first, with its verdict and sign-offs.

    Parameters
    ----------
    runs : sequence of studylib.evidence.archive.RunSummary
        The runs as :func:`studylib.evidence.archive.list_runs` lists them (oldest first): study,
        run_id, started_at, verdict and the ledger's sign-off entries (decision, reviewer, role,
        signed_at, comment, signature).

    Returns
    -------
    str
        The page.
    """
    rows = []
    for run in reversed(runs):
        signoffs = [{"decision": _DECISION.get(s["decision"], s["decision"]), "reviewer": s["reviewer"],
                     "role": s["role"], "signed_at": s.get("signed_at", ""), "signed": "signature" in s,
                     "comment": s.get("comment") or ""} for s in run.signoffs]
        rows.append({"study": run.study, "run_id": run.run_id, "started_at": run.started_at,
                     "verdict": run.verdict, "mark": _mark(run.verdict), "signoffs": signoffs})
    return _render("archive.html.j2", runs=rows)


def render_checklist(study, statuses: Sequence[ItemStatus]) -> str:
    """The page ``checklist.html``: each reporting item with the artifacts of the run that answer it,
    or the reason it is not answered.

    Parameters
    ----------
    study : studylib.plan.Study
        The validated parameters of the run (for the title).
    statuses : sequence of studylib.report.checklist.ItemStatus
        :func:`studylib.report.checklist.assess` of the run.

    Returns
    -------
    str
        The page.
    """
    sections = [(section, list(group)) for section, group in itertools.groupby(statuses, key=lambda s: s.item.section)]
    return _render("checklist.html.j2", title=study.study.title, sections=sections,
                   answered=sum(s.answered for s in statuses), total=len(statuses))
