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


def write_checklist(folder: Path, study) -> Path:
    """Write ``checklist.html``: each reporting item mapped to the artifact of this run that answers it,
    and the items this study does not answer. Written after ``index.html``, which answers some items."""
    folder = Path(folder)
    page = pages.render_checklist(study, checklist.assess(present_artifacts(folder)))
    path = folder / "checklist.html"
    path.write_text(page, encoding="utf-8")
    return path


def write_archive_index(reports: Path) -> Path:
    """Write ``reports/index.html``: every run with its verdict and the sign-offs read from the ledger.

    Regenerated after every run and sign-off (atomically: written beside, then renamed); the ledger,
    not this page, is the record.
    """
    return results.write_text_atomically(Path(reports) / "index.html", pages.render_archive(archive.list_runs(reports)))
