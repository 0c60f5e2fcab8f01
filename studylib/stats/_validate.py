"""Input validation shared by the estimators: one actionable ``ValueError`` per problem."""

from __future__ import annotations

import numpy as np

_MAX_SHOWN = 5


def _positions(mask: np.ndarray) -> str:
    idx = np.flatnonzero(mask)
    shown = ", ".join(str(i) for i in idx[:_MAX_SHOWN])
    more = f" and {idx.size - _MAX_SHOWN} more" if idx.size > _MAX_SHOWN else ""
    return f"at positions {shown}{more}"


def as_labels(y, name: str = "y") -> np.ndarray:
    """Return binary labels as a ``bool`` array.

    Accepts 0/1 integers or floats, booleans. Raises ``ValueError`` naming the values found when the
    labels are not a subset of {0, 1}, or when there are missing values (with their positions).
    A single class is legal here; estimators that need both classes return an undefined Estimate.
    """
    arr = np.asarray(y)
    if arr.ndim != 1:
        raise ValueError(f"{name} must be one-dimensional; got shape {arr.shape}")
    if arr.dtype == bool:
        return arr
    if arr.dtype.kind == "f":
        missing = np.isnan(arr)
        if missing.any():
            raise ValueError(f"{name} has {int(missing.sum())} missing value(s) {_positions(missing)}; labels must be 0 or 1")
    if arr.dtype.kind not in "iufb":
        values = sorted({str(v) for v in np.unique(arr.astype(object))})[:_MAX_SHOWN]
        raise ValueError(f"{name} must hold binary labels 0/1 or True/False; found values {values}")
    bad = (arr != 0) & (arr != 1)
    if bad.any():
        values = np.unique(arr[bad])[:_MAX_SHOWN].tolist()
        raise ValueError(
            f"{name} must hold binary labels 0/1; found other values {values} {_positions(bad)}"
        )
    return arr.astype(bool)


def as_scores(score, name: str = "score", *, probability: bool = False) -> np.ndarray:
    """Return scores as a finite ``float64`` array; with ``probability=True`` also check [0, 1]."""
    arr = np.asarray(score, dtype=float)
    if arr.ndim != 1:
        raise ValueError(f"{name} must be one-dimensional; got shape {arr.shape}")
    bad = ~np.isfinite(arr)
    if bad.any():
        raise ValueError(f"{name} has {int(bad.sum())} missing or infinite value(s) {_positions(bad)}")
    if probability:
        out = (arr < 0) | (arr > 1)
        if out.any():
            raise ValueError(
                f"{name} must be probabilities in [0, 1]; {int(out.sum())} value(s) outside {_positions(out)} "
                f"(min {arr.min():.4g}, max {arr.max():.4g})"
            )
    return arr


def same_length(**arrays) -> int:
    """Check that all arrays have one length and return it; the error lists each name and length."""
    lengths = {name: len(a) for name, a in arrays.items()}
    if len(set(lengths.values())) > 1:
        described = ", ".join(f"{name} has {n}" for name, n in lengths.items())
        raise ValueError(f"inputs must have the same length; {described}")
    return next(iter(lengths.values()))


def check_alpha(alpha: float) -> float:
    """Check a significance level: 0 < alpha < 1."""
    if not (0 < alpha < 1):
        raise ValueError(f"alpha must be in (0, 1); got {alpha}")
    return float(alpha)


class UndefinedMetricWarning(UserWarning):
    """A metric is undefined for these data (e.g. no positive cases); its value is NaN, not 0."""


def warn_undefined(message: str, stacklevel: int = 3) -> None:
    """Emit an :class:`UndefinedMetricWarning` with the cause (like sklearn's)."""
    import warnings

    warnings.warn(message, UndefinedMetricWarning, stacklevel=stacklevel)
