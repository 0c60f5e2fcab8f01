"""Fixtures of the subgroup-stage tests."""

from __future__ import annotations

import pytest

from studylib.stages.subgroups import groups, metrics
from tests.stages.subgroups import helpers


@pytest.fixture(scope="module")
def computed():
    """(frame, study, subgroups, metric table) of :func:`helpers.frame` under :data:`helpers.PLAN`."""
    frame = helpers.frame()
    study = helpers.study(helpers.PLAN)
    found = groups.subgroups(frame, study)
    return frame, study, found, metrics.metric_table(frame, study, groups=found)
