"""What the core takes and gives: a request, its answer, and the exchange between them.

Kept apart from :mod:`mock_gateway.core` so the front ends (ASGI app, ``requests``
adapter, fault layer) and the handlers can name these types without the gateway itself.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from mock_gateway.records import NewDossier
from mock_gateway.routes import Route

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
    the last value), which :mod:`mock_gateway.params` refuses.
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

    def __post_init__(self) -> None:
        object.__setattr__(self, "headers", {k.lower(): v for k, v in self.headers.items()})
        object.__setattr__(self, "method", self.method.upper())

    def header(self, name: str) -> str | None:
        return self.headers.get(name.lower())

    @property
    def size(self) -> int:
        return self.body_size if self.body_size is not None else len(self.body)


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
