"""Sending one fuzz case to a target and recording what came back as an
:class:`~harness.fuzz.observation.Observation`: an acknowledged dossier read back,
resent, and another body sent under its message id; a gateway asking to wait waited
out. Its own module: this is the I/O, apart from the properties that judge its result.
"""

from __future__ import annotations

import itertools
import time
import traceback
from collections.abc import Callable
from typing import TypeVar

from harness.client import RetryPolicy
from harness.fuzz._watchdog import CallTimedOut, Watchdog
from harness.fuzz.observation import DEFAULT_TIMEOUT, Observation
from harness.fuzz.properties import PropertyFailed, failures
from harness.fuzz.strategies import FuzzCase
from harness.fuzz.target import Retrieved, Submitted, Target


def other_body(body: bytes) -> bytes:
    """``body`` with a comment after its root element: other bytes, the same dossier and
    signatures, so only the reused message id can make a gateway refuse it."""
    return body + b"\n<!-- fuzz: another body under the same X-Message-Id -->\n"


_WATCHDOG = Watchdog()
_MESSAGES = itertools.count(1)

MAX_WAIT = 60.0
"""Seconds one request may spend waiting out a gateway that asks to wait (429, 503 with
``Retry-After``) before the gateway counts as unavailable and the run ends, no verdict."""
RETRY = RetryPolicy(base_delay=0.5, max_delay=MAX_WAIT)
"""How such a request is sent again: as many tries as the reference client's policy, the
first retry of a 429 that names no ``Retry-After`` after ``base_delay`` (then doubled), no
wait beyond :data:`MAX_WAIT`. Its ``timeout`` is unused: a case has its own."""


class _StillUnavailable(Exception):
    """The gateway kept asking to wait past :data:`MAX_WAIT` or ``RETRY.attempts`` tries."""


Answered = TypeVar("Answered", Submitted, Retrieved)


def _wait(seconds: float) -> None:
    """Sleep (a seam: tests wait no real time)."""
    time.sleep(seconds)


def _pause(attempt: int, asked: float) -> float:
    """Seconds before the try after ``attempt``: the ``Retry-After`` asked, else ``RETRY``'s
    backoff, both capped. Not ``RETRY.delay``: its full jitter may crowd the tries into less
    than a second of a short 429 burst, and it may wait longer than the gateway asked."""
    backoff = RETRY.base_delay * 2 ** (attempt - 1)
    return min(asked or backoff, RETRY.max_delay)


def _patiently(dog: Watchdog, call: Callable[[], Answered], timeout: float) -> Answered:
    """``call()``'s answer once the gateway stops asking to wait, as ``regress`` and ``load``
    retry: the same request again, after ``Retry-After`` (capped), bounded in total."""
    waited = 0.0
    for attempt in range(1, RETRY.attempts + 1):
        answer: Answered = dog.call(call, timeout)
        if answer.retry_after is None:
            return answer
        pause = _pause(attempt, answer.retry_after)
        if attempt == RETRY.attempts or waited + pause > MAX_WAIT:
            break
        _wait(pause)
        waited += pause
    asked = "" if not answer.retry_after else f" (Retry-After: {answer.retry_after:g})"
    raise _StillUnavailable(
        f"it answered HTTP {answer.status}{asked} {attempt} time(s) in a row, "
        f"over {waited:.0f} s of waiting"
    )


def observe(
    target: Target,
    case: FuzzCase,
    *,
    timeout: float = DEFAULT_TIMEOUT,
    strict: bool = True,
    watchdog: Watchdog | None = None,
) -> Observation:
    """Send ``case`` under a fresh message id and read an acknowledged dossier back; a
    gateway asking to wait is waited out (see :func:`_patiently`), the wait not timed."""
    dog = watchdog or _WATCHDOG
    message_id = f"{case.message_id}-{next(_MESSAGES)}"
    try:
        return _observe(target, case, dog, message_id, timeout, strict)
    except _StillUnavailable as exc:
        return Observation(case, None, 0.0, timeout, strict=strict, unavailable=str(exc))


def _observe(
    target: Target, case: FuzzCase, dog: Watchdog, message_id: str, timeout: float, strict: bool
) -> Observation:
    start = time.perf_counter()

    def submit() -> Submitted:
        nonlocal start
        start = time.perf_counter()  # the last attempt is the one timed
        return target.submit(case.body, message_id)

    try:
        answer: Submitted = _patiently(dog, submit, timeout)
    except CallTimedOut:
        return Observation(case, None, time.perf_counter() - start, timeout, strict=strict)
    except _StillUnavailable:
        raise
    except Exception as exc:
        text = "".join(traceback.format_exception(exc)).strip()
        return Observation(case, None, time.perf_counter() - start, timeout, text, strict=strict)
    elapsed = time.perf_counter() - start
    retrieved = replayed = conflicting = None
    if answer.receipt_id is not None:
        receipt, other = str(answer.receipt_id), other_body(case.body)
        try:
            retrieved = _patiently(dog, lambda: target.fetch(receipt), timeout)
            replayed = _patiently(dog, lambda: target.submit(case.body, message_id), timeout)
            conflicting = _patiently(dog, lambda: target.submit(other, message_id), timeout)
        except CallTimedOut:
            retrieved = retrieved or Retrieved(504, None)
        except _StillUnavailable:
            raise
        except Exception as exc:
            text = "".join(traceback.format_exception(exc)).strip()
            return Observation(case, answer, elapsed, timeout, text, strict=strict)
    return Observation(
        case, answer, elapsed, timeout, None, retrieved, strict, replayed, None, conflicting
    )


def assert_case(
    target: Target,
    case: FuzzCase,
    *,
    timeout: float = DEFAULT_TIMEOUT,
    strict: bool = True,
    record: Callable[[PropertyFailed], None] | None = None,
) -> Observation:
    """Send ``case`` and raise the first :class:`PropertyFailed` (after ``record``-ing it)."""
    obs = observe(target, case, timeout=timeout, strict=strict)
    found = failures(obs)
    if found:
        if record is not None:
            record(found[0])
        raise found[0]
    return obs


__all__ = ["MAX_WAIT", "RETRY", "assert_case", "observe", "other_body"]
