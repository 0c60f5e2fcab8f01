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
from studylib.report import stage_pages, vocabulary
from studylib.report.checklist import ItemStatus

_EXPLAIN = {
    "PASS": "Every blocking gate passed.",
    "FAIL": "At least one blocking gate failed.",
    "INSUFFICIENT_EVIDENCE": "No gate failed, but at least one blocking gate could not be judged for lack of evidence.",
    "ERROR": "A stage raised an error; the failed notebook is archived below.",
}
_WHY = {"PASS": "Why it passed", "FAIL": "Why it failed", "INSUFFICIENT_EVIDENCE": "Why the evidence is insufficient",
        "ERROR": "Why it stopped"}
_DIRTY = {True: " (uncommitted changes)", False: " (clean)", None: ""}
_DECISION = {"approve": "approved", "reject": "rejected"}
_SIGNATURE = {"verified": "signature verified", "unchecked": "signature not checked"}


def _decision(signoff: dict) -> str:
    if signoff["status"].startswith("invalid"):
        return "INVALID sign-off (not counted)"
    return _DECISION.get(signoff.get("decision"), str(signoff.get("decision")))
_JUDGED = (gates.PASS, gates.FAIL, gates.INSUFFICIENT)


@functools.cache
def _environment():
    import jinja2

    return jinja2.Environment(loader=jinja2.PackageLoader("studylib.report", "templates/pages"),
                              autoescape=True, undefined=jinja2.StrictUndefined, trim_blocks=True,
                              lstrip_blocks=True, keep_trailing_newline=True)


def _render(template: str, **context) -> str:
    return _environment().get_template(template).render(**context)


def _mark(verdict: str) -> str:
    return vocabulary.mark(verdict)


def is_trigger(gate: Mapping) -> bool:
    """Whether a gate of verdict.json is a drift surveillance trigger (its rule names the declared action)."""
    return gate.get("stage") == "drift" and "→" in str(gate.get("rule", ""))


def state(gate: Mapping) -> str:
    """The state a reviewer reads: a trigger is FIRED / NOT FIRED; any other gate its verdict as recorded
    (PASS, FAIL, INSUFFICIENT_EVIDENCE, NOT CHECKED, ...)."""
    verdict = gate.get("verdict", "")
    if is_trigger(gate) and verdict in (gates.PASS, gates.FAIL):
        return "FIRED" if verdict == gates.FAIL else "NOT FIRED"
    return verdict


def _summary(all_gates: Sequence[Mapping]) -> list[dict]:
    rows = []
    for stage in dict.fromkeys(g["stage"] for g in all_gates):
        of_stage = [g for g in all_gates if g["stage"] == stage]
        counts = {v: sum(g["verdict"] == v for g in of_stage) for v in gates.VERDICTS}
        blocking = [g["id"] for g in of_stage if vocabulary.blocks(g)]
        shown = ", ".join(blocking[:8]) + (f" and {len(blocking) - 8} more" if len(blocking) > 8 else "")
        rows.append({"stage": stage, "gates": len(of_stage), "passed": counts[gates.PASS],
                     "failed": counts[gates.FAIL], "insufficient": counts[gates.INSUFFICIENT],
                     "not_checked": sum(g["verdict"] not in _JUDGED for g in of_stage), "blocking": shown})
    return rows


def _estimate(gate: Mapping, threshold: int | None) -> str:
    """The estimate with its interval; a judged estimate withheld by the small-cell rule says so."""
    if str(gate.get("subject", "")).startswith(("p_value", "p_adjusted")):  # a trigger on p-values
        return formatting.p_value(gate.get("estimate"))
    shown = formatting.interval(gate.get("estimate"), gate.get("lower"), gate.get("upper"), no_interval="",
                                signed=formatting.is_difference(str(gate.get("subject", ""))))
    if threshold and _withheld(gate):
        return suppression.withheld_label(threshold)
    return stage_pages.true_minus(shown)


def _gate_rows(all_gates: Sequence[Mapping], reports: Mapping[str, str] | None = None, *,
               words=vocabulary.readable, threshold: int | None = None) -> list[dict]:
    """The gates as the pages show them: readable words, the interval, where the evidence is.

    ``threshold`` is the small-cell threshold: an estimate withheld by it reads "withheld (<5)".
    ``reports`` maps a stage name to the file of its reviewer report (relative to the page); a gate of a
    stage with a report links to the anchor of its row there (:func:`studylib.report.stage_pages.gate_anchor`).
    """
    reports = reports or {}
    rows = []
    for g in all_gates:
        shown = state(g)
        rule = str(g.get("rule", ""))
        report = reports.get(g["stage"])
        rows.append({
            "stage": g["stage"], "stage_label": vocabulary.STAGES.get(g["stage"], g["stage"]), "id": g["id"],
            "href": f"{report}#{stage_pages.gate_anchor(g['id'])}" if report else "",
            "subject": words(str(g.get("subject", ""))), "verdict": g["verdict"], "state": shown,
            "css": vocabulary.css_class(shown), "mark": vocabulary.mark(shown),
            # a statistic judged without an interval (PSI, a p-value) shows alone
            "estimate": _estimate(g, threshold),
            # a check not performed shows why in place of its rule
            "rule": words(str(g.get("sentence", "")) if g["verdict"] == gates.NOT_CHECKED
                          else rule.split("→")[0].strip() if is_trigger(g) else rule),
            "action": vocabulary.action(rule.split("→", 1)[1].strip()) if is_trigger(g) else "",
            "sentence": stage_pages.true_minus(words(str(g.get("sentence") or g.get("reason") or ""))),
            "test": g.get("test", ""),  # the test the rule is (e.g. one-sided at 2.5 %)
            "blocks": vocabulary.blocks(g), "can_block": vocabulary.can_block(g)})
    return rows


def blocking(all_gates: Sequence[Mapping]) -> list[dict]:
    """The gates that hold the release back (blocking and not passed), failures first, each with a
    one-line reason: what was judged, the estimate with its interval, and the rule (or why it could not
    be judged). For ``studylib run`` and the runs page.

    Examples
    --------
    >>> blocking([{"id": "AC-1", "stage": "evaluation", "subject": "sensitivity (candidate)", "verdict": "FAIL",
    ...            "estimate": 0.68, "lower": 0.61, "upper": 0.74, "rule": "lower 95% bound >= 0.7"}])[0]["reason"]
    'sensitivity (candidate) 0.680 (0.610–0.740); rule: lower 95% bound ≥ 0.7'
    """
    order = {gates.FAIL: 0, gates.INSUFFICIENT: 1}
    out = []
    for g in sorted((g for g in all_gates if vocabulary.blocks(g)), key=lambda g: order.get(g["verdict"], 2)):
        shown = formatting.interval(g.get("estimate"), g.get("lower"), g.get("upper"), no_interval="")
        if g["verdict"] == gates.FAIL and shown != formatting.UNDEFINED:
            reason = f"{g.get('subject', '')} {shown}; rule: {g.get('rule', '')}"
        else:
            sentence = str(g.get("sentence") or g.get("reason") or g.get("rule", ""))
            reason = sentence.split("; ")[0].split(". ")[0].rstrip(".")
        out.append({"id": g["id"], "stage": g["stage"], "verdict": g["verdict"],
                    "reason": vocabulary.readable(reason)})
    return out


def why(rows: Sequence[Mapping]) -> dict:
    """The "why it failed / passed" of the summary, from :func:`_gate_rows`: blocking failures first, then
    blocking gates without enough evidence, gates not checked (with the reason), gates that did not pass
    but do not block, and the passing gates grouped by stage."""
    by_stage: dict[str, list] = {}
    for r in rows:
        if r["verdict"] == gates.PASS:
            by_stage.setdefault(r["stage_label"], []).append(r)
    return {"failed": [r for r in rows if r["blocks"] and r["verdict"] == gates.FAIL],
            "insufficient": [r for r in rows if r["blocks"] and r["verdict"] == gates.INSUFFICIENT],
            "not_checked": [r for r in rows if r["verdict"] not in _JUDGED],
            "not_blocking": [r for r in rows if not r["blocks"] and r["verdict"] in (gates.FAIL, gates.INSUFFICIENT)],
            "passed": list(by_stage.items()), "passed_count": sum(map(len, by_stage.values()))}


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
                 card_file: str = "snapshot-card.yaml", figures: Sequence[Mapping] = (),
                 claims: Sequence[Mapping] = ()) -> str:
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
    figures : sequence of dict
        Small figures shown under the verdict: ``src`` (relative to the page), ``alt``, ``caption``.
    claims : sequence of dict
        The claims of the run's validation matrix (``results/matrix.json``): id, statement, status.

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
    stages = _stage_rows(outcome.stages)
    reports = {s["name"]: f"notebooks/{s['stem']}.reviewer.html" for s in stages if s["status"] == "ok"}
    rows = _gate_rows(all_gates, reports, words=vocabulary.words_for(study),
                      threshold=study.study.small_cell_threshold)
    errors = [s for s in stages if s["status"] == "error"]
    return _render(
        "index.html.j2",
        running_header=stage_pages.running_header(study.study.id, outcome.run_id),
        study=study.study, run_id=outcome.run_id, level=formatting.confidence_level(study.analysis.alpha),
        verdict={"name": outcome.verdict, "mark": _mark(outcome.verdict), "css": vocabulary.css_class(outcome.verdict),
                 "explanation": _EXPLAIN.get(outcome.verdict, ""), "exit_code": outcome.exit_code,
                 "why": _WHY.get(outcome.verdict, "Why"), "errors": errors},
        why=why(rows), triggers=[r for r, g in zip(rows, all_gates) if is_trigger(g)],
        summary=_summary(all_gates), gates=rows, stages=stages, glossary=vocabulary.GLOSSARY,
        figures=figures or [],
        claims=[{"id": c["id"], "statement": c["statement"], "status": c["status"], "css": _CLAIM_CSS[c["status"]],
                 "mark": f"{_CLAIM_MARK[c['status']]} {c['status']}"} for c in claims],
        snapshot={"path": study.snapshot.path, "lock": snap.lock, "rows": formatting.count(snap.rows)}, card_file=card_file,
        params={"name": study.source.name, "sha256": study.sha256, "text": params_text}, models=models,
        env={"commit": code["commit"] or "not a git checkout", "state": _DIRTY[code["dirty"]],
             "python": env["python"], "platform": env["platform"],
             "packages": ", ".join(f"{k} {v}" for k, v in env["packages"].items())},
    )


def render_archive(runs: Sequence, details: Mapping[str, Mapping] | None = None) -> str:
    """The runs page ``reports/index.html``: every run, newest first, with its verdict and sign-offs.

    Parameters
    ----------
    runs : sequence of studylib.evidence.archive.RunSummary
        The runs as :func:`studylib.evidence.archive.list_runs` lists them (oldest first): study,
        run_id, started_at, verdict and the ledger's sign-off entries (decision, reviewer, role,
        signed_at, comment, and status: verified, unchecked or "invalid: why"; an invalid sign-off is
        never shown as a decision).
    details : mapping, optional
        ``"<study>/<run_id>"`` → ``title``, ``model`` (candidate name and version) and ``blocking`` (the
        blocking gates of :func:`blocking`), read from the run folder.

    Returns
    -------
    str
        The page.
    """
    rows = []
    for run in reversed(runs):
        signoffs = [{"decision": _decision(s), "reviewer": s["reviewer"], "role": s["role"],
                     "signed_at": s.get("signed_at", ""), "status": _SIGNATURE.get(s["status"], s["status"]),
                     "comment": s.get("comment") or ""} for s in run.signoffs]
        more = (details or {}).get(f"{run.study}/{run.run_id}", {})
        failing = [g["id"] for g in more.get("blocking", ())]
        rows.append({"study": run.study, "run_id": run.run_id, "started_at": run.started_at,
                     "verdict": run.verdict, "mark": _mark(run.verdict), "css": vocabulary.css_class(run.verdict),
                     "signoffs": signoffs, "title": more.get("title", ""), "model": more.get("model", ""),
                     "release": getattr(run, "release", ""),
                     "failing": ", ".join(failing[:6]) + (f" and {len(failing) - 6} more" if len(failing) > 6 else "")})
    return _render("archive.html.j2", runs=rows)


def render_checklist(title: str, statuses: Sequence[ItemStatus], *, pdf: bool = False) -> str:
    """The page ``checklist.html``: each reporting item with the artifacts of the run that answer it,
    or the reason it is not answered.

    Parameters
    ----------
    title : str
        The study's title.
    statuses : sequence of studylib.report.checklist.ItemStatus
        :func:`studylib.report.checklist.assess` of the run.
    pdf : bool
        The run has (or is about to print) ``report.pdf``: the page links it.

    Returns
    -------
    str
        The page.
    """
    sections = [(section, list(group)) for section, group in itertools.groupby(statuses, key=lambda s: s.item.section)]
    return _render("checklist.html.j2", title=title, sections=sections,
                   answered=sum(s.answered for s in statuses), total=len(statuses),
                   partly=sum(s.state == "partly answered" for s in statuses), pdf=pdf)


_CLAIM_CSS = {"SUPPORTED": "PASS", "SUPPORTED WITH APPROVED WAIVER": "PASS", "NOT SUPPORTED": "FAIL",
              "INSUFFICIENT EVIDENCE": "INSUFFICIENT_EVIDENCE"}
_CLAIM_MARK = {"SUPPORTED": "✔", "SUPPORTED WITH APPROVED WAIVER": "✔", "NOT SUPPORTED": "✘",
               "INSUFFICIENT EVIDENCE": "?"}


_STATE_WORDS = {"PASS": "passed", "FAIL": "failed", "INSUFFICIENT_EVIDENCE": "insufficient", "NOT_CHECKED": "not checked",
                "FIRED": "fired", "NOT FIRED": "not fired"}


def _state_counts(rows: Sequence[Mapping]) -> str:
    """``"19: 12 passed, 6 failed, 1 insufficient"``: how many gates, and how many in each state shown."""
    counts: dict[str, int] = {}
    for r in rows:
        counts[r["state"]] = counts.get(r["state"], 0) + 1
    return f"{len(rows)}: " + ", ".join(f"{n} {_STATE_WORDS.get(state, state.lower())}" for state, n in counts.items())


def render_matrix(study, run_id: str, matrix: Mapping) -> str:
    """The validation matrix ``matrix.html`` of a run: each claim with its status, the gates that support it
    (verdict, estimate and interval, rule, a link to the evidence row) and the roles that must sign it.

    Parameters
    ----------
    study : studylib.plan.Study
        The validated parameters of the run.
    run_id : str
        The run's id.
    matrix : mapping
        :func:`studylib.judge.claims.record` of the run (``results/matrix.json``).

    Returns
    -------
    str
        The page.
    """
    words = vocabulary.words_for(study)
    claims = []
    for claim in matrix["claims"]:
        rows = _gate_rows(claim["gates"], words=words, threshold=study.study.small_cell_threshold)
        for row, gate in zip(rows, claim["gates"]):
            row["href"], row["decides"] = gate["evidence"], gate["decides"]
        shown = [r for r in rows if not (r["decides"] and r["verdict"] == gates.PASS)]
        passed = [r for r in rows if r["decides"] and r["verdict"] == gates.PASS]
        signed = claim.get("signed_by")
        claims.append({**claim, "css": _CLAIM_CSS[claim["status"]], "mark": f"{_CLAIM_MARK[claim['status']]} "
                                                                          f"{claim['status']}",
                       "shown": shown, "passed": passed,
                       "signed": None if signed is None else [
                           {"role": role, "by": ", ".join(names) or "not signed"} for role, names in signed.items()],
                       "counts": _state_counts(rows)})
    return _render("matrix.html.j2", running_header=stage_pages.running_header(study.study.id, run_id),
                   study=study.study, run_id=run_id, level=formatting.confidence_level(study.analysis.alpha),
                   claims=claims, roles=matrix["roles"], required_roles=matrix["required_roles"],
                   unclaimed=matrix["unclaimed"], snapshot=study.snapshot.path, split=study.analysis.split)
