"""The settings a stage ran with, each labelled "(default)" when the parameter file did not set it.

One helper for the plan tables of every stage report (cohort, evaluation, drift): a reviewer reads
which values the team chose and which the plan's defaults supplied (``min_rows 100 (default)``).
"""

from __future__ import annotations

import pandas as pd

DEFAULT = " (default)"


def given(value: str, section, *fields: str) -> str:
    """``value``, labelled "(default)" unless one of ``fields`` was set in ``section`` of the parameter file.

    Parameters
    ----------
    value : str
        The value as the report shows it.
    section : pydantic.BaseModel
        The plan section that holds the fields (its ``model_fields_set`` says what the file set).
    *fields : str
        The fields the value comes from.

    Examples
    --------
    >>> from studylib.plan.schema import DriftSection
    >>> section = DriftSection(reference={"column": "year", "values": [1]}, windows={"column": "year", "each": 1},
    ...                        bins=5)
    >>> given("5", section, "bins"), given("100", section, "min_rows")
    ('5', '100 (default)')
    """
    return value if set(fields) & section.model_fields_set else value + DEFAULT


def table(rows, *, header: tuple[str, str] = ("Plan item", "Value")) -> pd.DataFrame:
    """The settings as a two-column table (item, value)."""
    return pd.DataFrame(list(rows), columns=list(header))
