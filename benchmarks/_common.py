"""Tiny helpers shared by the benchmark scripts: best-of-k timing, peak memory, a plain-text table."""

from __future__ import annotations

import gc
import time
import tracemalloc
from collections.abc import Callable, Sequence


def best_time(fn: Callable[[], object], repeats: int = 3) -> float:
    """Best wall-clock seconds of ``repeats`` calls (garbage collected before each)."""
    best = float("inf")
    for _ in range(max(1, repeats)):
        gc.collect()
        start = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - start)
    return best


def peak_memory_mb(fn: Callable[[], object]) -> float:
    """Peak memory allocated *during* one call, in MiB (tracemalloc; numpy reports its buffers to it).

    Inputs allocated before the call are not counted: this is the extra memory the function needs.
    """
    gc.collect()
    tracemalloc.start()
    try:
        fn()
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return peak / 2**20


def table(headers: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    """Left-aligned text table; floats are shown with 3 significant decimals."""

    def cell(value: object) -> str:
        if isinstance(value, float):
            return f"{value:.3f}" if value < 100 else f"{value:.1f}"
        return "" if value is None else str(value)

    cells = [[cell(v) for v in row] for row in rows]
    widths = [max(len(h), *(len(r[i]) for r in cells)) if cells else len(h) for i, h in enumerate(headers)]
    lines = ["  ".join(h.ljust(w) for h, w in zip(headers, widths)),
             "  ".join("-" * w for w in widths)]
    lines += ["  ".join(c.ljust(w) for c, w in zip(r, widths)) for r in cells]
    return "\n".join(lines)
