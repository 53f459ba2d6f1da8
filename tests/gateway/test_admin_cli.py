"""Admin API (clock, traffic, reset), metrics, health, and the ``serve`` command's errors."""

from __future__ import annotations

import base64
import json
import socket
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner

from harness.dossiers.factory import Dossier
from harness.signing import TestPKI
from mock_gateway.cli import serve
from mock_gateway.config import GatewayConfig
from mock_gateway.testing import Answer, InProcessGateway, free_port


def test_clock_advance_validates_its_parameter(gw: InProcessGateway) -> None:
    for value in ("", "abc", "-5", "nan", "inf", "1e12"):
        response = gw.request(
            "POST", "/admin/clock/advance", ivan="admin", query={"seconds": value}
        )
        assert (response.status, Answer.parse(response).ma_loi) == (400, "REQ-002"), value
    ok = gw.request("POST", "/admin/clock/advance", ivan="admin", query={"seconds": "60"})
    assert ok.status == 200 and json.loads(ok.body)["advanced"] == 60


def test_traffic_export_has_every_exchange_with_raw_bytes(
    gw: InProcessGateway, valid: Callable[..., Dossier]
) -> None:
    envelope = valid().envelope
    accepted = gw.submit(envelope, message_id="traffic-1")
    gw.request("GET", "/api/v1/messages", ivan="IVAN02")
    gw.submit(b"<x", message_id="traffic-2")
    export = gw.request("GET", "/admin/traffic", ivan="admin")
    rows = [json.loads(line) for line in export.body.decode().splitlines()]
    assert [(r["method"], r["status"], r["outcome"]) for r in rows] == [
        ("POST", 202, "OK"),
        ("GET", 200, "OK"),
        ("POST", 400, "XML-001"),
    ]
    first = rows[0]
    assert first["ivan"] == "IVAN01" and first["message_id"] == "traffic-1"
    assert base64.b64decode(first["request_b64"]) == envelope
    assert base64.b64decode(first["response_b64"]) == accepted.body
    assert first["duration_ms"] > 0 and first["request_size"] == len(envelope)
    later = gw.request("GET", "/admin/traffic", ivan="admin", query={"after": str(rows[1]["id"])})
    assert next(json.loads(x)["outcome"] for x in later.body.decode().splitlines()) == "XML-001"


def test_reset_empties_the_store(gw: InProcessGateway, valid: Callable[..., Dossier]) -> None:
    gw.submit(valid().envelope)
    assert gw.request("POST", "/admin/reset", ivan="admin").status == 200
    counts = gw.gateway.store.counts()
    assert (counts["dossiers"], counts["messages"], counts["idempotency"]) == (0, 0, 0)


def test_metrics_count_routes_and_outcomes(gw: InProcessGateway) -> None:
    gw.request("GET", "/api/v1/catalog")
    gw.request("GET", "/api/v1/catalog", ivan=None)
    text = gw.request("GET", "/metrics", ivan=None).body.decode()
    assert 'bhxh_gateway_requests_total{route="get_catalog",method="GET",status="200"} 1' in text
    assert 'bhxh_gateway_requests_total{route="get_catalog",method="GET",status="401"} 1' in text
    assert 'bhxh_gateway_outcomes_total{code="AUTH-001"} 1' in text
    assert 'bhxh_gateway_request_duration_seconds_count{route="get_catalog"} 2' in text


def test_healthz(gw: InProcessGateway) -> None:
    response = gw.request("GET", "/healthz", ivan=None)
    body = json.loads(response.body)
    assert body["status"] == "ok" and body["environment"] == "THU_NGHIEM"
    assert body["catalogs"] == ["2024.1", "2026.1"]
    assert body["clock_speed"] == gw.gateway.clock.speed  # a load test scales by it
    assert body["workers"] == 1  # fault counters are per worker: a client can tell


def test_healthz_reports_the_workers_serving(pki: TestPKI) -> None:
    with InProcessGateway(GatewayConfig(workers=4), pki=pki) as gw:
        assert json.loads(gw.request("GET", "/healthz", ivan=None).body)["workers"] == 4


def test_head_is_get_without_a_body(gw: InProcessGateway) -> None:
    response = gw.request("HEAD", "/healthz", ivan=None)
    assert response.status == 200 and response.body == b""


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--database-url", "sqlite:////nonexistent-dir/x/gw.sqlite3"], "cannot open database"),
        (["--database-url", "not a url"], "cannot use database URL"),
        (["--database-url", "postgresql+psycopg://u@127.0.0.1:1/db"], "database"),
        (["--catalog", "1999.9"], "catalog version '1999.9' not found"),
        (["--ivan-token", "IVAN01"], "NAME=TOKEN"),
        (["--ivan-token", "IVAN01=same", "--admin-token", "same"], "distinct tokens"),
        (["--workers", "0"], "--workers"),
        (["--clock-speed", "-1"], "--clock-speed"),
        (["--clock-speed", "nan"], "is not a finite number"),
        (["--faults", "nope:seconds=1"], "unknown fault profile 'nope'"),
        (
            ["--faults", "latency:seconds=abc"],
            "seconds must be a number from 0 to 86400, not 'abc'",
        ),
        (
            ["--faults", "certificate-rollover:credential=nobody", "--workers", "2"],
            "no test credential 'nobody'",
        ),
        (["--faults", "latency:seconds"], "not key=value"),
        (["--release", "nope"], "unknown gateway release"),
    ],
)
def test_serve_refuses_bad_options_without_a_traceback(
    args: list[str], message: str, pki: object
) -> None:
    del pki
    result = CliRunner().invoke(serve, args)
    assert result.exit_code == 2, result.output
    assert message in result.output
    assert "Traceback" not in result.output
    assert "http://" not in result.output  # no "serving on ..." line before a refusal


@pytest.mark.parametrize("workers", ["1", "2"])
def test_serve_on_a_taken_port_says_so(workers: str, tmp_path: Path, pki: object) -> None:
    del pki
    port = free_port()
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", port))
        taken.listen()
        database = f"sqlite:///{tmp_path / 'gw.sqlite3'}"
        args = ["--port", str(port), "--workers", workers, "--database-url", database]
        result = CliRunner().invoke(serve, args)
    assert result.exit_code == 2, result.output
    assert f"cannot listen on 127.0.0.1:{port}" in result.output
    assert "another --port" in result.output and "Traceback" not in result.output


def test_config_round_trips_through_the_environment() -> None:
    config = GatewayConfig(
        database_url="sqlite:///x.sqlite3",
        catalog_versions=("2024.1",),
        ivan_tokens={"IVAN09": "t9"},
        clock_speed=60.0,
    )
    env: dict[str, str] = {}
    config.to_env(env)
    assert GatewayConfig.from_env(env) == config


def test_traffic_exports_do_not_log_themselves_recursively(
    gw: InProcessGateway, valid: Callable[..., Dossier]
) -> None:
    gw.submit(valid().envelope, message_id="traffic-3")
    sizes = [len(gw.request("GET", "/admin/traffic", ivan="admin").body) for _ in range(4)]
    rows = [
        json.loads(x)
        for x in gw.request("GET", "/admin/traffic", ivan="admin").body.split(b"\n")
        if x
    ]
    exports = [r for r in rows if r["path"] == "/admin/traffic"]
    assert len(exports) == 4 and all(base64.b64decode(r["response_b64"]) == b"" for r in exports)
    assert sizes[-1] - sizes[-2] < 2000, sizes  # grows by one small row, not by a copy
