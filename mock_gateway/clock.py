"""A simulated clock: BHXH's day runs at a chosen speed and can be fast-forwarded by tests.

The clock is a pure function of four numbers (``origin_real``, ``origin_sim``, ``speed``,
``offset``), so several worker processes share one timeline by sharing those numbers
through the store (:meth:`mock_gateway.store.Store.load_clock`) instead of a live object.

Simulated time stops at :data:`LATEST` (2200-01-01 UTC): past year 9999 Python has no
date to show, and every answer, even ``/healthz``, failed on the clock; a clock that
reaches it stays there until ``POST /admin/reset`` restarts it at real now.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from harness.errors import ConfigError

LATEST = datetime(2200, 1, 1, tzinfo=UTC)
"""Where simulated time stops: 175 years of fast-forward, far inside what dates can show."""
LATEST_TIMESTAMP = LATEST.timestamp()
EARLIEST_TIMESTAMP = datetime(1900, 1, 1, tzinfo=UTC).timestamp()
"""The other end, for a timeline hand-edited in the database (the clock never moves back)."""


class ClockLimitError(ConfigError):
    """An advance would carry simulated time past :data:`LATEST`."""


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
        """Simulated time at real time ``real``, held at :data:`LATEST` once it gets there
        (a stored timeline beyond it, or not a number, reads as :data:`LATEST` too)."""
        moment = self.origin_sim + (real - self.origin_real) * self.speed + self.offset
        if not moment < LATEST_TIMESTAMP:  # also NaN
            return LATEST_TIMESTAMP
        return max(moment, EARLIEST_TIMESTAMP)


def _exact(seconds: float) -> str:
    """``seconds`` as asked: rounding it could show the room left as the same number."""
    return str(int(seconds)) if float(seconds).is_integer() else repr(float(seconds))


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

    def now_on(self, state: ClockState) -> datetime:
        """Now on ``state``'s timeline, whichever this clock has adopted since."""
        return datetime.fromtimestamp(state.at(self._real()), UTC)

    @property
    def stopped(self) -> bool:
        """True once simulated time has reached :data:`LATEST` (it stays there)."""
        return self.timestamp() >= LATEST_TIMESTAMP

    def check_advance(self, seconds: float) -> None:
        """Raise :class:`ClockLimitError` if ``seconds`` more would pass :data:`LATEST`."""
        room = LATEST_TIMESTAMP - self.timestamp()
        if seconds > room:
            raise ClockLimitError(
                f"the simulated clock stops at {iso(LATEST)}: it is {iso(self.now())}, "
                f"so it can advance at most {math.floor(max(room, 0.0))} s more, "
                f"not {_exact(seconds)} s",
                hint="advance less, or POST /admin/reset to restart it at real now "
                "(that also forgets every dossier)",
            )

    def advance(self, seconds: float) -> datetime:
        """Jump ``seconds`` ahead (never back: messages already issued stay in the past;
        never past :data:`LATEST`: :class:`ClockLimitError`)."""
        if seconds < 0:
            raise ValueError("the simulated clock only moves forward")
        self.check_advance(seconds)
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
    """The storage form of a moment: ISO-8601 UTC with microseconds, sortable as text.

    An f-string: ``strftime`` cost 10 µs a call in the served gateway, three calls per
    accepted dossier; and its ``%Y`` left years below 1000 unpadded, unsortable and
    unreadable by :func:`from_iso`."""
    t = moment.astimezone(UTC)
    return (
        f"{t.year:04d}-{t.month:02d}-{t.day:02d}T{t.hour:02d}:{t.minute:02d}:{t.second:02d}"
        f".{t.microsecond:06d}Z"
    )


def from_iso(text: str) -> datetime:
    """A moment stored by :func:`iso`; ``fromisoformat`` reads it 30 times faster than
    ``strptime`` (it runs for every accepted dossier)."""
    return datetime.fromisoformat(text).astimezone(UTC)
