"""Admin handlers: fast-forward the simulated clock, export the traffic log, reset.

Admin answers are JSON (they are for suites and people, not for I-VANs); failures are
still the usual signed ``XACNHAN_GDICH``.
"""

from __future__ import annotations

import base64
import json
import logging
import math
from typing import TYPE_CHECKING, Any

from harness.json_lines import json_line
from mock_gateway import params
from mock_gateway.clock import ClockLimitError, iso
from mock_gateway.config import GatewayConfig
from mock_gateway.exchange import JSON, GatewayRequest, GatewayResponse, Handler
from mock_gateway.intake import reject
from mock_gateway.processor import ADVANCE_ISSUE_LIMIT
from mock_gateway.routes import MAX_CLOCK_ADVANCE

if TYPE_CHECKING:
    from mock_gateway.core import Gateway

log = logging.getLogger(__name__)

NDJSON = "application/x-ndjson"
SECONDS_HINT = "give seconds as a query parameter: ?seconds=60"
"""Said when ``seconds`` is missing: a JSON body ``{"seconds": 60}`` was read as nothing."""


def traffic_line(row: dict[str, Any]) -> str:
    """One traffic row as a JSON line; bodies in base64 because they are raw bytes."""
    out = {k: v for k, v in row.items() if k not in ("request", "response")}
    out["request_b64"] = base64.b64encode(bytes(row["request"])).decode("ascii")
    out["response_b64"] = base64.b64encode(bytes(row["response"])).decode("ascii")
    return json_line(out)


def ndjson(lines: list[str], headers: dict[str, str] | None = None) -> GatewayResponse:
    """A 200 answer of JSON lines (with ``headers`` besides its Content-Type)."""

    body = "".join(line + "\n" for line in lines).encode()
    return GatewayResponse(200, {"Content-Type": NDJSON, **(headers or {})}, body)


EXPORT_BYTES_MAX = 16 * 1024 * 1024
"""Most bytes of rows in one traffic export answer (one row always fits): 10,000 rows
of 8 KB dossiers were a 150 MB answer and 530 MiB of server memory, per request."""
EXPORT_LIMIT_DEFAULT = 10_000
"""Rows in one export when ``limit`` is not given."""
EXPORT_LIMIT_MAX = 100_000
TRUNCATED = "X-Traffic-Truncated"
EXPORT_LAG = (
    "With several workers (serve --workers N) the export writes only its own worker's "
    "pending rows before reading: another worker's exchanges appear up to one flush "
    f"interval later (traffic_flush_interval, {GatewayConfig.traffic_flush_interval:g} s by "
    "default) plus the time to write them, and those answered while the database was down "
    "once it is back. Wait that long after a run's last answer before exporting it."
)
"""Said in the export's documentation: a worker cannot flush its siblings' memory."""


def export_traffic(gw: Gateway, request: GatewayRequest) -> GatewayResponse:
    """``GET /admin/traffic?after=&limit=``: the traffic log as JSON lines, oldest first.

    At most ``limit`` rows (:data:`EXPORT_LIMIT_DEFAULT` by default) and
    :data:`EXPORT_BYTES_MAX` bytes; ``X-Traffic-Truncated: true`` whenever more rows
    follow, whichever cut the page short: ask again after the last id.

    Only this worker's pending rows are written first (see :data:`EXPORT_LAG`).
    """
    after = params.integer(request, "after", 0, 0, 2**62)
    limit = params.integer(request, "limit", EXPORT_LIMIT_DEFAULT, 1, EXPORT_LIMIT_MAX)
    lines: list[str] = []
    size = 0
    truncated = False
    for row in gw.traffic_rows(after, limit + 1):  # one more: do more rows follow?
        if len(lines) == limit:
            truncated = True
            break
        line = traffic_line(row)
        size += len(line) + 1
        if lines and size > EXPORT_BYTES_MAX:
            truncated = True
            break
        lines.append(line)
    return ndjson(lines, {TRUNCATED: "true" if truncated else "false"})


def handlers(gw: Gateway) -> dict[str, Handler]:
    """The admin handlers of ``gw``, keyed by route name."""

    def _json(data: dict[str, Any]) -> GatewayResponse:
        return GatewayResponse(200, {"Content-Type": JSON}, json.dumps(data).encode())

    def clock_advance(
        request: GatewayRequest, _p: dict[str, str], _i: str | None
    ) -> GatewayResponse:
        raw = request.query.get("seconds")
        if raw is None:
            detail = "missing" + ("; the body is not read" if request.body else "")
            raise reject(
                "REQ-002", "?seconds", parameter="seconds", detail=detail, hint=SECONDS_HINT
            )
        try:
            seconds = float(raw)
        except ValueError:
            raise reject(
                "REQ-002", "?seconds", parameter="seconds", value=params.cut(raw)
            ) from None
        if not math.isfinite(seconds) or not 0 <= seconds <= MAX_CLOCK_ADVANCE:
            raise reject(
                "REQ-002", "?seconds", parameter="seconds", range=f"0..{MAX_CLOCK_ADVANCE:.0f}"
            )
        try:
            reached = gw.jump_clock(seconds)
        except ClockLimitError as exc:  # it would pass mock_gateway.clock.LATEST
            detail = str(exc).removesuffix(f"\nHint: {exc.hint}")[:300]
            hint = (exc.hint or "")[:300]
            raise reject(
                "REQ-002", "?seconds", parameter="seconds", detail=detail, hint=hint
            ) from None
        issued = gw.processor.run_due(limit=ADVANCE_ISSUE_LIMIT)
        log.info(
            "admin advanced the simulated clock by %g s, to %s; %d lifecycle message(s) issued",
            seconds,
            iso(reached),
            issued,
        )
        return _json({"now": iso(reached), "advanced": seconds, "issued": issued})

    def traffic(request: GatewayRequest, _p: dict[str, str], _i: str | None) -> GatewayResponse:
        return export_traffic(gw, request)

    def reset(_r: GatewayRequest, _p: dict[str, str], _i: str | None) -> GatewayResponse:
        gw.reset()
        now = iso(gw.clock.now())
        log.info(
            "admin reset the gateway: every dossier, message and traffic row deleted; "
            "the simulated clock restarted at %s",
            now,
        )
        return _json({"reset": True, "now": now})

    return {
        "admin_clock_advance": clock_advance,
        "admin_traffic": traffic,
        "admin_reset": reset,
    }
