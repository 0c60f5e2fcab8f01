"""Buderer's sample size for a proportion: known answers and bad input."""

from __future__ import annotations

import pytest

from studylib.stats.sample_size import sample_size


def test_sample_size_known_answers():
    assert sample_size(0.8, 0.2) == 62  # 1.96² · 0.16 / 0.1² = 61.5
    assert sample_size(0.5, 0.1) == 385  # the classic 384.1
    with pytest.raises(ValueError, match="width must be in"):
        sample_size(0.5, 0)


def test_sample_size_other_levels_and_extremes():
    assert sample_size(0.5, 0.1, alpha=0.10) == 271  # 1.645² · 0.25 / 0.05² = 270.6
    assert sample_size(1.0, 0.1) == 0 and sample_size(0.0, 0.1) == 0
    with pytest.raises(ValueError, match=r"p must be in \[0, 1\]; got 1.2"):
        sample_size(1.2, 0.1)
