"""When a load-test user starts its next dossier: the open, closed or max model.

Kept apart from the I-VAN behaviour because it is the one thing that differs between the
models, and the one that decides whether a run measures the gateway honestly: in a
closed model a slow gateway receives fewer dossiers (coordinated omission); in the open
model arrivals keep their schedule, as they do before a filing deadline. Each open-model
arrival is sent on its own greenlet (:mod:`harness.load.arrivals`), so a slow answer never
delays or drops the next one; only a user's in-flight cap leaves arrivals unsent, and
those are counted, never hidden.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable

from harness.load.lifecycle_log import LifecycleLog

GAPS = ("jittered", "poisson")
LATE_TOLERANCE = 0.25
"""Real seconds an open-model arrival may start after its scheduled time without being
counted late: the generator's own scheduling jitter, not a sign that it fell behind."""
LATE = "late arrivals"
"""Open model: dossiers started more than :data:`LATE_TOLERANCE` after their arrival time
(the generator fell behind its schedule, e.g. short of CPU): sent, but late."""
ARRIVED = "arrivals started (open model)"
"""Open model: arrivals started (sent at their time). Its presence says the run counted its
arrivals, so the throughput ratio divides by the real arrivals (sent + not sent), not by
the model's estimate of them."""
NOT_SENT = "not sent (in-flight cap)"
"""Open model: arrivals that came while their user already had its cap of dossiers waiting
for an answer (``models.open.max_in_flight``): never sent, so scheduled = sent + these
(+ chance)."""


class Pacer:
    """One user's clock.

    open: each user keeps a schedule of arrival times (a gap after the previous
    *arrival*, not after the answer), so the shape's users add up to its arrival rate
    however fast the gateway answers: :meth:`wait` is the time until the next arrival,
    0 for one already due (it is sent at once, never dropped), and :meth:`started` counts
    an arrival started more than :data:`LATE_TOLERANCE` after its time as a late arrival.
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
        self._due = clock()  # the open model's current arrival time

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
        """The next gap between two arrivals."""
        if self.gaps == "poisson":
            return self.rng.expovariate(1.0 / self.interval)
        return self.interval * self.rng.uniform(0.5, 1.5)

    def started(self) -> None:
        """A dossier starts now: in the open model, a late arrival if it is past its time
        by more than the tolerance (the schedule itself does not move); each open-model
        arrival is counted, so the run knows how many there were."""
        if self.model != "open":
            return
        self.log.count(ARRIVED)
        if self.clock() - self._due > LATE_TOLERANCE:
            self.log.count(LATE)

    def wait(self) -> float:
        """Seconds until the next dossier: in the open model from now to the next arrival
        time (0 if it is already due); closed, a think time after the answer; max, 0."""
        if self.model == "open":
            self._due += self._gap()
            return max(0.0, self._due - self.clock())
        if self.model == "closed":
            return self.interval * self.rng.uniform(0.5, 1.5)
        return 0.0


__all__ = ["ARRIVED", "GAPS", "LATE", "LATE_TOLERANCE", "NOT_SENT", "Pacer"]
