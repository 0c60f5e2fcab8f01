"""The dataset card of a snapshot: the fields a reviewer needs, as a schema.

A snapshot's ``card.yaml`` is a YAML mapping. :class:`DatasetCard` names the fields a validation
report draws on (each free text, a list or a mapping of free text); the card may hold more (title,
columns, models), which the schema keeps. ``studylib snapshot lock`` warns (:func:`check`) for each
field that is missing or empty, and for a ``card.md``, whose fields cannot be read; it still locks,
since an honest "not recorded" is the card author's call. The reporting checklist marks an item
answered only from the card field that answers it (``studylib.report.checklist``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

Text = str | list[Any] | dict[str, Any]


class DatasetCard(BaseModel):
    """The reviewed fields of a dataset card; every one optional here, missing ones are warned about."""

    model_config = ConfigDict(extra="allow", frozen=True)

    source: Text | None = Field(None, description="where the data come from: data set, distributor, "
                                "original investigators, citation")
    licence: Text | None = Field(None, description="the licence under which the data may be used")
    collection: Text | None = Field(None, description="setting, sites and collection window (dates) of the data")
    inclusion_rules: Text | None = Field(None, description="who and what is in the snapshot, and what was removed")
    de_identification: Text | None = Field(None, description="how people were de-identified; remaining "
                                           "quasi-identifiers")
    label_provenance: Text | None = Field(None, description="how each outcome label was ascertained or derived "
                                          "(the reference standard)")
    split_method: Text | None = Field(None, description="how rows were assigned to development, validation "
                                      "and monitoring")
    known_limitations: Text | None = Field(None, description="known biases, gaps and caveats of the data")
    population_gaps: Text | None = Field(None, description="people the data under-represent or omit "
                                         "(for whom performance is unknown)")


FIELDS: tuple[str, ...] = tuple(DatasetCard.model_fields)


def _empty(value) -> bool:
    return value is None or (isinstance(value, (str, list, dict)) and not (value.strip() if isinstance(value, str)
                                                                             else value))


def missing(card: dict) -> list[str]:
    """The fields of :data:`FIELDS` that a card mapping lacks or leaves empty, in schema order."""
    return [name for name in FIELDS if _empty(card.get(name))]


def check(directory: str | Path) -> list[str]:
    """Warnings about the dataset card of a snapshot folder: one line each, naming the file and field.

    An empty list when ``card.yaml`` holds every field of :class:`DatasetCard`.
    """
    directory = Path(directory)
    path = directory / "card.yaml"
    if not path.is_file():
        if (directory / "card.md").is_file():
            return [f"{directory / 'card.md'}: a Markdown card cannot be checked field by field; write card.yaml "
                    f"with the fields {', '.join(FIELDS)}"]
        return [f"{path}: no dataset card"]
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        return [f"{path}: not readable as YAML ({exc})"]
    if not isinstance(data, dict):
        return [f"{path}: expected a mapping of fields ({', '.join(FIELDS)}); got {type(data).__name__}"]
    try:
        DatasetCard.model_validate(data)
    except ValidationError as exc:
        bad = sorted({str(e["loc"][0]) for e in exc.errors() if e["loc"]}, key=FIELDS.index)
        return [f"{path}: field '{name}' must be text, a list or a mapping; got {type(data[name]).__name__}"
                for name in bad]
    return [f"{path}: field '{name}' is missing or empty ({DatasetCard.model_fields[name].description})"
            for name in missing(data)]
