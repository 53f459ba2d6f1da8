"""A fault hook's ``skip`` and ``times``: counted in this process, or once for every
worker of a store, so ``--workers N`` does not multiply a burst or a reset."""

from __future__ import annotations

from collections.abc import Callable

from mock_gateway.store import Store


class LocalBudget:
    """A hook's ``skip`` and ``times`` counted in this process: a plan no other worker
    shares (one set with :meth:`~mock_gateway.faulty_app.FaultyGateway.set_plan`)."""

    def __init__(self, skip: int, times: int | None) -> None:
        self.skip, self.times = skip, times
        self.seen = self.used = 0

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

    def hits(self) -> int | None:
        """Hits counted against ``times`` by every worker (None: not counted here)."""
        return None


class SharedBudget(LocalBudget):
    """A hook's ``skip`` and ``times`` counted once for every worker of the store, so
    ``--workers N`` does not multiply them; each count is one atomic statement, and a
    worker stops writing once the skip is behind it and when the hits are all taken.

    A store that fails (``on_error``, which says so) lets the request through unhit.
    """

    def __init__(
        self,
        skip: int,
        times: int | None,
        where: tuple[Store, int, int],
        on_error: Callable[[Exception], None],
    ) -> None:
        super().__init__(skip, times)
        self.store, self.plan, self.hook = where
        self.on_error = on_error
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
            return True
        try:
            used = self.store.claim_fault_hit(self.plan, self.hook, self.times)
        except Exception as exc:
            self.on_error(exc)
            return False
        self.gone = used is None or used >= self.times
        return used is not None

    def hits(self) -> int | None:
        if self.times is None:
            return None
        return self.store.fault_hits(self.plan).get(self.hook, 0)


__all__ = ["LocalBudget", "SharedBudget"]
