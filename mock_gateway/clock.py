"""A simulated clock: BHXH's day runs at a chosen speed and can be fast-forwarded by tests.

The clock is a pure function of four numbers (``origin_real``, ``origin_sim``, ``speed``,
``offset``), so several worker processes share one timeline by sharing those numbers
through the store (:meth:`mock_gateway.store.Store.load_clock`) instead of a live object.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime


@dataclass(frozen=True)
class ClockState:
    """The numbers that define a timeline.

    ``now = origin_sim + (real - origin_real) * speed + offset``, all in epoch seconds.
    """

    origin_real: float
    origin_sim: float
    speed: float
    offset: float = 0.0

    def at(self, real: float) -> float:
        return self.origin_sim + (real - self.origin_real) * self.speed + self.offset


class SimulatedClock:
    """Thread-safe simulated time (UTC); ``speed=0`` freezes it until :meth:`advance`."""

    def __init__(
        self,
        speed: float = 1.0,
        *,
        start: datetime | None = None,
        real: Callable[[], float] = time.time,
    ) -> None:
        self._real = real
        now = real()
        origin_sim = start.timestamp() if start is not None else now
        self._state = ClockState(origin_real=now, origin_sim=origin_sim, speed=speed)
        self._lock = threading.Lock()

    @property
    def state(self) -> ClockState:
        return self._state

    @property
    def speed(self) -> float:
        return self._state.speed

    def adopt(self, state: ClockState) -> None:
        """Follow a timeline read from the store (another worker may have advanced it)."""
        with self._lock:
            self._state = state

    def timestamp(self) -> float:
        """Simulated seconds since the epoch."""
        return self._state.at(self._real())

    def now(self) -> datetime:
        """Simulated now, as an aware UTC datetime."""
        return datetime.fromtimestamp(self.timestamp(), UTC)

    def advance(self, seconds: float) -> datetime:
        """Jump ``seconds`` ahead (never back: messages already issued stay in the past)."""
        if seconds < 0:
            raise ValueError("the simulated clock only moves forward")
        with self._lock:
            s = self._state
            self._state = ClockState(s.origin_real, s.origin_sim, s.speed, s.offset + seconds)
        return self.now()

    def rebase(self, speed: float) -> ClockState:
        """Continue from the current simulated moment at another speed."""
        with self._lock:
            real = self._real()
            self._state = ClockState(real, self._state.at(real), speed, 0.0)
            return self._state


def iso(moment: datetime) -> str:
    """The storage form of a moment: ISO-8601 UTC with microseconds, sortable as text."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def from_iso(text: str) -> datetime:
    """A moment stored by :func:`iso`; ``fromisoformat`` reads it 30 times faster than
    ``strptime`` (it runs for every accepted dossier)."""
    return datetime.fromisoformat(text).astimezone(UTC)
