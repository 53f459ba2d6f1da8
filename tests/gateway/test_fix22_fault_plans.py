"""A fault plan that could never take effect is refused when it is set (400 REQ-002):
a misspelt route, a route the profile cannot act on, an empty route list, an empty spec.
Before, each answered 200 and either never fired or cleared the plan."""

from __future__ import annotations

import json
from typing import Any

import pytest

from mock_gateway.exchange import GatewayRequest, GatewayResponse
from mock_gateway.faulty_app import FaultyGateway
from mock_gateway.testing import Answer, InProcessGateway


def _put(gw: InProcessGateway, faulty: FaultyGateway, plan: dict[str, Any]) -> GatewayResponse:
    admin = {"Authorization": f"Bearer {gw.token('admin')}", "Content-Type": "application/json"}
    body = json.dumps(plan).encode()
    return faulty.handle(GatewayRequest("PUT", "/admin/faults", admin, {}, body))


def _refusal(response: GatewayResponse) -> str:
    assert response.status == 400, response.body[:300]
    (loi,) = Answer.parse(response).findings()
    assert loi["MA_LOI"] == "REQ-002"
    return loi["CHI_TIET"]


@pytest.mark.parametrize(
    ("plan", "said"),
    [
        (
            {"profiles": [{"name": "latency", "params": {"routes": ["GET /api/v1/mesages"]}}]},
            "did you mean 'GET /api/v1/messages'?",
        ),
        (
            {"spec": "ack-then-500:routes=POST /api/v1/messages/*/ack"},
            "matches no route this profile acts on",
        ),
        (
            {"profiles": [{"name": "latency", "params": {"routes": []}}]},
            'at least one "METHOD /path" pattern',
        ),
        ({"spec": ""}, "spec names no fault profile"),
        ({"spec": " ; "}, "spec names no fault profile"),
    ],
)
def test_a_plan_that_cannot_take_effect_is_refused_and_keeps_the_old_one(
    gw: InProcessGateway, plan: dict[str, Any], said: str
) -> None:
    faulty = FaultyGateway(gw.gateway)
    assert _put(gw, faulty, {"spec": "latency:seconds=0.01"}).status == 200
    assert said in _refusal(_put(gw, faulty, plan))
    shown = faulty.handle(
        GatewayRequest("GET", "/admin/faults", {"Authorization": f"Bearer {gw.token('admin')}"})
    )
    assert b"latency" in shown.body  # the plan a run relies on is still there


@pytest.mark.parametrize(
    "routes",
    [["*"], ["GET /api/v1/dossiers/*"], ["GET /api/v1/dossiers/ABC123"], "POST /api/v1/*"],
)
def test_routes_that_reach_a_route_are_still_taken(
    gw: InProcessGateway, routes: list[str] | str
) -> None:
    faulty = FaultyGateway(gw.gateway)
    plan = {"profiles": [{"name": "latency", "params": {"routes": routes}}]}
    assert _put(gw, faulty, plan).status == 200


def test_a_burst_says_temporarily_unavailable_not_maintenance(gw: InProcessGateway) -> None:
    faulty = FaultyGateway(gw.gateway)
    assert _put(gw, faulty, {"spec": "burst-503:count=1,routes=*"}).status == 200
    ivan = {"Authorization": f"Bearer {gw.token()}"}
    answer = faulty.handle(GatewayRequest("GET", "/api/v1/messages", ivan))
    assert answer.status == 503
    (loi,) = Answer.parse(answer).findings()
    assert loi["CHI_TIET"] == "detail=temporarily unavailable"
    assert "temporarily unavailable" in loi["MOTA_EN"]
