"""Writing the HTML pages of a run: gather what each page shows (run folder, archive, ledger), render it
with :mod:`studylib.report.pages`, write the file.

The report layer renders from data and does no I/O; this module is the I/O around it, called by the
runner after a run and by ``studylib signoff`` after a sign-off.
"""

from __future__ import annotations

import json
from pathlib import Path

import yaml

from studylib.evidence import archive, results
from studylib.judge import gates
from studylib.report import checklist
from studylib.report import pages, stage_pages


def card_file(folder: Path) -> str:
    """Name of the dataset card copied into the run folder (``snapshot-card.yaml`` when there is none)."""
    return "snapshot-card" + next((p.suffix for p in Path(folder).glob("snapshot-card.*")), ".yaml")


def _threshold(criterion) -> float | None:
    """The value a criterion's rule compares a bound with (the margin as −m for non-inferiority)."""
    if criterion.versus is not None:
        return -criterion.non_inferiority_margin
    return criterion.at_least if criterion.at_least is not None else criterion.at_most


def write_summary_figures(folder: Path, study, all_gates: list[dict]) -> list[dict]:
    """Draw the small figures of the summary into ``figures/`` (SVG) and describe them for
    :func:`studylib.report.pages.render_index`: the forest plot of the first subgroup gate and the
    calibration of the candidate with the accepted slope band (when the run recorded them). The plotting
    code (matplotlib) is imported only when there is a figure to draw."""
    from studylib import formatting
    from studylib.report import vocabulary

    folder = Path(folder)
    save = results.figure_saver(folder)
    level = formatting.confidence_level(study.analysis.alpha)
    shown = []

    def report(stage):
        found = sorted((folder / "notebooks").glob(f"*_{stage}.reviewer.html"))
        return f"notebooks/{found[0].name}" if found else ""

    declared = study.subgroups.gates
    rows = [g for g in all_gates if declared and g["id"].startswith(declared[0].id + "[")]
    if rows:
        from studylib.report.plots import figures, summary

        gate = declared[0]
        metric = "auroc_vs_baseline" if gate.versus is not None else gate.metric
        fig = summary.forest(rows, metric=metric, threshold=_threshold(gate), level=level)
        figures.save(fig, save, "summary_subgroups_forest")
        shown.append({"src": "figures/summary_subgroups_forest.svg", "href": report("subgroups"),
                      "alt": f"Forest plot of {vocabulary.metric(metric)} by subgroup (gate {gate.id})",
                      "caption": f"Gate {gate.id}: {vocabulary.metric(metric)} in every subgroup with its {level} "
                                 "interval, coloured by verdict; dotted: the gate's threshold."})
    recorded = results.read(folder, "evaluation") or {}
    deciles = (recorded.get("calibration_deciles") or {}).get("candidate")
    if deciles:
        from studylib.report.plots import figures, summary

        slope = ((recorded.get("calibration") or {}).get("candidate") or {}).get("slope")
        accepted = next((tuple(c.interval_within) for c in study.acceptance
                         if c.metric == "calibration_slope" and c.interval_within is not None), None)
        fig = summary.calibration(deciles, slope=slope, accepted=accepted, level=level)
        figures.save(fig, save, "summary_calibration")
        shown.append({"src": "figures/summary_calibration.svg", "href": report("evaluation"),
                      "alt": "Calibration of the candidate with the accepted slope band",
                      "caption": "Calibration of the candidate: observed against predicted risk by tenths of "
                                 "predicted risk, the estimated recalibration slope and, shaded, the accepted "
                                 "slope range." if accepted else "Calibration of the candidate by tenths of "
                                 "predicted risk, with the estimated recalibration slope."})
    return shown


MATRIX = "matrix"


def gate_links(folder: Path, outcome, all_gates: list[dict]) -> dict[str, str]:
    """Gate id → its evidence: the anchor of its row in the reviewer report of its stage (run-relative)."""
    from studylib.report import stage_pages

    reports = {r.name: f"notebooks/{Path(r.notebook).stem}.reviewer.html" for r in outcome.stages
               if r.status == "ok" and (Path(folder) / "notebooks" / f"{Path(r.notebook).stem}.reviewer.html").is_file()}
    reports.setdefault("sites", reports.get("evaluation", ""))  # site gates are shown in the evaluation report
    return {g["id"]: f"{reports[g['stage']]}#{stage_pages.gate_anchor(g['id'])}" for g in all_gates
            if reports.get(g["stage"])}


def write_matrix(folder: Path, study, outcome, all_gates: list[dict]) -> dict:
    """Write ``results/matrix.json`` and ``matrix.html``: the validation matrix of the run (claim → gates →
    verdicts → evidence → roles → status; :mod:`studylib.judge.claims`). Returns the matrix."""
    from studylib.judge import claims

    rows = claims.matrix(study.claims, all_gates)
    matrix = claims.record(rows, all_gates, study.claims, roles=study.release.roles if study.release else (),
                           required_roles=study.required_roles, links=gate_links(folder, outcome, all_gates))
    results.record(folder, MATRIX, matrix)
    (Path(folder) / "matrix.html").write_text(pages.render_matrix(study, outcome.run_id, matrix), encoding="utf-8")
    return matrix


def write_index(folder: Path, study, snap, outcome, all_gates: list[dict], env: dict) -> Path:
    """Write ``index.html`` into a run folder and return its path; ``env`` is
    :func:`studylib.run.environment.describe` of the run (also recorded in its manifest)."""
    folder = Path(folder)
    page = pages.render_index(study, snap, outcome, all_gates, env,
                              params_text=(folder / "params.yaml").read_text(encoding="utf-8"),
                              card_file=card_file(folder), figures=write_summary_figures(folder, study, all_gates),
                              claims=(results.read(folder, MATRIX) or {}).get("claims", []))
    path = folder / "index.html"
    path.write_text(page, encoding="utf-8")
    return path


def finish_stage_report(folder: Path, study, *, run_id: str, stage: str, notebook: str, number: int,
                        total: int, variants: tuple[str, ...] = (".reviewer.html", ".full.html")) -> list[Path]:
    """Give the rendered reports of one stage (``variants``: full and reviewer) their breadcrumb, numbered
    contents, gate anchors and print CSS (:func:`studylib.report.stage_pages.finish`), as soon as the stage has
    ended; the drift-trigger strip comes once every stage has ended (:func:`add_trigger_strips`)."""
    from studylib.report import vocabulary

    folder = Path(folder)
    recorded = [g for name in (stage, "sites") for g in (results.read(folder, name) or {}).get("gates", [])]
    ids = [g["id"] for g in recorded if g.get("stage") == stage]
    written = []
    for path in _stage_reports(folder, notebook, variants):
        page = stage_pages.finish(path.read_text(encoding="utf-8"), stage=f"stage {number} of {total}: {stage}",
                                  study_id=study.study.id, run_id=run_id, gate_ids=ids,
                                  words=vocabulary.words_for(study))
        path.write_text(page, encoding="utf-8")
        written.append(path)
    return written


def add_trigger_strips(folder: Path, study, outcome, all_gates: list[dict]) -> list[Path]:
    """Put the drift triggers (FIRED / NOT FIRED, declared action) into every finished stage report."""
    from studylib.report import vocabulary

    words = vocabulary.words_for(study)
    triggers = [r for r, g in zip(pages._gate_rows(all_gates, words=words), all_gates) if pages.is_trigger(g)]
    written = []
    for record in outcome.stages:
        for path in _stage_reports(Path(folder), record.notebook):
            path.write_text(stage_pages.add_triggers(path.read_text(encoding="utf-8"), triggers), encoding="utf-8")
            written.append(path)
    return written


def _stage_reports(folder: Path, notebook: str, variants: tuple[str, ...] = (".reviewer.html", ".full.html")) -> list[Path]:
    stem = Path(notebook).stem
    return [p for p in (folder / "notebooks" / (stem + s) for s in variants) if p.is_file()]


def present_artifacts(folder: Path) -> dict[str, frozenset[str]]:
    """What the run folder holds of the checklist's evidence: each present file → the top-level keys
    of its JSON (the dataset card: YAML) with a non-empty value (read only for files whose keys an item needs)."""
    folder = Path(folder)
    present = {}
    for name, keyed in checklist.files().items():
        path = folder / name
        if not path.is_file():
            continue
        keys: frozenset[str] = frozenset()
        if keyed:
            try:
                text = path.read_text(encoding="utf-8")
                data = yaml.safe_load(text) if path.suffix == ".yaml" else json.loads(text)
            except (ValueError, yaml.YAMLError):
                data = None
            if isinstance(data, dict):
                keys = frozenset(k for k, v in data.items() if v not in (None, "", [], {}))
        present[name] = keys
    return present


def not_checked_gates(folder: Path) -> dict[str, str]:
    """Gate id → reason of every gate of the run's ``verdict.json`` that was NOT_CHECKED."""
    path = Path(folder) / "verdict.json"
    try:
        recorded = json.loads(path.read_text(encoding="utf-8")).get("gates", [])
    except (OSError, ValueError, AttributeError):
        return {}
    return {g["id"]: g.get("sentence", "") for g in recorded
            if isinstance(g, dict) and g.get("verdict") == gates.NOT_CHECKED}


def write_checklist(folder: Path, title: str, *, pdf: bool | None = None) -> Path:
    """Write ``checklist.html``: each reporting item mapped to the artifact of this run that answers it,
    and the items this study does not answer (also those resting on a check that was NOT_CHECKED). Written after ``index.html``, which answers some items.
    ``pdf``: the run has ``report.pdf`` or is about to print it (default: whether the folder holds one),
    so that the page links it."""
    folder = Path(folder)
    pdf = (folder / "report.pdf").is_file() if pdf is None else pdf
    page = pages.render_checklist(title, checklist.assess(present_artifacts(folder), not_checked_gates(folder)),
                                  pdf=pdf)
    path = folder / "checklist.html"
    path.write_text(page, encoding="utf-8")
    return path


def write_archive_index(reports: Path) -> Path:
    """Write ``reports/index.html``: every run with its verdict and the sign-offs read from the ledger.

    Regenerated after every run and sign-off (atomically: written beside, then renamed); the ledger,
    not this page, is the record.
    """
    return results.write_text_atomically(Path(reports) / "index.html", _archive_page(reports))


def _archive_page(reports: Path) -> str:
    runs = archive.list_runs(reports)
    details = {f"{r.study}/{r.run_id}": run_details(Path(reports) / r.study / r.run_id) for r in runs}
    return pages.render_archive(runs, details)


def run_details(folder: Path) -> dict:
    """What the runs page shows of a run besides its verdict: the study title (from its ``params.yaml``),
    the candidate model's name and version (manifest) and the blocking gates (``verdict.json``); whatever
    is unreadable is left out."""
    import yaml

    folder = Path(folder)
    out: dict = {}
    try:
        out["title"] = str(yaml.safe_load((folder / "params.yaml").read_text(encoding="utf-8"))["study"]["title"])
    except (OSError, ValueError, yaml.YAMLError, KeyError, TypeError):
        pass
    try:
        candidate = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))["models"]["candidate"]
        out["model"] = f"{candidate['name']} {candidate['version']}"
    except (OSError, ValueError, KeyError, TypeError):
        pass
    try:
        out["blocking"] = pages.blocking(json.loads((folder / "verdict.json").read_text(encoding="utf-8"))["gates"])
    except (OSError, ValueError, KeyError, TypeError):
        pass
    return out


def refresh_archive_index(reports: Path) -> bool:
    """Regenerate ``reports/index.html`` from the ledger and the run folders (``studylib verify --all``).

    Returns True when the page on disk differed (edited, or left stale by an interrupted run or a full
    disk) and was rewritten.

    Raises
    ------
    OSError
        The page differs and cannot be rewritten (e.g. a read-only copy of the reports folder).
    """
    path = Path(reports) / "index.html"
    page = _archive_page(reports)
    try:
        if path.read_text(encoding="utf-8") == page:
            return False
    except (OSError, UnicodeDecodeError):
        pass
    results.write_text_atomically(path, page)
    return True
