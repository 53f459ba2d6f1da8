"""A fault hook's counts: ``skip``, ``times``, its hits and a burst window's start, kept
in this process or once for every worker of a store, so ``--workers N`` neither
multiplies a burst or a reset nor shows each worker's share of the hits."""

from __future__ import annotations

from collections.abc import Callable

from mock_gateway import fault_store
from mock_gateway.fault_journal import FaultJournal
from mock_gateway.store import Store

Moment = tuple[float, float]
"""Real and simulated epoch seconds."""


class LocalBudget:
    """A hook's ``skip`` and ``times`` counted in this process: a plan no other worker
    shares (one set with :meth:`~mock_gateway.faulty_app.FaultyGateway.set_plan`)."""

    def __init__(self, skip: int, times: int | None) -> None:
        self.skip, self.times = skip, times
        self.seen = self.used = 0
        self.opened: Moment | None = None

    def skipped(self) -> bool:
        """Count a matching request; True while it is one of the first ``skip``."""
        self.seen += 1
        return self.seen <= self.skip

    def spent(self) -> bool:
        """True once every hit of ``times`` is taken."""
        return self.times is not None and self.used >= self.times

    def claim(self) -> bool:
        """Take one hit (the caller checked :meth:`spent`)."""
        self.used += 1
        return True

    def tally(self) -> None:
        """Count a hit :meth:`claim` did not take (a window's, a maintenance's): the
        hook's own count is the whole of it here."""

    def hits(self) -> int | None:
        """Every worker's hits (None: only this process's, the hook's own count)."""
        return None

    def window(self) -> Moment | None:
        """When the hook's burst window opened (None: not yet)."""
        return self.opened

    def open_window(self, at: Moment) -> Moment:
        """Open the burst window at ``at`` unless it is open; returns when it opened."""
        if self.opened is None:
            self.opened = at
        return self.opened


class SharedBudget(LocalBudget):
    """A hook's counts kept once for every worker of the store, so ``--workers N`` does
    not multiply them: ``skip`` and ``times`` with one atomic statement each (a worker
    stops writing once the skip is behind it and when the hits are all taken), other hits
    in batches (:class:`~mock_gateway.fault_journal.FaultJournal`), and the moment the
    first worker opened a burst window, which every other one reads.

    A store that fails (``on_error``, which says so) lets the request through unhit.
    """

    def __init__(
        self,
        skip: int,
        times: int | None,
        where: tuple[Store, int, int],
        on_error: Callable[[Exception], None],
        journal: FaultJournal,
    ) -> None:
        super().__init__(skip, times)
        self.store, self.plan, self.hook = where
        self.on_error, self.journal = on_error, journal
        self.past_skip = skip == 0
        self.gone = times == 0

    def skipped(self) -> bool:
        if self.past_skip:
            return False
        try:
            seen = self.store.count_fault_request(self.plan, self.hook)
        except Exception as exc:  # the request goes on to the core, which says 503
            self.on_error(exc)
            return True
        self.past_skip = seen > self.skip
        return not self.past_skip

    def spent(self) -> bool:
        return self.gone

    def claim(self) -> bool:
        if self.times is None:
            self.tally()
            return True
        try:
            used = self.store.claim_fault_hit(self.plan, self.hook, self.times)
        except Exception as exc:
            self.on_error(exc)
            return False
        self.gone = used is None or used >= self.times
        return used is not None

    def tally(self) -> None:
        self.journal.hit(self.plan, self.hook)

    def hits(self) -> int:
        """Hits taken from ``times`` plus the others every worker wrote (this one's own are
        written first by :meth:`~mock_gateway.faulty_app.FaultyGateway.state`)."""
        claimed = self.store.fault_hits(self.plan).get(self.hook, 0) if self.times else 0
        return claimed + fault_store.hook_hits(self.store, self.plan).get(self.hook, 0)

    def window(self) -> Moment | None:
        if self.opened is None:  # another worker may have opened it since
            try:
                self.opened = fault_store.window(self.store, (self.plan, self.hook))
            except Exception as exc:  # as if not open: fire() decides, and fails alike
                self.on_error(exc)
        return self.opened

    def open_window(self, at: Moment) -> Moment:
        if self.opened is None:
            try:
                self.opened = fault_store.open_window(self.store, (self.plan, self.hook), *at)
            except Exception as exc:  # this worker's window at least
                self.on_error(exc)
                self.opened = at
        return self.opened


__all__ = ["LocalBudget", "Moment", "SharedBudget"]
