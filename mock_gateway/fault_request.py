"""The body of ``PUT /admin/faults`` read into a plan; every mistake is a 4xx saying what
to send, because a plan misread as empty would silently clear the faults a run relies on."""

from __future__ import annotations

import logging

from harness.errors import ConfigError
from mock_gateway.exchange import GatewayRequest
from mock_gateway.fault_plan import FaultSpec, json_media, read_body
from mock_gateway.intake import Rejected, reject

log = logging.getLogger(__name__)
ADMIN_PATH = "/admin/faults"


def plan_of(request: GatewayRequest) -> tuple[list[FaultSpec], int | None]:
    """The plan a ``PUT /admin/faults`` sends; every mistake a 4xx that says what to send."""
    if request.body_size is not None:
        raise reject("LIM-001", ADMIN_PATH, size=str(request.body_size))
    if not request.complete:
        raise reject("REQ-003", ADMIN_PATH)
    try:
        if request.body.strip():
            try:
                json_media(request.header("content-type"))
            except ConfigError as exc:
                raise refusal(exc, status=415) from None
        return read_body(request.body)
    except ConfigError as exc:
        raise refusal(exc) from None
    except (ValueError, TypeError, RecursionError):  # a case read_body missed: still theirs
        log.exception("a fault plan body could not be read")
        raise reject("REQ-002", ADMIN_PATH, detail="the plan could not be read") from None


def refusal(exc: ConfigError, status: int | None = None) -> Rejected:
    """REQ-002 with the error's message and hint as separate fields."""
    message = str(exc).removesuffix(f"\nHint: {exc.hint}")
    context = {"detail": message[:300]} | ({"hint": exc.hint[:300]} if exc.hint else {})
    return reject("REQ-002", ADMIN_PATH, status=status, **context)


__all__ = ["ADMIN_PATH", "plan_of", "refusal"]
