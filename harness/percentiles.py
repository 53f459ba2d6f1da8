"""One percentile for every figure the harness reports: nearest rank on raw samples.

Nearest rank always answers with a value that was measured (no interpolation between two
samples), which keeps small CI-sized samples honest; the load verdict, the regression
baseline and the benchmarks all use it, so their p95s mean the same thing.
"""

from __future__ import annotations

import math
from collections.abc import Iterable


def nearest_rank(values: Iterable[float], percent: float) -> float | None:
    """The ``percent`` (0-100) percentile of ``values`` by nearest rank; None without values.

    The rank is rounded to 9 places before its ceiling, so float error cannot push it one
    rank up (``0.999 * 1000`` is 999.0000000000001).
    """
    ordered = sorted(values)
    if not ordered:
        return None
    rank = max(1, math.ceil(round(percent / 100.0 * len(ordered), 9)))
    return ordered[min(rank, len(ordered)) - 1]


__all__ = ["nearest_rank"]
