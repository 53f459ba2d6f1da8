"""The in-process transports, and ``InProcessGateway.request()``/``.submit()``, answer
and log an oversized request as the server does.

Before: a 70,000-byte header was 431 LIM-003 served but 200 in-process, and a body over
the size cap, refused 413 LIM-001 by both, was stored whole in the in-process traffic row
(the served row keeps its size only), although ``traffic()`` promises the same rows. The
core API (``request()``/``submit()``) kept doing so after the transports were fixed.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
import requests
import responses

from harness.signing import TestPKI
from mock_gateway.exchange import GatewayRequest, GatewayResponse
from mock_gateway.http_head import HEAD_MAX
from mock_gateway.local import LocalServer
from mock_gateway.testing import Answer, InProcessGateway
from mock_gateway.transport import DEFAULT_BASE_URL, register_responses

CAP = 4096  # a small body cap, so an oversized body is cheap to send
Send = Callable[..., requests.Response]


@pytest.fixture
def served(pki: TestPKI) -> Iterator[tuple[InProcessGateway, str]]:
    """A gateway behind the real HTTP server, and its URL."""
    with InProcessGateway(pki=pki, max_body_bytes=CAP) as gw, LocalServer(gw.gateway) as server:
        yield gw, server.url


@pytest.fixture
def inproc(pki: TestPKI) -> Iterator[InProcessGateway]:
    with InProcessGateway(pki=pki, max_body_bytes=CAP) as gw:
        yield gw


def _through_adapter(gw: InProcessGateway) -> Iterator[Send]:
    session = gw.session(ivan=None)
    yield lambda method, path, **kw: session.request(method, DEFAULT_BASE_URL + path, **kw)


def _through_responses(gw: InProcessGateway) -> Iterator[Send]:
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        register_responses(mock, gw.gateway)
        mock.add_passthru("http://127.0.0.1")  # the served gateway, beside it
        yield lambda method, path, **kw: requests.request(method, DEFAULT_BASE_URL + path, **kw)


@pytest.fixture(params=[_through_adapter, _through_responses], ids=["adapter", "responses"])
def send(request: pytest.FixtureRequest, inproc: InProcessGateway) -> Iterator[Send]:
    yield from request.param(inproc)


def _rows(gw: InProcessGateway) -> list[tuple[Any, ...]]:
    """What a test compares of the traffic rows (not the times, nor a head's byte count:
    the server counts the bytes it read, Host header and all)."""
    keys = ("ivan", "method", "path", "status", "outcome", "request")
    return [tuple(row[key] for key in keys) for row in gw.gateway.traffic_log()]


def _served_send(url: str) -> Send:
    return lambda method, path, **kw: requests.request(method, url + path, timeout=30, **kw)


def _exchange(send: Send, token: str, **headers: str) -> requests.Response:
    return send("GET", "/api/v1/messages", headers={"Authorization": f"Bearer {token}", **headers})


def test_a_head_over_the_cap_is_refused_in_process_as_served(
    served: tuple[InProcessGateway, str], inproc: InProcessGateway, send: Send
) -> None:
    pad = "a" * (HEAD_MAX + 100)
    over_http = _exchange(_served_send(served[1]), served[0].token(), **{"X-Pad": pad})
    in_process = _exchange(send, inproc.token(), **{"X-Pad": pad})
    for answer in (over_http, in_process):
        assert answer.status_code == 431, answer.content[:300]
        assert Answer.parse(answer.content).ma_loi == "LIM-003"
        assert answer.headers["Connection"] == "close"
    assert (
        _rows(inproc)
        == _rows(served[0])
        == [(None, "GET", "/api/v1/messages", 431, "LIM-003", b"")]
    )
    row = inproc.gateway.traffic_log()[0]
    assert row["request_size"] > HEAD_MAX  # the head's size, as the server logs it


def test_a_head_under_the_cap_is_answered_in_process(inproc: InProcessGateway, send: Send) -> None:
    answer = _exchange(send, inproc.token(), **{"X-Pad": "a" * (HEAD_MAX - 1000)})
    assert answer.status_code == 200, answer.content[:300]


def test_a_body_over_the_cap_is_logged_by_its_size_only_as_served(
    served: tuple[InProcessGateway, str], inproc: InProcessGateway, send: Send
) -> None:
    body = b"<Hoso>" + b"x" * CAP + b"</Hoso>"
    headers = {"Content-Type": "application/xml", "X-Message-Id": "big-1"}
    for gw, sender in ((served[0], _served_send(served[1])), (inproc, send)):
        auth = {"Authorization": f"Bearer {gw.token()}"}
        answer = sender("POST", "/api/v1/dossiers", data=body, headers={**auth, **headers})
        assert answer.status_code == 413
        assert Answer.parse(answer.content).ma_loi == "LIM-001"
    assert (
        _rows(inproc)
        == _rows(served[0])
        == [("IVAN01", "POST", "/api/v1/dossiers", 413, "LIM-001", b"")]
    )
    assert inproc.gateway.traffic_log()[0]["request_size"] == len(body)


@pytest.fixture
def core_bodies(inproc: InProcessGateway, monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """The body sizes the core is handed, from now on."""
    seen: list[int] = []
    handle = inproc.gateway.handle

    def spy(request: GatewayRequest) -> GatewayResponse:
        seen.append(len(request.body))
        return handle(request)

    monkeypatch.setattr(inproc.gateway, "handle", spy)
    return seen


def test_the_core_is_not_handed_an_oversized_body(
    inproc: InProcessGateway, send: Send, core_bodies: list[int]
) -> None:
    headers = {"Authorization": f"Bearer {inproc.token()}", "X-Message-Id": "big-2"}
    send("POST", "/api/v1/dossiers", data=b"x" * (CAP + 1), headers=headers)
    assert core_bodies == [0]


# -- the core API: InProcessGateway.request() and .submit() ----------------------------


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
    inproc: InProcessGateway, core_bodies: list[int]
) -> None:
    inproc.submit(b"x" * (CAP + 1))
    assert core_bodies == [0]
