"""A database that hangs costs one request, not every request: the breaker answers 503 at once.

With PostgreSQL stopped by SIGSTOP, each request waited for a timeout (~20 s) before its
503 SRV-001, one after another, and ``/healthz`` queued behind them for 40 s. Now, once
the database is found lost, requests are answered 503 with ``Retry-After`` without
touching it; one probe at a time (or the processor thread, in a server) finds it back.
"""

from __future__ import annotations

import json
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from sqlalchemy import create_engine
from sqlalchemy.engine import make_url

from harness.signing import TestPKI
from mock_gateway import outage
from mock_gateway.config import GatewayConfig
from mock_gateway.core import Gateway
from mock_gateway.exchange import GatewayRequest, GatewayResponse
from mock_gateway.testing import Answer, InProcessGateway
from tests.gateway.conftest import ValidDossiers
from tests.gateway.test_postgres_workers import (  # noqa: F401  (fixtures)
    FreezingProxy,
    fresh_db,
    frozen_server,
)

HANG = 0.6
"""Seconds each connection attempt hangs before failing, as a stopped server's timeout."""
FAST = 0.3
"""An answer that did not touch the hung database comes well within this."""


class Hung:
    """Counts the connection attempts that reached the hung database."""

    def __init__(self) -> None:
        self.attempts = 0
        self.lock = threading.Lock()

    def connect(self) -> sqlite3.Connection:
        with self.lock:
            self.attempts += 1
        time.sleep(HANG)
        raise sqlite3.OperationalError("connection timed out (the server does not answer)")


@pytest.fixture(autouse=True)
def short_intervals(monkeypatch: pytest.MonkeyPatch) -> None:
    """Probes count as slow past 0.2 s, and wait 1 s after one (5 s in production)."""
    monkeypatch.setattr(outage, "SLOW_PROBE", 0.2, raising=False)
    monkeypatch.setattr(outage, "RETRY_AFTER", 1, raising=False)


@contextmanager
def database_hangs(gateway: Gateway) -> Iterator[Hung]:
    """Every new connection hangs ``HANG`` seconds then fails, until the block ends."""
    store, hung = gateway.store, Hung()
    working = store.engine
    store.engine = create_engine("sqlite://", creator=hung.connect)
    try:
        yield hung
    finally:
        store.engine.dispose()
        store.engine = working


def timed(call: Callable[[], GatewayResponse]) -> tuple[float, GatewayResponse]:
    started = time.monotonic()
    answer = call()
    return time.monotonic() - started, answer


def unavailable(answer: GatewayResponse) -> None:
    assert (answer.status, Answer.parse(answer).ma_loi) == (503, "SRV-001"), answer.body[:300]
    assert answer.headers["Retry-After"].isdigit()


def health_unavailable(answer: GatewayResponse) -> None:
    """``/healthz`` states the outage in its JSON, for a monitoring probe to read."""
    assert answer.status == 503 and answer.headers["Retry-After"].isdigit()
    body = json.loads(answer.body)
    assert body["status"] == "unavailable" and body["database"] is False


def in_parallel(calls: list[Callable[[], GatewayResponse]]) -> list[tuple[float, Any]]:
    results: list[tuple[float, Any]] = [(0.0, None)] * len(calls)

    def run(index: int) -> None:
        results[index] = timed(calls[index])

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(calls))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    return results


def test_once_the_database_is_found_hung_requests_are_answered_at_once(
    gw: InProcessGateway,
) -> None:
    def feed() -> GatewayResponse:
        return gw.request("GET", "/api/v1/messages")

    with database_hangs(gw.gateway) as hung:
        spent, first = timed(feed)
        unavailable(first)
        assert spent >= HANG  # the request that finds it lost pays for it
        results = in_parallel([feed] * 6)
        for _, answer in results:
            unavailable(answer)
        slow = [spent for spent, _ in results if spent >= FAST]
        assert len(slow) <= 1, results  # one probe at a time; before: 6 x HANG in a row
        attempts = hung.attempts
        for _ in range(5):  # the probe was slow: no other before Retry-After
            spent, answer = timed(feed)
            unavailable(answer)
            assert spent < FAST
        spent, answer = timed(lambda: gw.request("GET", "/healthz", ivan=None))
        health_unavailable(answer)
        assert spent < FAST  # /healthz states the outage, it does not queue
        assert hung.attempts == attempts  # none of those touched the database
        catalog = gw.request("GET", "/api/v1/catalog")
        assert catalog.status == 200  # needs no database: still served
    time.sleep(outage.RETRY_AFTER + 0.1)
    spent, back = timed(feed)
    assert back.status == 200 and not gw.gateway.outage.down  # the probe closed the breaker
    assert gw.request("GET", "/healthz", ivan=None).status == 200


def test_a_short_circuited_submission_is_never_stored(
    gw: InProcessGateway, valid: ValidDossiers
) -> None:
    dossier = valid()
    with database_hangs(gw.gateway):
        unavailable(gw.request("GET", "/api/v1/messages"))
        unavailable(gw.submit(dossier.envelope, message_id="while-lost"))
    assert gw.gateway.store.idempotent("IVAN01", "while-lost") is None
    time.sleep(outage.RETRY_AFTER + 0.1)
    again = gw.submit(dossier.envelope, message_id="while-lost")
    assert again.status == 202 and again.headers["X-Idempotent-Replay"] == "false"


def test_a_pending_dossier_is_not_committed_once_the_database_is_lost(
    gw: InProcessGateway, valid: ValidDossiers
) -> None:
    """Checked before the outage, committed after another request found it: 503, unstored."""
    request = GatewayRequest(
        "POST",
        "/api/v1/dossiers",
        {
            "Authorization": f"Bearer {gw.token()}",
            "Content-Type": "application/xml",
            "X-Message-Id": "in-flight",
        },
        {},
        valid().envelope,
    )
    exchange = gw.gateway.start(request)
    assert exchange.pending is not None
    lost = sqlite3.OperationalError("unable to open database file")
    lost.sqlite_errorcode = 14  # SQLITE_CANTOPEN
    assert gw.gateway.outage.caught(lost)
    unavailable(gw.gateway.finish(exchange))
    gw.gateway.outage.back()
    assert gw.gateway.store.idempotent("IVAN01", "in-flight") is None


def test_a_served_gateway_leaves_the_probing_to_its_processor_thread(
    gw: InProcessGateway,
) -> None:
    """On the event loop a hung probe would stall every answer: requests never probe while
    the processor runs, and its first good tick closes the breaker."""
    gateway = gw.gateway
    gateway.start_background()

    def feed() -> GatewayResponse:
        return gw.request("GET", "/api/v1/messages")

    with database_hangs(gateway) as hung:
        unavailable(feed())
        assert gateway.outage.down
        time.sleep(outage.RETRY_AFTER + 0.1)
        attempts = hung.attempts
        for _ in range(5):
            spent, answer = timed(feed)
            unavailable(answer)
            assert spent < FAST
        assert hung.attempts - attempts <= 2  # the processor's ticks only, not 5 requests
    deadline = time.monotonic() + HANG + 2
    while gateway.outage.down and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not gateway.outage.down
    assert feed().status == 200


def test_a_frozen_postgresql_is_answered_at_once_after_the_first_timeout(
    pki: TestPKI,
    fresh_db: str,  # noqa: F811
    frozen_server: FreezingProxy,  # noqa: F811
) -> None:
    """The QA scenario, with a relay that stops forwarding instead of SIGSTOP."""
    url = make_url(fresh_db).set(host="127.0.0.1", port=frozen_server.port)
    config = GatewayConfig(database_url=url.render_as_string(hide_password=False))
    with Gateway(config, pki=pki) as gateway:
        token = next(iter(config.ivan_tokens.values()))
        request = GatewayRequest(
            "GET", "/api/v1/messages", {"Authorization": f"Bearer {token}"}, {}, b""
        )
        assert gateway.handle(request).status == 200
        gateway.outage.watched = True  # as a server, whose processor thread probes
        frozen_server.frozen.set()
        spent, first = timed(lambda: gateway.handle(request))
        unavailable(first)
        results = in_parallel([lambda: gateway.handle(request)] * 6)
        for spent, answer in results:
            unavailable(answer)
            assert spent < FAST, results
        health = GatewayRequest("GET", "/healthz", {}, {}, b"")
        spent, answer = timed(lambda: gateway.handle(health))
        health_unavailable(answer)
        assert spent < FAST


def test_a_busy_sqlite_database_is_a_503_for_that_request_only() -> None:
    """BUSY past the busy timeout is contention, not an outage: later requests go on."""
    import sqlite3

    from mock_gateway.outage import Outage

    busy = sqlite3.OperationalError("database is locked")
    busy.sqlite_errorcode = 5  # type: ignore[attr-defined]
    outage = Outage("test", sqlite3)
    assert outage.caught(busy) and not outage.down
    gone = sqlite3.OperationalError("unable to open database file")
    gone.sqlite_errorcode = 14  # type: ignore[attr-defined]
    assert outage.caught(gone) and outage.down
