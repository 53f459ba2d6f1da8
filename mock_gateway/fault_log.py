"""The fault event log ``GET /admin/faults/log`` serves: what each fault did.

In memory while the gateway runs a plan of this process alone (``set_plan``); in the
store, through a :class:`~mock_gateway.fault_journal.FaultJournal`, once it runs a plan
shared with other workers, so a client reading ``after=`` its last seq gets every
worker's events whichever worker answers. It stays there: a cursor must not jump back.
"""

from __future__ import annotations

import threading
from collections import deque
from typing import Any

from mock_gateway.fault_journal import FaultJournal
from mock_gateway.fault_store import KEEP_EVENTS


class FaultLog:
    """The newest :data:`KEEP_EVENTS` events, each with a ``seq`` a reader resumes after."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._events: deque[dict[str, Any]] = deque(maxlen=KEEP_EVENTS)
        self._sequence = 0
        self.journal: FaultJournal | None = None

    def share(self, journal: FaultJournal) -> None:
        """Log in the store from now on (once: later calls keep the first journal)."""
        if self.journal is None:
            self.journal = journal

    def append(self, entry: dict[str, Any]) -> dict[str, Any]:
        """Log ``entry``; returns it as logged (with its ``seq`` when kept in memory)."""
        if self.journal is not None:
            self.journal.event(entry)
            return entry
        with self._lock:
            self._sequence += 1
            logged = {"seq": self._sequence, **entry}
            self._events.append(logged)
        return logged

    def after(self, after: int) -> list[dict[str, Any]]:
        """The kept events with a seq above ``after``, oldest first."""
        if self.journal is not None:
            return self.journal.events(after)
        with self._lock:
            return [e for e in self._events if e["seq"] > after]

    def count(self) -> int:
        """How many events were logged (every worker's, when shared)."""
        if self.journal is not None:
            return self.journal.count()
        with self._lock:
            return self._sequence


__all__ = ["FaultLog"]
