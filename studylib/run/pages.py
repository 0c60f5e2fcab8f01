"""Writing the HTML pages of a run: gather what each page shows (run folder, archive, ledger), render it
with :mod:`studylib.report.pages`, write the file.

The report layer renders from data and does no I/O; this module is the I/O around it, called by the
runner after a run and by ``studylib signoff`` after a sign-off.
"""

from __future__ import annotations

import json
from pathlib import Path

from studylib.evidence import archive, results
from studylib.judge import gates
from studylib.report import checklist
from studylib.report import pages


def card_file(folder: Path) -> str:
    """Name of the dataset card copied into the run folder (``snapshot-card.yaml`` when there is none)."""
    return "snapshot-card" + next((p.suffix for p in Path(folder).glob("snapshot-card.*")), ".yaml")


def write_index(folder: Path, study, snap, outcome, all_gates: list[dict], env: dict) -> Path:
    """Write ``index.html`` into a run folder and return its path; ``env`` is
    :func:`studylib.run.environment.describe` of the run (also recorded in its manifest)."""
    folder = Path(folder)
    page = pages.render_index(study, snap, outcome, all_gates, env,
                              params_text=(folder / "params.yaml").read_text(encoding="utf-8"),
                              card_file=card_file(folder))
    path = folder / "index.html"
    path.write_text(page, encoding="utf-8")
    return path


def present_artifacts(folder: Path) -> dict[str, frozenset[str]]:
    """What the run folder holds of the checklist's evidence: each present file → the top-level keys
    of its JSON with a non-empty value (read only for files whose keys an item needs)."""
    folder = Path(folder)
    present = {}
    for name, keyed in checklist.files().items():
        path = folder / name
        if not path.is_file():
            continue
        keys: frozenset[str] = frozenset()
        if keyed:
            try:
                data = json.loads(path.read_text(encoding="utf-8"))
            except ValueError:
                data = None
            if isinstance(data, dict):
                keys = frozenset(k for k, v in data.items() if v not in (None, [], {}))
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


def write_checklist(folder: Path, study) -> Path:
    """Write ``checklist.html``: each reporting item mapped to the artifact of this run that answers it,
    and the items this study does not answer (also those resting on a check that was NOT_CHECKED). Written after ``index.html``, which answers some items."""
    folder = Path(folder)
    page = pages.render_checklist(study, checklist.assess(present_artifacts(folder), not_checked_gates(folder)))
    path = folder / "checklist.html"
    path.write_text(page, encoding="utf-8")
    return path


def write_archive_index(reports: Path) -> Path:
    """Write ``reports/index.html``: every run with its verdict and the sign-offs read from the ledger.

    Regenerated after every run and sign-off (atomically: written beside, then renamed); the ledger,
    not this page, is the record.
    """
    return results.write_text_atomically(Path(reports) / "index.html", pages.render_archive(archive.list_runs(reports)))


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
    page = pages.render_archive(archive.list_runs(reports))
    try:
        if path.read_text(encoding="utf-8") == page:
            return False
    except (OSError, UnicodeDecodeError):
        pass
    results.write_text_atomically(path, page)
    return True
