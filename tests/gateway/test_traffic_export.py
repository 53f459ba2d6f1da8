"""``GET /admin/traffic`` after a big run: pages bounded in bytes, read back without gaps.

10,000 rows of 8 KB dossiers used to be one 150 MB answer built in 530 MiB of memory; the
export now stops at a byte budget and says so, and the suite's client asks again.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import insert

from harness.certification.gateway import CertGateway
from harness.signing import TestPKI
from mock_gateway import admin, schema
from mock_gateway.local import LocalServer
from mock_gateway.testing import InProcessGateway

ROWS = 60
BODY = 4_000


@pytest.fixture
def logged(pki: TestPKI, tmp_path: Path) -> Iterator[InProcessGateway]:
    """A gateway whose traffic log holds ROWS exchanges of BODY-byte requests."""
    with InProcessGateway(pki=pki, directory=tmp_path) as gw:
        rows = [
            {
                "ivan": "IVAN01",
                "method": "POST",
                "path": "/api/v1/dossiers",
                "message_id": f"m-{index}",
                "status": 202,
                "request_size": BODY,
                "request": os.urandom(BODY),
                "response": b"<BHXH/>",
                "started": "2026-11-26T00:00:00.000000Z",
                "duration_ms": 2.5,
                "outcome": "OK",
            }
            for index in range(ROWS)
        ]
        with gw.gateway.store.engine.begin() as conn:
            conn.execute(insert(schema.traffic), rows)
        yield gw


def _ids(body: bytes) -> list[str]:
    """The message ids of the seeded rows (each export is logged too, without one)."""
    rows = [json.loads(line) for line in body.decode().splitlines()]
    return [r["message_id"] for r in rows if r["message_id"]]


def test_an_export_stops_at_its_byte_budget_and_says_so(
    logged: InProcessGateway, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(admin, "EXPORT_BYTES_MAX", 10 * BODY)  # about 7 base64 rows
    first = logged.request("GET", "/admin/traffic", ivan="admin")
    assert first.headers[admin.TRUNCATED] == "true"
    assert 1 <= len(first.body) <= 10 * BODY
    ids = _ids(first.body)
    assert ids == [f"m-{i}" for i in range(len(ids))]

    seen = list(ids)
    after = json.loads(first.body.decode().splitlines()[-1])["id"]
    while True:
        page = logged.request("GET", "/admin/traffic", ivan="admin", query={"after": str(after)})
        lines = page.body.decode().splitlines()
        seen += _ids(page.body)
        if page.headers[admin.TRUNCATED] == "false":
            break
        after = json.loads(lines[-1])["id"]
    assert seen == [f"m-{i}" for i in range(ROWS)]


def test_one_row_over_the_budget_is_still_exported(
    logged: InProcessGateway, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(admin, "EXPORT_BYTES_MAX", 10)
    page = logged.request("GET", "/admin/traffic", ivan="admin", query={"after": "5"})
    assert _ids(page.body) == ["m-5"] and page.headers[admin.TRUNCATED] == "true"


def test_limit_still_bounds_rows_within_the_budget(logged: InProcessGateway) -> None:
    page = logged.request("GET", "/admin/traffic", ivan="admin", query={"limit": "7"})
    assert _ids(page.body) == [f"m-{i}" for i in range(7)]
    assert page.headers[admin.TRUNCATED] == "true"  # more follow, whatever ended the page
    last = logged.request("GET", "/admin/traffic", ivan="admin", query={"after": str(ROWS - 3)})
    assert _ids(last.body) == [f"m-{i}" for i in range(ROWS - 3, ROWS)]
    assert last.headers[admin.TRUNCATED] == "false"


def test_the_default_row_limit_says_more_rows_follow(pki: TestPKI, tmp_path: Path) -> None:
    """Without ``limit``, 10,000 rows came back marked ``false`` with more in the log."""
    total = 10_001
    with InProcessGateway(pki=pki, directory=tmp_path) as gw:
        row = {
            "ivan": "IVAN01",
            "method": "GET",
            "path": "/api/v1/messages",
            "status": 200,
            "request_size": 0,
            "request": b"",
            "response": b"<BHXH/>",
            "started": "2026-11-26T00:00:00.000000Z",
            "duration_ms": 1.0,
            "outcome": "OK",
        }
        with gw.gateway.store.engine.begin() as conn:
            conn.execute(insert(schema.traffic), [row] * total)
        first = gw.request("GET", "/admin/traffic", ivan="admin")
        lines = first.body.decode().splitlines()
        assert len(lines) == 10_000  # the default limit, as README and openapi.json say
        assert first.headers[admin.TRUNCATED] == "true"
        after = json.loads(lines[-1])["id"]
        rest = gw.request("GET", "/admin/traffic", ivan="admin", query={"after": str(after)})
        paths = [json.loads(x)["path"] for x in rest.body.decode().splitlines()]
        assert paths == ["/api/v1/messages", "/admin/traffic"]  # the last row, the first export
        assert rest.headers[admin.TRUNCATED] == "false"


def test_the_suite_client_reads_every_page(
    logged: InProcessGateway, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(admin, "EXPORT_BYTES_MAX", 10 * BODY)
    with LocalServer(logged.gateway) as server:
        rows = CertGateway(server.url).traffic()
    assert [r.message_id for r in rows if r.message_id] == [f"m-{i}" for i in range(ROWS)]


def test_monitoring_documents_are_logged_without_their_body(pki: TestPKI, tmp_path: Path) -> None:
    """A Prometheus scrape every 15 s stored ~10 KB a time, and 300 reads of /openapi.json
    added 15 MB: every exchange stays in the log, the documents any request remakes do not."""
    with InProcessGateway(pki=pki, directory=tmp_path) as gw:
        for path in ("/metrics", "/openapi.json", "/healthz"):
            assert gw.request("GET", path).status == 200
        rows = {r["path"]: r for r in gw.gateway.traffic_log()}
    assert rows["/metrics"]["status"] == 200 and not rows["/metrics"]["response"]
    assert not rows["/openapi.json"]["response"]
    assert rows["/healthz"]["response"]  # small, and what the gateway said of itself
