"""The vocabulary a load run's I-VAN users share: step and outcome names, report keys, the
retry policy, the client protocol they speak and the helpers that read its responses.

It is the bottom of :mod:`harness.load`'s user side (:mod:`~harness.load.submitter`,
:mod:`~harness.load.feed`, :mod:`~harness.load.lifecycle_log`) and what the levels, the
result and the report read, so the names a run is judged by are defined in one place.

The users run without locust: the locustfile hands in locust's HTTP client (any
object with ``request(method, path, name=, data=, headers=, catch_response=True)``
returning a context manager whose response has ``success()`` / ``failure()``), so the
logic is unit-tested with a fake client and the locustfile stays a thin adapter.
"""

from __future__ import annotations

from collections.abc import Mapping
from contextlib import AbstractContextManager
from typing import Any, Protocol

from harness.client import RETRYABLE_STATUS, RetryPolicy, parse_retry_after

SUBMIT = "submit"
SUBMIT_RETRY = "submit (retry)"
FEED = "feed"
FEED_START = "feed (finding its end)"
FEED_AT_STOP = "feed (counting what is left at the stop)"
ACK = "ack"
ACK_OTHER = "ack (not this run's)"
"""Acknowledging a message that is not about one of the run's dossiers (an earlier run's
dossier the gateway handled meanwhile): every message is acknowledged, but these are kept
out of the ack step, so its latency is the run's own."""
STEPS = (SUBMIT, SUBMIT_RETRY, FEED, ACK)

ACCEPTED, REJECTED, ABANDONED = "accepted", "rejected", "abandoned"
IN_FLIGHT = "in flight at stop"
"""Dossiers whose user locust stopped before the gateway answered (or before a retry): the
gateway may have stored them, so the report counts them apart instead of losing them."""
ANSWERED_IN_GRACE = "answered in the stop grace"
"""Dossiers in flight when the run's duration ended whose answer came within the grace
the run gives them (counted among accepted, rejected or abandoned as well)."""
WAITING_RETRY = "waiting out Retry-After at stop"
"""Dossiers whose user was stopped while it waited to retry after a 429/503 (every attempt
answered, none timed out): the gateway refused each, so none is stored; not in flight."""
CUT_OFF = "unanswered at stop: "
"""Prefix of the counts, per step, of requests still unanswered when the stop cut them off
(after the stop grace): each is known slower than the grace, so a latency level on its
step counts it as a miss when the grace is past the level's limit."""
SENT = (ACCEPTED, REJECTED, ABANDONED, IN_FLIGHT, WAITING_RETRY)
"""A dossier's outcomes once sent: they add up to the dossiers sent."""


def sent(counts: Mapping[str, float]) -> int:
    """The dossiers sent: the sum of ``counts``' :data:`SENT` outcomes."""
    return int(sum(counts.get(k, 0) for k in SENT))


STOPPED = "not started: run stopping"
"""What :meth:`Submitter.submit` returns once locust is stopping: no dossier is started
that the stop would cut off in flight."""
NOT_TIMED = "messages not timed"
HELD_ACKS = "held_acks"
"""The key, in a worker's report, of the acks of messages read before their receipt that
no receipt has claimed yet (a snapshot): ``([ms answered], failed)``."""
DUPLICATES = "duplicate messages"
"""A message about a dossier and stage already timed (at-least-once delivery): counted,
never timed again, so a redelivery adds no sample."""

FAILED_REQUESTS = "failed_requests"
"""The key, in a lifecycle summary and each procedure's share, of ``{step: requests the
gateway did not answer}`` (no HTTP answer, 429 or 5xx): they are not response times."""

STAGES = ("submit_to_receipt", "submit_to_handover", "submit_to_result")

LOAD_RETRY = RetryPolicy(attempts=4, base_delay=0.5, max_delay=10.0, timeout=30.0)

UNREAD, UNREAD_COUNTED, UNACKNOWLEDGED = "unread", "unread_counted", "unacknowledged"
"""An I-VAN's record of what its feed reader left at the stop (``feed_at_stop``)."""


class Response(Protocol):
    """The part of locust's response (with ``catch_response=True``) the users need."""

    status_code: int
    headers: Any

    @property
    def content(self) -> bytes | None: ...

    def success(self) -> None: ...

    def failure(self, exc: Any) -> None: ...


class Client(Protocol):
    """The part of locust's ``FastHttpSession`` the users need."""

    def request(
        self,
        method: str,
        url: str,
        *,
        name: str | None = None,
        data: bytes | None = None,
        headers: dict[str, str] | None = None,
        catch_response: bool = False,
    ) -> AbstractContextManager[Response]: ...


def _header(response: Response, name: str) -> str:
    headers = response.headers
    value = headers.get(name) if headers is not None else None
    return str(value) if value else ""


def failure_text(response: Response) -> str:
    """Why a request failed, for locust's failures table: the status and BHXH error code,
    or for status 0 (no HTTP answer) what went wrong, e.g. the connection was refused."""
    status = response.status_code
    if status == 0:
        error = getattr(response, "error", None)
        if isinstance(error, ConnectionRefusedError):
            return "no answer: connection refused (is the gateway running at this address?)"
        if error is not None:
            return f"no answer from the gateway: {type(error).__name__}: {error}"[:300]
    return f"HTTP {status} {_header(response, 'X-BHXH-Ma-Loi')}".strip()


_STOPPING_STATES = frozenset({"cleanup", "stopping", "stopped"})
"""Locust runner states once a run is being stopped (``locust.runners.STATE_*``)."""


def locust_stopping(client: object) -> bool:
    """Whether locust is stopping the run of ``client``'s user (False for a client that is
    not locust's): a dossier started then would be cut off in flight by the stop."""
    user = getattr(client, "user", None)
    runner = getattr(getattr(user, "environment", None), "runner", None)
    return getattr(runner, "state", None) in _STOPPING_STATES


def _retry_after(response: Response) -> float | None:
    return parse_retry_after(_header(response, "Retry-After")) or None


def answered(status: int) -> bool:
    """Whether ``status`` is the gateway's final answer (2xx-4xx, but 429): only those are
    response times. A refused connection, a timeout (status 0) or a fast 503 is a failure,
    and counting it as a latency sample made a gateway that fails fast look fast."""
    return 200 <= status < 500 and status not in RETRYABLE_STATUS


def refusal_code(response: Response) -> str:
    """The BHXH error code a refusal carries (``X-BHXH-Ma-Loi``), else its HTTP status: what
    the per-procedure breakdown lists as a rejected dossier's reason."""
    return _header(response, "X-BHXH-Ma-Loi") or f"HTTP {response.status_code}"


__all__ = [
    "ABANDONED",
    "ACCEPTED",
    "ACK",
    "ACK_OTHER",
    "ANSWERED_IN_GRACE",
    "CUT_OFF",
    "DUPLICATES",
    "FAILED_REQUESTS",
    "FEED",
    "FEED_AT_STOP",
    "FEED_START",
    "HELD_ACKS",
    "IN_FLIGHT",
    "LOAD_RETRY",
    "NOT_TIMED",
    "REJECTED",
    "SENT",
    "STAGES",
    "STEPS",
    "STOPPED",
    "SUBMIT",
    "SUBMIT_RETRY",
    "UNACKNOWLEDGED",
    "UNREAD",
    "UNREAD_COUNTED",
    "WAITING_RETRY",
    "Client",
    "Response",
    "answered",
    "failure_text",
    "locust_stopping",
    "refusal_code",
    "sent",
]
