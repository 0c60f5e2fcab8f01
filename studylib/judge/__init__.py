"""Judgement: gates, triggers and the small-cell rule, as pure functions of estimates and counts."""
