"""Admin actions are in the server log (who and what, never a token), and a clock advance
given as a JSON body is refused saying where ``seconds`` goes."""

from __future__ import annotations

import logging

import pytest
import requests

from mock_gateway.faulty_app import FaultyGateway, create_faulty_app
from mock_gateway.local import LocalServer
from mock_gateway.testing import Answer, InProcessGateway

ADMIN_LOG = ("mock_gateway.admin", "mock_gateway.app")


def _said(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name in ADMIN_LOG]


def test_a_clock_advance_and_a_reset_are_logged(
    gw: InProcessGateway, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="mock_gateway")
    answer = gw.request("POST", "/admin/clock/advance", ivan="admin", query={"seconds": "60"})
    assert answer.status == 200
    assert gw.request("POST", "/admin/reset", ivan="admin").status == 200
    advanced, reset = _said(caplog)
    assert advanced.startswith("admin advanced the simulated clock by 60 s, to ")
    assert reset.startswith("admin reset the gateway: every dossier, message and traffic row")
    assert gw.token("admin") not in caplog.text


def test_setting_and_clearing_a_fault_plan_are_logged(
    gw: InProcessGateway, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="mock_gateway")
    admin = {"Authorization": f"Bearer {gw.token('admin')}"}
    app = create_faulty_app(FaultyGateway(gw.gateway), close=False, background=False)
    with LocalServer(gw.gateway, app=app) as server, requests.Session() as http:
        plan = {"spec": "burst-503:count=5,retry_after=2", "seed": 7}
        put = http.put(f"{server.url}/admin/faults", json=plan, headers=admin, timeout=10)
        assert put.status_code == 200, put.text
        looked = http.get(f"{server.url}/admin/faults", headers=admin, timeout=10)
        assert looked.status_code == 200
        bad = http.put(f"{server.url}/admin/faults", json={"x": 1}, headers=admin, timeout=10)
        assert bad.status_code == 400
        cleared = http.delete(f"{server.url}/admin/faults", headers=admin, timeout=10)
        assert cleared.status_code == 200
    said = _said(caplog)
    assert said == [
        "admin set the fault plan of every worker: burst-503:count=5,retry_after=2 (seed 7)",
        "admin cleared the fault plan of every worker (DELETE /admin/faults)",
    ]
    assert gw.token("admin") not in caplog.text


@pytest.mark.parametrize(
    ("body", "detail"),
    [(b'{"seconds": 60}', "missing; the body is not read"), (b"", "missing")],
)
def test_a_clock_advance_without_the_query_parameter_says_where_it_goes(
    gw: InProcessGateway, body: bytes, detail: str
) -> None:
    headers = {"Content-Type": "application/json"}
    answer = gw.request("POST", "/admin/clock/advance", ivan="admin", body=body, headers=headers)
    assert answer.status == 400 and Answer.parse(answer).ma_loi == "REQ-002"
    text = answer.body.decode()
    assert "give seconds as a query parameter: ?seconds=60" in text
    assert detail in text
    assert "value=" not in text  # it said "value=" with nothing after it
