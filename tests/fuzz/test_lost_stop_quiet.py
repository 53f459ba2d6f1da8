"""A Ctrl-C that lands in hypothesis's gc callback is lost there and raised again before
the next case; Python would print it as "Exception ignored ... Traceback", which a user
who pressed Ctrl-C must not see (a clean-clone CI run caught it once)."""

from __future__ import annotations

import signal
import sys
from types import SimpleNamespace
from typing import Any

from harness.fuzz.runner import _Stops


def _lost(exc: BaseException) -> SimpleNamespace:
    """What Python hands sys.unraisablehook for an exception it could not raise."""
    return SimpleNamespace(
        exc_type=type(exc), exc_value=exc, exc_traceback=None, err_msg=None, object=None
    )


def test_a_lost_stop_is_not_printed_and_other_errors_still_are() -> None:
    heard: list[Any] = []
    before = sys.unraisablehook
    sys.unraisablehook = heard.append
    try:
        stops = _Stops()
        with stops.watching():
            stops.signum = signal.SIGINT  # the handler ran: the stop is remembered
            sys.unraisablehook(_lost(KeyboardInterrupt()))
            sys.unraisablehook(_lost(ValueError("a real bug")))
        assert [type(u.exc_value) for u in heard] == [ValueError]
        assert sys.unraisablehook == heard.append  # the previous hook is back
    finally:
        sys.unraisablehook = before


def test_without_a_stop_a_lost_keyboard_interrupt_is_still_reported() -> None:
    heard: list[Any] = []
    before = sys.unraisablehook
    sys.unraisablehook = heard.append
    try:
        with _Stops().watching():
            sys.unraisablehook(_lost(KeyboardInterrupt()))
        assert len(heard) == 1
    finally:
        sys.unraisablehook = before
