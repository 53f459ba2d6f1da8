"""What the traffic log and ``/metrics`` keep of an exchange a fault took part in.

Both must say what went on the wire, yet the certification suite counts stored dossiers
by the traffic log's status and receipt. So a row keeps the gateway's own status and
body, and when a fault changed what the client got, its ``outcome`` says so as
``<the gateway's>><what was sent>`` (``OK>RESET``, ``OK>SRV-002``); ``duration_ms``
includes the hold a fault added. ``/metrics`` counts what was sent: a reset is status 0,
outcome ``RESET``, as a reset before the core is logged.
"""

from __future__ import annotations

import logging
import time

from mock_gateway.core import Gateway
from mock_gateway.exchange import GatewayRequest, GatewayResponse
from mock_gateway.faults import FAULT_HEADER, marker_effects
from mock_gateway.gateway_dispatch import SELF_REFERENTIAL  # routes logged without a body

log = logging.getLogger("mock_gateway.faults")

RESET_STATUS = 0
"""The status of a connection reset instead of an answer: no HTTP status was sent."""
SENT = ">"
"""Joins a row's outcome to what a fault sent instead: ``OK>RESET``."""
OUTCOME_MAX = 20
"""Characters the traffic table's ``outcome`` column holds (PostgreSQL enforces it)."""


def on_the_wire(response: GatewayResponse) -> tuple[int, str, float]:
    """``(status, outcome, seconds held)`` of what a client gets of ``response`` once its
    :data:`~mock_gateway.faults.FAULT_HEADER` acts."""
    delay, reset = marker_effects(response.headers.get(FAULT_HEADER))
    if reset:
        return RESET_STATUS, "RESET", delay
    return response.status, response.outcome, delay


def logged_outcome(answer: GatewayResponse, status: int, outcome: str) -> str:
    """``answer``'s outcome, marked with what was sent when that differs from it."""
    if (status, outcome) == (answer.status, answer.outcome):
        return answer.outcome
    return f"{answer.outcome}{SENT}{outcome}"[:OUTCOME_MAX]


def measure(
    gateway: Gateway, route: str, request: GatewayRequest, sent: GatewayResponse, seconds: float
) -> None:
    """Count an exchange the core did not count in ``/metrics``, as the core would."""
    try:
        gateway.metrics.observe(route, request.method, sent.status, seconds, sent.outcome)
    except Exception:  # a number must never cost an answer
        log.exception("could not count %s %s in the metrics", request.method, request.path)


def record(
    gateway: Gateway,
    request: GatewayRequest,
    route: str,
    answer: GatewayResponse,
    sent: GatewayResponse,
    ivan: str | None,
    started: float,
    t0: float,
) -> None:
    """Log ``answer`` (the gateway's own) marked with what the client got of ``sent``, and
    count ``sent`` in ``/metrics``, its hold included; bodies as the core would keep them."""
    status, outcome, held = on_the_wire(sent)
    duration = time.perf_counter() - t0 + held
    measure(gateway, route, request, GatewayResponse(status, {}, b"", outcome), duration)
    logged = GatewayResponse(
        answer.status, {}, answer.body, logged_outcome(answer, status, outcome)
    )
    body = b"" if route in SELF_REFERENTIAL else None  # see mock_gateway.gateway_dispatch
    try:
        row = request.traffic_record(
            logged, ivan=ivan, started=started, duration=duration, answer=body
        )
        gateway.traffic.record(row)
    except Exception as exc:  # evidence must never cost an answer
        if not gateway.outage.caught(exc):  # a lost database is warned of once
            log.exception("could not record a faulted exchange")


__all__ = [
    "OUTCOME_MAX",
    "RESET_STATUS",
    "SENT",
    "logged_outcome",
    "measure",
    "on_the_wire",
    "record",
]
