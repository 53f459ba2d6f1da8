"""The gateway under ``requests`` with no socket: transport adapter and ``responses``."""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

import pytest
import requests
import responses

from harness.dossiers.factory import Dossier
from harness.errors import ConfigError
from harness.signing import TestPKI
from mock_gateway.testing import Answer, InProcessGateway
from mock_gateway.transport import DEFAULT_BASE_URL, core_request, mount, register_responses


def test_adapter_routes_a_session_to_the_core(
    gw: InProcessGateway, valid: Callable[..., Dossier]
) -> None:
    session = gw.session()
    response = session.post(
        f"{DEFAULT_BASE_URL}/api/v1/dossiers",
        data=valid().envelope,
        headers={"Content-Type": "application/xml", "X-Message-Id": "adapter-1"},
    )
    assert response.status_code == 202
    assert response.reason == "Accepted"
    assert response.headers["content-type"].startswith("application/xml")
    ma_gdich = Answer.parse(response.content).ma_gdich
    status = session.get(f"{DEFAULT_BASE_URL}/api/v1/dossiers/{ma_gdich}")
    assert status.status_code == 200 and ma_gdich in status.text
    feed = session.get(f"{DEFAULT_BASE_URL}/api/v1/messages", params={"limit": "5"})
    assert feed.ok
    assert gw.gateway.store.counts()["dossiers"] == 1


def test_adapter_under_a_base_path(gw: InProcessGateway) -> None:
    session = requests.Session()
    mount(session, gw.gateway, "https://gateway.example.vn/bhxh")
    health = session.get("https://gateway.example.vn/bhxh/healthz")
    assert health.status_code == 200 and health.json()["status"] == "ok"
    missing = session.get("https://gateway.example.vn/bhxh/nope")
    assert missing.status_code == 404


@pytest.mark.parametrize(
    ("url", "path"),
    [
        ("https://g.vn/bhxh/healthz", "/healthz"),
        ("https://g.vn/bhxh", "/"),
        ("https://g.vn/bhxhx/healthz", "/bhxhx/healthz"),  # not the gateway's "x/healthz"
    ],
)
def test_only_the_base_path_itself_is_cut(url: str, path: str) -> None:
    assert core_request("GET", url, {}, None, "/bhxh").path == path


def test_responses_callbacks_serve_plain_requests_calls(
    gw: InProcessGateway, valid: Callable[..., Dossier]
) -> None:
    token = {"Authorization": f"Bearer {gw.token()}"}
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        register_responses(mock, gw.gateway)
        # Code under test that builds its own requests calls, as a vendor's client would.
        accepted = requests.post(
            f"{DEFAULT_BASE_URL}/api/v1/dossiers",
            data=valid().envelope,
            headers={**token, "Content-Type": "application/xml", "X-Message-Id": "rsps-1"},
            timeout=5,
        )
        assert accepted.status_code == 202
        listing = requests.get(
            f"{DEFAULT_BASE_URL}/api/v1/messages?after=0&limit=10", headers=token, timeout=5
        )
        assert listing.status_code == 200
        assert listing.headers["Content-Type"].startswith("application/xml")
        unknown = requests.get(f"{DEFAULT_BASE_URL}/api/v9/x", headers=token, timeout=5)
        assert unknown.status_code == 404
        assert Answer.parse(unknown.content).ma_loi == "NF-001"
    assert gw.gateway.store.counts()["dossiers"] == 1


@pytest.mark.parametrize("seconds", [-10.0, float("nan"), float("inf"), 400_000_000.0])
def test_advancing_the_clock_by_an_impossible_amount_says_so(
    gw: InProcessGateway, seconds: float
) -> None:
    before = gw.gateway.clock.now()
    with pytest.raises(ConfigError, match="cannot advance the simulated clock"):
        gw.advance(seconds)
    assert gw.gateway.clock.now() >= before  # never moved back


def test_an_unknown_ivan_names_the_known_ones(gw: InProcessGateway) -> None:
    with pytest.raises(ConfigError, match="no I-VAN 'IVAN99'") as caught:
        gw.session(ivan="IVAN99")
    assert "IVAN01" in str(caught.value)


def test_a_naive_start_time_is_refused(
    pki: TestPKI, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    with (
        pytest.raises(ConfigError, match="has no time zone"),
        InProcessGateway(pki=pki, start=datetime(2026, 1, 5, 8)),
    ):
        pass
    assert not list(tmp_path.glob("bhxh-gateway-*"))  # the folder it made is gone too


def test_a_session_outliving_its_gateway_gets_a_clear_error(pki: TestPKI) -> None:
    with InProcessGateway(pki=pki) as gateway:
        session = gateway.session()
    with pytest.raises(RuntimeError, match="gateway this request was wired to is closed"):
        session.get(f"{DEFAULT_BASE_URL}/healthz")
