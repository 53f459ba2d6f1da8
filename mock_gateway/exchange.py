"""What the core takes and gives: a request, its answer, and the exchange between them.

Kept apart from :mod:`mock_gateway.core` so the front ends (ASGI app, ``requests``
adapter, fault layer) and the handlers can name these types without the gateway itself.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime

from mock_gateway.clock import iso
from mock_gateway.records import NewDossier, TrafficRecord
from mock_gateway.routes import Route

_QUERY_TOKEN = re.compile(r"((?:^|&)token=)[^&]*")
"""A bearer token given in the query (``/dashboard?token=...``), kept out of the log."""

XML = "application/xml; charset=utf-8"
JSON = "application/json"


@dataclass(frozen=True)
class GatewayRequest:
    """An HTTP request as the core sees it; header names are matched case-insensitively.

    ``body_size`` is set by a front end that stopped reading a body over the size cap: it
    then passes the size it saw (or was told) and an empty ``body``. ``complete`` is False
    when the client hung up before its whole body arrived: ``body`` is what did.
    ``stalled`` is True when the client stopped sending mid-body for longer than the
    gateway's ``client_timeout``: ``body`` is what arrived.
    ``repeated_query`` names the query parameters given more than once (``query`` holds
    the last value), which :mod:`mock_gateway.params` refuses. ``query_string`` and
    ``raw_path`` are the query and path as they were sent (``path`` is decoded), and
    ``received_at`` the wall-clock time the request's first byte arrived, where the front
    end knows them: the traffic log keeps the target as sent and times the exchange from
    its first byte, upload included. ``unread_for`` bounds how long, in seconds, that byte
    may have waited before the front end read it (:mod:`mock_gateway.loop_watch`).
    """

    method: str
    path: str
    headers: Mapping[str, str] = field(default_factory=dict)
    query: Mapping[str, str] = field(default_factory=dict)
    body: bytes = b""
    body_size: int | None = None
    complete: bool = True
    stalled: bool = False
    repeated_query: frozenset[str] = frozenset()
    query_string: str = ""
    received_at: float | None = None
    unread_for: float | None = None
    raw_path: str = ""

    def __post_init__(self) -> None:
        object.__setattr__(self, "headers", {k.lower(): v for k, v in self.headers.items()})
        object.__setattr__(self, "method", self.method.upper())

    def header(self, name: str) -> str | None:
        return self.headers.get(name.lower())

    @property
    def size(self) -> int:
        return self.body_size if self.body_size is not None else len(self.body)

    @property
    def target(self) -> str:
        """The path and query as sent, as an access log shows a request, with a credential
        given as ``?token=`` (the dashboards take one) masked."""
        path = self.raw_path or self.path
        if not self.query_string:
            return path
        query = _QUERY_TOKEN.sub(r"\1***", self.query_string)
        return f"{path}?{query}"

    def arrival(self) -> tuple[float, float]:
        """When the exchange began: (wall-clock time, the matching ``perf_counter``), from
        the request's first byte where the front end knows it, else from now."""
        now, counter = time.time(), time.perf_counter()
        if self.received_at is None or self.received_at > now:
            return now, counter
        return self.received_at, counter - (now - self.received_at)

    def traffic_record(
        self,
        response: GatewayResponse,
        *,
        ivan: str | None,
        started: float,
        duration: float,
        answer: bytes | None = None,
    ) -> TrafficRecord:
        """The traffic-log row of this request answered with ``response``, keeping
        ``answer`` as its body (default: the response's); a body over the size cap is not
        kept, only its size."""
        return TrafficRecord(
            ivan=ivan,
            method=self.method,
            path=self.target,
            message_id=self.header("x-message-id") or None,
            status=response.status,
            request_size=self.size,
            request=self.body if self.body_size is None else b"",
            response=response.body if answer is None else answer,
            started=iso(datetime.fromtimestamp(started, UTC)),
            duration_ms=duration * 1000.0,
            outcome=response.outcome,
            unread_ms=None if self.unread_for is None else self.unread_for * 1000.0,
        )


@dataclass(frozen=True)
class GatewayResponse:
    """Status, headers and body; ``outcome`` (OK or the error code) is for logs and metrics."""

    status: int
    headers: dict[str, str]
    body: bytes
    outcome: str = "OK"

    @property
    def content_type(self) -> str:
        return self.headers.get("Content-Type", "")


@dataclass(frozen=True)
class PendingReceipt:
    """An accepted dossier and its signed receipt, not stored yet: :meth:`Gateway.commit`
    stores it, and only then is the receipt sent."""

    dossier: NewDossier
    receipt: bytes
    receipt_id: str
    lost: bool = False  # a simulated faulty release's: acknowledged, never stored


@dataclass
class Exchange:
    """One request between :meth:`Gateway.start` and :meth:`Gateway.finish`."""

    request: GatewayRequest
    route: Route | None = None
    ivan: str | None = None
    started: float = 0.0  # wall clock, for the traffic log
    t0: float = 0.0  # perf_counter, for the duration
    response: GatewayResponse | None = None
    pending: PendingReceipt | None = None
    logged: bool = False  # already in the traffic log (a fault layer answered it whole)

    @classmethod
    def answered(cls, request: GatewayRequest, response: GatewayResponse) -> Exchange:
        """An exchange whose answer was produced and logged elsewhere."""
        return cls(request, response=response, logged=True)


Handler = Callable[[GatewayRequest, dict[str, str], str | None], "GatewayResponse | PendingReceipt"]
