"""The fault admin's routes (``/admin/faults``, its log) and the traffic export, answered
for a :class:`~mock_gateway.faulty_app.FaultyGateway`: one concept apart from the request
path the faults act on."""

from __future__ import annotations

import json
import logging
from typing import TYPE_CHECKING

from harness.errors import ConfigError
from harness.json_lines import json_line
from mock_gateway import params
from mock_gateway.admin import export_traffic, ndjson
from mock_gateway.exchange import JSON, GatewayRequest, GatewayResponse
from mock_gateway.fault_request import ADMIN_PATH, plan_of, refusal
from mock_gateway.intake import reject
from mock_gateway.routes import ROUTES, Auth, Layer, allowed, resolve

if TYPE_CHECKING:
    from mock_gateway.faulty_app import FaultyGateway

log = logging.getLogger("mock_gateway.faults")

TRAFFIC_PATH = "/admin/traffic"
_TRAFFIC_QUERY = next(r.accepted_query for r in ROUTES if r.template == TRAFFIC_PATH)


def answer(faulty: FaultyGateway, request: GatewayRequest) -> GatewayResponse:
    """The fault admin's routes (:data:`~mock_gateway.routes.Layer.FAULTS`) and the
    traffic export; raises :class:`Rejected` for the client's mistakes."""
    if request.path == TRAFFIC_PATH:
        faulty.gateway.authenticate(Auth.ADMIN, request)
        params.refuse_unknown(request, _TRAFFIC_QUERY)
        return export_traffic(faulty.gateway, request)
    route, _, known = resolve(request.method, request.path, Layer.FAULTS)
    if route is None:
        if not known:
            raise reject("NF-001", request.path)
        allow = allowed(request.path, Layer.FAULTS)
        raise reject("REQ-002", request.path, status=405, method=request.method, allow=allow)
    faulty.gateway.authenticate(route.auth, request)
    params.refuse_unknown(request, route.accepted_query)
    if route.name == "admin_faults_log":
        after = params.integer(request, "after", 0, 0, 2**62)
        return ndjson([json_line(e) for e in faulty.events(after)])
    if route.name == "admin_faults_set":
        specs, seed = plan_of(request)
        try:
            faulty.publish(specs, seed)
        except ConfigError as exc:  # an unknown profile, a value out of range
            raise refusal(exc) from None
        except (ValueError, TypeError):  # a value no check foresaw: still theirs
            log.exception("a fault plan could not be built")
            raise reject("REQ-002", ADMIN_PATH, detail="the plan could not be used") from None
    elif route.name == "admin_faults_clear":
        faulty.publish([])
    else:  # GET: what every worker runs, not this one's plan of a moment ago
        faulty.follow_published()
    return GatewayResponse(200, {"Content-Type": JSON}, json.dumps(faulty.state()).encode())


__all__ = ["TRAFFIC_PATH", "answer"]
