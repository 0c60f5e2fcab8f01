"""The one formatter: every branch, and agreement with the formatters it replaces."""

from __future__ import annotations

import doctest
import math

import pytest

from studylib import formatting as F


def test_doctests():
    failures, tried = doctest.testmod(F)
    assert tried > 0 and failures == 0


@pytest.mark.parametrize("bad", [None, float("nan"), float("inf"), -math.inf, "x", True])
def test_undefined_everywhere(bad):
    assert F.number(bad) == F.UNDEFINED
    assert F.interval(bad, 0.1, 0.2) == F.UNDEFINED
    assert F.p_value(bad) == F.UNDEFINED
    assert F.percent(bad) == F.UNDEFINED
    assert F.count(bad) == F.UNDEFINED
    assert F.number(bad, undefined="undefined") == "undefined"


def test_number_rounding_and_tiny_values():
    assert F.number(0.12345) == "0.123"
    assert F.number(0.12355, 2) == "0.12"
    assert F.number(0.0) == "0.000"
    assert F.number(0.00004) == "4e-05"
    assert F.number(0.00004, tiny=False) == "0.000"
    assert F.number(0.25, signed=True) == "+0.250"
    assert F.number(-0.0004, signed=True) == "-0.0004"


def test_interval_joins():
    assert F.interval(0.8, 0.75, 0.84, 2) == "0.80 (0.75–0.84)"
    assert F.interval(0.01, -0.02, 0.04) == "0.010 (-0.020 to 0.040)"
    assert F.interval(0.01, 0.005, 0.02, signed=True) == "+0.010 (+0.005 to +0.020)"
    assert F.interval(0.5, None, 0.6, no_interval=" (interval undefined)") == "0.500 (interval undefined)"


def test_p_value_boundaries():
    assert F.p_value(0.001) == "0.001"
    assert F.p_value(0.000999) == "<0.001"
    assert F.p_value(1.0) == "1.000"


def test_count_rejects_non_integers():
    assert F.count(12.0) == "12"
    assert F.count(12.5) == F.UNDEFINED
    assert F.count(1234567) == "1,234,567"


@pytest.mark.parametrize("alpha, text", [(0.05, "95%"), (0.01, "99%"), (0.2, "80%"), (0.025, "97.5%")])
def test_confidence_level(alpha, text):
    assert F.confidence_level(alpha) == text
