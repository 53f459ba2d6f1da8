"""Store internals: group commit, clock sharing, and the simulated clock itself."""

from __future__ import annotations

import copy
import threading
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import false, select

from harness.errors import ConfigError
from mock_gateway import schema
from mock_gateway.clock import ClockState, SimulatedClock
from mock_gateway.prepared import Prepared
from mock_gateway.records import StoredReceipt
from mock_gateway.store import Store
from tests.gateway.store_records import handover_step, new_dossier


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    opened = Store(f"sqlite:///{tmp_path / 'store.sqlite3'}")
    yield opened
    opened.close()


def test_concurrent_saves_share_one_commit(store: Store) -> None:
    group = store._group
    results: list[StoredReceipt] = []
    threads = [
        threading.Thread(
            target=lambda i=i: results.append(
                store.save_accepted(new_dossier(f"m{i}"), b"<r/>", uuid.uuid4().hex)
            )
        )
        for i in range(10)
    ]
    with group._writer:  # hold the writer role while every request queues behind it
        for t in threads:
            t.start()
        deadline = time.monotonic() + 10
        while len(group._pending) < 10 and time.monotonic() < deadline:
            time.sleep(0.005)
    for t in threads:
        t.join(timeout=10)
    assert len(results) == 10
    assert group.batches == 1
    assert store.counts()["dossiers"] == 10


def test_duplicates_inside_one_batch_bind_once(store: Store) -> None:
    first, second = new_dossier("same"), new_dossier("same")
    results: list[StoredReceipt] = []
    group = store._group
    threads = [
        threading.Thread(
            target=lambda d=d: results.append(store.save_accepted(d, b"<r/>", "x" + d.ma_gdich))
        )
        for d in (first, second)
    ]
    with group._writer:
        for t in threads:
            t.start()
        deadline = time.monotonic() + 10
        while len(group._pending) < 2 and time.monotonic() < deadline:
            time.sleep(0.005)
    for t in threads:
        t.join(timeout=10)
    assert len({r.ma_gdich for r in results}) == 1
    assert store.counts()["dossiers"] == 1


@pytest.mark.parametrize("database", ["sqlite", "postgresql"])
def test_binding_made_after_the_lookup_is_settled_by_the_unique_key(
    database: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    """Another process may bind the id between our lookup and our insert: the driver's
    unique-key error is caught and the caller gets the binding that won."""
    url = (
        f"sqlite:///{tmp_path / 'race.sqlite3'}"
        if database == "sqlite"
        else request.getfixturevalue("postgres_url")
    )
    store = Store(url)
    try:
        store.reset()
        first = store.save_accepted(new_dossier("raced"), b"<r1/>", uuid.uuid4().hex)
        blind = select(schema.idempotency.c.ma_gdich).where(false())  # misses the winner
        group_sql = copy.copy(store._sql)  # Store.idempotent still sees it, as it would
        group_sql.idempotent = Prepared(blind, store.engine.dialect)
        store._group._sql = group_sql
        second = store.save_accepted(new_dossier("raced"), b"<r2/>", uuid.uuid4().hex)
        assert second == first
        assert store.counts()["dossiers"] == 1
    finally:
        store.close()


def test_clock_is_shared_through_the_store(store: Store) -> None:
    mine = SimulatedClock(0.0, start=datetime(2024, 7, 1, tzinfo=UTC))
    assert store.load_clock(mine.state) == mine.state
    store.advance_clock(3600)
    other = SimulatedClock(0.0)
    other.adopt(store.load_clock(other.state))
    assert other.now() == datetime(2024, 7, 1, 1, 0, tzinfo=UTC)


def test_simulated_clock_speed_and_advance() -> None:
    real = [1000.0]
    clock = SimulatedClock(60.0, start=datetime(2024, 7, 1, tzinfo=UTC), real=lambda: real[0])
    real[0] += 10  # ten real seconds are ten simulated minutes
    assert clock.now() == datetime(2024, 7, 1, 0, 10, tzinfo=UTC)
    clock.advance(50 * 60)
    assert clock.now() == datetime(2024, 7, 1, 1, 0, tzinfo=UTC)
    with pytest.raises(ValueError):
        clock.advance(-1)
    state = clock.rebase(0.0)
    real[0] += 1000
    assert clock.now() == datetime(2024, 7, 1, 1, 0, tzinfo=UTC)
    assert state == ClockState(real[0] - 1000, state.origin_sim, 0.0, 0.0)


def test_unsupported_database_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="SQLite or PostgreSQL"):
        Store("mysql://user@localhost/db")
    with pytest.raises(ConfigError, match="synchronous"):
        Store(f"sqlite:///{tmp_path / 'x.sqlite3'}", synchronous="OFF")


def test_indexes_added_later_are_created_on_an_existing_file(tmp_path: Path) -> None:
    """A database made by an older version gets the indexes added since when it is opened
    (``create_all`` only creates the indexes of tables it creates)."""
    url = f"sqlite:///{tmp_path / 'old.sqlite3'}"
    first = Store(url)
    with first.engine.begin() as conn:
        conn.exec_driver_sql("DROP INDEX ix_dossiers_received")
    first.close()
    again = Store(url)
    try:
        with again.engine.connect() as conn:
            names = {r[0] for r in conn.exec_driver_sql("SELECT name FROM sqlite_master")}
    finally:
        again.close()
    assert {index.name for index in schema.dossiers.indexes} <= names


def test_issue_many_skips_steps_another_process_took(store: Store) -> None:
    """One transaction for the batch; a step whose claim fails is skipped, the others get
    consecutive SO_HSO numbers and feed positions, and nothing is issued twice."""
    dossiers = [new_dossier(f"m{i}") for i in range(3)]
    store.save_many([(d, b"<r/>", uuid.uuid4().hex) for d in dossiers])
    assert store.issue_many([handover_step(dossiers[1])]) == 1  # another process got there first
    assert store.issue_many([handover_step(d) for d in dossiers]) == 2
    with store.read() as conn:
        rows = conn.execute(
            select(schema.messages.c.ma_gdich, schema.messages.c.feed_seq, schema.dossiers.c.so_hso)
            .join(schema.dossiers)
            .where(schema.messages.c.kind == "02/TB-TS")
            .order_by(schema.messages.c.feed_seq)
        ).all()
    order = [dossiers[1], dossiers[0], dossiers[2]]
    assert [r.ma_gdich for r in rows] == [d.ma_gdich for d in order]
    assert [r.feed_seq for r in rows] == [1, 2, 3]
    assert [r.so_hso for r in rows] == ["00001/2024/00100", "00002/2024/00100", "00003/2024/00100"]
