"""Sending one dossier as an I-VAN would (:class:`Submitter`, one locust task): submit,
retry safely, and account for a dossier the stop cuts off.

Retrying follows the reference client (:mod:`harness.client`): the same ``X-Message-Id``
on every attempt, so a retried dossier can never be stored twice; exponential backoff
with full jitter; ``Retry-After`` wins when it is longer. The hot path parses no XML: the
receipt's ``MA_GDICH`` and a refusal's code travel in headers (``X-Ma-Gdich``,
``X-BHXH-Ma-Loi``), and every millisecond the generator spends is a millisecond of load
it does not generate.
"""

from __future__ import annotations

import functools
import random
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from harness.client import RETRYABLE_STATUS, RetryPolicy
from harness.load.ivan import (
    ABANDONED,
    ACCEPTED,
    CUT_OFF,
    IN_FLIGHT,
    LOAD_RETRY,
    REJECTED,
    STOPPED,
    SUBMIT,
    SUBMIT_RETRY,
    WAITING_RETRY,
    Client,
    _header,
    _retry_after,
    failure_text,
    locust_stopping,
    refusal_code,
)
from harness.load.lifecycle_log import LifecycleLog
from harness.load.pool import Picker

TRIVIAL_BODY = b"<?xml version='1.0' encoding='UTF-8'?>\n<Hoso/>"
"""The benchmark's stand-in payload: what the generator costs without a real envelope."""

_REFUSALS = frozenset({429, 503})
"""Answers that say the gateway did not take the dossier (a 502/504 may come from a proxy
whose gateway did), so a dossier refused only with these is not stored."""


@dataclass
class Submitter:
    """Sends one dossier until the gateway answers for good (one locust task)."""

    client: Client
    ivan_token: str
    picker: Picker
    log: LifecycleLog
    rng: random.Random
    retry: RetryPolicy = LOAD_RETRY
    trivial: bool = False
    sleep: Callable[[float], None] = time.sleep
    clock: Callable[[], float] = time.time
    timer: Callable[[], float] = time.perf_counter  # response times (locust rounds its own)
    stopping: Callable[[], bool] | None = None  # default: :func:`locust_stopping` of client
    procedure: str = ""  # of the dossier picked last (informative: see :meth:`submit`)

    def submit(self) -> str:
        """``accepted``, ``rejected`` (a 4xx answer) or ``abandoned`` (retries ran out);
        :data:`STOPPED` once the run is stopping. A dossier its user is stopped in the
        middle of (locust kills it: ``GreenletExit``) is counted :data:`IN_FLIGHT` (or
        :data:`WAITING_RETRY` if it was waiting to retry after refusals that stored
        nothing), for its own procedure even when the open model has several dossiers in
        flight at once."""
        stopping = self.stopping or functools.partial(locust_stopping, self.client)
        if stopping():
            return STOPPED
        procedure, envelope = self.picker.pick(self.rng)
        self.procedure = procedure
        return self._send(procedure, envelope)

    def _send(self, procedure: str, envelope: bytes) -> str:
        """Send one dossier, retrying as the reference client does, until a final answer.
        A stop (not an error: ``GreenletExit``) in the middle is accounted for: cut off
        in flight, or waiting out a Retry-After after refusals that stored nothing."""
        body = TRIVIAL_BODY if self.trivial else envelope
        headers = {
            "Authorization": f"Bearer {self.ivan_token}",
            "Content-Type": "application/xml",
            "X-Message-Id": str(uuid.uuid4()),  # fresh per dossier, the same on every retry
        }
        self.log.sending += 1
        try:
            return self._attempts(procedure, body, headers)
        finally:
            self.log.sending -= 1

    def _attempts(self, procedure: str, body: bytes, headers: dict[str, str]) -> str:
        """The attempts at one dossier, as the reference client makes them."""
        started = self.clock()
        maybe_stored = False  # an attempt got no answer, or one a proxy may have given
        for attempt in range(1, self.retry.attempts + 1):
            name = SUBMIT if attempt == 1 else SUBMIT_RETRY
            sent = self.timer()
            with (
                self._stop_means(CUT_OFF + name, IN_FLIGHT, procedure),
                self.client.request(
                    "POST",
                    "/api/v1/dossiers",
                    name=name,
                    data=body,
                    headers=headers,
                    catch_response=True,
                ) as response,
            ):
                status = response.status_code
                maybe_stored |= status not in _REFUSALS
                self.log.response(name, (self.timer() - sent) * 1000.0, status, procedure)
                ma_gdich = _header(response, "X-Ma-Gdich")
                if status == 202 and ma_gdich:
                    response.success()
                    self.log.receipt(ma_gdich, started, self.clock(), procedure)
                    return ACCEPTED
                retry = (status in RETRYABLE_STATUS or status == 0) and (
                    attempt < self.retry.attempts
                )
                response.failure(failure_text(response))
                wait = self.retry.delay(attempt, _retry_after(response), self.rng)
                code = refusal_code(response)
            if not retry:
                outcome = REJECTED if 400 <= status < 500 else ABANDONED
                self.log.outcome(outcome, procedure, code if outcome == REJECTED else "")
                return outcome
            self.log.count("retries", procedure=procedure)
            with self._stop_means("", IN_FLIGHT if maybe_stored else WAITING_RETRY, procedure):
                self.sleep(wait)
        return ABANDONED  # pragma: no cover - the loop returns on its last attempt

    @contextmanager
    def _stop_means(self, request: str, outcome: str, procedure: str) -> Iterator[None]:
        """A stop within the block (locust kills the user: not an ``Exception``) makes the
        dossier's outcome ``outcome``, and counts ``request`` (if any) unanswered."""
        try:
            yield
        except BaseException as exc:
            if not isinstance(exc, Exception):
                self.log.outcome(outcome, procedure)
                if request:
                    self.log.count(request)
            raise


__all__ = ["TRIVIAL_BODY", "Submitter"]
