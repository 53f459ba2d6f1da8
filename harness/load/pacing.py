"""When a load-test user starts its next dossier: the open, closed or max model.

Kept apart from the I-VAN behaviour because it is the one thing that differs between the
models, and the one that decides whether a run measures the gateway honestly: in a
closed model a slow gateway receives fewer dossiers (coordinated omission); in the open
model arrivals keep coming, as they do before a filing deadline.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable

from harness.load.ivan import LifecycleLog

GAPS = ("jittered", "poisson")


class Pacer:
    """One user's clock.

    open: gaps are measured from the previous *start*, so the shape's users add up to
    its arrival rate whatever the latency; a dossier that could not start on time (the
    previous one was still running) starts at once and is counted as a late arrival.
    The gaps are ``jittered`` (uniform 0.5x-1.5x the mean) or ``poisson`` (exponential):
    both give the same rate, but a verdict should not depend on luck, and Poisson counts
    over a 100-dossier run vary by about ±10% where jittered ones vary by about ±3%.
    closed: a think time (uniform 0.5x-1.5x) after each answer. max: no waiting at all.
    """

    def __init__(
        self,
        model: str,
        interval: float,
        rng: random.Random,
        log: LifecycleLog,
        clock: Callable[[], float] = time.monotonic,
        gaps: str = "jittered",
    ) -> None:
        if gaps not in GAPS:
            raise ValueError(f"gaps={gaps!r} must be one of {', '.join(GAPS)}")
        self.gaps = gaps
        self.model = model
        self.interval = interval
        self.rng = rng
        self.log = log
        self.clock = clock
        self._started = clock()

    def first_delay(self) -> float:
        """Before a new user's first dossier, so spawning a batch is not a burst."""
        if self.model == "open" and self.gaps == "poisson":
            return self.rng.expovariate(1.0 / self.interval)  # memoryless: same as any gap
        if self.model in ("open", "closed"):
            return self.rng.uniform(0.0, self.interval)
        return 0.0

    def _gap(self) -> float:
        if self.gaps == "poisson":
            return self.rng.expovariate(1.0 / self.interval)
        return self.interval * self.rng.uniform(0.5, 1.5)

    def started(self) -> None:
        self._started = self.clock()

    def wait(self) -> float:
        if self.model == "open":
            left = self._started + self._gap() - self.clock()
            if left < 0:
                self.log.count("late arrivals")
                return 0.0
            return left
        if self.model == "closed":
            return self.interval * self.rng.uniform(0.5, 1.5)
        return 0.0


__all__ = ["GAPS", "Pacer"]
