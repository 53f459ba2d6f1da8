"""``/openapi.json`` describes exactly the routes the app serves."""

from __future__ import annotations

import json

from starlette.routing import Route as StarletteRoute

from mock_gateway.app import create_app
from mock_gateway.openapi import document
from mock_gateway.routes import ROUTES
from mock_gateway.testing import InProcessGateway


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
