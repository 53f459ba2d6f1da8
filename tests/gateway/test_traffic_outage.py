"""The traffic log keeps the exchanges of a database outage, and writes them once it is back.

A PostgreSQL stop/start under ``serve`` lost 15 of 28 exchanges, receipts included:
``TrafficRecorder.flush()`` took the rows out of its queue before writing, and a failed
write dropped them silently.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Iterator, Sequence
from pathlib import Path

import pytest
from sqlalchemy.exc import IntegrityError, OperationalError

from harness.catalog import load_catalog
from harness.dossiers.factory import DossierFactory
from harness.signing import TestPKI
from mock_gateway.records import TrafficRecord
from mock_gateway.store import Store
from mock_gateway.testing import InProcessGateway
from mock_gateway.traffic import TrafficRecorder
from tests.gateway.conftest import ValidDossiers
from tests.gateway.test_outage import database_down


def _row(index: int, status: int = 202) -> TrafficRecord:
    return TrafficRecord(
        ivan="IVAN01",
        method="POST",
        path="/api/v1/dossiers",
        message_id=f"m-{index}",
        status=status,
        request_size=3,
        request=b"<a/>",
        response=b"<b/>",
        started="2024-01-01T00:00:00+00:00",
        duration_ms=1.0,
        outcome="accepted",
    )


class FlakyStore:
    """Wraps a store so that ``record_traffic`` fails like a lost database while ``down``."""

    def __init__(self, store: Store, error: Exception | None = None) -> None:
        self.store = store
        self.down = True
        self.attempts = 0
        self.error = error or OperationalError("INSERT", {}, ConnectionRefusedError(111))
        self.real = store.record_traffic

    def __call__(self, rows: Sequence[TrafficRecord]) -> None:
        self.attempts += 1
        if self.down:
            raise self.error
        self.real(rows)

    def ids(self) -> list[str]:
        return [str(row["message_id"]) for row in self.store.traffic()]


@pytest.fixture
def gw(pki: TestPKI) -> Iterator[InProcessGateway]:
    with InProcessGateway(pki=pki) as gateway:
        yield gateway


@pytest.fixture(scope="module")
def valid(pki: TestPKI) -> ValidDossiers:
    return ValidDossiers(DossierFactory(load_catalog("2024.1"), pki), pki)


@pytest.fixture
def flaky(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[FlakyStore]:
    store = Store(f"sqlite:///{tmp_path / 'gateway.sqlite3'}")
    wrapper = FlakyStore(store)
    monkeypatch.setattr(store, "record_traffic", wrapper)
    yield wrapper
    store.close()


def test_rows_a_lost_database_refused_are_written_once_it_is_back(flaky: FlakyStore) -> None:
    recorder = TrafficRecorder(flaky.store, batch=1000)
    for index in range(3):
        recorder.record(_row(index))
    with pytest.raises(OperationalError):
        recorder.flush()
    recorder.record(_row(3))  # an exchange answered during the outage
    assert recorder.pending == 4
    flaky.down = False
    assert recorder.flush() == 4
    assert flaky.ids() == ["m-0", "m-1", "m-2", "m-3"]


def test_the_queue_keeps_its_cap_and_one_warning_counts_the_dropped_rows(
    flaky: FlakyStore, caplog: pytest.LogCaptureFixture
) -> None:
    recorder = TrafficRecorder(flaky.store, max_pending=5, batch=1000)
    caplog.set_level(logging.WARNING, logger="mock_gateway.traffic")
    for index in range(3):
        recorder.record(_row(index))
    with pytest.raises(OperationalError):
        recorder.flush()
    for index in range(3, 10):
        recorder.record(_row(index))
    assert recorder.pending == 5
    flaky.down = False
    recorder.flush()
    assert flaky.ids() == ["m-0", "m-1", "m-2", "m-3", "m-4"]  # the oldest are kept
    warnings = [r.getMessage() for r in caplog.records if r.name == "mock_gateway.traffic"]
    assert len(warnings) == 1 and "5 exchanges were not logged" in warnings[0], warnings


def test_a_row_that_is_not_an_outage_is_not_retried_for_ever(flaky: FlakyStore) -> None:
    """A bug in our SQL would fail again on every retry: those rows are dropped, as before."""
    flaky.error = IntegrityError("INSERT", {}, ValueError("duplicate id"))
    recorder = TrafficRecorder(flaky.store, batch=1000)
    recorder.record(_row(0))
    with pytest.raises(IntegrityError):
        recorder.flush()
    assert recorder.pending == 0


def test_the_writer_thread_writes_the_outage_rows_when_the_database_is_back(
    flaky: FlakyStore,
) -> None:
    recorder = TrafficRecorder(flaky.store, flush_interval=0.01)
    recorder.start()
    try:
        for index in range(20):
            recorder.record(_row(index, status=503))
        deadline = time.monotonic() + 5
        while flaky.attempts < 3 and time.monotonic() < deadline:
            time.sleep(0.01)
        assert flaky.attempts >= 3 and flaky.ids() == []
        flaky.down = False
        while len(flaky.ids()) < 20 and time.monotonic() < deadline:
            time.sleep(0.01)
    finally:
        recorder.stop()
    assert flaky.ids() == [f"m-{index}" for index in range(20)]


def test_shutdown_on_a_dead_database_is_bounded_and_says_what_was_lost(
    flaky: FlakyStore, caplog: pytest.LogCaptureFixture
) -> None:
    recorder = TrafficRecorder(flaky.store, flush_interval=0.01)
    recorder.start()
    recorder.record(_row(0))
    recorder.record(_row(1))
    caplog.set_level(logging.WARNING)
    started = time.monotonic()
    recorder.stop(timeout=1.0)
    assert time.monotonic() - started < 3
    said = [r.getMessage() for r in caplog.records if r.name == "mock_gateway.traffic"]
    assert said == [
        "traffic log: 2 exchanges were not logged before shutdown: the database is unavailable"
    ]


def test_shutdown_does_not_wait_for_ever_on_a_hanging_write(
    flaky: FlakyStore, caplog: pytest.LogCaptureFixture
) -> None:
    release = threading.Event()

    def hang(rows: Sequence[TrafficRecord]) -> None:
        release.wait(10)

    flaky.store.record_traffic = hang  # type: ignore[method-assign]
    recorder = TrafficRecorder(flaky.store, flush_interval=0.01)
    recorder.start()
    recorder.record(_row(0))
    time.sleep(0.1)  # the thread is now inside the hanging write
    recorder.record(_row(1))
    caplog.set_level(logging.WARNING)
    started = time.monotonic()
    recorder.stop(timeout=0.3)
    release.set()
    assert time.monotonic() - started < 2
    assert "1 exchanges were not logged before shutdown" in caplog.text


def test_an_outage_served_in_process_keeps_every_exchange(
    gw: InProcessGateway, valid: ValidDossiers, tmp_path: Path
) -> None:
    """The probe's sequence: receipts, then 503 answers while down, then receipts again."""
    before = [gw.submit(valid().envelope, message_id=f"before-{i}") for i in range(3)]
    with database_down(gw, tmp_path):
        during = [gw.submit(valid().envelope, message_id=f"during-{i}") for i in range(3)]
        time.sleep(0.15)  # past the retry delay: the next exchange tries a write again
        during.append(gw.submit(valid().envelope, message_id="during-3"))
    after = [gw.submit(valid().envelope, message_id=f"after-{i}") for i in range(2)]
    assert [a.status for a in before + after] == [202] * 5
    assert [a.status for a in during] == [503] * 4
    body = gw.request("GET", "/admin/traffic", ivan="admin").body.decode()
    logged = {json.loads(line)["message_id"] for line in body.splitlines()}
    sent = {
        f"{when}-{i}" for when, n in (("before", 3), ("during", 4), ("after", 2)) for i in range(n)
    }
    assert sent <= logged, sorted(sent - logged)
