"""The archive of runs under ``reports/``: listing runs with their verdicts and sign-off state."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from studylib.evidence import ledger

_PAST = {"approve": "approved", "reject": "rejected"}


@dataclass(frozen=True)
class RunSummary:
    """One archived run as listed by ``studylib runs``."""

    study: str
    run_id: str
    started_at: str
    verdict: str
    signoffs: tuple[dict, ...]

    @property
    def signoff_state(self) -> str:
        """"unsigned", or each reviewer's latest decision, e.g. "approved by A (QA); rejected by B (clinical)"."""
        if not self.signoffs:
            return "unsigned"
        latest: dict[str, dict] = {}
        for entry in self.signoffs:
            latest[entry["reviewer"]] = entry
        return "; ".join(f"{_PAST[e['decision']]} by {e['reviewer']} ({e['role']})" for e in latest.values())


def list_runs(reports: str | Path) -> list[RunSummary]:
    """Every run folder under ``reports`` with the verdict from its manifest and sign-offs from the ledger."""
    reports = Path(reports)
    entries = ledger.read(ledger.ledger_path(reports))
    out = []
    for folder in sorted(p for p in reports.glob("*/*") if p.is_dir()):
        key = f"{folder.parent.name}/{folder.name}"
        try:
            manifest = json.loads((folder / "manifest.json").read_text())
        except (OSError, ValueError):
            manifest = {}
        signoffs = tuple(e for e in entries if e.get("kind") == "signoff" and e.get("run") == key)
        out.append(RunSummary(folder.parent.name, folder.name, manifest.get("started_at", "?"),
                              manifest.get("verdict", "unreadable manifest"), signoffs))
    return sorted(out, key=lambda r: (r.started_at, r.run_id))
