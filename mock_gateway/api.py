"""Handlers of the I-VAN and public routes (the admin ones are in :mod:`mock_gateway.admin`).

Isolation rule: an I-VAN asking for anything that is not its own gets exactly the answer
it would get for something that does not exist (404 NF-001), never 403, so it cannot
even learn that another I-VAN's dossier or message exists.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

from mock_gateway import dashboard, openapi, params, runs, views
from mock_gateway.clock import LATEST, iso
from mock_gateway.exchange import JSON, GatewayRequest, GatewayResponse, Handler, PendingReceipt
from mock_gateway.intake import reject

if TYPE_CHECKING:
    from mock_gateway.core import Gateway


def _ivan(ivan: str | None) -> str:
    if ivan is None:  # the route table says these routes need an I-VAN
        raise RuntimeError("I-VAN route reached without an authenticated I-VAN")
    return ivan


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
        dossier = gw.store.dossier(_ivan(ivan), ma_gdich)
        if dossier is None:
            raise reject("NF-001", "/api/v1/dossiers/{ma_gdich}")
        return gw.xml(views.dossier_status(dossier, gw.store.messages_of(dossier.ivan, ma_gdich)))

    def list_messages(
        request: GatewayRequest, _p: dict[str, str], ivan: str | None
    ) -> GatewayResponse:
        after = params.integer(request, "after", 0, 0, 2**62)
        limit = params.integer(request, "limit", 100, 1, gw.config.feed_limit_max)
        return gw.xml(views.feed(gw.store.feed(_ivan(ivan), after, limit), after))

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
        if not gw.store.ping():
            raise reject("SRV-001", "/healthz", detail="database unreachable")
        gw.outage.back()  # a gateway without a processor thread hears of it here
        gw.refresh_clock()  # another worker may have just advanced it: say where it is now
        body = {
            "status": "ok",
            "environment": "THU_NGHIEM",
            "catalogs": [c.version for c in gw.catalogs.catalogs],
            "simulated_time": iso(gw.clock.now()),
            "clock_speed": gw.clock.speed,  # lets a load test convert real time to simulated
            "clock_limit": iso(LATEST),  # where simulated time stops
            "clock_stopped": gw.clock.stopped,  # True once there: POST /admin/reset
            "workers": gw.config.workers,  # fault counters and /admin/faults/log are per worker
        }
        return GatewayResponse(200, {"Content-Type": JSON}, json.dumps(body).encode())

    def metrics(_r: GatewayRequest, _p: dict[str, str], _i: str | None) -> GatewayResponse:
        from mock_gateway.metrics import CONTENT_TYPE

        extra = {"bhxh_gateway_simulated_time_seconds": gw.clock.timestamp()}
        others = gw.metrics_share.others() if gw.metrics_share is not None else []
        body = gw.metrics.render(extra, others)
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
