"""The same gateway on a real PostgreSQL, started here in a temporary cluster.

The cluster comes from the shared ``postgres_url`` fixture (tests/postgres.py), which
skips with the reason where PostgreSQL's server binaries or the ``psycopg`` driver are
missing, and runs the server as the ``postgres`` user when the tests run as root.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator

import pytest

from harness.dossiers.factory import Dossier
from harness.signing import TestPKI
from mock_gateway.config import GatewayConfig
from mock_gateway.core import Gateway
from mock_gateway.exchange import GatewayRequest, GatewayResponse
from mock_gateway.testing import Answer


@pytest.fixture
def pg_gateway(postgres_url: str, pki: TestPKI) -> Iterator[Gateway]:
    gateway = Gateway(GatewayConfig(database_url=postgres_url, clock_speed=0.0), pki=pki)
    gateway.reset()
    try:
        yield gateway
    finally:
        gateway.close()


def _submit(gateway: Gateway, body: bytes, message_id: str) -> GatewayResponse:
    headers = {
        "Authorization": "Bearer test-token-IVAN01",
        "Content-Type": "application/xml",
        "X-Message-Id": message_id,
    }
    return gateway.handle(GatewayRequest("POST", "/api/v1/dossiers", headers, {}, body))


def test_intake_idempotency_and_lifecycle_on_postgres(
    pg_gateway: Gateway, valid: Callable[..., Dossier]
) -> None:
    envelope = valid().envelope
    first = _submit(pg_gateway, envelope, "pg-1")
    assert first.status == 202, first.body.decode()
    assert _submit(pg_gateway, envelope, "pg-1").body == first.body
    assert _submit(pg_gateway, valid().envelope, "pg-1").status == 409
    assert _submit(pg_gateway, valid().envelope, "pg-2").status == 202
    assert pg_gateway.advance_clock(15 * 60) == 2
    assert pg_gateway.advance_clock(60 * 60) == 2
    counts = pg_gateway.store.counts()
    assert (counts["dossiers"], counts["messages"], counts["idempotency"]) == (2, 6, 2)
    dossier = pg_gateway.store.dossier("IVAN01", Answer.parse(first).ma_gdich)
    assert dossier is not None and dossier.status == "accepted" and dossier.so_hso


def test_concurrent_duplicates_on_postgres(
    pg_gateway: Gateway, valid: Callable[..., Dossier]
) -> None:
    envelope = valid().envelope
    answers: list[int] = []
    barrier = threading.Barrier(5)

    def send() -> None:
        barrier.wait(timeout=10)
        answers.append(_submit(pg_gateway, envelope, "pg-race").status)

    threads = [threading.Thread(target=send) for _ in range(5)]
    for t in threads:
        t.start()
    deadline = time.monotonic() + 60
    for t in threads:
        t.join(timeout=max(0.1, deadline - time.monotonic()))
    assert answers == [202] * 5
    assert pg_gateway.store.counts()["dossiers"] == 1
