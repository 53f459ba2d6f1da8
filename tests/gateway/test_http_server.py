"""The real thing: ``python -m mock_gateway.cli`` under uvicorn on 127.0.0.1, driven by requests."""

from __future__ import annotations

import base64
import http.client
import json
import socket
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import requests
from lxml import etree

from harness.dossiers.factory import Dossier
from harness.errors import ConfigError
from harness.signing import TestPKI
from mock_gateway.local import LocalServer
from mock_gateway.testing import Answer, InProcessGateway, ServerProcess

IVAN01 = {"Authorization": "Bearer test-token-IVAN01"}
ADMIN = {"Authorization": "Bearer test-admin-token"}
TIMEOUT = 30


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory, pki: TestPKI) -> Iterator[ServerProcess]:
    del pki  # requested so $BHXH_HARNESS_PKI names the session PKI the server must trust
    with ServerProcess(tmp_path_factory.mktemp("http-gateway") / "gateway.sqlite3") as running:
        yield running


def submit(server: ServerProcess, body: bytes, message_id: str) -> requests.Response:
    headers = {**IVAN01, "Content-Type": "application/xml", "X-Message-Id": message_id}
    return requests.post(
        f"{server.url}/api/v1/dossiers", data=body, headers=headers, timeout=TIMEOUT
    )


def test_submit_read_and_lifecycle_over_http(
    server: ServerProcess, valid: Callable[..., Dossier]
) -> None:
    response = submit(server, valid().envelope, "http-1")
    assert response.status_code == 202, response.text
    assert response.headers["Content-Type"].startswith("application/xml")
    ma_gdich = Answer.parse(response.content).ma_gdich

    status = requests.get(
        f"{server.url}/api/v1/dossiers/{ma_gdich}", headers=IVAN01, timeout=TIMEOUT
    )
    assert status.status_code == 200
    assert etree.fromstring(status.content).findtext("HOSO/TRANG_THAI") == "received"

    advance = requests.post(
        f"{server.url}/admin/clock/advance", params={"seconds": 900}, headers=ADMIN, timeout=TIMEOUT
    )
    assert advance.status_code == 200 and advance.json()["issued"] == 1
    feed = requests.get(f"{server.url}/api/v1/messages", headers=IVAN01, timeout=TIMEOUT)
    [entry] = etree.fromstring(feed.content).iter("THONGBAO")
    slip = Answer.parse(base64.b64decode(entry.findtext("NOI_DUNG") or ""))
    assert slip.kind == "02/TB-TS"


def test_errors_over_http_are_signed_xml(server: ServerProcess) -> None:
    missing = requests.get(f"{server.url}/nothing/here", timeout=TIMEOUT)
    assert missing.status_code == 404
    assert Answer.parse(missing.content).ma_loi == "NF-001"
    wrong = requests.put(f"{server.url}/api/v1/dossiers", headers=IVAN01, timeout=TIMEOUT)
    assert wrong.status_code == 405 and wrong.headers["Allow"] == "POST"
    unauthenticated = requests.get(f"{server.url}/api/v1/messages", timeout=TIMEOUT)
    assert Answer.parse(unauthenticated.content).ma_loi == "AUTH-001"


def test_a_header_sent_twice_is_refused_not_half_read(
    server: ServerProcess, valid: Callable[..., Dossier]
) -> None:
    """Two X-Message-Id or Content-Type values reach the core joined (RFC 9110 5.3), so
    neither is picked silently as the idempotency key or the body's type."""
    body = valid().envelope
    for name, first, second, code in [
        ("X-Message-Id", "twice-1", "twice-2", "REQ-002"),
        ("Content-Type", "application/xml", "application/json", "XML-004"),
    ]:
        headers = [
            ("Authorization", IVAN01["Authorization"]),
            ("Content-Type", "application/xml"),
            ("X-Message-Id", f"twice-{name}"),
        ]
        headers = [(k, v) for k, v in headers if k != name] + [(name, first), (name, second)]
        assert raw_post(server, headers, body) == code


def raw_post(server: ServerProcess, headers: list[tuple[str, str]], body: bytes) -> str:
    """POST with repeated headers (requests merges them) and return the answer's MA_LOI."""
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=TIMEOUT)
    try:
        connection.putrequest("POST", "/api/v1/dossiers")
        for name, value in [*headers, ("Content-Length", str(len(body)))]:
            connection.putheader(name, value)
        connection.endheaders(body)
        return Answer.parse(connection.getresponse().read()).ma_loi
    finally:
        connection.close()


def test_trailing_slash_is_not_redirected(server: ServerProcess) -> None:
    """A strict gateway answers a wrong path with NF-001: a 307 to the right one would hide
    a client bug that the real portal rejects."""
    slash = requests.post(
        f"{server.url}/api/v1/dossiers/", headers=IVAN01, timeout=TIMEOUT, allow_redirects=False
    )
    assert slash.status_code == 404
    assert Answer.parse(slash.content).ma_loi == "NF-001"
    health = requests.get(f"{server.url}/healthz/", timeout=TIMEOUT, allow_redirects=False)
    assert health.status_code == 404


def test_fifty_megabyte_upload_is_refused_with_413(server: ServerProcess) -> None:
    body = b"<Hoso>" + b"A" * (50 * 1024 * 1024) + b"</Hoso>"
    response = submit(server, body, "big-1")
    assert response.status_code == 413
    assert Answer.parse(response.content).ma_loi == "LIM-001"

    def chunks() -> Iterator[bytes]:  # no Content-Length: the cap applies while streaming
        yield from (body[i : i + 1 << 20] for i in range(0, len(body), 1 << 20))

    headers = {**IVAN01, "Content-Type": "application/xml", "X-Message-Id": "big-2"}
    streamed = requests.post(
        f"{server.url}/api/v1/dossiers", data=chunks(), headers=headers, timeout=TIMEOUT
    )
    assert streamed.status_code == 413
    # The connection is still usable and the gateway healthy afterwards.
    assert requests.get(f"{server.url}/healthz", timeout=TIMEOUT).status_code == 200


def test_metrics_and_traffic_export(server: ServerProcess, valid: Callable[..., Dossier]) -> None:
    submit(server, valid().envelope, "http-metrics")
    metrics = requests.get(f"{server.url}/metrics", timeout=TIMEOUT)
    assert metrics.headers["Content-Type"].startswith("text/plain")
    assert 'bhxh_gateway_requests_total{route="submit_dossier",method="POST",status="202"}' in (
        metrics.text
    )
    assert "bhxh_gateway_request_duration_seconds_bucket" in metrics.text
    export = requests.get(f"{server.url}/admin/traffic", headers=ADMIN, timeout=TIMEOUT)
    assert export.headers["Content-Type"].startswith("application/x-ndjson")
    assert '"message_id": "http-metrics"' in export.text


def test_a_client_hanging_up_mid_body_is_logged_not_a_traceback(server: ServerProcess) -> None:
    head = (
        "POST /api/v1/dossiers HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        f"Authorization: {IVAN01['Authorization']}\r\nContent-Type: application/xml\r\n"
        "X-Message-Id: hung-up\r\nContent-Length: 5000\r\n\r\n<Hoso>"
    )
    with socket.create_connection(("127.0.0.1", server.port), timeout=TIMEOUT) as client:
        client.sendall(head.encode("ascii"))
    deadline = time.monotonic() + TIMEOUT
    while time.monotonic() < deadline:
        export = requests.get(f"{server.url}/admin/traffic", headers=ADMIN, timeout=TIMEOUT)
        rows = [json.loads(line) for line in export.text.splitlines()]
        logged = [r for r in rows if r["message_id"] == "hung-up"]
        if logged:
            break
        time.sleep(0.1)
    assert [r["outcome"] for r in logged] == ["REQ-003"]
    assert base64.b64decode(logged[0]["request_b64"]).endswith(b"<Hoso>")
    assert "Traceback" not in server.log.read_text(encoding="utf-8")


def test_two_workers_share_one_store(
    tmp_path: Path, pki: TestPKI, valid: Callable[..., Dossier]
) -> None:
    del pki
    running = ServerProcess(tmp_path / "gateway.sqlite3", workers=2).start()
    try:
        receipts = {
            Answer.parse(submit(running, valid().envelope, f"w-{i}").content).ma_gdich
            for i in range(6)
        }
        assert len(receipts) == 6
        advance = requests.post(
            f"{running.url}/admin/clock/advance",
            params={"seconds": 900},
            headers=ADMIN,
            timeout=TIMEOUT,
        )
        assert advance.status_code == 200
        deadline = time.monotonic() + 10
        seen: list[str] = []
        while time.monotonic() < deadline and len(seen) < 6:
            feed = requests.get(f"{running.url}/api/v1/messages", headers=IVAN01, timeout=TIMEOUT)
            seen = [e.text or "" for e in etree.fromstring(feed.content).iter("MA_GDICH")]
            time.sleep(0.2)
        assert sorted(seen) == sorted(receipts)  # each 02/TB-TS issued exactly once
    finally:
        running.stop()


def test_a_local_server_on_a_taken_port_says_so(gw: InProcessGateway) -> None:
    """Not "could not start" with the reason lost in the server's thread."""
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        with pytest.raises(ConfigError, match="Address already in use"):
            LocalServer(gw.gateway, port=port).__enter__()
