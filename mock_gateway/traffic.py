"""The traffic log writer: every exchange is kept, written in batches off the hot path.

Writing one row per request in its own (fsynced) transaction would halve intake
throughput, so rows wait in memory for at most ``flush_interval`` and are written
together. The dossier itself never waits here: its durability comes from the store's
intake transaction. The price is that a SIGKILL loses up to one interval of traffic rows,
which is evidence, not state; ``flush()`` writes everything pending at once, and
:meth:`mock_gateway.core.Gateway.traffic_log` (what the export reads) calls it first.

Without the background thread (a gateway used in-process, as in tests and the in-process
suites) rows are written when ``batch`` are pending or the oldest has waited
``flush_interval``: one fsynced transaction per request was a seventh of its cost.
"""

from __future__ import annotations

import logging
import threading
import time

from mock_gateway.outage import Outage
from mock_gateway.store import Store, TrafficRecord

log = logging.getLogger(__name__)


class TrafficRecorder:
    """Collects :class:`TrafficRecord` rows and writes them in batches (thread-safe)."""

    def __init__(
        self,
        store: Store,
        flush_interval: float = 0.1,
        max_pending: int = 5000,
        batch: int = 64,
        *,
        outage: Outage | None = None,
    ) -> None:
        self.store = store
        self.outage = outage or Outage("traffic log", store.engine.dialect.loaded_dbapi)
        self.flush_interval = flush_interval
        self.max_pending = max_pending
        self.batch = batch
        self._pending: list[TrafficRecord] = []
        self._oldest = 0.0  # monotonic time the oldest pending row was queued
        self._lock = threading.Lock()
        self._flush_lock = threading.Lock()
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def record(self, row: TrafficRecord) -> None:
        """Queue one row for the background thread, or for the next batch if none runs."""
        now = time.monotonic()
        with self._lock:
            if not self._pending:
                self._oldest = now
            self._pending.append(row)
            backlog = len(self._pending)
            waited = now - self._oldest
        if self._thread is None:
            if backlog >= self.batch or waited >= self.flush_interval:
                self.flush()
        elif backlog >= self.max_pending:
            self._wake.set()

    def flush(self) -> int:
        """Write every pending row now; returns how many."""
        with self._flush_lock:
            with self._lock:
                rows, self._pending = self._pending, []
            if rows:
                self.store.record_traffic(rows)
            return len(rows)

    def start(self) -> None:
        if self._thread is not None:
            return
        self._stop.clear()
        self._thread = threading.Thread(target=self._loop, name="bhxh-traffic", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Stop the thread and write what is left."""
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(5.0)
            self._thread = None
        self.flush()

    def _loop(self) -> None:
        while not self._stop.is_set():
            self._wake.wait(self.flush_interval)
            self._wake.clear()
            try:
                self.flush()
            except Exception as exc:  # a lost database is warned about once, not per batch
                if not self.outage.caught(exc):
                    log.exception("could not write traffic rows; they are dropped")
