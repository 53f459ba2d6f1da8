"""How long a request may have waited before the gateway's event loop read it.

A request's ``started`` is when the loop read its first byte. While the loop is stalled (a
long commit, a pause of the whole process on a busy machine), bytes wait unread, and the
client's own clock ran from its send: a client that timed out then looks, in the traffic
log, as if it had its answer in time. Certification judges whether an I-VAN read a refusal
from these times (``scenarios/certification/checks_retry.py``), so each traffic row keeps a
bound on that wait (``unread_ms``), measured here by a timer that should fire every
:data:`BEAT` seconds.
"""

from __future__ import annotations

import asyncio
import weakref

BEAT = 0.05
"""Seconds between the watch's ticks: the bound is never below this on a quiet loop, and the
checks it serves judge waits of a quarter second and more."""
HOLD = 1.0
"""Seconds a stall still counts after it ended: bytes that waited through it may be read a
few turns later, behind the work it held up."""


class LoopWatch:
    """A timer on one event loop that notes when it last ran and how late it was."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self._loop = loop
        self._last = loop.time()
        self._late, self._late_at = 0.0, self._last  # the longest recent stall, and when
        loop.call_later(BEAT, self._tick)

    def _tick(self) -> None:
        now = self._loop.time()
        late = max(0.0, now - self._last - BEAT)
        if late >= self._late or now - self._late_at > HOLD:
            self._late, self._late_at = late, now
        self._last = now
        self._loop.call_later(BEAT, self._tick)

    def unread_bound(self) -> float:
        """Seconds bytes read now may have waited unread: the time since the last tick (the
        loop has been stalled since, if it reads before it runs timers), or the longest
        stall that ended within :data:`HOLD` (a loop that runs timers first, or has other
        work queued behind a stall, reads its bytes after the tick that saw it)."""
        now = self._loop.time()
        held = self._late if now - self._late_at <= HOLD else 0.0
        return max(now - self._last, held)


_WATCHES: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, LoopWatch] = (
    weakref.WeakKeyDictionary()
)


def watch(loop: asyncio.AbstractEventLoop) -> LoopWatch:
    """The watch of ``loop``, started on first use (one per loop, however many connections)."""
    found = _WATCHES.get(loop)
    if found is None:
        found = _WATCHES[loop] = LoopWatch(loop)
    return found


__all__ = ["BEAT", "HOLD", "LoopWatch", "watch"]
