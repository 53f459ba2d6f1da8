"""A client too slow to send its request is answered 408 REQ-005 and let go.

Before, uvicorn waited for a request head or a stalled body for ever: one byte a minute,
or nothing at all after connecting, held a connection (and what it had sent) for good.
Raw sockets, because HTTP clients do not send requests slowly on purpose.
"""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator

import pytest

from harness.signing import TestPKI
from mock_gateway.config import GatewayConfig
from mock_gateway.local import LocalServer
from mock_gateway.testing import Answer, InProcessGateway
from tests.gateway.test_http_head import _address, _read_answer

TIMEOUT = 0.5
"""The gateway's client_timeout in these tests, in seconds."""


@pytest.fixture(scope="module")
def gateway(pki: TestPKI) -> Iterator[InProcessGateway]:
    with InProcessGateway(GatewayConfig(client_timeout=TIMEOUT), pki=pki) as gw:
        yield gw


@pytest.fixture(scope="module")
def server(gateway: InProcessGateway) -> Iterator[LocalServer]:
    with LocalServer(gateway.gateway) as running:
        yield running


def _connect(server: LocalServer) -> socket.socket:
    return socket.create_connection(_address(server.url), timeout=10 * TIMEOUT + 5)


def _last_row(gateway: InProcessGateway, after: int) -> dict[str, object]:
    for _ in range(50):  # traffic rows are flushed in the background
        rows = gateway.gateway.traffic_log(after)
        if rows:
            return rows[-1]
        time.sleep(0.05)
    raise AssertionError("no traffic row was written")


def _last_id(gateway: InProcessGateway) -> int:
    return max((int(r["id"]) for r in gateway.gateway.traffic_log()), default=0)


def test_a_head_that_does_not_finish_in_time_gets_a_signed_408(
    server: LocalServer, gateway: InProcessGateway
) -> None:
    after = _last_id(gateway)
    with _connect(server) as sock:
        sock.sendall(b"GET /api/v1/messages?after=0 HTTP/1.1\r\nHost: g\r\n")
        status, headers, body = _read_answer(sock)  # the head never ends
    assert (status, headers["x-bhxh-ma-loi"], headers["connection"]) == (408, "REQ-005", "close")
    assert Answer.parse(body).ma_loi == "REQ-005" and b"Signature" in body
    row = _last_row(gateway, after)
    assert (row["status"], row["outcome"], row["method"]) == (408, "REQ-005", "GET")
    assert row["path"] == "/api/v1/messages?after=0"


def test_a_head_sent_byte_by_byte_is_timed_from_its_first_byte(server: LocalServer) -> None:
    """Each byte arriving in time does not extend the deadline (the slowloris way)."""
    head = b"GET /healthz HTTP/1.1\r\nHost: g\r\nX-Slow: " + b"a" * 40
    with _connect(server) as sock:
        started = time.monotonic()
        try:
            for byte in head:
                sock.sendall(bytes([byte]))
                time.sleep(TIMEOUT / 10)
        except OSError:  # the server answered and closed while we were still sending
            pass
        status, headers, _ = _read_answer(sock)
    assert (status, headers["x-bhxh-ma-loi"]) == (408, "REQ-005")
    assert time.monotonic() - started < len(head) * TIMEOUT / 10


def test_a_body_that_stalls_gets_a_signed_408_and_the_connection_closes(
    server: LocalServer, gateway: InProcessGateway
) -> None:
    """The rest of the body, were it to come, must not be read as a next request."""
    after = _last_id(gateway)
    head = (
        b"POST /api/v1/dossiers HTTP/1.1\r\nHost: g\r\nAuthorization: Bearer test-token-IVAN01"
        b"\r\nContent-Type: application/xml\r\nX-Message-Id: slow-body-1\r\n"
        b"Content-Length: 1000\r\n\r\n<Hoso>"
    )
    with _connect(server) as sock:
        sock.sendall(head)
        status, headers, body = _read_answer(sock)
        assert sock.recv(1) == b""  # closed by the gateway
    assert (status, headers["x-bhxh-ma-loi"], headers["connection"]) == (408, "REQ-005", "close")
    assert Answer.parse(body).ma_loi == "REQ-005"
    row = _last_row(gateway, after)
    assert (row["status"], row["outcome"], row["ivan"]) == (408, "REQ-005", "IVAN01")
    assert bytes(row["request"]) == b"<Hoso>"  # type: ignore[arg-type]
    assert gateway.gateway.store.counts()["dossiers"] == 0


def test_a_connection_that_sends_nothing_is_closed(
    server: LocalServer, gateway: InProcessGateway
) -> None:
    after = _last_id(gateway)
    with _connect(server) as sock:
        assert sock.recv(1) == b""  # closed without an answer: nothing was asked
    assert gateway.gateway.traffic_log(after) == []


def test_a_prompt_client_is_not_hurried(server: LocalServer) -> None:
    """Kept alive past the timeout between requests is the keep-alive timer's business,
    and a request sent in pieces well within the timeout is served."""
    with _connect(server) as sock:
        sock.sendall(b"GET /healthz HTTP/1.1\r\n")
        time.sleep(TIMEOUT / 4)
        sock.sendall(b"Host: g\r\n\r\n")
        first, _, _ = _read_answer(sock)
        sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: g\r\n\r\n")
        second, _, _ = _read_answer(sock)
    assert (first, second) == (200, 200)


@pytest.mark.parametrize("seconds", [0.0, -1.0, float("nan"), float("inf")])
def test_the_timeout_must_be_a_positive_number(seconds: float) -> None:
    with pytest.raises(Exception, match="client_timeout"):
        GatewayConfig(client_timeout=seconds)


def test_the_traffic_log_times_an_exchange_from_its_first_byte(
    server: LocalServer, gateway: InProcessGateway
) -> None:
    """Upload time included: a body that took 0.3 s to arrive is not logged as 2 ms."""
    after = _last_id(gateway)
    body = b"<Hoso/>"
    head = (
        b"POST /api/v1/dossiers HTTP/1.1\r\nHost: g\r\nAuthorization: Bearer test-token-IVAN01"
        b"\r\nContent-Type: application/xml\r\nX-Message-Id: slow-but-in-time-1\r\n"
        b"Content-Length: " + str(len(body)).encode() + b"\r\n\r\n"
    )
    with _connect(server) as sock:
        sock.sendall(head)
        time.sleep(TIMEOUT * 0.6)
        sock.sendall(body)
        status, _, _ = _read_answer(sock)
    row = _last_row(gateway, after)
    assert status == 400 and row["status"] == 400  # not a dossier, but on time
    assert float(row["duration_ms"]) >= TIMEOUT * 0.6 * 1000  # type: ignore[arg-type]


def test_the_traffic_log_keeps_the_query_as_sent(
    server: LocalServer, gateway: InProcessGateway
) -> None:
    after = _last_id(gateway)
    with _connect(server) as sock:
        sock.sendall(
            b"GET /api/v1/messages?after=0&limit=5 HTTP/1.1\r\nHost: g\r\n"
            b"Authorization: Bearer test-token-IVAN01\r\n\r\n"
        )
        status, _, _ = _read_answer(sock)
    row = _last_row(gateway, after)
    assert (status, row["path"]) == (200, "/api/v1/messages?after=0&limit=5")


def test_the_in_process_adapter_logs_the_query_too(gateway: InProcessGateway) -> None:
    after = _last_id(gateway)
    answer = gateway.request("GET", "/api/v1/messages", query={"after": "0"})
    assert answer.status == 200
    assert _last_row(gateway, after)["path"] == "/api/v1/messages?after=0"


def test_a_kept_alive_connection_sending_a_bare_crlf_is_still_let_go(server: LocalServer) -> None:
    """Bytes that begin no request cancelled uvicorn's keep-alive timer and armed nothing:
    one real request, then two bytes, held a connection for ever."""
    with _connect(server) as sock:
        sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: g\r\n\r\n")
        assert _read_answer(sock)[0] == 200
        sock.sendall(b"\r\n")
        assert sock.recv(1) == b""  # closed within the timeout (the socket waits 10x longer)


def test_a_slow_head_request_is_refused_without_a_body(server: LocalServer) -> None:
    with _connect(server) as sock:
        sock.sendall(b"HEAD /healthz HTTP/1.1\r\nHost: g\r\n")
        sock.settimeout(10 * TIMEOUT + 5)
        data = b""
        while chunk := sock.recv(65536):
            data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 408") and b"x-bhxh-ma-loi: req-005" in head.lower()
    assert body == b""


def test_the_traffic_log_keeps_the_path_as_sent_and_masks_a_query_token(
    server: LocalServer, gateway: InProcessGateway
) -> None:
    after = _last_id(gateway)
    with _connect(server) as sock:
        sock.sendall(b"GET /api/v1/dossiers/abc%2Fdef HTTP/1.1\r\nHost: g\r\n\r\n")
        _read_answer(sock)
    assert _last_row(gateway, after)["path"] == "/api/v1/dossiers/abc%2Fdef"
    after = _last_id(gateway)
    admin = gateway.token("admin")
    answer = gateway.request("GET", "/dashboard", ivan="admin", query={"token": admin})
    assert answer.status == 303  # the token moves into a cookie
    row = _last_row(gateway, after)
    assert row["path"] == "/dashboard?token=***" and admin not in str(row)


def test_a_body_trickled_without_pausing_is_refused_once_too_slow(server: LocalServer) -> None:
    """A byte every tenth of the timeout never pauses long enough to be refused, and held
    a connection as long as the body (20 MB: months) before the minimum rate."""
    head = (
        b"POST /api/v1/dossiers HTTP/1.1\r\nHost: g\r\nAuthorization: Bearer test-token-IVAN01"
        b"\r\nContent-Type: application/xml\r\nX-Message-Id: trickle-1\r\n"
        b"Content-Length: 100000\r\n\r\n"
    )
    with _connect(server) as sock:
        sock.sendall(head)
        started = time.monotonic()
        try:
            for _ in range(100):
                sock.sendall(b"<")
                time.sleep(TIMEOUT / 10)
        except OSError:  # answered and closed while we were still sending
            pass
        status, headers, _ = _read_answer(sock)
    assert (status, headers["x-bhxh-ma-loi"]) == (408, "REQ-005")
    assert time.monotonic() - started < 100 * TIMEOUT / 10
