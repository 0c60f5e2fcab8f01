"""The evaluated example study shared by the evaluation stage's tests (computed once)."""

import pytest

from tests.stages.evaluation.test_analysis import example


@pytest.fixture(scope="package")
def evaluated():
    """``(study, frame, y, p, base, ev)`` of :func:`tests.stages.evaluation.test_analysis.example`."""
    return example()
