"""``InProcessGateway.request()`` and ``.submit()`` refuse and log what the server would.

Before: a 70,000-byte header through ``request()`` was answered 200 (the server: 431
LIM-003, ``Connection: close``, a refusal row with no I-VAN), and a body over the size
cap through ``submit()`` was handed to the core and stored whole in the traffic row (the
server keeps its size only), although the transports beside them already did as served.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import requests

from harness.signing import TestPKI
from mock_gateway.exchange import GatewayRequest, GatewayResponse
from mock_gateway.http_head import HEAD_MAX
from mock_gateway.local import LocalServer
from mock_gateway.testing import Answer, InProcessGateway

CAP = 4096  # a small body cap, so an oversized body is cheap to send
KEYS = ("ivan", "method", "path", "status", "outcome", "request")


@pytest.fixture
def served(pki: TestPKI) -> Iterator[tuple[InProcessGateway, str]]:
    """A gateway behind the real HTTP server, and its URL."""
    with InProcessGateway(pki=pki, max_body_bytes=CAP) as gw, LocalServer(gw.gateway) as server:
        yield gw, server.url


@pytest.fixture
def inproc(pki: TestPKI) -> Iterator[InProcessGateway]:
    with InProcessGateway(pki=pki, max_body_bytes=CAP) as gw:
        yield gw


def _rows(gw: InProcessGateway) -> list[tuple[Any, ...]]:
    """The traffic rows as compared (not times, nor a head's byte count: the server
    counts what it read, Host header and all)."""
    return [tuple(row[key] for key in KEYS) for row in gw.gateway.traffic_log()]


def test_request_refuses_a_head_over_the_cap_as_served(
    served: tuple[InProcessGateway, str], inproc: InProcessGateway
) -> None:
    pad = {"X-Pad": "a" * (HEAD_MAX + 100)}
    auth = {"Authorization": f"Bearer {served[0].token()}"}
    over_http = requests.get(f"{served[1]}/api/v1/messages", headers={**auth, **pad}, timeout=30)
    assert over_http.status_code == 431
    answer = inproc.request("GET", "/api/v1/messages", headers=pad)
    assert answer.status == 431, answer.body[:300]
    assert Answer.parse(answer).ma_loi == "LIM-003"
    assert answer.headers["Connection"] == over_http.headers["Connection"] == "close"
    expected = [(None, "GET", "/api/v1/messages", 431, "LIM-003", b"")]
    assert _rows(inproc) == _rows(served[0]) == expected
    assert inproc.gateway.traffic_log()[0]["request_size"] > HEAD_MAX


def test_request_answers_a_head_under_the_cap(inproc: InProcessGateway) -> None:
    answer = inproc.request("GET", "/api/v1/messages", headers={"X-Pad": "a" * (HEAD_MAX - 1000)})
    assert answer.status == 200, answer.body[:300]


def test_submit_logs_a_body_over_the_cap_by_its_size_only_as_served(
    served: tuple[InProcessGateway, str], inproc: InProcessGateway
) -> None:
    body = b"<Hoso>" + b"x" * CAP + b"</Hoso>"
    headers = {
        "Authorization": f"Bearer {served[0].token()}",
        "Content-Type": "application/xml",
        "X-Message-Id": "big-1",
    }
    over_http = requests.post(
        f"{served[1]}/api/v1/dossiers", data=body, headers=headers, timeout=30
    )
    answer = inproc.submit(body, message_id="big-1")
    assert answer.status == over_http.status_code == 413
    assert Answer.parse(answer).ma_loi == "LIM-001"
    expected = [("IVAN01", "POST", "/api/v1/dossiers", 413, "LIM-001", b"")]
    assert _rows(inproc) == _rows(served[0]) == expected
    assert inproc.gateway.traffic_log()[0]["request_size"] == len(body)


def test_submit_does_not_hand_the_core_an_oversized_body(
    inproc: InProcessGateway, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen: list[int] = []
    handle = inproc.gateway.handle

    def spy(request: GatewayRequest) -> GatewayResponse:
        seen.append(len(request.body))
        return handle(request)

    monkeypatch.setattr(inproc.gateway, "handle", spy)
    inproc.submit(b"x" * (CAP + 1))
    assert seen == [0]
