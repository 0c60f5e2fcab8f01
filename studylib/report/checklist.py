"""The reporting checklist: each TRIPOD+AI / STARD 2015 item a retrospective validation answers, mapped
to the artifact of the run that answers it.

An item is *answered* when one of its evidence artifacts exists in the run (a file, or a key of a
stage's results JSON or of the dataset card), or, for an item that needs several fields of the
dataset card, when all of them are filled, and none of the gates it rests on was NOT_CHECKED;
*partly answered* when the card is there but a field that answers the item is missing or empty (or
the card is Markdown, whose fields cannot be read); otherwise the page lists it as not answered, with
the reason (for a check not performed: which, and why). :func:`assess` is
pure over what the run folder holds; the run layer inspects the folder. Item numbers and
standard codes follow the team's reporting reference (T = TRIPOD+AI 2024; S = STARD 2015; C =
CONSORT-AI/SPIRIT-AI; G = GMLP principles; P = FDA PCCP guidance 2024; F = FDA AI-DSF draft 2025).

References
----------
Collins GS, Moons KGM, Dhiman P, et al. TRIPOD+AI statement. BMJ 2024;385:e078378. doi:10.1136/bmj-2023-078378
Bossuyt PM, Reitsma JB, Bruns DE, et al. STARD 2015. BMJ 2015;351:h5527. doi:10.1136/bmj.h5527
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass


@dataclass(frozen=True)
class Evidence:
    """Where an item may be answered: a file of the run, optionally a top-level key of its JSON."""

    file: str
    key: str | None = None
    label: str = ""
    partial: bool = False  # answers the item only in part (a card whose fields cannot be read)


@dataclass(frozen=True)
class Item:
    number: int
    section: str
    text: str
    codes: str
    evidence: tuple[Evidence, ...]
    otherwise: str = "not produced by this study"
    #: id prefix of the gates the item rests on: one of them NOT_CHECKED leaves the item not answered
    gates: str = ""
    all_of: bool = False  # answered only when every evidence is present (card fields that answer together)


_COHORT, _EVAL, _SUB, _DRIFT = ("results/cohort.json", "results/evaluation.json", "results/subgroups.json",
                                "results/drift.json")
_CARD = "snapshot-card.yaml"
_CARD_MD = Evidence("snapshot-card.md", None, "dataset card (Markdown: its fields cannot be checked)", partial=True)
_R1, _R2, _R3, _R4 = ("notebooks/01_cohort.reviewer.html", "notebooks/02_evaluation.reviewer.html",
                      "notebooks/03_subgroups.reviewer.html", "notebooks/04_drift.reviewer.html")

ITEMS: tuple[Item, ...] = (
    Item(1, "Design and data", "Intended use, intended users and place in the clinical pathway", "S3, T, C, G1, G9",
         (Evidence("index.html", None, "summary page: intended use"),)),
    Item(2, "Design and data", "Retrospective design; data sources, sites and collection dates", "S5, S8, T",
         (Evidence(_CARD, "source", "dataset card: source"),
          Evidence(_CARD, "collection", "dataset card: setting, sites and collection window"), _CARD_MD),
         all_of=True),
    Item(3, "Design and data", "Eligibility for participants and input data; consecutive or convenience series",
         "S6, S9, C", (Evidence(_COHORT, "steps", "cohort steps"), Evidence(_R1, None, "cohort report"))),
    Item(4, "Design and data", "Pre-processing and quality checks; handling of poor-quality or missing inputs", "T, C",
         (Evidence(_COHORT, "missingness", "missingness report"),)),
    Item(5, "Design and data", "Reference standard: definition, rationale, annotators, blinding", "S10b, S11, S13",
         (Evidence(_CARD, "label_provenance", "dataset card: label provenance"), _CARD_MD)),
    Item(6, "Design and data", "Locked algorithm version identifier", "C, F",
         (Evidence("index.html", None, "summary page: model name, version and artifact SHA-256"),)),
    Item(7, "Design and data", "Test data independent of training data; no leakage across partitions", "G4, T",
         (Evidence(_COHORT, "gates", "leakage gates"),), gates="LEAK-"),
    Item(8, "Design and data", "Representativeness by sex, age, race/ethnicity, site and scanner vendor", "G3, F",
         (Evidence(_COHORT, "table_one", "Table 1"), Evidence(_SUB, "metrics", "subgroup metrics"))),
    Item(9, "Design and data", "Operating threshold pre-specified; exploratory analyses labelled", "S12a/b, S17",
         (Evidence("params.yaml", None, "pre-registered parameter file (analysis.threshold)"),)),
    Item(10, "Design and data", "Intended sample size and its justification", "S18, T",
         (Evidence("results/plan.json", "requirements", "pre-registered sample size of each rule (studylib plan)"),),
         "no sample-size plan is declared (planning: in the parameter file; see `studylib plan`)"),
    Item(11, "Design and data", "Handling of missing data and indeterminate results", "S15, S16, T",
         (Evidence(_COHORT, "missingness", "missingness report"), Evidence(_COHORT, "steps", "cohort steps"))),
    Item(12, "Results", "Participant flow diagram with exclusion counts at each step", "S19, T",
         (Evidence("figures/participant_flow.svg", None, "participant flow diagram"),
          Evidence(_COHORT, "steps", "step counts"))),
    Item(13, "Results", "Table 1 of baseline characteristics; comparison with development data", "S20, S21, T",
         (Evidence(_COHORT, "table_one", "Table 1"),)),
    Item(14, "Results", "Interval between index test and reference standard", "S22", (),
         "the snapshot holds no index-test and reference-standard dates"),
    Item(15, "Results", "2×2 cross-tabulation of index test against reference standard", "S23",
         (Evidence(_EVAL, "operating_point", "2×2 table at the operating threshold"),)),
    Item(16, "Results", "Every accuracy estimate with a 95% CI", "S24, T",
         (Evidence(_EVAL, "estimates", "estimates with intervals"),)),
    Item(17, "Results", "Calibration (plot, intercept/slope) and clinical utility (net benefit)", "T",
         (Evidence(_EVAL, "calibration", "calibration"), Evidence(_EVAL, "decision_curve", "decision curve"),
          Evidence("figures/evaluation_calibration_candidate.svg", None, "calibration plot"))),
    Item(18, "Results", "Subgroup and site heterogeneity; fairness approach", "T, F",
         (Evidence(_SUB, "metrics", "subgroup metrics"), Evidence(_SUB, "heterogeneity", "heterogeneity tests"),
          Evidence(_R3, None, "subgroup report"))),
    Item(19, "Results", "Analysis of error cases", "C", (Evidence(_EVAL, "error_analysis", "error-case analysis"),)),
    Item(20, "Results", "Paired comparison with the locked baseline against pre-defined criteria", "P, F",
         (Evidence(_EVAL, "differences", "candidate − baseline"),)),
    Item(21, "Lifecycle and transparency", "Monitoring plan and management of retraining risk", "G10, F",
         (Evidence(_DRIFT, "gates", "surveillance triggers"), Evidence(_R4, None, "drift report"))),
    Item(22, "Lifecycle and transparency", "PCCP: planned modifications, modification protocol, impact assessment, "
         "version traceability", "P", (), "the study documents one modification (the candidate) but no PCCP"),
    Item(23, "Lifecycle and transparency", "Limitations: bias, statistical uncertainty, generalisability", "S26, T",
         (Evidence(_CARD, "known_limitations", "dataset card: known limitations"),
          Evidence(_CARD, "population_gaps", "dataset card: population gaps (generalisability)"), _CARD_MD),
         all_of=True),
    Item(24, "Lifecycle and transparency", "Protocol/registration, availability of data and code, funding", "S28–30, T",
         (Evidence("params.yaml", None, "pre-registered plan (its SHA-256 is in the manifest)"),
          Evidence("index.html", None, "summary page: git commit, snapshot lock, packages")),
         "funding is not recorded"),
    Item(25, "Lifecycle and transparency", "Model card or user-facing summary", "G9, F", (),
         "no model card is part of the snapshot or the run"),
)


@dataclass(frozen=True)
class ItemStatus:
    item: Item
    answered_by: tuple[Evidence, ...]
    #: "ID: reason" of each gate the item rests on that was not checked
    not_checked: tuple[str, ...] = ()
    partly_by: tuple[Evidence, ...] = ()  # present, but answering only part of the item
    #: of a partly answered item: the evidence that would complete it and is absent (e.g. a card field)
    missing: tuple[Evidence, ...] = ()

    @property
    def answered(self) -> bool:
        return bool(self.answered_by) and not self.not_checked

    @property
    def state(self) -> str:
        """"answered", "partly answered" or "not answered"."""
        return "answered" if self.answered else ("partly answered" if self.partly_by else "not answered")


def files() -> dict[str, bool]:
    """Every run-folder file (path relative to the run folder) that some item names as evidence, in
    item order → whether an item looks for a key of its JSON."""
    out: dict[str, bool] = {}
    for evidence in (e for item in ITEMS for e in item.evidence):
        out[evidence.file] = out.get(evidence.file, False) or evidence.key is not None
    return out


def assess(present: Mapping[str, Collection[str]], not_checked: Mapping[str, str] | None = None) -> list[ItemStatus]:
    """Which items a run answers, and with which artifacts.

    Pure over what the run folder holds, so that the run layer does the file inspection (see
    :func:`studylib.run.pages.present_artifacts`) and this mapping can be checked without a run.

    Parameters
    ----------
    present : mapping of str to collection of str
        Each file of :func:`files` that exists in the run folder (path relative to it) → the
        top-level keys of its JSON (or YAML) mapping whose value is not empty (not ``None``, ``""``,
        ``[]`` or ``{}``); an empty collection for a file whose keys no item needs, or that is not a
        mapping.
    not_checked : mapping of str to str, optional
        Gate id → reason of every gate of the run that was NOT_CHECKED (``verdict.json``). An item
        resting on such a gate (its ``gates`` prefix) is not answered, and says which check and why.

    Returns
    -------
    list of ItemStatus
        One per item of :data:`ITEMS`, in order. An item is answered by each of its evidence files
        that is present and, when the evidence names a key, holds that key (for an ``all_of`` item:
        only when every evidence that is not ``partial`` holds). Partly answered by present
        ``partial`` evidence, and by evidence whose file is present without the key (for an
        ``all_of`` item, by the evidence that holds while another does not); a partly answered item
        names in ``missing`` the evidence that would complete it (e.g. the dataset card's missing field).
    """
    def has(evidence: Evidence) -> bool:
        return evidence.file in present and (evidence.key is None or evidence.key in present[evidence.file])

    skipped = not_checked or {}

    def unchecked(item: Item) -> tuple[str, ...]:
        return tuple(f"{gid}: {why}" for gid, why in skipped.items() if item.gates and gid.startswith(item.gates))

    out = []
    for item in ITEMS:
        full = [e for e in item.evidence if not e.partial]
        held = tuple(e for e in full if has(e))
        partly = tuple(e for e in item.evidence if e.partial and has(e))
        partly += tuple(e for e in full if e.file in present and not has(e))
        if item.all_of and len(held) < len(full):
            held, partly = (), held + partly
        absent = tuple(e for e in full if not has(e))
        out.append(ItemStatus(item, held, unchecked(item), partly if not held else (),
                              absent if partly and not held else ()))
    return out
