"""Time the subgroup analysis at scale against fairlearn's MetricFrame, in the same run.

Data: a SYNTHETIC locked snapshot (:mod:`studylib.data.synth`) with its censored and MGUS rows removed,
trimmed to ``--patients`` analysed rows (default 1,000,000). Subgroups: site (5 levels), age band
(6 levels), free-light-chain group band (4 levels) and the intersection site × age band (30 cells):
45 subgroups plus the overall row.

Parts timed (best of ``--repeats``):

- ``groups.subgroups``: the row sets of every subgroup;
- ``metrics.metric_table``: every metric with its interval (prevalence, sensitivity, specificity,
  PPV, NPV with Wilson intervals, AUROC with DeLong, candidate − baseline paired DeLong, CITL and
  slope with Wald intervals, Brier with a normal interval);
- ``analysis.analyse``: the whole computation of the stage (adds heterogeneity, reference
  comparisons, gates, sample-size hints) — target under 10 s on 2 cores;
- peer: ``fairlearn.metrics.MetricFrame`` computing *point* metrics only (sensitivity, specificity,
  PPV, NPV, AUROC) for the three variables and the intersection (four MetricFrames), when fairlearn is
  installed (dev extra; timed once, it takes about a minute or two at 10^6 patients);
- the whole notebook ``03_subgroups.ipynb`` through Papermill, with every plot, on the same study
  (it rebuilds the cohort from the snapshot, which is included) — target under 60 s.

Usage: ``.venv/bin/python benchmarks/subgroups.py [--patients 1000000] [--repeats 3] [--no-notebook]``
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np
import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks._common import best_time, table  # noqa: E402
from studylib.stages.evaluation import inputs as evaluation_inputs
from studylib import plan
from studylib.stages.subgroups import analysis as subgroups
from studylib.stages.subgroups import groups as subgroup_groups
from studylib.stages.subgroups import metrics as subgroup_metrics
from studylib.data import synth
from studylib.evidence import workspace  # noqa: E402

VARIABLES = [
    {"name": "site", "column": "site"},
    {"name": "age_band", "column": "age", "cut": [50, 58, 66, 74, 82, 90, 200]},
    {"name": "flc_band", "column": "flc_grp", "cut": [1, 4, 7, 9, 11]},
]


def build(folder: Path, patients: int) -> Path:
    """A synthetic snapshot with enough rows for ``patients`` analysed rows, and its study file."""
    rows = int(patients * 1.45) + 1000  # about 30 % of synthetic rows are censored before 5 years or MGUS
    lock = synth.write_snapshot(folder / "snapshot", rows, seed=7)
    data = synth.study_params(folder / "snapshot", lock)
    data["analysis"].pop("split", None)
    data["cohort"] = [
        {"id": "E1", "label": "Outcome unknown (censored before 5 years)", "drop": {"column": "death_5y", "op": "is null"}},
        {"id": "E2", "label": "Known MGUS", "drop": {"column": "mgus", "op": "==", "value": 1}},
    ]
    data["subgroups"] = {"variables": VARIABLES, "intersections": [["site", "age_band"]], "min_positives": 20,
                         "min_negatives": 20,
                         "gates": [{"id": "SG-1", "metric": "auroc", "bound": "lower", "at_least": 0.78},
                                   {"id": "SG-2", "metric": "auroc", "relative_to": "overall", "max_below": 0.05},
                                   {"id": "SG-3", "metric": "auroc", "versus": "baseline", "non_inferiority_margin": 0.02}]}
    data.pop("drift", None)
    study_file = folder / "params" / "synth.yaml"
    study_file.parent.mkdir(parents=True, exist_ok=True)
    study_file.write_text(yaml.safe_dump(data, sort_keys=False))
    return study_file


def fairlearn_peer(frame, study):
    """fairlearn MetricFrame point metrics by each variable and by the intersection, or None."""
    try:
        from fairlearn.metrics import MetricFrame
    except ImportError:
        return None
    from sklearn.metrics import precision_score, recall_score, roc_auc_score

    y = frame[study.data.outcome].to_numpy(dtype=int)
    score = frame[study.models.candidate.score].to_numpy(dtype=float)
    flagged = (score >= study.analysis.threshold).astype(int)
    bands = {v.name: subgroup_groups.levels(frame, v).astype(str) for v in study.subgroups.variables}

    def specificity(t, p):
        return recall_score(t, p, pos_label=0, zero_division=np.nan)

    def npv(t, p):
        return precision_score(t, p, pos_label=0, zero_division=np.nan)

    def auroc(t, s):
        return roc_auc_score(t, s) if 0 < t.sum() < t.size else np.nan

    point = {"sensitivity": lambda t, p: recall_score(t, p, zero_division=np.nan), "specificity": specificity,
             "ppv": lambda t, p: precision_score(t, p, zero_division=np.nan), "npv": npv}

    def run():
        out = []
        for features in (["site"], ["age_band"], ["flc_band"], ["site", "age_band"]):
            sensitive = {name: bands[name] for name in features}
            out.append(MetricFrame(metrics=point, y_true=y, y_pred=flagged, sensitive_features=sensitive).by_group)
            out.append(MetricFrame(metrics=auroc, y_true=y, y_pred=score, sensitive_features=sensitive).by_group)
        return out

    return run


def notebook_seconds(study_file: Path) -> float:
    import papermill

    from studylib.run import runner

    out = Path(tempfile.mkdtemp(prefix="bench-subgroups-nb-"))
    start = time.perf_counter()
    papermill.execute_notebook(str(ROOT / "studylib" / "notebooks" / "03_subgroups.ipynb"), str(out / "03_subgroups.ipynb"),
                               parameters={"study_file": str(study_file), "run_dir": str(out)},
                               kernel_name=runner.kernel_name(), cwd=str(ROOT), progress_bar=False)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--patients", type=int, default=1_000_000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--no-notebook", action="store_true", help="skip the Papermill run of the notebook")
    args = parser.parse_args()
    warnings.simplefilter("ignore")

    folder = Path(tempfile.mkdtemp(prefix="bench-subgroups-"))
    t0 = time.perf_counter()
    study_file = build(folder, args.patients)
    study = plan.load(study_file)
    frame = evaluation_inputs.analysis_rows(workspace.build_cohort(study).cohort, study)
    frame = frame.iloc[: args.patients].reset_index(drop=True)
    setup = time.perf_counter() - t0
    groups = subgroup_groups.subgroups(frame, study)
    print(f"{len(frame):,} patients ({int(frame[study.data.outcome].sum()):,} positives), {len(groups) - 1} subgroups "
          f"+ overall; snapshot and cohort built in {setup:.1f} s", flush=True)

    rows = []
    masks = best_time(lambda: subgroup_groups.subgroups(frame, study), args.repeats)
    rows.append(["subgroup row sets", masks, "", None, None])
    metrics = best_time(lambda: subgroup_metrics.metric_table(frame, study, groups=groups), args.repeats)
    peer_run = fairlearn_peer(frame, study)
    peer = best_time(peer_run, 1) if peer_run is not None else None  # one run: about 100 s at 10^6
    rows.append(["metric table, all metrics with intervals (DeLong, Wilson, Wald)", metrics,
                 "fairlearn MetricFrame, point metrics only" if peer is not None else "fairlearn not installed",
                 peer, (metrics / peer) if peer else None])
    whole = best_time(lambda: subgroups.analyse(frame, study), args.repeats)
    rows.append(["whole computation (analyse): + heterogeneity, gates, hints", whole, "", None, None])
    if not args.no_notebook:
        rows.append(["notebook 03 through Papermill, with plots (rebuilds the cohort)", notebook_seconds(study_file),
                     "", None, None])
    print(table(["part", "seconds", "peer (same run)", "peer seconds", "ratio"], rows))
    print(f"targets: computation < 10 s ({'met' if whole < 10 else 'NOT met'}); "
          + ("notebook < 60 s (" + ("met" if rows[-1][1] < 60 else "NOT met") + ")" if not args.no_notebook else ""))


if __name__ == "__main__":
    main()
