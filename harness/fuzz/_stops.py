"""Ctrl-C and SIGTERM during a fuzz campaign: remembered, so one lost inside hypothesis is
raised again before the next case (see :class:`Stops`)."""

from __future__ import annotations

import signal
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from types import FrameType
from typing import Any


class Stops:
    """Ctrl-C and SIGTERM during a campaign, remembered as well as raised by their handlers.

    Hypothesis runs code in a gc callback, where an exception is printed ("Exception
    ignored", with a traceback) and lost: a Ctrl-C landing there was, and the run went on
    to its end. So :meth:`check`, before each case, raises again a stop whose exception
    was lost, and such a lost stop is not printed (the user pressed Ctrl-C; no bug).
    """

    def __init__(self) -> None:
        self.signum: int | None = None
        self._handlers: dict[int, Callable[[int, FrameType | None], Any]] = {}
        self._previous_hook: Callable[[Any], Any] = sys.unraisablehook

    @contextmanager
    def watching(self) -> Iterator[None]:
        """Within the block, Ctrl-C and SIGTERM are remembered before their handler runs."""
        if threading.current_thread() is threading.main_thread():  # where handlers are set
            for stop in (signal.SIGINT, signal.SIGTERM):
                handler = signal.getsignal(stop)
                if callable(handler):  # SIG_DFL, SIG_IGN: nothing is raised, nor lost
                    self._handlers[stop] = handler
                    signal.signal(stop, self._stopped)
        self._previous_hook = sys.unraisablehook
        sys.unraisablehook = self._unraisable
        try:
            yield
        finally:
            sys.unraisablehook = self._previous_hook
            for signum, previous in self._handlers.items():
                signal.signal(signum, previous)

    def _unraisable(self, unraisable: Any) -> None:
        """Drop a stop (KeyboardInterrupt, SIGTERM's exception) lost where it could not be
        raised; :meth:`check` raises it again. Anything else is reported as before."""
        lost = unraisable.exc_value
        if self.signum is not None and not isinstance(lost, Exception):
            return
        self._previous_hook(unraisable)

    def _stopped(self, signum: int, frame: FrameType | None) -> None:
        self.signum = signum
        self._handlers[signum](signum, frame)

    def check(self) -> None:
        """Raise again, through its handler, a stop whose exception was lost."""
        if self.signum is not None:
            self._handlers[self.signum](self.signum, None)


__all__ = ["Stops"]
