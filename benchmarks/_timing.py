"""Timing helpers the benchmark scripts share (they import it as a sibling module)."""

from __future__ import annotations

import time
from collections.abc import Callable


def rate(operation: Callable[[], object], seconds: float, warm_up: int = 20) -> float:
    """Operations per second over ``seconds``, after ``warm_up`` untimed calls (caches,
    first parse, compiled schemas)."""
    for _ in range(warm_up):
        operation()
    count, start = 0, time.perf_counter()
    while (elapsed := time.perf_counter() - start) < seconds:
        operation()
        count += 1
    return count / elapsed
