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
from sqlalchemy import delete

from harness.dossiers.factory import Dossier
from harness.signing import TestPKI
from mock_gateway import schema
from mock_gateway.clock import ClockState
from mock_gateway.config import GatewayConfig
from mock_gateway.core import Gateway
from mock_gateway.exchange import GatewayRequest, GatewayResponse
from mock_gateway.store import Store
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


def _all_at_once(count: int, action: Callable[[int], object]) -> list[object]:
    """``action(i)`` in ``count`` threads released together; results or exceptions."""
    barrier = threading.Barrier(count)
    outcomes: list[object] = [None] * count

    def run(index: int) -> None:
        barrier.wait(timeout=10)
        try:
            outcomes[index] = action(index)
        except Exception as exc:  # kept to be asserted on, not raised in a thread
            outcomes[index] = exc

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    return outcomes


def test_workers_starting_together_share_one_clock_on_postgres(postgres_url: str) -> None:
    """Two workers of a new server read the clock row at once; on PostgreSQL both used to
    insert it and one died at start-up ("duplicate key value violates clock_pkey")."""
    stores = [Store(postgres_url) for _ in range(8)]
    try:
        for _ in range(5):  # a race: several rounds make losing it likely without the fix
            with stores[0].write() as conn:
                conn.execute(delete(schema.clock))
            states = _all_at_once(8, lambda i: stores[i].load_clock(ClockState(0.0, 1e9 + i, 1.0)))
            assert all(isinstance(s, ClockState) for s in states), states
            assert len({s.origin_sim for s in states if isinstance(s, ClockState)}) == 1

        with stores[0].write() as conn:
            conn.execute(delete(schema.clock))
        saved = _all_at_once(8, lambda i: stores[i].save_clock(ClockState(0.0, 2e9 + i, 2.0)))
        assert saved == [None] * 8, saved
        assert stores[0].load_clock(ClockState(0.0, 0.0, 0.0)).speed == 2.0
    finally:
        for store in stores:
            store.close()
