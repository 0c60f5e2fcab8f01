"""The result type shared by every estimator in :mod:`studylib.stats`."""

from __future__ import annotations

import math
from dataclasses import dataclass, asdict


@dataclass(frozen=True)
class Estimate:
    """A point estimate with its confidence interval.

    Attributes
    ----------
    estimate, lower, upper : float
        The point estimate and the interval bounds; NaN when the quantity is undefined.
    se : float
        Standard error where the method defines one, else NaN.
    method : str
        How the interval was computed (e.g. ``"wilson"``, ``"delong"``, ``"bootstrap-percentile"``).
    reason : str
        Why the estimate is undefined (empty when it is defined).
    """

    estimate: float
    lower: float
    upper: float
    se: float = math.nan
    method: str = ""
    reason: str = ""

    @property
    def defined(self) -> bool:
        """True when the estimate and both bounds are finite numbers."""
        return all(math.isfinite(v) for v in (self.estimate, self.lower, self.upper))

    @classmethod
    def undefined(cls, reason: str, method: str = "") -> "Estimate":
        """An estimate that cannot be computed, carrying the reason (e.g. "no positive cases")."""
        return cls(math.nan, math.nan, math.nan, math.nan, method, reason)

    def to_dict(self) -> dict:
        """Plain dict for JSON results (NaN stays NaN; the JSON writer maps it to null)."""
        return asdict(self)
