"""Under faults, ``/metrics`` and the traffic log say what went on the wire.

Before: a fault's 503 and the fault admin's requests were missing from ``/metrics``; an
acknowledged-then-500 or reset submission was logged and counted as ``202 OK``; a held
answer's ``duration_ms`` left out the hold. The traffic row keeps the gateway's own
status and body (the certification suite counts stored dossiers by them) and marks what
the client got in its ``outcome``; ``/metrics`` counts what the client got.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

import pytest
import requests

from harness.certification.gateway import TrafficRow
from harness.client import parse_answer
from mock_gateway.admin import traffic_line
from mock_gateway.exchange import GatewayRequest, GatewayResponse
from mock_gateway.faulty_app import FaultSpec, FaultyGateway, create_faulty_app
from mock_gateway.local import LocalServer
from mock_gateway.testing import InProcessGateway
from tests.gateway.conftest import ValidDossiers

IVAN = {"Authorization": "Bearer test-token-IVAN01"}
ADMIN = {"Authorization": "Bearer test-admin-token"}


@pytest.fixture
def envelopes(valid2026: ValidDossiers) -> Callable[[], bytes]:
    """Distinct signed dossiers the gateway accepts."""
    return lambda: valid2026().envelope


@pytest.fixture
def faulty(gw: InProcessGateway) -> FaultyGateway:
    return FaultyGateway(gw.gateway)


def submit(faulty: FaultyGateway, envelope: bytes, message_id: str) -> GatewayResponse:
    headers = {**IVAN, "Content-Type": "application/xml", "X-Message-Id": message_id}
    return faulty.handle(GatewayRequest("POST", "/api/v1/dossiers", headers, {}, envelope))


def metrics(gw: InProcessGateway) -> str:
    return gw.gateway.metrics.render().decode()


def count(text: str, series: str) -> float:
    """The value of one exposition line (0 when the series is absent)."""
    found = re.search(rf"^{re.escape(series)} (\S+)$", text, re.MULTILINE)
    return float(found.group(1)) if found else 0.0


def rows(gw: InProcessGateway) -> list[TrafficRow]:
    """The traffic log as the certification suite reads it (through the export format)."""
    return [TrafficRow.from_json(json.loads(traffic_line(r))) for r in gw.gateway.traffic_log()]


SUBMITS = 'bhxh_gateway_requests_total{route="submit_dossier",method="POST",status="%s"}'


def test_a_faults_503_is_counted_in_the_metrics(
    faulty: FaultyGateway, gw: InProcessGateway, envelopes: Callable[[], bytes]
) -> None:
    faulty.set_plan([FaultSpec("burst-503", {"count": 2, "retry_after": 1})])
    statuses = [submit(faulty, envelopes(), f"b-{n}").status for n in range(3)]
    assert statuses == [503, 503, 202]
    text = metrics(gw)
    assert count(text, SUBMITS % 503) == 2 and count(text, SUBMITS % 202) == 1
    assert count(text, 'bhxh_gateway_outcomes_total{code="SRV-001"}') == 2
    assert [(r.status, r.outcome) for r in rows(gw)] == [
        (503, "SRV-001"),
        (503, "SRV-001"),
        (202, "OK"),
    ]


def test_the_fault_admin_and_the_traffic_export_are_counted(
    faulty: FaultyGateway, gw: InProcessGateway
) -> None:
    body = b'{"spec": "latency:seconds=0.1"}'
    put = {**ADMIN, "Content-Type": "application/json"}
    assert faulty.handle(GatewayRequest("PUT", "/admin/faults", put, {}, body)).status == 200
    assert faulty.handle(GatewayRequest("DELETE", "/admin/faults", ADMIN)).status == 200
    assert faulty.handle(GatewayRequest("GET", "/admin/traffic", ADMIN)).status == 200
    text = metrics(gw)
    route = 'bhxh_gateway_requests_total{route="%s",method="%s",status="200"}'
    assert count(text, route % ("admin_faults_set", "PUT")) == 1
    assert count(text, route % ("admin_faults_clear", "DELETE")) == 1
    assert count(text, route % ("admin_traffic", "GET")) == 1
    assert [r.method for r in rows(gw)] == ["PUT", "DELETE"]  # an export never logs itself


def test_acknowledged_then_500_is_marked_and_still_evidence_of_the_stored_dossier(
    faulty: FaultyGateway, gw: InProcessGateway, envelopes: Callable[[], bytes]
) -> None:
    faulty.set_plan([FaultSpec("ack-then-500", {"times": 1})])
    assert submit(faulty, envelopes(), "a-1").status == 500
    [row] = rows(gw)
    assert (row.status, row.outcome) == (202, "OK>SRV-002")
    ma_gdich = parse_answer(202, row.response).ma_gdich  # the receipt it stored is kept
    assert ma_gdich and gw.request("GET", f"/api/v1/dossiers/{ma_gdich}").status == 200
    text = metrics(gw)
    assert count(text, SUBMITS % 500) == 1 and count(text, SUBMITS % 202) == 0
    assert count(text, 'bhxh_gateway_outcomes_total{code="SRV-002"}') == 1


def test_a_reset_after_the_commit_is_marked_and_counted_as_a_reset(
    faulty: FaultyGateway, gw: InProcessGateway, envelopes: Callable[[], bytes]
) -> None:
    faulty.set_plan([FaultSpec("connection-reset", {"when": "after", "times": 1})])
    submit(faulty, envelopes(), "r-1")
    submit(faulty, envelopes(), "r-2")
    assert [(r.status, r.outcome) for r in rows(gw)] == [(202, "OK>RESET"), (202, "OK")]
    text = metrics(gw)
    assert count(text, SUBMITS % 0) == 1 and count(text, SUBMITS % 202) == 1
    assert count(text, 'bhxh_gateway_outcomes_total{code="RESET"}') == 1


def test_a_held_answer_counts_its_hold_in_duration(
    faulty: FaultyGateway, gw: InProcessGateway
) -> None:
    faulty.set_plan([FaultSpec("latency", {"seconds": 8})])
    answer = faulty.handle(GatewayRequest("GET", "/api/v1/catalog", IVAN))
    assert answer.status == 200  # in-process, the hold is the transport's to act on
    [row] = rows(gw)
    assert (row.status, row.outcome) == (200, "OK") and row.duration_ms >= 8000
    sum_line = 'bhxh_gateway_request_duration_seconds_sum{route="get_catalog"}'
    assert count(metrics(gw), sum_line) >= 8.0


def test_an_answer_no_fault_touched_is_logged_once_as_the_core_logs_it(
    faulty: FaultyGateway, gw: InProcessGateway, envelopes: Callable[[], bytes]
) -> None:
    faulty.set_plan([FaultSpec("ack-then-500", {"skip": 1, "times": 1})])
    assert submit(faulty, envelopes(), "k-1").status == 202
    [row] = rows(gw)
    assert (row.status, row.outcome) == (202, "OK") and row.duration_ms < 8000
    assert count(metrics(gw), SUBMITS % 202) == 1


def test_over_http_the_log_and_metrics_show_what_the_client_got(
    faulty: FaultyGateway, gw: InProcessGateway, envelopes: Callable[[], bytes]
) -> None:
    """The ASGI path (uvicorn, FaultMiddleware) as a client over a socket meets it."""
    faulty.set_plan(
        [
            FaultSpec("connection-reset", {"when": "after", "times": 1}),
            FaultSpec("ack-then-500", {"times": 1, "skip": 1}),
        ]
    )
    app: Any = create_faulty_app(faulty, close=False, background=False)
    headers = {**IVAN, "Content-Type": "application/xml"}
    got: list[object] = []
    with LocalServer(gw.gateway, app=app) as server:
        for n in range(3):
            try:
                answer = requests.post(
                    f"{server.url}/api/v1/dossiers",
                    data=envelopes(),
                    headers={**headers, "X-Message-Id": f"h-{n}"},
                    timeout=10,
                )
                got.append(answer.status_code)
            except requests.ConnectionError:
                got.append("reset")
    assert got == ["reset", 500, 202]
    assert [(r.status, r.outcome) for r in rows(gw)] == [
        (202, "OK>RESET"),
        (202, "OK>SRV-002"),
        (202, "OK"),
    ]
    text = metrics(gw)
    assert [count(text, SUBMITS % s) for s in (0, 500, 202)] == [1, 1, 1]
