"""``/openapi.json`` describes the statuses and headers the gateway really answers with:
503 SRV-001 (with Retry-After) on every route, 408 REQ-005, REQ-004, and the headers of
receipts, traffic pages and errors (before: 503 on /healthz alone, no headers at all)."""

from __future__ import annotations

import json
import uuid
from typing import Any

from harness.dossiers.factory import Dossier
from mock_gateway.exchange import GatewayRequest, GatewayResponse
from mock_gateway.faulty_app import FaultyGateway
from mock_gateway.openapi import document
from mock_gateway.testing import InProcessGateway

_STANDARD = {"content-type", "content-length", "www-authenticate", "allow"}


def _operations() -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (method, path, op)
        for path, ops in document()["paths"].items()
        for method, op in ops.items()
    ]


def _undocumented_headers(path: str, method: str, answer: GatewayResponse) -> set[str]:
    described = document()["paths"][path][method]["responses"][str(answer.status)]
    declared = {name.lower() for name in described.get("headers", {})}
    sent = {name.lower() for name in answer.headers}
    return sent - declared - _STANDARD


def test_every_route_documents_503_with_retry_after_and_408() -> None:
    for method, path, op in _operations():
        responses = op["responses"]
        assert "Retry-After" in responses["503"]["headers"], (method, path)
        assert "REQ-005" in responses["408"]["description"], (method, path)
        assert "REQ-004" in responses["400"]["description"], (method, path)
        for status, answer in responses.items():
            if status.startswith(("4", "5")):  # a 303 redirect is no error
                assert "X-BHXH-Ma-Loi" in answer["headers"], (method, path, status)


def test_a_receipt_s_headers_are_documented(gw: InProcessGateway, valid: Any) -> None:
    dossier: Dossier = valid()
    answer = gw.submit(dossier.envelope)
    assert answer.status == 202
    assert {"Location", "X-Ma-Gdich", "X-Idempotent-Replay"} <= set(answer.headers)
    assert not _undocumented_headers("/api/v1/dossiers", "post", answer)


def test_a_traffic_page_s_header_is_documented(gw: InProcessGateway) -> None:
    answer = gw.request("GET", "/admin/traffic", ivan="admin")
    assert answer.status == 200 and "X-Traffic-Truncated" in answer.headers
    assert not _undocumented_headers("/admin/traffic", "get", answer)


def test_maintenance_answers_every_route_as_documented(gw: InProcessGateway) -> None:
    faulty = FaultyGateway(gw.gateway)
    admin = {"Authorization": f"Bearer {gw.token('admin')}", "Content-Type": "application/json"}
    plan = json.dumps({"spec": "maintenance:start=0,duration=3600"}).encode()
    put = faulty.handle(GatewayRequest("PUT", "/admin/faults", admin, {}, plan))
    assert put.status == 200, put.body
    ivan = {
        "Authorization": f"Bearer {gw.token()}",
        "Content-Type": "application/xml",
        "X-Message-Id": uuid.uuid4().hex,
    }
    for method, path in (("POST", "/api/v1/dossiers"), ("GET", "/api/v1/messages")):
        answer = faulty.handle(GatewayRequest(method, path, ivan, {}, b"<Hoso/>"))
        assert answer.status == 503, (path, answer.body[:300])
        assert "503" in document()["paths"][path][method.lower()]["responses"]
        assert not _undocumented_headers(path, method.lower(), answer)
