"""``/openapi.json`` describes exactly the routes the app serves."""

from __future__ import annotations

import json

import requests
from starlette.routing import Route as StarletteRoute

from mock_gateway.app import create_app
from mock_gateway.exchange import GatewayRequest
from mock_gateway.faulty_app import FaultyGateway, create_faulty_app
from mock_gateway.local import LocalServer
from mock_gateway.openapi import document
from mock_gateway.routes import ROUTES, Layer
from mock_gateway.testing import Answer, InProcessGateway


def _documented() -> set[tuple[str, str]]:
    return {(m.upper(), path) for path, ops in document()["paths"].items() for m in ops}


def test_openapi_matches_the_starlette_routes(gw: InProcessGateway) -> None:
    app = create_app(gw.gateway, background=False, close=False)
    served = {
        (method, route.path)
        for route in app.routes
        if isinstance(route, StarletteRoute)
        for method in (route.methods or ())
        if method != "HEAD"
    }
    assert served == _documented()
    assert served == {(r.method, r.template) for r in ROUTES}


def test_operation_ids_are_route_names() -> None:
    ids = {op["operationId"] for ops in document()["paths"].values() for op in ops.values()}
    assert ids == {r.name for r in ROUTES}


def test_openapi_is_served_and_valid_json(gw: InProcessGateway) -> None:
    response = gw.request("GET", "/openapi.json", ivan=None)
    assert response.status == 200
    served = json.loads(response.body)
    assert served["openapi"].startswith("3.1")
    assert served == json.loads(json.dumps(document()))
    for ops in served["paths"].values():
        for op in ops.values():
            assert "500" in op["responses"]
            if op["security"]:
                assert "401" in op["responses"]


def test_documented_query_parameters_are_the_ones_each_route_takes() -> None:
    """The core refuses any other parameter, so the document must list exactly these."""
    routes = {r.name: r for r in ROUTES}
    for ops in document()["paths"].values():
        for op in ops.values():
            names = {p["name"] for p in op.get("parameters", []) if p["in"] == "query"}
            assert names == set(routes[op["operationId"]].query), op["operationId"]


def test_the_fault_layers_routes_are_in_the_table_and_answered_by_it(gw: InProcessGateway) -> None:
    """``/admin/faults`` was served but missing from the table, so from the document too."""
    layer = {(r.method, r.template) for r in ROUTES if r.layer is Layer.FAULTS}
    assert layer == {
        ("GET", "/admin/faults"),
        ("PUT", "/admin/faults"),
        ("DELETE", "/admin/faults"),
        ("GET", "/admin/faults/log"),
    }
    assert layer <= _documented()
    faulty = FaultyGateway(gw.gateway)
    admin = {"Authorization": f"Bearer {gw.token('admin')}", "Content-Type": "application/json"}
    for method, path in sorted(layer):
        body = b'{"profiles": []}' if method == "PUT" else b""
        answer = faulty.handle(GatewayRequest(method, path, admin, {}, body))
        assert answer.status == 200, (method, path, answer.body.decode())
        assert gw.request(method, path, ivan="admin").status == 404  # the core alone: none


def test_a_wrong_method_on_a_fault_route_is_405_over_http(gw: InProcessGateway) -> None:
    app = create_faulty_app(FaultyGateway(gw.gateway), close=False)
    admin = {"Authorization": f"Bearer {gw.token('admin')}"}
    with LocalServer(gw.gateway, app=app) as server, requests.Session() as http:
        answer = http.put(f"{server.url}/admin/faults/log", headers=admin, timeout=10)
        assert (answer.status_code, answer.headers["Allow"]) == (405, "GET")
        assert Answer.parse(answer.content).ma_loi == "REQ-002"
        post = http.post(
            f"{server.url}/admin/faults", json={"profiles": []}, headers=admin, timeout=10
        )
        assert (post.status_code, post.headers["Allow"]) == (405, "DELETE, GET, PUT")
        served = http.get(f"{server.url}/openapi.json", timeout=10).json()
        assert {"get", "put", "delete"} == set(served["paths"]["/admin/faults"])
