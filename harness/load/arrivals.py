"""The open model's arrivals: each dossier on its own greenlet, at its scheduled time.

A user that sent one dossier at a time let a slow gateway delay and drop the arrivals
due while it waited (partial coordinated omission), just when a deadline test matters.
Here a user only keeps the schedule: each arrival is sent on a greenlet of its own, so a
slow answer delays no other. What bounds a user is its in-flight cap
(``models.open.max_in_flight``): an arrival beyond it is counted not sent, never hidden.
Locust's FastHttpSession takes concurrent requests from several greenlets (give it as
many connections as the cap), and the lifecycle log is only touched between two
switches of gevent's single thread, so concurrent dossiers need no lock.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

from gevent.pool import Group  # type: ignore[import-untyped]

from harness.load.lifecycle_log import LifecycleLog
from harness.load.pacing import NOT_SENT, Pacer

_LOG = logging.getLogger(__name__)


def _log_error(exc: Exception) -> None:
    """Without a locust user to report to, a broken dossier is at least logged."""
    _LOG.error("a dossier's greenlet failed: %s: %s", type(exc).__name__, exc)


def _never() -> bool:
    return False


class Greenlets(Protocol):
    """The part of ``gevent.pool.Group`` the arrivals use."""

    def spawn(self, func: Callable[..., object], *args: Any) -> object: ...

    def join(self, timeout: float | None = None) -> bool: ...

    def kill(self, block: bool = True) -> None: ...


def _group() -> Greenlets:
    group: Greenlets = Group()
    return group


@dataclass
class OpenArrivals:
    """One open-model user's dossiers in flight, each on its own greenlet, at most ``cap``.

    :meth:`dispatch` starts an arrival at once and returns; :meth:`stop` gives the ones
    still in flight when the user stops a grace, then cuts them off (their submitter
    counts each in flight at stop, as it does for a user stopped mid-dossier).
    """

    pacer: Pacer
    cap: int
    log: LifecycleLog
    stopping: Callable[[], bool] = _never
    on_error: Callable[[Exception], None] = _log_error
    group: Greenlets = field(default_factory=_group)
    in_flight: int = 0

    def dispatch(self, send: Callable[[], object]) -> bool:
        """Start one arrival now, on its own greenlet (True). False when the run is stopping
        (an arrival after the end is not scheduled: nothing counted) or when ``cap``
        dossiers are already in flight (counted as :data:`NOT_SENT`)."""
        if self.stopping():
            return False
        if self.in_flight >= self.cap:
            self.log.count(NOT_SENT)
            return False
        self.pacer.started()
        self.in_flight += 1
        self.group.spawn(self._run, send)
        return True

    def _run(self, send: Callable[[], object]) -> None:
        """One dossier's greenlet: an error is reported, not lost in gevent's hub."""
        try:
            send()
        except Exception as exc:
            self.on_error(exc)
        finally:
            self.in_flight -= 1

    def stop(self, grace: float) -> None:
        """Wait up to ``grace`` seconds for the dossiers in flight, then cut off the rest;
        a stop thrown in meanwhile (locust's own timeout) cuts them off at once."""
        try:
            self.group.join(timeout=max(0.0, grace))
        finally:
            self.group.kill(block=True)


__all__ = ["OpenArrivals"]
