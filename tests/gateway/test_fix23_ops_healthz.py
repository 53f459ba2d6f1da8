"""``/healthz`` with the database lost is JSON 503 (monitoring probes read JSON), not a
4 KB signed XML SRV-001; it keeps ``Retry-After`` and says what it still knows."""

from __future__ import annotations

import json
from pathlib import Path

from harness.dossiers.factory import Dossier
from mock_gateway.exchange import GatewayResponse
from mock_gateway.openapi import document
from mock_gateway.testing import InProcessGateway
from tests.gateway.conftest import ValidDossiers
from tests.gateway.test_outage import database_down


def _unavailable_json(answer: GatewayResponse) -> dict[str, object]:
    assert answer.status == 503, answer.body[:300]
    assert answer.content_type == "application/json"
    assert answer.headers["Retry-After"].isdigit()
    assert answer.headers["X-BHXH-Ma-Loi"] == "SRV-001"
    body: dict[str, object] = json.loads(answer.body)
    assert body["status"] == "unavailable" and body["database"] is False
    assert body["environment"] == "THU_NGHIEM" and body["catalogs"]
    assert {"simulated_time", "clock_speed", "clock_limit", "workers"} <= set(body)
    return body


def test_healthz_finding_the_database_lost_answers_json(
    gw: InProcessGateway, tmp_path: Path
) -> None:
    with database_down(gw, tmp_path):
        _unavailable_json(gw.request("GET", "/healthz", ivan=None))
    healthy = json.loads(gw.request("GET", "/healthz", ivan=None).body)
    assert healthy["status"] == "ok" and healthy["database"] is True


def test_healthz_stays_json_while_the_outage_is_known(
    gw: InProcessGateway, valid: ValidDossiers, tmp_path: Path
) -> None:
    """Once a request found the database lost, the core answers 503 before any handler;
    /healthz is let through (among the routes served without the database) to say it in
    JSON."""
    dossier: Dossier = valid()
    with database_down(gw, tmp_path):
        assert gw.submit(dossier.envelope).status == 503
        assert gw.gateway.outage.down
        _unavailable_json(gw.request("GET", "/healthz", ivan=None))
        gw.gateway.outage.watched = True  # a server: its processor probes, requests never
        try:
            _unavailable_json(gw.request("GET", "/healthz", ivan=None))
        finally:
            gw.gateway.outage.watched = False
    back = gw.request("GET", "/healthz", ivan=None)  # the probe finds it back
    assert back.status == 200 and json.loads(back.body)["database"] is True
    assert not gw.gateway.outage.down


def test_the_documented_503_of_healthz_is_json() -> None:
    answers = document()["paths"]["/healthz"]["get"]["responses"]
    assert "application/json" in answers["503"]["content"]
    assert "Retry-After" in answers["503"]["headers"]
    schema = answers["200"]["content"]["application/json"]["schema"]
    assert schema["properties"]["database"] == {"type": "boolean"}
