"""Fault profiles of the mock gateway: data, hooks, admin endpoint, and their transports.

In-process tests drive :class:`FaultyGateway` directly (fast, deterministic); the last ones
cross a real socket to show that a reset and a held answer are what a client really sees.
"""

from __future__ import annotations

import base64
import json
import re
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
import responses
from lxml import etree

from harness.catalog import load_catalog
from harness.errors import ConfigError
from harness.signing import TestPKI, verify
from mock_gateway.exchange import GatewayRequest, GatewayResponse
from mock_gateway.fault_profiles import KINDS, load_profiles
from mock_gateway.faults import FAULT_HEADER
from mock_gateway.faulty_app import (
    FaultAdapter,
    FaultSpec,
    FaultyGateway,
    app_factory,
    parse_spec,
    specs_from_json,
)
from mock_gateway.hook_params import PARAMETER_NAMES
from mock_gateway.testing import Answer, InProcessGateway
from mock_gateway.transport import register_responses
from tests.faulty_calls import accepted_envelopes, call, submit

BASE = "http://faulty.test"
AS_JSON = {"Content-Type": "application/json"}


@pytest.fixture(scope="module")
def envelopes(pki: TestPKI) -> Callable[[], bytes]:
    """Distinct signed dossiers the gateway accepts (latest catalog, first procedure)."""
    return accepted_envelopes(pki, 500)


@pytest.fixture
def gw(pki: TestPKI) -> Iterator[InProcessGateway]:
    with InProcessGateway(pki=pki) as gateway:
        yield gateway


@pytest.fixture
def faulty(gw: InProcessGateway) -> FaultyGateway:
    return FaultyGateway(gw.gateway)


def feed_ids(response: GatewayResponse) -> list[str]:
    return [n.findtext("ID") or "" for n in etree.fromstring(response.body).iter("THONGBAO")]


# -- profiles as data ----------------------------------------------------------------


def test_every_profile_loads_and_every_kind_is_used() -> None:
    profiles = load_profiles()
    assert {"latency", "burst-503", "connection-reset", "timeout", "ack-then-500"} <= set(profiles)
    assert {"duplicate-messages", "out-of-order-messages", "maintenance"} <= set(profiles)
    assert "certificate-rollover" in profiles
    used = {hook["kind"] for p in profiles.values() for hook in p.bind()}
    assert used == set(KINDS)
    assert all(p.description for p in profiles.values())


def test_parameters_bind_and_unknown_ones_are_refused() -> None:
    burst = load_profiles()["burst-503"]
    [hook] = burst.bind({"count": 5, "retry_after": None})
    assert hook["times"] == 5 and hook["retry_after"] is None and hook["kind"] == "unavailable"
    assert hook[PARAMETER_NAMES]["times"] == "count"
    with pytest.raises(ConfigError, match="no parameter colour"):
        burst.bind({"colour": "red"})


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("latency:seconds=abc", "seconds must be a number from 0 to 86400, not 'abc'"),
        ("latency:seconds=-1", "seconds must be a number from 0 to 86400, not -1"),
        ("latency:seconds=.nan", "seconds must be a number from 0 to 86400"),
        ("latency:probability=1.5", "probability must be a number from 0 to 1, not 1.5"),
        ("latency:probability=true", "probability must be a number from 0 to 1, not True"),
        ("latency:routes=7", "routes must be a list"),
        ("burst-503:count=2.5", "count must be a whole number from 0 to 1000000000, not 2.5"),
        ("flaky-day:latency=-0.5", "latency must be a number from 0 to 86400, not -0.5"),
        ("burst-503:window=soon", "window must be a number from 0 to 86400"),
        ("connection-reset:when=later", "when must be one of before, after, not 'later'"),
        ("out-of-order-messages:mode=sideways", "mode must be one of reverse, shuffle"),
        ("duplicate-messages:redeliver=maybe", "redeliver must be true or false"),
        ("certificate-rollover:credential=nobody", "no test credential 'nobody'"),
        ("certificate-rollover:credential=null", "credential must be the name of"),
    ],
)
def test_a_bad_value_is_refused_when_the_plan_is_set_and_the_old_plan_stays(
    faulty: FaultyGateway, spec: str, message: str
) -> None:
    faulty.set_plan(parse_spec("latency:seconds=0.01"))
    with pytest.raises(ConfigError, match=re.escape(message)) as raised:
        faulty.set_plan(parse_spec(spec))
    assert f"fault profile {spec.split(':')[0]!r}" in str(raised.value)
    assert faulty.specs == [FaultSpec("latency", {"seconds": 0.01})]
    assert call(faulty, "GET", "/api/v1/catalog").headers[FAULT_HEADER] == "delay=0.010"


def test_values_in_range_and_a_single_route_are_accepted(faulty: FaultyGateway) -> None:
    faulty.set_plan(
        parse_spec(
            "latency:seconds=0,probability=1,routes=GET /api/v1/catalog;"
            "burst-503:count=2.0,retry_after=null,window=0.5;"
            "connection-reset:when=after;out-of-order-messages:mode=shuffle"
        )
    )
    assert FAULT_HEADER in call(faulty, "GET", "/api/v1/catalog").headers
    assert FAULT_HEADER not in call(faulty, "GET", "/api/v1/messages").headers


def test_an_unknown_kind_names_its_file(tmp_path: Path) -> None:
    (tmp_path / "odd.yaml").write_text("hooks: [{kind: teleport}]\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"odd\.yaml: unknown fault kind 'teleport'"):
        load_profiles(tmp_path)


def test_specs_from_a_line_and_from_json() -> None:
    specs = parse_spec("burst-503:count=5,retry_after=null; latency:seconds=0.1")
    assert specs == [
        FaultSpec("burst-503", {"count": 5, "retry_after": None}),
        FaultSpec("latency", {"seconds": 0.1}),
    ]
    assert specs_from_json({"spec": "latency", "seed": 3}) == ([FaultSpec("latency")], 3)
    body = {"profiles": [{"name": "timeout", "params": {"seconds": 2}}]}
    assert specs_from_json(body) == ([FaultSpec("timeout", {"seconds": 2})], None)
    with pytest.raises(ConfigError, match="not key=value"):
        parse_spec("latency:fast")


# -- hooks, in-process -------------------------------------------------------------------


def test_burst_503_with_and_without_retry_after(
    faulty: FaultyGateway, envelopes: Callable[[], bytes], gw: InProcessGateway
) -> None:
    faulty.set_plan([FaultSpec("burst-503", {"count": 2, "retry_after": 3})])
    envelope = envelopes()
    first, second, third = (submit(faulty, envelope, "burst-1") for _ in range(3))
    assert [first.status, second.status, third.status] == [503, 503, 202]
    assert first.headers["Retry-After"] == "3" and Answer.parse(first).ma_loi == "SRV-001"
    assert gw.gateway.store.counts()["dossiers"] == 1
    outcomes = [r["outcome"] for r in gw.gateway.traffic_log()]
    assert outcomes == ["SRV-001", "SRV-001", "OK"]  # refused answers are in the traffic log
    faulty.set_plan([FaultSpec("burst-503", {"count": 1, "retry_after": None})])
    assert "Retry-After" not in submit(faulty, envelopes(), "burst-2").headers


def test_probability_is_reproducible_by_seed(faulty: FaultyGateway) -> None:
    def pattern(seed: int) -> list[int]:
        spec = FaultSpec("burst-503", {"count": None, "probability": 0.5, "routes": ["*"]})
        faulty.set_plan([spec], seed)
        return [call(faulty, "GET", "/api/v1/catalog").status for _ in range(24)]

    assert pattern(7) == pattern(7)
    assert pattern(7) != pattern(8)
    assert {503, 200} <= set(pattern(7))


def test_maintenance_window_on_the_simulated_clock(
    faulty: FaultyGateway, envelopes: Callable[[], bytes], gw: InProcessGateway
) -> None:
    faulty.set_plan([FaultSpec("maintenance", {"start": 60, "duration": 3600})])
    assert call(faulty, "GET", "/api/v1/catalog").status == 200  # not started yet
    gw.advance(600)
    refused = submit(faulty, envelopes(), "mnt-1")
    assert refused.status == 503 and refused.headers["Retry-After"] == str(3660 - 600)
    admin = call(faulty, "POST", "/admin/clock/advance?seconds=1", token="test-admin-token")
    assert admin.status != 503  # admin routes are never faulted
    gw.advance(3600)
    assert submit(faulty, envelopes(), "mnt-2").status == 202


def test_ack_then_500_commits_and_the_retry_gets_the_receipt(
    faulty: FaultyGateway, envelopes: Callable[[], bytes], gw: InProcessGateway
) -> None:
    faulty.set_plan([FaultSpec("ack-then-500")])
    envelope = envelopes()
    lost = submit(faulty, envelope, "a500")
    assert lost.status == 500 and Answer.parse(lost).ma_loi == "SRV-002"
    assert gw.gateway.store.counts()["dossiers"] == 1
    retry = submit(faulty, envelope, "a500")
    assert retry.status == 202 and retry.headers["X-Idempotent-Replay"] == "true"
    [event] = faulty.events()
    assert event["kind"] == "error-after-commit" and retry.headers["X-Ma-Gdich"] in event["action"]


def session(faulty: FaultyGateway) -> requests.Session:
    s = requests.Session()
    s.mount(BASE + "/", FaultAdapter(faulty, BASE))
    s.headers["Authorization"] = "Bearer test-token-IVAN01"
    return s


def test_timeout_and_reset_through_the_requests_transport(
    faulty: FaultyGateway, envelopes: Callable[[], bytes], gw: InProcessGateway
) -> None:
    client = session(faulty)
    headers = {"Content-Type": "application/xml", "X-Message-Id": "t-1"}
    faulty.set_plan([FaultSpec("timeout", {"seconds": 30})])
    with pytest.raises(requests.ReadTimeout):
        client.post(f"{BASE}/api/v1/dossiers", data=envelopes(), headers=headers, timeout=1)
    assert gw.gateway.store.counts()["dossiers"] == 1  # committed before the answer was held
    faulty.set_plan([FaultSpec("connection-reset")])
    with pytest.raises(requests.ConnectionError):
        client.post(
            f"{BASE}/api/v1/dossiers", data=envelopes(), headers={**headers, "X-Message-Id": "t-2"}
        )
    assert gw.gateway.store.counts()["dossiers"] == 1  # reset before the core saw it
    faulty.set_plan([FaultSpec("connection-reset", {"when": "after"})])
    with pytest.raises(requests.ConnectionError):
        client.post(
            f"{BASE}/api/v1/dossiers", data=envelopes(), headers={**headers, "X-Message-Id": "t-3"}
        )
    assert gw.gateway.store.counts()["dossiers"] == 2  # stored, answer lost
    faulty.set_plan([FaultSpec("latency", {"seconds": 0.05})])
    t0 = time.perf_counter()
    assert client.get(f"{BASE}/api/v1/catalog").status_code == 200
    assert time.perf_counter() - t0 >= 0.05
    assert FAULT_HEADER not in client.get(f"{BASE}/api/v1/catalog").headers


def _with_messages(
    faulty: FaultyGateway, gw: InProcessGateway, envelopes: Callable[[], bytes]
) -> None:
    assert submit(faulty, envelopes(), "feed-1").status == 202
    gw.advance(2 * 3600)  # 02/TB-TS and 03/TB-TS are both due


def test_duplicate_and_redelivered_messages(
    faulty: FaultyGateway, envelopes: Callable[[], bytes], gw: InProcessGateway
) -> None:
    _with_messages(faulty, gw, envelopes)
    faulty.set_plan([FaultSpec("duplicate-messages")])
    page = call(faulty, "GET", "/api/v1/messages")
    first = feed_ids(page)
    assert len(first) == 4 and len(set(first)) == 2  # each listed twice
    cursor = etree.fromstring(page.body).findtext("CON_TRO_TIEP") or ""
    later = call(faulty, "GET", "/api/v1/messages", query={"after": cursor})
    assert sorted(feed_ids(later)) == sorted(set(first))  # served again, below the cursor
    assert etree.fromstring(later.body).findtext("CON_TRO_TIEP") == cursor
    drained = call(faulty, "GET", "/api/v1/messages", query={"after": cursor})
    assert feed_ids(drained) == []  # redelivered once only


def test_out_of_order_messages(
    faulty: FaultyGateway, envelopes: Callable[[], bytes], gw: InProcessGateway
) -> None:
    _with_messages(faulty, gw, envelopes)
    in_order = etree.fromstring(call(faulty, "GET", "/api/v1/messages").body)
    faulty.set_plan([FaultSpec("out-of-order-messages")])
    reordered = etree.fromstring(call(faulty, "GET", "/api/v1/messages").body)
    kinds = [n.findtext("LOAI") for n in reordered.iter("THONGBAO")]
    assert kinds == ["03/TB-TS", "02/TB-TS"]
    assert reordered.findtext("CON_TRO_TIEP") == in_order.findtext("CON_TRO_TIEP")


def _signer_serial(body: bytes) -> str:
    return etree.fromstring(body).findtext("XACNHAN_GDICH/TTCKY_BHXH/TTCKY/SERIAL") or ""


def test_certificate_rollover_and_back(
    faulty: FaultyGateway, envelopes: Callable[[], bytes], gw: InProcessGateway, pki: TestPKI
) -> None:
    before = submit(faulty, envelopes(), "roll-1")
    faulty.set_plan([FaultSpec("certificate-rollover")])
    during = submit(faulty, envelopes(), "roll-2")
    gw.advance(2 * 3600)
    page = etree.fromstring(call(faulty, "GET", "/api/v1/messages").body)
    issued = [base64.b64decode(n.findtext("NOI_DUNG") or "") for n in page.iter("THONGBAO")]
    next_serial = format(pki.credential("bhxh-next").certificate.serial_number, "X")
    assert _signer_serial(before.body) == format(
        pki.credential("bhxh").certificate.serial_number, "X"
    )
    assert {_signer_serial(during.body)} | {_signer_serial(m) for m in issued} == {next_serial}
    for message in issued:  # same CA: a client trusting the chain accepts the new key
        verify(
            etree.fromstring(message),
            signature_parent="XACNHAN_GDICH/TTCKY_BHXH",
            trust=pki.trust_store(),
        )
    faulty.clear()
    assert _signer_serial(submit(faulty, envelopes(), "roll-3").body) == _signer_serial(before.body)


# -- the admin endpoint ------------------------------------------------------------------


def test_admin_endpoint_sets_reads_logs_and_clears(faulty: FaultyGateway) -> None:
    admin = {"token": "test-admin-token"}
    plan = {"profiles": [{"name": "latency", "params": {"seconds": 0.01}}], "seed": 4}
    put = call(faulty, "PUT", "/admin/faults", body=json.dumps(plan).encode(), **admin, **AS_JSON)
    assert put.status == 200 and json.loads(put.body)["active"] == plan["profiles"]
    call(faulty, "GET", "/api/v1/catalog")
    state: dict[str, Any] = json.loads(call(faulty, "GET", "/admin/faults", **admin).body)
    assert (
        state["seed"] == 4 and state["hits"][0]["hits"] == 1 and "maintenance" in state["profiles"]
    )
    log = call(faulty, "GET", "/admin/faults/log", **admin).body.decode().splitlines()
    assert json.loads(log[0])["kind"] == "delay"
    assert call(faulty, "DELETE", "/admin/faults", **admin).status == 200
    assert json.loads(call(faulty, "GET", "/admin/faults", **admin).body)["active"] == []


def test_a_plan_set_through_one_worker_reaches_the_others(
    gw: InProcessGateway, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Workers share the store, not memory: each adopts the newest published plan."""
    monkeypatch.setattr("mock_gateway.fault_plan.PLAN_POLL_SECONDS", 0.0)
    first, second = FaultyGateway(gw.gateway), FaultyGateway(gw.gateway)
    admin = {"token": "test-admin-token"}
    plan = {"profiles": [{"name": "latency", "params": {"seconds": 0.01}}], "seed": 9}
    put = call(first, "PUT", "/admin/faults", body=json.dumps(plan).encode(), **admin, **AS_JSON)
    assert put.status == 200
    assert second.specs == []  # nothing changes until the worker answers something
    assert FAULT_HEADER in call(second, "GET", "/api/v1/catalog").headers
    assert second.specs == [FaultSpec("latency", {"seconds": 0.01})] and second.seed == 9
    assert call(second, "DELETE", "/admin/faults", **admin).status == 200
    assert FAULT_HEADER not in call(first, "GET", "/api/v1/catalog").headers
    assert first.specs == []


def test_a_late_worker_does_not_replay_an_old_plan(gw: InProcessGateway) -> None:
    """A worker built with its own start plan keeps it until a newer one is published."""
    publisher = FaultyGateway(gw.gateway)
    publisher.publish([FaultSpec("latency", {"seconds": 0.01})])
    late = FaultyGateway(gw.gateway, [FaultSpec("burst-503")])
    late.follow_published()
    assert late.specs == [FaultSpec("burst-503")]


def test_a_plan_this_worker_cannot_build_is_skipped_once(
    gw: InProcessGateway, caplog: pytest.LogCaptureFixture
) -> None:
    """A published plan naming an unknown profile leaves the worker's plan as it was."""
    worker = FaultyGateway(gw.gateway, [FaultSpec("latency", {"seconds": 0.01})])
    gw.gateway.store.publish_setting("fault-plan", json.dumps({"profiles": [{"name": "nope"}]}))
    worker.follow_published()
    worker.follow_published()
    assert worker.specs == [FaultSpec("latency", {"seconds": 0.01})]
    assert len([r for r in caplog.records if "not adopted" in r.getMessage()]) == 1


def test_admin_endpoint_refuses_strangers_and_bad_plans(faulty: FaultyGateway) -> None:
    assert Answer.parse(call(faulty, "GET", "/admin/faults", token="")).ma_loi == "AUTH-001"
    assert Answer.parse(call(faulty, "GET", "/admin/faults")).ma_loi == "AUTH-003"
    for body, said in [
        (b'{"profiles": [{"name": "nope"}]}', "unknown fault profile"),
        (b'{"spec": "timeout:seconds=forever"}', "seconds must be a number"),
    ]:
        refused = call(
            faulty, "PUT", "/admin/faults", body=body, token="test-admin-token", **AS_JSON
        )
        assert refused.status == 400 and Answer.parse(refused).ma_loi == "REQ-002"
        assert said in refused.body.decode()
    assert call(faulty, "GET", "/api/v1/catalog").status == 200  # no plan, nothing broken


ADMIN = {"token": "test-admin-token"}


def put_plan(faulty: FaultyGateway, body: bytes, **headers: str) -> GatewayResponse:
    return call(faulty, "PUT", "/admin/faults", body=body, **ADMIN, **{**AS_JSON, **headers})


def refusal(answer: GatewayResponse) -> str:
    """The CHI_TIET of a refusal (its detail and hint), after checking it is REQ-002."""
    assert Answer.parse(answer).ma_loi == "REQ-002", answer.body.decode()
    return Answer.parse(answer).text(".//LOI/CHI_TIET")


@pytest.mark.parametrize(
    ("body", "said"),
    [
        (b'{"profiles": [], "seed": 1e400}', "the number 1e400 is out of range"),
        (b"[" * 100_000 + b"]" * 100_000, "nests deeper than 8 levels"),
        (b'{"profiles": [], "seed": ' + b"9" * 5000 + b"}", "is out of range"),
        (b'{"profiles": [], "seed": NaN}', "NaN is not a number JSON allows"),
    ],
)
def test_a_plan_body_python_cannot_read_is_400_not_500(
    faulty: FaultyGateway, body: bytes, said: str
) -> None:
    answer = put_plan(faulty, body)
    assert answer.status == 400 and said in refusal(answer)


@pytest.mark.parametrize(
    ("body", "said"),
    [
        (b'{"profiles": [{"name": "latency", "params": {"seconds": 1e309}}]}', "out of range"),
        (b'{"spec": "latency:seconds=.inf"}', "seconds must be a number from 0 to 86400"),
        (b'{"spec": "timeout:seconds=86401"}', "durations stop at a day"),
        (b'{"spec": "burst-503:count=1000000000000"}', "count must be a whole number from 0 to"),
    ],
)
def test_an_infinite_or_absurd_value_is_refused(
    faulty: FaultyGateway, body: bytes, said: str
) -> None:
    """Infinity was accepted: GET /admin/faults then answered invalid JSON and every
    request hung; a latency past a day only hangs the client under test."""
    answer = put_plan(faulty, body)
    assert answer.status == 400 and said in refusal(answer)
    state = call(faulty, "GET", "/admin/faults", **ADMIN).body
    json.loads(state, parse_constant=lambda name: pytest.fail(f"{name} in {state!r}"))


@pytest.mark.parametrize(
    ("method", "body", "headers", "status", "said"),
    [
        ("PUT", b'{"profile": [{"name": "latency"}]}', AS_JSON, 400, "unknown key 'profile'"),
        ("PUT", b"", AS_JSON, 400, "DELETE /admin/faults clears the plan"),
        ("PUT", b"{}", AS_JSON, 400, "neither profiles nor spec"),
        ("PUT", b'{"profiles": []}', {"Content-Type": "application/xml"}, 415, "application/json"),
        ("PUT", b'{"profiles": []}', {}, 415, "Content-Type must be application/json"),
        ("PUT", b'{"spec": "burst-503:count="}', AS_JSON, 400, "has no value"),
        ("PUT", b'{"profiles": [{"name": "latency", "param": {}}]}', AS_JSON, 400, "'param'"),
        ("PUT", b'{"profiles": [], "profiles": [], "seed": 1}', AS_JSON, 400, "given twice"),
        ("POST", b'{"profiles": []}', AS_JSON, 405, ""),
    ],
)
def test_a_mistaken_request_never_clears_the_plan(
    faulty: FaultyGateway,
    method: str,
    body: bytes,
    headers: dict[str, str],
    status: int,
    said: str,
) -> None:
    """Each of these read as an empty plan (200, "active": []), silently ending faults."""
    assert put_plan(faulty, b'{"spec": "latency:seconds=0.01"}').status == 200
    answer = call(faulty, method, "/admin/faults", body=body, **ADMIN, **headers)
    assert answer.status == status and said in refusal(answer)
    if status == 405:
        assert answer.headers["Allow"] == "DELETE, GET, PUT"
    assert faulty.specs == [FaultSpec("latency", {"seconds": 0.01})]


@pytest.mark.parametrize(
    ("body", "said"),
    [
        (
            b'{"profiles": [], "seed": "x"}',
            'seed must be a whole number from 0 to 9223372036854775807, not "x"',
        ),
        (b'{"profiles": [], "seed": 1.9}', "seed must be a whole number"),
        (b'{"profiles": [], "seed": -1}', "seed must be a whole number"),
        (b'{"profiles": "latency"}', "profiles must be a list of {name, params}, not a string"),
        (
            b'{"profiles": [{"name": "latency", "params": ["a"]}]}',
            "params must be an object, not a list",
        ),
        (b'{"profiles": ["latency"]}', "profiles entry 1 must be an object {name, params}"),
        (b'{"spec": 5}', "spec must be a string, not a number 5"),
        (b'"latency"', "the plan must be a JSON object, not a string"),
        (b"{'profiles': []}", "the body is not JSON: Expecting property name"),
    ],
)
def test_a_refused_plan_says_what_was_expected(
    faulty: FaultyGateway, body: bytes, said: str
) -> None:
    """Not what Python made of it (``invalid literal for int()``, ``dictionary update
    sequence``, or ``entry 'l' needs a name`` from a string read as a list)."""
    answer = put_plan(faulty, body)
    assert answer.status == 400 and said in refusal(answer)
    assert faulty.seed == 0


def test_the_refusal_carries_the_hint_apart_from_the_detail(faulty: FaultyGateway) -> None:
    detail = refusal(put_plan(faulty, b'{"spec": "latency:seconds=90000"}'))
    assert "detail=fault profile 'latency': seconds must be a number from 0 to 86400" in detail
    assert "; hint=fix the value in --faults or in the PUT /admin/faults body;" in detail


def test_get_shows_the_plan_another_worker_published_at_once(gw: InProcessGateway) -> None:
    """A worker used to adopt a plan only when it served an I-VAN request, so with
    --workers 2 GET /admin/faults could show the old plan for seconds."""
    first, second = FaultyGateway(gw.gateway), FaultyGateway(gw.gateway)
    assert put_plan(first, b'{"spec": "latency:seconds=0.01", "seed": 3}').status == 200
    state = json.loads(call(second, "GET", "/admin/faults", **ADMIN).body)
    assert state["active"] == [{"name": "latency", "params": {"seconds": 0.01}}]
    assert state["seed"] == 3


@pytest.mark.parametrize(
    ("method", "path", "allow"),
    [
        ("PUT", "/admin/faults/log", "GET"),
        ("DELETE", "/admin/faults/log", "GET"),
        ("PATCH", "/admin/faults", "DELETE, GET, PUT"),
    ],
)
def test_a_wrong_method_on_a_fault_route_is_405_with_allow(
    faulty: FaultyGateway, method: str, path: str, allow: str
) -> None:
    answer = call(faulty, method, path, **ADMIN)
    assert (answer.status, Answer.parse(answer).ma_loi) == (405, "REQ-002")
    assert answer.headers["Allow"] == allow
    assert call(faulty, "GET", "/admin/faults/nope", **ADMIN).status == 404


def test_a_plan_sent_with_expect_100_continue_has_its_body_read(faulty: FaultyGateway) -> None:
    """curl sends ``Expect: 100-continue`` for a body over 1 KiB; the front end answers at
    once, without the body, what the gateway refuses whatever the body: that used to
    include every fault admin route, so the plan was read as empty and cleared."""
    head = {"Authorization": "Bearer test-admin-token", "Expect": "100-continue"}
    assert not faulty.refuses_before_body(GatewayRequest("PUT", "/admin/faults", head))
    assert faulty.refuses_before_body(GatewayRequest("PUT", "/admin/faults/log", head))
    stranger = {**head, "Authorization": "Bearer test-token-IVAN01"}
    assert faulty.refuses_before_body(GatewayRequest("PUT", "/admin/faults", stranger))
    assert not faulty.refuses_before_body(
        GatewayRequest("POST", "/api/v1/dossiers", {**stranger, "X-Message-Id": "m"})
    )


def test_traffic_export_does_not_embed_itself(faulty: FaultyGateway) -> None:
    admin = {"token": "test-admin-token"}
    call(faulty, "GET", "/api/v1/catalog")
    sizes = [len(call(faulty, "GET", "/admin/traffic", **admin).body) for _ in range(4)]
    assert max(sizes) - min(sizes) < 500, sizes  # would double each time if it logged itself


def test_app_factory_reads_faults_from_the_environment(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, pki: TestPKI
) -> None:
    from mock_gateway.config import GatewayConfig

    config = GatewayConfig(
        database_url=f"sqlite:///{tmp_path / 'g.sqlite3'}", pki_directory=str(pki.directory)
    )
    environ: dict[str, str] = {}
    config.to_env(environ)
    monkeypatch.setenv("BHXH_GATEWAY_CONFIG", environ["BHXH_GATEWAY_CONFIG"])
    monkeypatch.setenv("BHXH_GATEWAY_FAULTS", "latency:seconds=0.2")
    app = app_factory()
    inner: Any = app.app
    wrapped: FaultyGateway = inner.state.gateway
    try:
        assert [s.name for s in wrapped.specs] == ["latency"]
    finally:
        wrapped.gateway.close()


# -- over a real socket -----------------------------------------------------------------


@pytest.fixture(scope="module")
def served(pki: TestPKI, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    from harness.certification import local_gateway

    with local_gateway(load_catalog().version, pki, tmp_path_factory.mktemp("served")) as gateway:
        yield gateway


def test_over_http_a_reset_is_a_reset_and_a_held_answer_times_out(
    served: Any, envelopes: Callable[[], bytes]
) -> None:
    client = requests.Session()
    client.headers["Authorization"] = f"Bearer {served.token}"
    url = f"{served.url}/api/v1/dossiers"
    headers = {"Content-Type": "application/xml"}
    served.set_faults([{"name": "connection-reset"}], 0)
    with pytest.raises(requests.ConnectionError):
        client.post(url, data=envelopes(), headers={**headers, "X-Message-Id": "h-1"}, timeout=5)
    served.set_faults([{"name": "timeout", "params": {"seconds": 1.0}}], 0)
    envelope = envelopes()
    with pytest.raises(requests.ReadTimeout):
        client.post(url, data=envelope, headers={**headers, "X-Message-Id": "h-2"}, timeout=0.3)
    served.clear_faults()
    replay = client.post(url, data=envelope, headers={**headers, "X-Message-Id": "h-2"}, timeout=5)
    assert replay.status_code == 202 and replay.headers["X-Idempotent-Replay"] == "true"
    assert [e["kind"] for e in served.fault_events()] == ["reset", "timeout"]


@pytest.mark.parametrize(
    ("path", "accepted"),
    [
        ("/admin/traffic", {"after": "0"}),
        ("/admin/faults", {}),
        ("/admin/faults/log", {"after": "0"}),
    ],
)
def test_the_fault_layers_admin_routes_refuse_unknown_parameters(
    faulty: FaultyGateway, path: str, accepted: dict[str, str]
) -> None:
    """A served gateway answers these in the fault layer, past the core's own check."""
    wrong = call(faulty, "GET", path, token="test-admin-token", query={**accepted, "aftr": "5"})
    assert (wrong.status, wrong.outcome) == (400, "REQ-002")
    assert call(faulty, "GET", path, token="test-admin-token", query=accepted).status == 200


def test_timeout_reset_and_latency_under_responses_as_under_the_transport(
    faulty: FaultyGateway, envelopes: Callable[[], bytes], gw: InProcessGateway
) -> None:
    """A vendor's own requests calls, under ``responses``, meet the same faults."""
    auth = {"Authorization": "Bearer test-token-IVAN01", "Content-Type": "application/xml"}
    url = f"{BASE}/api/v1/dossiers"
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        register_responses(mock, faulty, BASE)
        faulty.set_plan([FaultSpec("timeout", {"seconds": 30})])
        with pytest.raises(requests.ReadTimeout):
            requests.post(url, data=envelopes(), headers={**auth, "X-Message-Id": "r-1"}, timeout=1)
        faulty.set_plan([FaultSpec("connection-reset")])
        with pytest.raises(requests.ConnectionError):
            requests.post(url, data=envelopes(), headers={**auth, "X-Message-Id": "r-2"}, timeout=5)
        faulty.set_plan([FaultSpec("latency", {"seconds": 0.3})])
        started = time.perf_counter()
        answer = requests.get(f"{BASE}/api/v1/catalog", headers=auth, timeout=5)
        assert time.perf_counter() - started >= 0.3
        assert answer.status_code == 200 and FAULT_HEADER not in answer.headers
        assert answer.headers["Content-Length"] == str(len(answer.content))
