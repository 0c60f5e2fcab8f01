"""DuckDB scans of the drift review: calendar periods. (The scans themselves are exercised through the
drift review in tests/stages/drift/test_review.py.)"""

from __future__ import annotations

from studylib.data import scan


def test_period_range():
    assert scan.period_range("2023-11", "2024-02", "month") == ["2023-11", "2023-12", "2024-01", "2024-02"]
    assert scan.period_range("2023-Q4", "2024-Q2", "quarter") == ["2023-Q4", "2024-Q1", "2024-Q2"]
    assert scan.period_range("2022", "2024", "year") == ["2022", "2023", "2024"]
