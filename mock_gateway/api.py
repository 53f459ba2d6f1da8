"""Handlers of the I-VAN and public routes (the admin ones are in :mod:`mock_gateway.admin`).

Isolation rule: an I-VAN asking for anything that is not its own gets exactly the answer
it would get for something that does not exist (404 NF-001), never 403, so it cannot
even learn that another I-VAN's dossier or message exists.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from sqlalchemy import func, select

from mock_gateway import dashboard, openapi, params, runs, schema, views
from mock_gateway.clock import LATEST, iso
from mock_gateway.exchange import JSON, GatewayRequest, GatewayResponse, Handler, PendingReceipt
from mock_gateway.intake import reject
from mock_gateway.metrics import CONTENT_TYPE, Gauge
from mock_gateway.outage import RETRY_AFTER

if TYPE_CHECKING:
    from mock_gateway.core import Gateway


def _ivan(ivan: str | None) -> str:
    if ivan is None:  # the route table says these routes need an I-VAN
        raise RuntimeError("I-VAN route reached without an authenticated I-VAN")
    return ivan


def _database_up(gw: Gateway) -> bool:
    """Whether the database answers now; while it is known lost, only the one request at a
    time that :meth:`~mock_gateway.outage.Outage.probe` lets through asks it, so a probe
    never queues behind a hung server."""
    if gw.outage.down:
        if not gw.outage.probe(gw.store.ping):  # closes the breaker when it answers
            return False
    elif not gw.store.ping():
        return False
    try:
        gw.refresh_clock()  # another worker may have just advanced it: say where it is now
    except Exception as exc:
        if not gw.outage.caught(exc):
            raise
        return False
    return True


def _health(gw: Gateway, up: bool) -> dict[str, Any]:
    """What ``/healthz`` says; all but ``status`` and ``database`` is known without the
    database (``simulated_time`` as this worker last read the shared clock)."""
    return {
        "status": "ok" if up else "unavailable",
        "database": up,
        "environment": "THU_NGHIEM",
        "catalogs": [c.version for c in gw.catalogs.catalogs],
        "simulated_time": iso(gw.clock.now()),
        "clock_speed": gw.clock.speed,  # lets a load test convert real time to simulated
        "clock_limit": iso(LATEST),  # where simulated time stops
        "clock_stopped": gw.clock.stopped,  # True once there: POST /admin/reset
        "workers": gw.config.workers,
    }


def healthz_answer(gw: Gateway) -> GatewayResponse:
    """200 with the gateway's state, or 503 with the same JSON and ``Retry-After`` while
    the database is unreachable: monitoring probes read JSON, not a signed XML refusal."""
    up = _database_up(gw)
    body = json.dumps(_health(gw, up)).encode()
    if up:
        return GatewayResponse(200, {"Content-Type": JSON}, body)
    headers = {"Content-Type": JSON, "Retry-After": str(RETRY_AFTER), "X-BHXH-Ma-Loi": "SRV-001"}
    return GatewayResponse(503, headers, body, "SRV-001")


STORE_GAUGES = (
    ("bhxh_gateway_dossiers_stored", "Dossiers in the store (every worker's)."),
    (
        "bhxh_gateway_dossiers_awaiting_message",
        "Stored dossiers whose lifecycle still has a message to issue (02/TB-TS or 03/TB-TS).",
    ),
    (
        "bhxh_gateway_dossiers_message_due",
        "Of those, the ones whose next message is due by this worker's simulated time and "
        "not issued yet: the lifecycle processor's backlog.",
    ),
)
"""Gauges read from the store at each scrape: three COUNTs over indexed columns."""


def store_gauges(gw: Gateway) -> list[Gauge]:
    """:data:`STORE_GAUGES` now; none while the database is lost (``/metrics`` still answers
    with the request counters, and never waits for a database known to be down)."""
    if gw.outage.down:
        return []
    d = schema.dossiers
    waiting = d.c.next_due_at.is_not(None)
    due = d.c.next_due_at <= iso(gw.clock.now())
    counted = select(func.count()).select_from(d)
    try:
        with gw.store.read() as conn:
            values = [
                int(conn.execute(query).scalar_one())
                for query in (counted, counted.where(waiting), counted.where(waiting, due))
            ]
    except Exception as exc:
        if not gw.outage.caught(exc):
            raise
        return []
    return [
        Gauge(name, text, value) for (name, text), value in zip(STORE_GAUGES, values, strict=True)
    ]


def handlers(gw: Gateway) -> dict[str, Handler]:
    """The I-VAN and public handlers of ``gw``, keyed by route name."""

    def submit_dossier(
        request: GatewayRequest, _p: dict[str, str], ivan: str | None
    ) -> GatewayResponse | PendingReceipt:
        return gw.submit(request, _ivan(ivan))

    def get_dossier(
        _r: GatewayRequest, params: dict[str, str], ivan: str | None
    ) -> GatewayResponse:
        ma_gdich = params["ma_gdich"]
        if gw.release.leaks_dossiers:  # release hook: the query lost its I-VAN filter
            dossier = gw.store.dossier_any(ma_gdich)
        else:
            dossier = gw.store.dossier(_ivan(ivan), ma_gdich)
        if dossier is None:
            raise reject("NF-001", "/api/v1/dossiers/{ma_gdich}")
        return gw.xml(views.dossier_status(dossier, gw.store.messages_of(dossier.ivan, ma_gdich)))

    def list_messages(
        request: GatewayRequest, _p: dict[str, str], ivan: str | None
    ) -> GatewayResponse:
        after = params.integer(request, "after", 0, 0, 2**62)
        limit = params.integer(request, "limit", 100, 1, gw.config.feed_limit_max)
        leak = gw.release.leaks_feed  # release hook: the query lost its I-VAN filter
        return gw.xml(views.feed(gw.store.feed(_ivan(ivan), after, limit, every_ivan=leak), after))

    def ack_message(
        _r: GatewayRequest, params: dict[str, str], ivan: str | None
    ) -> GatewayResponse:
        message_id = params["message_id"]
        message = gw.store.ack(_ivan(ivan), message_id, iso(gw.clock.now()))
        if message is None:
            raise reject("NF-001", "/api/v1/messages/{message_id}/ack")
        return gw.xml(views.ack(message))

    def get_catalog(_r: GatewayRequest, _p: dict[str, str], _i: str | None) -> GatewayResponse:
        return gw.xml(gw.catalog_xml)

    def healthz(_r: GatewayRequest, _p: dict[str, str], _i: str | None) -> GatewayResponse:
        return healthz_answer(gw)

    def metrics(_r: GatewayRequest, _p: dict[str, str], _i: str | None) -> GatewayResponse:
        clock = Gauge(
            "bhxh_gateway_simulated_time_seconds",
            "The simulated clock, in Unix seconds, as this worker last read it.",
            gw.clock.timestamp(),
        )
        others = gw.metrics_share.others() if gw.metrics_share is not None else []
        body = gw.metrics.render([clock, *store_gauges(gw)], others)
        return GatewayResponse(200, {"Content-Type": CONTENT_TYPE}, body)

    def openapi_json(_r: GatewayRequest, _p: dict[str, str], _i: str | None) -> GatewayResponse:
        return GatewayResponse(200, {"Content-Type": JSON}, openapi.document_bytes())

    return {
        **dashboard.handlers(gw),
        **runs.handlers(gw),
        "submit_dossier": submit_dossier,
        "get_dossier": get_dossier,
        "list_messages": list_messages,
        "ack_message": ack_message,
        "get_catalog": get_catalog,
        "healthz": healthz,
        "metrics": metrics,
        "openapi": openapi_json,
    }
