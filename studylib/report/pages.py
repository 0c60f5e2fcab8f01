"""The run's summary page ``index.html``: verdict, gates, links to the stage reports, identities, environment.

Self-contained (inline CSS, no scripts, no CDN), readable at phone width and in print, with headings,
table headers and a verdict given in words as well as colour. Every string from data or parameters is
HTML-escaped.
"""

from __future__ import annotations

import html
from pathlib import Path


from studylib.judge import gates

_CSS = """
:root { --pass:#0a6b2d; --fail:#a3161a; --insuff:#8a5a00; --ink:#1b1f24; --muted:#57606a; --line:#d0d7de; }
* { box-sizing: border-box; }
body { font: 16px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: var(--ink);
       margin: 0 auto; max-width: 1100px; padding: 1rem; }
h1 { font-size: 1.6rem; margin: .2rem 0; } h2 { font-size: 1.25rem; margin-top: 2rem; border-bottom: 1px solid var(--line); }
.meta { color: var(--muted); margin: 0; }
.verdict { border: 3px solid; border-radius: 8px; padding: .8rem 1rem; margin: 1rem 0; font-size: 1.4rem; font-weight: 700; }
.verdict small { display: block; font-size: .95rem; font-weight: 400; color: var(--ink); }
.PASS { color: var(--pass); } .FAIL, .ERROR { color: var(--fail); } .INSUFFICIENT_EVIDENCE { color: var(--insuff); }
.verdict.PASS { border-color: var(--pass); } .verdict.FAIL, .verdict.ERROR { border-color: var(--fail); }
.verdict.INSUFFICIENT_EVIDENCE { border-color: var(--insuff); }
.table-wrap { overflow-x: auto; }
table { border-collapse: collapse; width: 100%; font-size: .92rem; }
th, td { border-bottom: 1px solid var(--line); padding: .35rem .5rem; text-align: left; vertical-align: top; }
th { background: #f6f8fa; } td.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
.badge { font-weight: 700; white-space: nowrap; }
code, pre { font-family: ui-monospace, SFMono-Regular, Menlo, monospace; font-size: .85rem; word-break: break-all; }
pre { background: #f6f8fa; padding: .8rem; overflow-x: auto; white-space: pre-wrap; }
@media (max-width: 600px) {
  body { padding: .5rem; font-size: 15px; } th, td { padding: .25rem; }
  table.stack thead { position: absolute; left: -9999px; }
  table.stack tr { display: block; border: 1px solid var(--line); border-radius: 6px; margin: 0 0 .6rem; padding: .3rem; }
  table.stack td { display: flex; justify-content: space-between; gap: 1rem; border: 0; text-align: right; }
  table.stack td::before { content: attr(data-label); font-weight: 600; text-align: left; color: var(--muted); }
}
@media print { a { color: inherit; text-decoration: none; } .verdict { break-inside: avoid; } pre { white-space: pre-wrap; } }
"""

_MARK = {gates.PASS: "✔ PASS", gates.FAIL: "✘ FAIL", gates.INSUFFICIENT: "? INSUFFICIENT EVIDENCE"}
_EXPLAIN = {
    "PASS": "Every blocking gate passed.",
    "FAIL": "At least one blocking gate failed.",
    "INSUFFICIENT_EVIDENCE": "No gate failed, but at least one blocking gate could not be judged for lack of evidence.",
    "ERROR": "A stage raised an error; the failed notebook is archived below.",
}


def _e(value) -> str:
    return html.escape("" if value is None else str(value), quote=True)


def _num(value) -> str:
    return "—" if value is None or value != value else f"{value:.3f}"


def _card_suffix(folder: Path) -> str:
    return next((p.suffix for p in Path(folder).glob("snapshot-card.*")), ".yaml")


def _interval(gate: dict) -> str:
    lower, upper = gate.get("lower"), gate.get("upper")
    if (lower is None or lower != lower) and (upper is None or upper != upper):
        return "—"
    return f"{_num(lower)} – {_num(upper)}"


def _gate_rows(all_gates: list[dict], level: str) -> str:
    if not all_gates:
        return '<tr><td colspan="8">No gates were recorded.</td></tr>'
    rows = []
    for g in all_gates:
        verdict = g["verdict"]
        rows.append(
            f'<tr><td data-label="Stage">{_e(g["stage"])}</td><td data-label="Id">{_e(g["id"])}</td>'
            f'<td data-label="What">{_e(g["subject"])}</td>'
            f'<td data-label="Verdict" class="badge {_e(verdict)}">{_e(_MARK.get(verdict, verdict))}</td>'
            f'<td data-label="Estimate" class="num">{_num(g.get("estimate"))}</td>'
            f'<td data-label="{level} interval" class="num">{_interval(g)}</td><td data-label="Rule">{_e(g["rule"])}</td>'
            f'<td data-label="Blocks release">{"yes" if g.get("blocks", True) else "no"}</td></tr>'
        )
    return "\n".join(rows)


def _summary_rows(all_gates: list[dict]) -> str:
    rows = []
    for stage in dict.fromkeys(g["stage"] for g in all_gates):
        of_stage = [g for g in all_gates if g["stage"] == stage]
        counts = {v: sum(g["verdict"] == v for g in of_stage) for v in gates.VERDICTS}
        blocking = [g["id"] for g in of_stage if g.get("blocks", True) and g["verdict"] != gates.PASS]
        shown = ", ".join(blocking[:8]) + (f" and {len(blocking) - 8} more" if len(blocking) > 8 else "")
        rows.append(f'<tr><td data-label="Stage">{_e(stage)}</td><td data-label="Gates" class="num">{len(of_stage)}</td>'
                    f'<td data-label="Pass" class="num PASS">{counts[gates.PASS]}</td>'
                    f'<td data-label="Fail" class="num FAIL">{counts[gates.FAIL]}</td>'
                    f'<td data-label="Insufficient evidence" class="num INSUFFICIENT_EVIDENCE">{counts[gates.INSUFFICIENT]}</td>'
                    f'<td data-label="Blocking">{_e(shown) or "none"}</td></tr>')
    return "\n".join(rows)


def _stage_rows(outcome) -> str:
    rows = []
    for record in outcome.stages:
        stem = Path(record.notebook).stem
        if record.status == "not run":
            links = "not run (an earlier stage failed)"
        elif record.status == "skipped":
            links = "skipped: nothing to analyse"
        else:
            links = (f'<a href="notebooks/{_e(stem)}.reviewer.html">reviewer report</a> · '
                     f'<a href="notebooks/{_e(stem)}.full.html">full report with code</a> · '
                     f'<a href="notebooks/{_e(record.notebook)}">notebook</a>')
        error = f"<br><code>{_e(record.error)}</code>" if record.error else ""
        rows.append(f"<tr><td>{_e(record.name)}</td><td>{_e(record.status)}{error}</td>"
                    f'<td class="num">{record.seconds:.1f} s</td><td>{links}</td></tr>')
    return "\n".join(rows)


def write_index(folder: Path, study, snap, outcome, all_gates: list[dict], env: dict) -> Path:
    """Write ``index.html`` into a run folder and return its path; ``env`` is
    :func:`studylib.environment.describe` of the run (also recorded in its manifest)."""
    code = env["code"]
    dirty = {True: " (uncommitted changes)", False: " (clean)", None: ""}[code["dirty"]]
    models = []
    for role, model in (("candidate", study.models.candidate), ("baseline", study.models.baseline)):
        if model is not None:
            models.append(f"<tr><th scope=\"row\">{role}</th><td>{_e(model.name)}</td><td>{_e(model.version)}</td>"
                          f"<td>{_e(model.score)}</td><td><code>{_e(model.artifact_sha256)}</code></td></tr>")
    packages = ", ".join(f"{_e(k)} {_e(v)}" for k, v in env["packages"].items())
    params_text = (folder / "params.yaml").read_text(encoding="utf-8")
    level = f"{100 * (1 - study.analysis.alpha):g}%"
    page = f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{_e(study.study.title)} — run {_e(outcome.run_id)}</title>
<style>{_CSS}</style></head>
<body><main>
<header>
<p class="meta">Validation study <code>{_e(study.study.id)}</code> · run <code>{_e(outcome.run_id)}</code></p>
<h1>{_e(study.study.title)}</h1>
<p><strong>Intended use:</strong> {_e(study.study.intended_use)}</p>
</header>
<section aria-labelledby="verdict-h">
<h2 id="verdict-h">Verdict</h2>
<div class="verdict {_e(outcome.verdict)}" role="status">{_e(_MARK.get(outcome.verdict, outcome.verdict))}
<small>{_e(_EXPLAIN.get(outcome.verdict, ""))} Exit code {outcome.exit_code}.</small></div>
</section>
<section aria-labelledby="summary-h">
<h2 id="summary-h">Gates by stage</h2>
<div class="table-wrap"><table class="stack">
<thead><tr><th scope="col">Stage</th><th scope="col">Gates</th><th scope="col">Pass</th><th scope="col">Fail</th>
<th scope="col">Insufficient evidence</th><th scope="col">Blocking the release</th></tr></thead>
<tbody>
{_summary_rows(all_gates)}
</tbody></table></div>
</section>
<section aria-labelledby="gates-h">
<h2 id="gates-h">Every gate</h2>
<p>Each rule was declared in the parameter file before the results were seen and is judged on the confidence
interval, not the point estimate.</p>
<div class="table-wrap"><table class="stack">
<thead><tr><th scope="col">Stage</th><th scope="col">Id</th><th scope="col">What</th><th scope="col">Verdict</th>
<th scope="col">Estimate</th><th scope="col">{level} interval</th><th scope="col">Rule</th>
<th scope="col">Blocks release</th></tr></thead>
<tbody>
{_gate_rows(all_gates, level)}
</tbody></table></div>
</section>
<section aria-labelledby="stages-h">
<h2 id="stages-h">Stage reports</h2>
<p>Reviewer reports hide the code; full reports show it. Both are renderings of the executed notebooks.</p>
<div class="table-wrap"><table>
<thead><tr><th scope="col">Stage</th><th scope="col">Status</th><th scope="col">Time</th><th scope="col">Reports</th></tr></thead>
<tbody>
{_stage_rows(outcome)}
</tbody></table></div>
</section>
<section aria-labelledby="check-h">
<h2 id="check-h">Reporting checklist</h2>
<p>The <a href="checklist.html">reporting checklist</a> maps each applicable TRIPOD+AI and STARD 2015 item to the
artifact of this run that answers it, and lists the items this study does not answer.</p>
</section>
<section aria-labelledby="ident-h">
<h2 id="ident-h">Data and models</h2>
<div class="table-wrap"><table>
<tbody>
<tr><th scope="row">Snapshot</th><td colspan="4"><code>{_e(study.snapshot.path)}</code> — lock <code>{_e(snap.lock)}</code>, {snap.rows:,} rows</td></tr>
<tr><th scope="row">Dataset card</th><td colspan="4"><a href="snapshot-card{_e(_card_suffix(folder))}">dataset card of the snapshot</a> (source, licence, collection window, label provenance, limitations)</td></tr>
<tr><th scope="row">Parameter file</th><td colspan="4"><code>{_e(study.source.name)}</code> — sha256 <code>{_e(study.sha256)}</code></td></tr>
</tbody></table></div>
<div class="table-wrap"><table>
<thead><tr><th scope="col">Model</th><th scope="col">Name</th><th scope="col">Version</th><th scope="col">Score column</th><th scope="col">Artifact SHA-256</th></tr></thead>
<tbody>{''.join(models)}</tbody></table></div>
</section>
<section aria-labelledby="env-h">
<h2 id="env-h">Environment</h2>
<ul>
<li>Code: git commit <code>{_e(code["commit"] or "not a git checkout")}</code>{_e(dirty)}</li>
<li>Python {_e(env["python"])} on {_e(env["platform"])}</li>
<li>Packages: {packages}</li>
<li>Sign-offs of this run are recorded in the ledger and listed on the <a href="../../index.html#{_e(outcome.run_id)}">runs page</a>;
check this run with <code>studylib verify</code>.</li>
<li>Every file of this run is listed with its SHA-256 in <a href="manifest.json">manifest.json</a>;
machine-readable results are in <code>results/</code> and <a href="verdict.json">verdict.json</a>.</li>
</ul>
</section>
<section aria-labelledby="params-h">
<h2 id="params-h">Parameter file (pre-registered plan)</h2>
<pre>{_e(params_text)}</pre>
</section>
</main></body></html>
"""
    path = folder / "index.html"
    path.write_text(page, encoding="utf-8")
    return path




def write_archive_index(reports: Path) -> Path:
    """Write ``reports/index.html``: every run with its verdict and the sign-offs read from the ledger.

    Regenerated after every run and sign-off; the ledger, not this page, is the record.
    """
    from studylib.evidence import archive

    rows = []
    for run in reversed(archive.list_runs(reports)):
        signoffs = "".join(
            f"<li>{_e({'approve': 'approved', 'reject': 'rejected'}.get(s['decision'], s['decision']))} by {_e(s['reviewer'])} ({_e(s['role'])}) on {_e(s.get('signed_at', ''))}"
            f"{' — signed' if 'signature' in s else ''}{': ' + _e(s['comment']) if s.get('comment') else ''}</li>"
            for s in run.signoffs)
        signoffs = f"<ul>{signoffs}</ul>" if signoffs else "none"
        verdict = run.verdict
        rows.append(f'<tr id="{_e(run.run_id)}"><td>{_e(run.study)}</td>'
                    f'<td><a href="{_e(run.study)}/{_e(run.run_id)}/index.html">{_e(run.run_id)}</a></td>'
                    f'<td>{_e(run.started_at)}</td><td class="badge {_e(verdict)}">{_e(_MARK.get(verdict, verdict))}</td>'
                    f"<td>{signoffs}</td></tr>")
    body = "\n".join(rows) or '<tr><td colspan="5">No runs yet.</td></tr>'
    page = f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>studylib runs</title><style>{_CSS}</style></head>
<body><main>
<h1>Study runs and sign-offs</h1>
<p class="meta">Generated from <code>ledger.jsonl</code>, the hash-chained record of runs and sign-offs; check it with
<code>studylib verify --all</code>.</p>
<div class="table-wrap"><table>
<thead><tr><th scope="col">Study</th><th scope="col">Run</th><th scope="col">Started (UTC)</th><th scope="col">Verdict</th>
<th scope="col">Sign-offs</th></tr></thead>
<tbody>
{body}
</tbody></table></div>
</main></body></html>
"""
    path = Path(reports) / "index.html"
    tmp = path.with_suffix(".html.tmp")
    tmp.write_text(page, encoding="utf-8")
    tmp.replace(path)
    return path


def write_checklist(folder: Path, study) -> Path:
    """Write ``checklist.html``: each reporting item mapped to the artifact of this run that answers it,
    and the items this study does not answer."""
    from studylib.report import checklist

    statuses = checklist.assess(folder)
    rows, section = [], None
    for status in statuses:
        item = status.item
        if item.section != section:
            section = item.section
            rows.append(f'<tr><th scope="rowgroup" colspan="4">{_e(section)}</th></tr>')
        if status.answered:
            where = "<br>".join(
                f'<a href="{_e(e.file)}">{_e(e.label or e.file)}</a>'
                + (f" (<code>{_e(e.key)}</code>)" if e.key else "") for e in status.answered_by)
            state = '<span class="badge PASS">✔ answered</span>'
        else:
            where = _e(item.otherwise)
            state = '<span class="badge INSUFFICIENT_EVIDENCE">– not answered</span>'
        rows.append(f"<tr><td>{item.number}</td><td>{_e(item.text)} <small>({_e(item.codes)})</small></td>"
                    f"<td>{state}</td><td>{where}</td></tr>")
    answered = sum(s.answered for s in statuses)
    page = f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Reporting checklist — {_e(study.study.title)}</title><style>{_CSS}</style></head>
<body><main>
<p class="meta"><a href="index.html">← study report</a></p>
<h1>Reporting checklist</h1>
<p>{answered} of {len(statuses)} items of TRIPOD+AI (T), STARD 2015 (S), CONSORT-AI (C), GMLP (G) and FDA guidance
(P, F) that a retrospective validation report should answer are answered by artifacts of this run; the others are
listed with the reason.</p>
<div class="table-wrap"><table>
<thead><tr><th scope="col">No.</th><th scope="col">Item (standards)</th><th scope="col">Status</th>
<th scope="col">Answered by</th></tr></thead>
<tbody>
{chr(10).join(rows)}
</tbody></table></div>
</main></body></html>
"""
    path = Path(folder) / "checklist.html"
    path.write_text(page, encoding="utf-8")
    return path
