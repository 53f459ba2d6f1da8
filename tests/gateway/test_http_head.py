"""The request head (request line and headers) is capped while it arrives: 431 LIM-003.

Before the cap, a 100 MB header was buffered whole by the HTTP parser and answered 200.
Raw sockets, because HTTP clients refuse to send such heads at all.
"""

from __future__ import annotations

import socket
from collections.abc import Iterator
from pathlib import Path

import pytest

from harness.signing import TestPKI
from mock_gateway.http_head import HEAD_MAX, PATH_KEPT, request_line
from mock_gateway.local import LocalServer
from mock_gateway.testing import Answer, InProcessGateway, ServerProcess


@pytest.fixture(scope="module")
def gateway(pki: TestPKI) -> Iterator[InProcessGateway]:
    with InProcessGateway(pki=pki) as gw:
        yield gw


@pytest.fixture(scope="module")
def server(gateway: InProcessGateway) -> Iterator[LocalServer]:
    with LocalServer(gateway.gateway) as running:
        yield running


def _address(url: str) -> tuple[str, int]:
    host, port = url.removeprefix("http://").split(":")
    return host, int(port)


def exchange(url: str, *parts: bytes) -> tuple[int, dict[str, str], bytes]:
    """Send ``parts`` (stopping if the server closes), then read one answer."""
    with socket.create_connection(_address(url), timeout=30) as sock:
        try:
            for part in parts:
                sock.sendall(part)
        except OSError:  # the server answered and closed while we were still sending
            pass
        return _read_answer(sock)


def _read_answer(sock: socket.socket) -> tuple[int, dict[str, str], bytes]:
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        assert chunk, f"connection closed before an answer: {data[:200]!r}"
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    status_line, *lines = head.decode("latin-1").split("\r\n")
    headers = {k.lower(): v.strip() for k, _, v in (line.partition(":") for line in lines)}
    while len(body) < int(headers.get("content-length", "0")):
        chunk = sock.recv(65536)
        if not chunk:
            break
        body += chunk
    return int(status_line.split()[1]), headers, body


def big_header(size: int) -> list[bytes]:
    """A GET /healthz whose one header carries ``size`` bytes, in 1 MB pieces."""
    pieces = [b"GET /healthz HTTP/1.1\r\nHost: gateway\r\nX-Big: "]
    pieces += [b"a" * min(1 << 20, size - i) for i in range(0, size, 1 << 20)]
    return [*pieces, b"\r\n\r\n"]


def test_a_head_over_the_cap_gets_a_signed_431(server: LocalServer) -> None:
    status, headers, body = exchange(server.url, *big_header(HEAD_MAX + 1024))
    assert status == 431 and headers["x-bhxh-ma-loi"] == "LIM-003"
    assert headers["connection"] == "close"
    answer = Answer.parse(body)
    assert answer.ma_loi == "LIM-003" and b"Signature" in body


def test_a_huge_header_is_refused_before_it_is_read(server: LocalServer) -> None:
    status, headers, _ = exchange(server.url, *big_header(50 << 20))
    assert (status, headers["x-bhxh-ma-loi"]) == (431, "LIM-003")


def test_a_head_under_the_cap_is_served(server: LocalServer) -> None:
    status, _, body = exchange(server.url, *big_header(HEAD_MAX - 1024))
    assert status == 200 and b'"status": "ok"' in body


def test_a_long_url_counts_as_head(server: LocalServer) -> None:
    path = b"/api/v1/dossiers/" + b"A" * (HEAD_MAX + 10)
    status, headers, _ = exchange(server.url, b"GET " + path + b" HTTP/1.1\r\nHost: g\r\n\r\n")
    assert (status, headers["x-bhxh-ma-loi"]) == (431, "LIM-003")


def test_a_big_body_does_not_count_as_head(server: LocalServer) -> None:
    """A 300 KB body, then another request on the same kept-alive connection."""
    body = b"<x>" + b"a" * 300_000 + b"</x>"
    post = (
        b"POST /api/v1/dossiers HTTP/1.1\r\nHost: g\r\nAuthorization: Bearer test-token-IVAN01\r\n"
        b"Content-Type: application/xml\r\nX-Message-Id: head-cap-1\r\n"
        b"Content-Length: " + str(len(body)).encode() + b"\r\n\r\n" + body
    )
    with socket.create_connection(_address(server.url), timeout=30) as sock:
        sock.sendall(post)
        first, _, _ = _read_answer(sock)
        sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: g\r\n\r\n")
        second, _, _ = _read_answer(sock)
    assert first == 400 and second == 200


def test_every_worker_of_a_served_gateway_caps_the_head(tmp_path: Path, pki: TestPKI) -> None:
    del pki  # the child trusts the session PKI through $BHXH_HARNESS_PKI
    with ServerProcess(tmp_path / "gateway.sqlite3", workers=2) as running:
        for _ in range(4):  # new connections, spread over both workers
            status, headers, _ = exchange(running.url, *big_header(1 << 20))
            assert (status, headers["x-bhxh-ma-loi"]) == (431, "LIM-003")
        assert exchange(running.url, *big_header(100))[0] == 200


@pytest.mark.parametrize(
    "request_bytes",
    [
        b"HELLO\r\n\r\n",
        b"POST /api/v1/dossiers HTTP/1.1\r\nHost: g\r\nContent-Length: abc\r\n\r\n",
        b"GET /healthz HTTP/1.1\r\nHost: g\r\nBad Header Name: 1\r\n\r\n",
    ],
)
def test_what_the_parser_cannot_read_gets_a_signed_400(
    server: LocalServer, request_bytes: bytes
) -> None:
    """Not uvicorn's plain-text "Invalid HTTP request received.": the same signed answer
    as every other refusal, so a vendor's client parses one kind of error."""
    status, headers, body = exchange(server.url, request_bytes)
    assert (status, headers["x-bhxh-ma-loi"]) == (400, "REQ-004")
    assert Answer.parse(body).ma_loi == "REQ-004"


def test_refusals_are_kept_in_the_traffic_log(
    server: LocalServer, gateway: InProcessGateway
) -> None:
    """Evidence like any exchange: the oversized head's size and URL, not its bytes; the
    first bytes of an unreadable request."""
    after = max((int(r["id"]) for r in gateway.gateway.traffic_log()), default=0)
    path = b"/api/v1/messages?" + b"x" * 100
    exchange(server.url, b"GET " + path + b" HTTP/1.1\r\nX-Big: " + b"a" * HEAD_MAX + b"\r\n\r\n")
    exchange(server.url, b"POST /api/v1/dossiers HTTP/1.1\r\nContent-Length: abc\r\n\r\n")
    rows = {r["outcome"]: r for r in gateway.gateway.traffic_log(after)}
    big, unreadable = rows["LIM-003"], rows["REQ-004"]
    assert (big["status"], big["method"], big["path"]) == (431, "GET", path.decode())
    assert big["request_size"] > HEAD_MAX and not big["request"]
    assert (unreadable["status"], unreadable["method"]) == (400, "POST")
    assert unreadable["path"] == "/api/v1/dossiers"
    assert bytes(unreadable["request"]).startswith(b"POST /api/v1/dossiers HTTP/1.1")


@pytest.mark.parametrize(
    ("head", "expected"),
    [
        (b"HELLO gateway\r\n\r\n", ("HELLO", "gateway")),
        (b"GET /api/v1/messages?after=1 HTTP/1.1\r\n", ("GET", "/api/v1/messages?after=1")),
        (b"GET /" + b"a" * 2000, ("GET", "/" + "a" * (PATH_KEPT - 1))),
        (b"\x16\x03\x01\x02\x00", ("", "")),  # a TLS hello sent to plain HTTP
        (b"", ("", "")),
    ],
)
def test_the_traffic_log_reads_what_it_can_of_a_refused_request_line(
    head: bytes, expected: tuple[str, str]
) -> None:
    assert request_line(head) == expected


def _expecting(token: str, path: bytes = b"/api/v1/dossiers") -> bytes:
    return (
        b"POST "
        + path
        + b" HTTP/1.1\r\nHost: g\r\nAuthorization: Bearer "
        + token.encode()
        + b"\r\nContent-Type: application/xml\r\nX-Message-Id: expect-1\r\n"
        b"Content-Length: 5000000\r\nExpect: 100-continue\r\n\r\n"
    )


@pytest.mark.parametrize(
    ("token", "path", "status", "code"),
    [
        ("not-a-token", b"/api/v1/dossiers", 401, "AUTH-002"),
        ("test-token-IVAN01", b"/api/v1/dossier", 404, "NF-001"),
        ("test-token-IVAN01", b"/admin/traffic", 405, "REQ-002"),
    ],
)
def test_a_request_refused_whatever_its_body_is_answered_before_the_body(
    server: LocalServer, gateway: InProcessGateway, token: str, path: bytes, status: int, code: str
) -> None:
    """A client waiting for 100 Continue hears the refusal at once, not after uploading
    5 MB, and the connection closes (the body it may still send is not a next request)."""
    after = max((int(r["id"]) for r in gateway.gateway.traffic_log()), default=0)
    got, headers, body = exchange(server.url, _expecting(token, path))
    assert (got, headers["x-bhxh-ma-loi"], headers["connection"]) == (status, code, "close")
    assert Answer.parse(body).ma_loi == code
    [row] = [r for r in gateway.gateway.traffic_log(after) if r["outcome"] == code]
    assert row["request_size"] == 5_000_000 and not row["request"]


def test_a_request_that_may_succeed_gets_100_continue(server: LocalServer) -> None:
    with socket.create_connection(_address(server.url), timeout=30) as sock:
        sock.sendall(_expecting("test-token-IVAN01"))
        assert sock.recv(100).startswith(b"HTTP/1.1 100 Continue")
