"""The plugin's fixtures as a vendor found them: every catalog version served, the same
traffic rows on ``gateway`` and ``inproc_gateway``, loud mistakes instead of silent ones
(``ivan_client`` beside an in-process gateway, a second ``responses`` mock), and an
in-process path for ``httpx`` clients with the faults acting as over a socket. One child
pytest runs the vendor file; each test here reads the outcome of the vendor tests about
its own fix."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.catalog.loader import list_versions
from harness.signing import TestPKI
from tests.certification.plugin_vendor import outcomes, run_vendor

VENDOR = """
import asyncio
import time

import httpx
import pytest
import requests
import responses

from harness.catalog import load_catalog
from harness.catalog.loader import list_versions
from harness.certification.plugin_inproc import sim_sleep
from harness.dossiers.factory import DossierFactory


def _envelope(factory, seed=1):
    return factory.build(next(iter(factory.catalog.procedures)), seed=seed).envelope


def _every_version(pki):
    return {v: _envelope(DossierFactory(load_catalog(v), pki)) for v in list_versions()}


def _post(url, token, envelope, message_id):
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/xml"}
    headers["X-Message-Id"] = message_id
    return requests.post(url + "/api/v1/dossiers", data=envelope, headers=headers, timeout=10)


def test_inproc_serves_every_catalog_version(inproc_gateway, bhxh_pki):
    for version, envelope in _every_version(bhxh_pki).items():
        answer = inproc_gateway.submit(envelope, message_id=f"v-{version}")
        assert answer.status == 202, (version, answer.headers)


def test_gateway_serves_every_catalog_version(gateway, bhxh_pki):
    for version, envelope in _every_version(bhxh_pki).items():
        answer = _post(gateway.url, gateway.token, envelope, f"v-{version}")
        assert answer.status_code == 202, (version, answer.headers)


def test_catalog_option_picks_the_factory_only(inproc_gateway, dossier_factory, bhxh_pki):
    assert dossier_factory.catalog.version == "2024.1"
    latest = _envelope(DossierFactory(load_catalog(list_versions()[-1]), bhxh_pki))
    assert inproc_gateway.submit(latest).status == 202


def _same_test(gw, send, envelope):
    gw.set_faults([{"name": "burst-503", "params": {"count": 1, "retry_after": 5}}])
    assert send(envelope, "parity-1").status_code == 503
    assert send(envelope, "parity-1").status_code == 202
    gw.clear_faults()
    gw.advance(2 * 3600)
    gw.now()
    assert len(gw.fault_events()) == 1
    return [(r.ivan, r.method, r.route, r.status) for r in gw.traffic()]


def test_same_rows_on_both_fixtures(gateway, inproc_gateway, dossier_factory):
    envelope = _envelope(dossier_factory)
    session = inproc_gateway.session()

    def over_http(body, message_id):
        return _post(gateway.url, gateway.token, body, message_id)

    def in_process(body, message_id):
        headers = {"Content-Type": "application/xml", "X-Message-Id": message_id}
        return session.post(inproc_gateway.url + "/api/v1/dossiers", data=body, headers=headers)

    served = _same_test(gateway, over_http, envelope)
    gateway.probe("no-such-dossier")
    assert served == _same_test(inproc_gateway, in_process, envelope)
    assert [row[-1] for row in served] == [503, 202]
    assert gateway.traffic() and {r.ivan for r in gateway.traffic()} == {"IVAN01"}


def test_ivan_client_with_inproc_gateway(inproc_gateway, ivan_client):
    pass


def test_ivan_client_with_responses_gateway(responses_gateway, ivan_client):
    pass


def test_ivan_client_with_both_asked_for(gateway, inproc_gateway, ivan_client, dossier_factory):
    assert ivan_client.submit(_envelope(dossier_factory)).accepted
    assert inproc_gateway.client().submit(_envelope(dossier_factory)).accepted


@responses.activate
def test_responses_activate_with_responses_gateway(responses_gateway):
    pass


@pytest.fixture
def responses():
    import responses as library

    with library.RequestsMock() as mock:
        yield mock


def test_responses_fixture_with_responses_gateway(responses, responses_gateway):
    pass


def test_other_mocks_on_responses_gateway_mock(responses_gateway):
    responses_gateway.mock.get("https://vendor.example/config", json={"ok": True})
    assert requests.get("https://vendor.example/config", timeout=5).json() == {"ok": True}
    assert requests.get(responses_gateway.url + "/healthz", timeout=5).status_code == 200


class VendorHttpxClient:
    '''A vendor's own httpx I-VAN client: resends the same bytes under the same
    X-Message-Id after a timeout, a lost connection, a 5xx or a 429.'''

    def __init__(self, client, token, sleep, attempts=5):
        self.client, self.token, self.sleep, self.attempts = client, token, sleep, attempts
        self.seen = []

    def submit(self, envelope, message_id):
        headers = {"Authorization": f"Bearer {self.token}", "X-Message-Id": message_id}
        headers["Content-Type"] = "application/xml"
        for _ in range(self.attempts):
            try:
                answer = self.client.post("/api/v1/dossiers", content=envelope, headers=headers)
            except httpx.TransportError as exc:
                self.seen.append(type(exc).__name__)
                continue
            self.seen.append(answer.status_code)
            if answer.status_code < 500 and answer.status_code != 429:
                return answer
            self.sleep(float(answer.headers.get("Retry-After", "0.1")))
        raise AssertionError(f"gave up after {self.seen}")


def _vendor_client(gw, timeout=5.0):
    client = httpx.Client(
        transport=gw.httpx_transport(), base_url=gw.url, timeout=timeout
    )
    return VendorHttpxClient(client, gw.token, sim_sleep(gw))


def test_httpx_burst_with_retry_after(inproc_gateway, dossier_factory):
    gw = inproc_gateway
    gw.set_faults([{"name": "burst-503", "params": {"count": 2, "retry_after": 5}}])
    before, started = gw.now(), time.monotonic()
    answer = _vendor_client(gw).submit(_envelope(dossier_factory), "httpx-burst")
    assert answer.status_code == 202 and answer.headers["X-MA-GDICH"]
    assert time.monotonic() - started < 3
    assert (gw.now() - before).total_seconds() >= 10
    assert [e["kind"] for e in gw.fault_events()] == ["unavailable", "unavailable"]


def test_httpx_ack_then_500_then_same_message_id(inproc_gateway, dossier_factory):
    gw = inproc_gateway
    gw.set_faults([{"name": "ack-then-500", "params": {}}])
    vendor = _vendor_client(gw)
    answer = vendor.submit(_envelope(dossier_factory), "httpx-ack")
    assert vendor.seen == [500, 202]
    assert answer.headers["X-Idempotent-Replay"] == "true"
    rows = [r for r in gw.traffic() if r.path == "/api/v1/dossiers"]
    assert [(r.message_id, r.outcome) for r in rows] == [
        ("httpx-ack", "OK>SRV-002"),  # committed, then answered 500 SRV-002
        ("httpx-ack", "OK"),
    ]
    gw.advance(2 * 3600)
    feed = vendor.client.get("/api/v1/messages?after=0", headers={
        "Authorization": f"Bearer {gw.token}"})
    assert b"02/TB-TS" in feed.content and b"03/TB-TS" in feed.content


def test_httpx_held_answer_and_reset(inproc_gateway, dossier_factory):
    gw = inproc_gateway
    gw.set_faults([
        {"name": "timeout", "params": {"seconds": 30}},
        {"name": "connection-reset", "params": {"when": "before", "skip": 1}},
    ])
    vendor = _vendor_client(gw, timeout=0.2)
    answer = vendor.submit(_envelope(dossier_factory), "httpx-held")
    assert vendor.seen == ["ReadTimeout", "ReadError", 202]
    assert answer.headers["X-Idempotent-Replay"] == "true"


def test_httpx_reaches_only_the_gateway(inproc_gateway):
    client = httpx.Client(transport=inproc_gateway.httpx_transport())
    with pytest.raises(httpx.ConnectError, match="only the in-process gateway"):
        client.get("https://elsewhere.example/healthz")


def test_async_httpx_burst(inproc_gateway, dossier_factory):
    gw = inproc_gateway
    gw.set_faults([{"name": "burst-503", "params": {"count": 1, "retry_after": 5}}])
    headers = {"Authorization": f"Bearer {gw.token}", "X-Message-Id": "httpx-async"}
    headers["Content-Type"] = "application/xml"
    envelope = _envelope(dossier_factory)

    async def send_twice():
        transport = gw.async_httpx_transport()
        async with httpx.AsyncClient(transport=transport, base_url=gw.url) as client:
            first = await client.post("/api/v1/dossiers", content=envelope, headers=headers)
            again = await client.post("/api/v1/dossiers", content=envelope, headers=headers)
            return first, again

    first, again = asyncio.run(send_twice())
    assert (first.status_code, first.headers["Retry-After"]) == (503, "5")
    assert again.status_code == 202
"""

CATALOG_TEST = "test_catalog_option_picks_the_factory_only"


@pytest.fixture(scope="module")
def vendor_run(tmp_path_factory: pytest.TempPathFactory, pki: TestPKI) -> dict[str, str]:
    folder = tmp_path_factory.mktemp("vendor19")
    done = run_vendor(folder, VENDOR, "--deselect", f"test_vendor.py::{CATALOG_TEST}")
    assert (folder / "junit.xml").is_file(), done.stdout + done.stderr
    return outcomes(folder)


def _passed(run: dict[str, str], *names: str) -> None:
    assert {name: run.get(name) for name in names} == dict.fromkeys(names, "passed")


def _setup_error(run: dict[str, str], name: str, *words: str) -> None:
    outcome = run.get(name, "")
    assert outcome.startswith("error: "), outcome
    assert all(word in outcome for word in words), outcome
    assert "Traceback" not in outcome and "site-packages" not in outcome, outcome


def test_inproc_gateway_serves_every_catalog_version(vendor_run: dict[str, str]) -> None:
    assert len(list_versions()) > 1, "needs two catalog versions to mean anything"
    _passed(vendor_run, "test_inproc_serves_every_catalog_version")


def test_gateway_serves_every_catalog_version(vendor_run: dict[str, str]) -> None:
    _passed(vendor_run, "test_gateway_serves_every_catalog_version")


def test_bhxh_catalog_picks_only_the_factorys_version(tmp_path: Path, pki: TestPKI) -> None:
    """``--bhxh-catalog 2024.1``: the factory builds 2024.1, the gateway still takes the
    latest catalog's dossiers."""
    done = run_vendor(tmp_path, VENDOR, "--bhxh-catalog", "2024.1", "-k", CATALOG_TEST)
    assert outcomes(tmp_path) == {CATALOG_TEST: "passed"}, done.stdout + done.stderr


def test_same_test_sees_the_same_rows_on_gateway_and_inproc(vendor_run: dict[str, str]) -> None:
    _passed(vendor_run, "test_same_rows_on_both_fixtures")


def test_ivan_client_beside_an_in_process_gateway_fails_at_setup(
    vendor_run: dict[str, str],
) -> None:
    for fixture in ("inproc_gateway", "responses_gateway"):
        name = f"test_ivan_client_with_{fixture}"
        _setup_error(vendor_run, name, "ivan_client", f"{fixture}.client()")
    _passed(vendor_run, "test_ivan_client_with_both_asked_for")


def test_a_second_responses_mock_fails_at_setup(vendor_run: dict[str, str]) -> None:
    for name, what in (
        ("test_responses_activate_with_responses_gateway", "@responses.activate"),
        ("test_responses_fixture_with_responses_gateway", "`responses` fixture"),
    ):
        _setup_error(vendor_run, name, what, "responses_gateway.mock")
    _passed(vendor_run, "test_other_mocks_on_responses_gateway_mock")


def test_httpx_clients_run_in_process_with_faults(vendor_run: dict[str, str]) -> None:
    _passed(
        vendor_run,
        "test_httpx_burst_with_retry_after",
        "test_httpx_ack_then_500_then_same_message_id",
        "test_httpx_held_answer_and_reset",
        "test_httpx_reaches_only_the_gateway",
        "test_async_httpx_burst",
    )
