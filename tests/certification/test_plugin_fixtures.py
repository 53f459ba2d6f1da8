"""The plugin's fixtures as a vendor uses them: socket-free gateways, per-test isolation of
the session gateway's logs, a client that waits on the simulated clock, and a dossier
factory of each test's own. One child pytest runs the vendor file; each test here reads
the outcome of the vendor tests about its own fix."""

from __future__ import annotations

import pytest

from harness.signing import TestPKI
from tests.certification.plugin_vendor import outcomes, run_vendor

VENDOR = """
import socket
import time

import requests


def _one_dossier(factory, seed=3):
    return factory.build(next(iter(factory.catalog.procedures)), seed=seed).envelope


def _no_socket(*args, **kwargs):
    raise AssertionError("a socket was opened")


def test_responses_gateway(responses_gateway, dossier_factory, monkeypatch):
    envelope = _one_dossier(dossier_factory)
    monkeypatch.setattr(socket, "socket", _no_socket)
    gw = responses_gateway
    gw.set_faults([{"name": "burst-503", "params": {"count": 1, "retry_after": 5}}])
    headers = {"Authorization": f"Bearer {gw.token}", "Content-Type": "application/xml"}
    headers["X-Message-Id"] = "vendor-1"
    first = requests.post(gw.url + "/api/v1/dossiers", data=envelope, headers=headers, timeout=5)
    assert (first.status_code, first.headers["Retry-After"]) == (503, "5")
    again = requests.post(gw.url + "/api/v1/dossiers", data=envelope, headers=headers, timeout=5)
    assert again.status_code == 202, again.text
    assert [e["kind"] for e in gw.fault_events()] == ["unavailable"]
    assert [r.status for r in gw.traffic() if r.path == "/api/v1/dossiers"] == [503, 202]
    gw.advance(2 * 3600)
    feed = requests.get(gw.url + "/api/v1/messages?after=0", headers=headers, timeout=5)
    assert b"02/TB-TS" in feed.content and b"03/TB-TS" in feed.content


def test_responses_gateway_times_out_a_held_answer(responses_gateway, dossier_factory):
    envelope = _one_dossier(dossier_factory, seed=4)
    gw = responses_gateway
    gw.set_faults([{"name": "timeout", "params": {}}])
    headers = {"Authorization": f"Bearer {gw.token}", "Content-Type": "application/xml"}
    headers["X-Message-Id"] = "vendor-2"
    try:
        requests.post(gw.url + "/api/v1/dossiers", data=envelope, headers=headers, timeout=0.2)
    except requests.ReadTimeout:
        pass
    else:
        raise AssertionError("a held answer must time the client out")
    assert [e["kind"] for e in gw.fault_events()] == ["timeout"]
    assert [r.status for r in gw.traffic() if r.path == "/api/v1/dossiers"] == [202]


def test_inproc_gateway(inproc_gateway, dossier_factory):
    gw = inproc_gateway
    gw.set_faults([{"name": "burst-503", "params": {"count": 3, "retry_after": 5}}])
    before, started = gw.now(), time.monotonic()
    assert gw.client().submit(_one_dossier(dossier_factory)).accepted
    assert time.monotonic() - started < 3
    assert (gw.now() - before).total_seconds() >= 15
    assert len(gw.fault_events()) == 3
    gw.advance(2 * 3600)
    assert gw.session().get(gw.url + "/api/v1/messages?after=0").status_code == 200


def test_isolation_1_leaves_events_behind(gateway, ivan_client, dossier_factory):
    gateway.set_faults([{"name": "burst-503", "params": {"count": 1, "retry_after": None}}])
    assert ivan_client.submit(_one_dossier(dossier_factory)).accepted
    assert len(gateway.fault_events()) == 1


def test_isolation_2_sees_only_its_own(gateway):
    assert gateway.fault_events() == []
    assert gateway.traffic() == []


def test_ivan_client_waits_on_the_simulated_clock(gateway, ivan_client, dossier_factory):
    gateway.set_faults([{"name": "burst-503", "params": {"count": 3, "retry_after": 5}}])
    before, started = gateway.now(), time.monotonic()
    assert ivan_client.submit(_one_dossier(dossier_factory)).accepted
    assert time.monotonic() - started < 3
    assert (gateway.now() - before).total_seconds() >= 15


def test_factory_1_changed_by_a_test(dossier_factory):
    dossier_factory.ivan = ("IVAN02", "I-VAN IVAN02")


def test_factory_2_is_this_tests_own(dossier_factory, dossier_factory_for, gateway):
    from harness.client import IvanClient

    assert dossier_factory.ivan[0] == "IVAN01"
    client = IvanClient(gateway.url, gateway.token_for("IVAN02"))
    answer = client.submit(_one_dossier(dossier_factory_for("IVAN02")))
    assert answer.accepted, answer.raw
    assert {r.ivan for r in gateway.traffic()} == {"IVAN02"}
"""


@pytest.fixture(scope="module")
def vendor_run(tmp_path_factory: pytest.TempPathFactory, pki: TestPKI) -> dict[str, str]:
    folder = tmp_path_factory.mktemp("vendor")
    done = run_vendor(folder, VENDOR)
    assert (folder / "junit.xml").is_file(), done.stdout + done.stderr
    return outcomes(folder)


def _passed(run: dict[str, str], *names: str) -> None:
    assert {name: run.get(name) for name in names} == dict.fromkeys(names, "passed")


def test_responses_gateway_routes_plain_requests_with_no_socket(vendor_run: dict[str, str]) -> None:
    _passed(vendor_run, "test_responses_gateway", "test_responses_gateway_times_out_a_held_answer")


def test_inproc_gateway_has_faults_a_session_and_a_client(vendor_run: dict[str, str]) -> None:
    _passed(vendor_run, "test_inproc_gateway")


def test_a_test_sees_only_its_own_traffic_and_fault_events(vendor_run: dict[str, str]) -> None:
    _passed(
        vendor_run, "test_isolation_1_leaves_events_behind", "test_isolation_2_sees_only_its_own"
    )


def test_ivan_client_backs_off_on_the_simulated_clock(vendor_run: dict[str, str]) -> None:
    _passed(vendor_run, "test_ivan_client_waits_on_the_simulated_clock")


def test_each_test_gets_its_own_dossier_factory(vendor_run: dict[str, str]) -> None:
    _passed(vendor_run, "test_factory_1_changed_by_a_test", "test_factory_2_is_this_tests_own")
