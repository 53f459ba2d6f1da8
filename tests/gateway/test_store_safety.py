"""Nothing is acknowledged that is not durably stored: two ways it could have been.

1. ``GroupCommit`` gave each request its binding while the transaction was still open; a
   conflict followed by a failing lookup left other requests holding a receipt for a
   rolled-back dossier, with no error.
2. An in-memory SQLite store shares one connection between threads; only writers took
   the lock, so a read beginning during a write rolled the writer's transaction back.
"""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from sqlalchemy import insert

from harness.dossiers.factory import Dossier
from mock_gateway import schema
from mock_gateway.commit import GroupCommit, StoreInterrupted, _Slot
from mock_gateway.exchange import GatewayRequest
from mock_gateway.records import NewDossier, StoredReceipt
from mock_gateway.store import Store
from mock_gateway.testing import InProcessGateway


class _SQL:
    """Just enough of IntakeSQL for GroupCommit: no binding exists, inserts do nothing."""

    conflict = sqlite3.IntegrityError
    inserts = ()

    def bound(self, *_args: object) -> StoredReceipt | None:
        return None


def _dossier(name: str) -> NewDossier:
    return NewDossier(
        ma_gdich=name,
        ivan="IVAN01",
        message_id=name,
        body_sha256="0" * 64,
        body=b"<Hoso/>",
        procedure="600",
        period="11/2026",
        unit="TA0001A",
        received_at="2026-11-26T00:00:00Z",
        catalog_version="2026.1",
        next_due_at="2026-11-26T00:15:00Z",
        summary={},
    )


@contextmanager
def _conflicting_commit() -> Iterator[None]:
    yield None
    raise sqlite3.IntegrityError("UNIQUE constraint failed")  # at COMMIT


def test_a_conflicted_batch_never_leaves_a_receipt_for_a_rolled_back_dossier() -> None:
    def lookup(*_args: str) -> StoredReceipt | None:
        raise sqlite3.OperationalError("database is locked")

    group = GroupCommit(_conflicting_commit, _SQL(), lookup)  # type: ignore[arg-type]
    items = [(_dossier(name), f"<r{name}/>".encode(), name) for name in ("A", "B")]
    outcomes = group.save_many(items)
    assert all(isinstance(o, Exception) for o in outcomes), outcomes


def test_a_committed_batch_gives_each_dossier_its_binding() -> None:
    @contextmanager
    def committing() -> Iterator[None]:
        yield None

    group = GroupCommit(committing, _SQL(), lambda *_: None)  # type: ignore[arg-type]
    outcomes = group.save_many([(_dossier("A"), b"<rA/>", "A"), (_dossier("B"), b"<rB/>", "B")])
    assert [o.ma_gdich for o in outcomes if isinstance(o, StoredReceipt)] == ["A", "B"]


@pytest.mark.parametrize("read", ["setting", "idempotent"])
def test_an_in_memory_store_does_not_lose_a_write_to_a_concurrent_read(read: str) -> None:
    store = Store("sqlite://")
    writing = threading.Event()
    errors: list[BaseException] = []

    def write() -> None:
        try:
            with store.write() as conn:
                conn.execute(insert(schema.settings).values(name="a", value="1", version=1))
                writing.set()
                time.sleep(0.3)
                conn.execute(insert(schema.settings).values(name="b", value="1", version=1))
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    writer = threading.Thread(target=write)
    writer.start()
    assert writing.wait(5)
    reads: dict[str, Any] = {
        "setting": lambda: store.setting("zz"),
        "idempotent": lambda: store.idempotent("IVAN01", "m-1"),
    }
    assert reads[read]() is None  # waits for the writer instead of breaking its transaction
    writer.join(5)
    assert not errors
    assert store.setting("a") == (1, "1") and store.setting("b") == (1, "1")
    store.close()


def test_a_stop_while_writing_fails_the_whole_batch_as_not_stored() -> None:
    """Ctrl-C in the thread writing a batch: the other requests in it are told their
    dossier was not stored (and no one waits for ever), without a bug's traceback."""

    @contextmanager
    def stopped() -> Iterator[None]:
        yield None
        raise KeyboardInterrupt

    group = GroupCommit(stopped, _SQL(), lambda *_: None)  # type: ignore[arg-type]
    slots = [_Slot(_dossier(name), b"<r/>", name) for name in ("A", "B")]
    with pytest.raises(KeyboardInterrupt):
        group._commit(slots)
    assert all(isinstance(s.error, StoreInterrupted) and s.done for s in slots)


def test_the_gateway_answers_a_stopped_store_503_and_logs_no_traceback(
    gw: InProcessGateway,
    valid: Callable[..., Dossier],
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    monkeypatch.setattr(gw.gateway.store, "save_many", lambda items: [StoreInterrupted()])
    answer = gw.submit(valid().envelope, message_id="stopped-1")
    assert (answer.status, answer.headers["X-BHXH-Ma-Loi"]) == (503, "SRV-001")
    assert not [r for r in caplog.records if r.exc_info]


def test_a_request_in_flight_when_the_gateway_closes_is_told_to_retry(
    gw: InProcessGateway,
    valid: Callable[..., Dossier],
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Ctrl-C closed an in-process gateway (its store, its writer-lock file) while a worker
    thread was storing: that request got 500 and a bug's traceback on stderr."""
    envelope = valid().envelope

    def closing(_items: object) -> list[object]:
        gw.gateway.closed = True  # close() began while this request was being stored
        raise OSError(9, "Bad file descriptor")

    monkeypatch.setattr(gw.gateway.store, "save_many", closing)
    try:
        answer = gw.gateway.handle(_submission(gw, envelope, "closing-1"))
    finally:
        gw.gateway.closed = False
    assert (answer.status, answer.headers["X-BHXH-Ma-Loi"]) == (503, "SRV-001")
    assert not [r for r in caplog.records if r.exc_info]


def _submission(gw: InProcessGateway, envelope: bytes, message_id: str) -> GatewayRequest:
    headers = {
        "Authorization": f"Bearer {gw.token('IVAN01')}",
        "Content-Type": "application/xml",
        "X-Message-Id": message_id,
    }
    return GatewayRequest("POST", "/api/v1/dossiers", headers, body=envelope)
