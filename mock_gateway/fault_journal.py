"""A worker's fault hits and events on their way to the store, written in batches.

A hook without a budget may fire on every request (latency at probability 1.0): one
database write per hit measured 1-2 ms on SQLite and PostgreSQL, several times what the
request itself costs, and every write queues behind the intake's. So hits and events wait
here and go in one transaction at most :data:`FLUSH_SECONDS` after the first of them;
what another worker shows lags by that much, and a worker killed loses its last batch.
"""

from __future__ import annotations

import threading
from collections import Counter, deque
from collections.abc import Callable
from typing import Any

from mock_gateway import fault_store
from mock_gateway.store import Store

FLUSH_SECONDS = 0.1
"""How long a hit or event may wait before it is written for every worker to see."""
RETRY_SECONDS = 1.0
"""How long a batch the store refused waits before it is tried again."""


class FaultJournal:
    """Pending hits per ``(plan, hook)`` and events of one worker, written together.

    A reader on this worker (:meth:`flush` first) sees all of its own at once; a failed
    batch is kept (the events up to :data:`fault_store.KEEP_EVENTS`) and tried again.
    ``on_error`` says what the store refused; once ``closed()`` (the gateway stopped)
    nothing more is written.
    """

    def __init__(
        self,
        store: Store,
        on_error: Callable[[Exception], None],
        closed: Callable[[], bool],
    ) -> None:
        self.store, self.on_error, self.closed = store, on_error, closed
        self._lock = threading.Lock()
        self._writing = threading.Lock()  # one batch at a time: this worker's seqs in order
        self._hits: Counter[tuple[int, int]] = Counter()
        self._events: deque[dict[str, Any]] = deque(maxlen=fault_store.KEEP_EVENTS)
        self._timer: threading.Timer | None = None

    def hit(self, plan: int, hook: int) -> None:
        """Count one hit of hook ``hook`` of plan ``plan``."""
        with self._lock:
            self._hits[plan, hook] += 1
            self._schedule(FLUSH_SECONDS)

    def event(self, entry: dict[str, Any]) -> None:
        """Log ``entry`` (without a seq: the store gives it one)."""
        with self._lock:
            self._events.append(entry)
            self._schedule(FLUSH_SECONDS)

    def _schedule(self, delay: float) -> None:
        """Start the timer that writes the batch, unless one is running (lock held)."""
        if self._timer is None:
            self._timer = threading.Timer(delay, self._flush_due)
            self._timer.daemon = True
            self._timer.start()

    def _flush_due(self) -> None:
        with self._lock:
            self._timer = None
        self.flush()

    def flush(self) -> None:
        """Write what is pending now; never raises (a refused batch waits for a retry)."""
        with self._writing:
            with self._lock:
                hits, events = self._hits, list(self._events)
                self._hits, self._events = Counter(), deque(maxlen=fault_store.KEEP_EVENTS)
            if (not hits and not events) or self.closed():
                return
            try:
                fault_store.write_batch(self.store, hits, events)
            except Exception as exc:  # a lost database: warned about once, by on_error
                self._keep(hits, events)
                self.on_error(exc)

    def _keep(self, hits: Counter[tuple[int, int]], events: list[dict[str, Any]]) -> None:
        """Put a refused batch back before what came since, and try again later."""
        with self._lock:
            self._hits.update(hits)
            later = list(self._events)
            self._events = deque(events + later, maxlen=fault_store.KEEP_EVENTS)
            self._schedule(RETRY_SECONDS)

    def events(self, after: int) -> list[dict[str, Any]]:
        """Every worker's kept events with a seq above ``after`` (this one's written first)."""
        self.flush()
        return fault_store.events(self.store, after)

    def count(self) -> int:
        """How many events every worker has logged (this one's written first)."""
        self.flush()
        return fault_store.last_event(self.store)


__all__ = ["FLUSH_SECONDS", "RETRY_SECONDS", "FaultJournal"]
