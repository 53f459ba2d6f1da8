"""When a load-test user starts its next dossier: the open, closed or max model.

Kept apart from the I-VAN behaviour because it is the one thing that differs between the
models, and the one that decides whether a run measures the gateway honestly: in a
closed model a slow gateway receives fewer dossiers (coordinated omission); in the open
model arrivals keep their schedule, as they do before a filing deadline. A user sends one
dossier at a time, though, so an arrival due while its user still waits for an answer
starts late, and further ones due meanwhile are not sent: both are counted, never hidden.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable

from harness.load.ivan import LifecycleLog

GAPS = ("jittered", "poisson")
LATE = "late arrivals"
"""Open model: dossiers sent after their arrival time, their user being still busy with
the previous one (they start as soon as it is answered)."""
NOT_SENT = "not sent (user busy)"
"""Open model: arrivals that came and went while their user was still busy (one dossier at a
time per user): never sent, so scheduled = sent + these (+ chance)."""


class Pacer:
    """One user's clock.

    open: each user keeps a schedule of arrival times (a gap after the previous
    *arrival*, not after the answer), so the shape's users add up to its arrival rate
    however fast the gateway answers. A user sends one dossier at a time: an arrival due
    while it is still busy starts as soon as it is free and counts as a late arrival; the
    arrivals due after that one, up to now, are dropped and counted as not sent.
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
        self._due = clock()  # the open model's latest arrival time
        self._held: float | None = None  # a gap drawn but not used yet

    def first_delay(self) -> float:
        """Before a new user's first dossier, so spawning a batch is not a burst."""
        delay = 0.0
        if self.model == "open" and self.gaps == "poisson":
            delay = self.rng.expovariate(1.0 / self.interval)  # memoryless: same as any gap
        elif self.model in ("open", "closed"):
            delay = self.rng.uniform(0.0, self.interval)
        self._due = self.clock() + delay
        return delay

    def _gap(self) -> float:
        """The next gap between two arrivals (one drawn and held back first, so that looking
        ahead does not bias the gaps)."""
        if self._held is not None:
            gap, self._held = self._held, None
            return gap
        if self.gaps == "poisson":
            return self.rng.expovariate(1.0 / self.interval)
        return self.interval * self.rng.uniform(0.5, 1.5)

    def started(self) -> None:
        """A dossier starts (the open model's schedule does not move with it)."""

    def wait(self) -> float:
        """Seconds until the next dossier, counted from the end of the previous one."""
        if self.model == "open":
            return self._next_arrival()
        if self.model == "closed":
            return self.interval * self.rng.uniform(0.5, 1.5)
        return 0.0

    def _next_arrival(self) -> float:
        """Open model: the wait until the next scheduled arrival; 0 for one already due,
        after counting it late and the ones due after it as not sent."""
        now = self.clock()
        self._due += self._gap()
        if self._due >= now:
            return self._due - now
        self.log.count(LATE)
        while (gap := self._gap()) <= now - self._due:
            self._due += gap
            self.log.count(NOT_SENT)
        self._held = gap
        return 0.0


__all__ = ["GAPS", "LATE", "NOT_SENT", "Pacer"]
