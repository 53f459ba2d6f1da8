"""The traffic log writer: every exchange is kept, written in batches off the hot path.

Writing one row per request in its own (fsynced) transaction would halve intake
throughput, so rows wait in memory for at most ``flush_interval`` and are written
together. The dossier itself never waits here: its durability comes from the store's
intake transaction. The price is that a SIGKILL loses up to one interval of traffic rows,
which is evidence, not state; ``flush()`` writes everything pending at once, and
:meth:`mock_gateway.core.Gateway.traffic_log` (what the export reads) calls it first.

While the database is unavailable, rows stay queued (the 503 answers of the outage too)
and are written once it is back. The queue holds at most ``max_pending`` rows: exchanges
beyond that are dropped, and one warning says how many once the log can be written again
(or at shutdown, if it never can).

Without the background thread (a gateway used in-process, as in tests and the in-process
suites) rows are written when ``batch`` are pending or the oldest has waited
``flush_interval``: one fsynced transaction per request was a seventh of its cost.
"""

from __future__ import annotations

import logging
import threading
import time

from mock_gateway.outage import Outage, database_lost
from mock_gateway.records import TrafficRecord
from mock_gateway.store import Store

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
        self._retry_at = 0.0  # after a failed write, no automatic one before this time
        self._dropped = 0  # rows refused by the full queue, not yet reported
        self._lock = threading.Lock()
        self._flush_lock = threading.Lock()
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def record(self, row: TrafficRecord) -> None:
        """Queue one row for the background thread, or for the next batch if none runs."""
        now = time.monotonic()
        with self._lock:
            if len(self._pending) >= self.max_pending:  # the database is down, or too slow
                self._dropped += 1
                return
            if not self._pending:
                self._oldest = now
            self._pending.append(row)
            backlog = len(self._pending)
            waited = now - self._oldest
            due = now >= self._retry_at  # not while a lost database is being waited for
        if not due:
            return
        if self._thread is None:
            if backlog >= self.batch or waited >= self.flush_interval:
                self.flush()
        elif backlog >= self.max_pending // 2:  # wake the writer well before the cap
            self._wake.set()

    @property
    def pending(self) -> int:
        """Rows queued and not yet written."""
        with self._lock:
            return len(self._pending)

    def flush(self) -> int:
        """Write every pending row now; returns how many.

        If the database is lost the rows go back to the queue and the error is raised;
        after any other error they are dropped (retrying a bug would never end).
        """
        with self._flush_lock:
            return self._write()

    def _write(self) -> int:
        """:meth:`flush` for a caller holding the flush lock."""
        with self._lock:
            rows, self._pending = self._pending, []
            oldest = self._oldest
        if not rows:
            return 0
        try:
            self.store.record_traffic(rows)
        except Exception as exc:
            if database_lost(exc, self.outage.dbapi):
                self._requeue(rows, oldest)
            raise
        with self._lock:
            failed, self._retry_at = self._retry_at > 0, 0.0
            dropped, self._dropped = self._dropped, 0
        if failed:
            self.outage.back()
        if dropped:
            log.warning(
                "traffic log: %d exchanges were not logged: the database was unavailable "
                "and %d rows already waited to be written (the queue's limit)",
                dropped,
                self.max_pending,
            )
        return len(rows)

    def _requeue(self, rows: list[TrafficRecord], oldest: float) -> None:
        """Put rows a lost database refused back in front, the oldest kept within the cap."""
        with self._lock:
            queue = rows + self._pending
            self._pending = queue[: self.max_pending]
            self._dropped += len(queue) - len(self._pending)
            self._oldest = oldest
            self._retry_at = time.monotonic() + self.flush_interval

    def start(self) -> None:
        if self._thread is not None:
            return
        self._stop.clear()
        self._thread = threading.Thread(target=self._loop, name="bhxh-traffic", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        """Stop the thread and write what is left; a dead database costs at most about
        ``timeout`` of waiting for the thread, plus one failed attempt."""
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None
        if not self._flush_lock.acquire(timeout=timeout):  # a write hangs in the thread
            self._warn_unwritten("a write to the database did not finish")
            return
        try:
            self._write()
        except Exception as exc:
            if self.outage.caught(exc):
                self._warn_unwritten("the database is unavailable")
            else:
                log.exception("could not write the last traffic rows; they are dropped")
        finally:
            self._flush_lock.release()

    def _warn_unwritten(self, why: str) -> None:
        """At shutdown: say, once, how many exchanges the traffic log lost."""
        with self._lock:
            lost = len(self._pending) + self._dropped
            self._pending, self._dropped = [], 0
        if lost:
            log.warning("traffic log: %d exchanges were not logged before shutdown: %s", lost, why)

    def _loop(self) -> None:
        while not self._stop.is_set():
            self._wake.wait(self.flush_interval)
            self._wake.clear()
            try:
                self.flush()
            except Exception as exc:  # a lost database is warned about once, not per batch
                if not self.outage.caught(exc):
                    log.exception("could not write traffic rows; they are dropped")
