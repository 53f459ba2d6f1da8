"""A request the parser cannot read is logged with an empty method, never ``DELETE``.

Before: ``GARBAGE``, a TLS hello sent to plain HTTP, NUL bytes and a lowercase ``get``
were all logged (and counted in ``/metrics``) as method ``DELETE``: httptools reports
its method zero, DELETE, when it never read one, and the method of the previous request
for garbage pipelined after it. Empty, because no client can send an empty method, while
"UNKNOWN" is a method a client may send.
"""

from __future__ import annotations

import socket
from collections.abc import Iterator

import pytest

from harness.signing import TestPKI
from mock_gateway.local import LocalServer
from mock_gateway.testing import InProcessGateway

TLS_HELLO = bytes.fromhex("160301020001000001fc0303") + b"\x00" * 64


@pytest.fixture(scope="module")
def gateway(pki: TestPKI) -> Iterator[InProcessGateway]:
    with InProcessGateway(pki=pki) as gw:
        yield gw


@pytest.fixture(scope="module")
def server(gateway: InProcessGateway) -> Iterator[LocalServer]:
    with LocalServer(gateway.gateway) as running:
        yield running


def send(url: str, data: bytes) -> bytes:
    """Send ``data``, then read until the server closes; what it answered."""
    host, port = url.removeprefix("http://").split(":")
    answer = b""
    with socket.create_connection((host, int(port)), timeout=30) as sock:
        sock.sendall(data)
        while chunk := sock.recv(65536):
            answer += chunk
    return answer


def refused_rows(gateway: InProcessGateway, after: int) -> list[dict[str, object]]:
    return [r for r in gateway.gateway.traffic_log(after) if r["outcome"] == "REQ-004"]


def last_id(gateway: InProcessGateway) -> int:
    return max((int(r["id"]) for r in gateway.gateway.traffic_log()), default=0)


@pytest.mark.parametrize(
    "data",
    [
        b"GARBAGE\r\n\r\n",
        TLS_HELLO,
        b"\x00" * 32,
        b"get / HTTP/1.1\r\nHost: g\r\n\r\n",
        b"HELLO gateway\r\n\r\n",
        b"GET /healthz HTTP/1.1\r\nHost: g\r\n\r\nGARBAGE\r\n\r\n",  # after a good one
    ],
    ids=["garbage", "tls-hello", "nul-bytes", "lowercase", "unknown-method", "pipelined"],
)
def test_an_unread_method_is_logged_and_counted_empty(
    server: LocalServer, gateway: InProcessGateway, data: bytes
) -> None:
    after = last_id(gateway)
    assert b" 400 " in send(server.url, data)
    [row] = refused_rows(gateway, after)
    assert (row["method"], row["path"], row["status"]) == ("", "", 400)
    assert bytes(row["request"])  # type: ignore[arg-type]  # the bytes are the evidence
    text = gateway.gateway.metrics.render().decode()
    assert 'route="unmatched",method="DELETE"' not in text
    assert 'route="unmatched",method="",status="400"' in text


@pytest.mark.parametrize(
    ("data", "method", "path"),
    [
        (
            b"DELETE /admin/faults HTTP/1.1\r\nContent-Length: abc\r\n\r\n",
            "DELETE",
            "/admin/faults",
        ),
        (b"GET /a\x01b HTTP/1.1\r\nHost: g\r\n\r\n", "GET", "/a\x01b"),
        (b"POST /api/v1/dossiers HTTP/1.1\r\nBad Header\r\n\r\n", "POST", "/api/v1/dossiers"),
    ],
    ids=["real-delete", "bad-url", "bad-header"],
)
def test_a_method_the_parser_read_is_still_logged(
    server: LocalServer, gateway: InProcessGateway, data: bytes, method: str, path: str
) -> None:
    after = last_id(gateway)
    send(server.url, data)
    [row] = refused_rows(gateway, after)
    assert (row["method"], row["path"]) == (method, path)
