"""The markup-injection project: the tiny study with HTML in every user-supplied string.

``<img src=x onerror=alert(1)>`` and ``<script>alert(1)</script>`` in the study title and intended use (also
inside Markdown code spans), model names and versions, criterion and gate labels, cohort step labels,
subgroup band labels and reference level, Table 1 labels, category values of the data (sex, site, split),
person ids, column names (sex, site) and the dataset card. ``tests/report/test_injection.py`` checks every
page of its run; ``tests/test_install.py`` runs it with the installed package (one run serves both:
``installed_run`` in ``tests/conftest.py``).
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import yaml

IMG = "<img src=x onerror=alert(1)>"
SCRIPT = "<script>alert(1)</script>"
SEX, SITE = f"sex{SCRIPT}", f"site{IMG}"  # column names
DEVELOPMENT, VALIDATION = f"development{SCRIPT}", f"validation{IMG}"  # split values


def frame() -> pd.DataFrame:
    """:func:`tests.conftest.tiny_frame` with payloads in category values, person ids and column names."""
    from tests.conftest import tiny_frame

    data = tiny_frame()
    data["sex"] = data["sex"].map({"F": f"F{IMG}", "M": f"M{SCRIPT}"})
    data["site"] = [f"site {i % 2} {IMG if i % 2 else SCRIPT}" for i in range(len(data))]
    data["split"] = data["split"].replace({"development": DEVELOPMENT, "validation": VALIDATION})
    data["person_id"] = data["person_id"] + [IMG if i % 2 else SCRIPT for i in range(len(data))]
    return data.rename(columns={"sex": SEX, "site": SITE})


def params(lock: str, artifact: str) -> dict:
    """:func:`tests.conftest.tiny_params` with payloads in every string a reviewer reads."""
    from tests.conftest import tiny_params

    study = tiny_params(lock, artifact)
    study["study"].update(title=f"Tiny {IMG} `{IMG}` ``{SCRIPT}` \\`{IMG}` [link](javascript:alert(1)) {SCRIPT}",
                          intended_use=f"tests only {SCRIPT} `{IMG}`")
    study["data"].update(site=SITE, features=["age", SEX])
    for role, model in study["models"].items():
        model.update(name=f"{role} {IMG}", version=f"v {SCRIPT}")
    study["cohort"][0].update(label=f"Not development {IMG}",
                              keep={"column": "split", "op": "!=", "value": DEVELOPMENT})
    study["cohort"][1]["label"] = f"MGUS {SCRIPT}"
    study["table_one"] = {"continuous": [{"column": "age", "label": f"Age {IMG}"}],
                          "categorical": [{"column": SEX, "label": f"Sex {SCRIPT}"}, SITE],
                          "smd_between": [DEVELOPMENT, VALIDATION]}
    study["analysis"].update(split=VALIDATION, error_analysis={"variables": [SEX, SITE]})
    study["acceptance"][0]["label"] = f"discrimination {IMG}"
    study["acceptance"][1]["label"] = f"non-inferiority {SCRIPT}"
    study["subgroups"]["variables"] = [
        {"name": "sex", "column": SEX, "reference": f"F{IMG}"},
        {"name": "site", "column": SITE},
        {"name": "age_band", "column": "age", "cut": [50, 70, 120], "labels": [f"young {IMG}", f"old {SCRIPT}"]}]
    study["subgroups"]["gates"][0]["label"] = f"subgroup AUROC {SCRIPT}"
    study["drift"]["categorical"] = [SEX]
    return study


def make_project(root: Path) -> Path:
    """A project folder ``root`` with the locked snapshot (its card carrying payloads too) and
    ``params/tiny.yaml``; returns the parameter file."""
    from studylib.data import snapshot
    from tests.conftest import write_snapshot

    folder = root / "snapshots" / "tiny"
    _, artifact = write_snapshot(folder, frame())
    card = {"name": f"card {IMG}", "source": f"SYNTHETIC {SCRIPT}", "licence": f"none {IMG}",
            "collection_window": f"1995 {SCRIPT}", "label_provenance": f"made up {IMG}",
            "limitations": f"everything {SCRIPT}"}
    (folder / "card.yaml").write_text(yaml.safe_dump(card))
    lock = snapshot.lock(folder)  # the card is part of the lock
    (root / "params").mkdir(parents=True, exist_ok=True)
    params_file = root / "params" / "tiny.yaml"
    params_file.write_text(yaml.safe_dump(params(lock, artifact), sort_keys=False))
    return params_file
