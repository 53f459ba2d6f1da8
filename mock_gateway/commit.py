"""Group commit of accepted dossiers: many receipts, one fsync.

``synchronous=FULL`` makes every SQLite commit wait for the disk (~0.4 ms here), and a
database has one writer at a time, so committing each dossier alone caps intake at a few
hundred a second and lets latency pile up behind the lock. Instead, concurrent requests
queue their rows; whichever request holds the writer role commits everything queued in
one transaction and wakes the others. Each request still returns only after the
transaction holding *its* rows has committed, so "no receipt before commit" holds.

Duplicates are resolved inside the transaction: an ``(I-VAN, X-Message-Id)`` already
bound (before or earlier in the same batch) is not inserted again; its caller gets the
existing binding back and compares body hashes.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Table, bindparam, insert, select
from sqlalchemy.engine import Dialect

from mock_gateway import schema
from mock_gateway.prepared import Prepared
from mock_gateway.records import NewDossier, StoredReceipt

_t = schema.idempotency
IDEMPOTENT = select(_t.c.ma_gdich, _t.c.body_sha256, _t.c.receipt).where(
    _t.c.ivan == bindparam("ivan"), _t.c.message_id == bindparam("message_id")
)


def prepared_insert(table: Table, dialect: Dialect) -> Prepared:
    """``INSERT`` of every column of ``table`` but its auto-numbered key."""
    keys = [c.key for c in table.columns if not (c.primary_key and c.autoincrement is True)]
    return Prepared(insert(table).inline(), dialect, keys)  # inline: no RETURNING of the key


class IntakeSQL:
    """The intake's statements, compiled once for one dialect."""

    def __init__(self, dialect: Dialect) -> None:
        self.idempotent = Prepared(IDEMPOTENT, dialect)
        dbapi = dialect.dbapi
        assert dbapi is not None  # an engine's dialect has loaded its driver
        self.conflict: type[Exception] = dbapi.IntegrityError  # a unique-key violation
        self.inserts = (
            (prepared_insert(schema.idempotency, dialect), _idempotency_rows),
            (prepared_insert(schema.dossiers, dialect), _dossier_rows),
            (prepared_insert(schema.messages, dialect), _message_rows),
        )

    def bound(self, cursor: Any, ivan: str, message_id: str) -> StoredReceipt | None:
        """The receipt already bound to ``(ivan, message_id)``, read through ``cursor``."""
        values = {"ivan": ivan, "message_id": message_id}
        row = self.idempotent.execute(cursor, values).fetchone()
        return None if row is None else StoredReceipt(row[0], row[1], bytes(row[2]))


class StoreInterrupted(RuntimeError):
    """The process was stopped (Ctrl-C, shutdown) while the batch holding this dossier was
    written by another request's thread: the dossier is not stored, and no bug is behind it."""

    def __init__(self) -> None:
        super().__init__("the gateway was stopped while storing this dossier")


@dataclass(eq=False)
class _Slot:
    dossier: NewDossier
    receipt: bytes
    receipt_id: str
    done: bool = False  # set under the writer lock; waiters take that lock, not an Event
    result: StoredReceipt | None = None
    error: Exception | None = None


class GroupCommit:
    """Batches :meth:`save_many` calls from many threads into few transactions."""

    def __init__(
        self,
        transaction: Callable[[], AbstractContextManager[Any]],
        sql: IntakeSQL,
        lookup: Callable[[str, str], StoredReceipt | None],
        max_batch: int = 256,
    ) -> None:
        """``transaction`` yields a DBAPI cursor inside one write transaction; ``lookup``
        reads a binding outside it, after a conflict rolled it back."""
        self._transaction = transaction
        self._sql = sql
        self._lookup = lookup
        self.max_batch = max_batch
        self._pending: list[_Slot] = []
        self._queue_lock = threading.Lock()
        self._writer = threading.Lock()
        self.batches = 0  # for tests and benchmarks: how many transactions were needed

    def save_many(
        self, items: Sequence[tuple[NewDossier, bytes, str]]
    ) -> list[StoredReceipt | Exception]:
        """Store several dossiers; each gets its binding or the error that stopped it.

        Returns once every one is committed: queued with whatever other threads queued,
        written by whichever caller holds the writer role.
        """
        slots = [_Slot(dossier, receipt, receipt_id) for dossier, receipt, receipt_id in items]
        with self._queue_lock:
            self._pending.extend(slots)
        for slot in slots:
            while not slot.done:
                with self._writer:
                    if slot.done:  # the previous writer committed our rows
                        break
                    with self._queue_lock:
                        batch = self._pending[: self.max_batch]
                        del self._pending[: self.max_batch]
                    self._commit(batch)
        outcomes: list[StoredReceipt | Exception] = []
        for slot in slots:
            if slot.error is not None:
                outcomes.append(slot.error)
            else:
                assert slot.result is not None
                outcomes.append(slot.result)
        return outcomes

    def _commit(self, batch: list[_Slot]) -> None:
        """Write ``batch`` in one transaction and settle every slot: its binding once the
        transaction has committed (never before: a rolled-back one acknowledges nothing),
        or the error that stopped it."""
        try:
            results = self._write_batch(batch)
        except self._sql.conflict as exc:
            if len(batch) > 1:  # another process bound an id meanwhile: settle one by one
                for slot in batch:
                    self._commit([slot])
                return
            self._settle(batch[0], exc)
        except Exception as exc:
            for slot in batch:
                slot.result, slot.error = None, exc
        except BaseException:  # interrupted: the waiting callers must not hang
            for slot in batch:
                slot.result, slot.error = None, StoreInterrupted()
            raise
        else:
            self.batches += 1
            for slot, result in zip(batch, results, strict=True):
                slot.result, slot.error = result, None
        finally:
            for slot in batch:
                slot.done = True

    def _settle(self, slot: _Slot, conflict: Exception) -> None:
        """A lone dossier whose insert conflicted: another process bound its message id
        meanwhile, and that binding is the answer; if none can be read, the error is."""
        try:
            existing = self._lookup(slot.dossier.ivan, slot.dossier.message_id)
        except Exception as exc:
            slot.result, slot.error = None, exc
            return
        slot.result, slot.error = existing, (None if existing is not None else conflict)

    def _write_batch(self, batch: list[_Slot]) -> list[StoredReceipt]:
        """Insert the new dossiers of ``batch``; returns each slot's binding (its own, or
        the one its message id already had), valid once the transaction commits."""
        sql = self._sql
        with self._transaction() as cursor:
            bound: dict[tuple[str, str], StoredReceipt] = {}
            for key in dict.fromkeys((s.dossier.ivan, s.dossier.message_id) for s in batch):
                # One prepared lookup per key: cheaper than compiling an expanding IN.
                existing = sql.bound(cursor, *key)
                if existing is not None:
                    bound[key] = existing
            fresh: list[_Slot] = []
            results: list[StoredReceipt] = []
            for slot in batch:
                d = slot.dossier
                key = (d.ivan, d.message_id)
                if key not in bound:
                    bound[key] = StoredReceipt(d.ma_gdich, d.body_sha256, slot.receipt)
                    fresh.append(slot)
                results.append(bound[key])
            for statement, rows in sql.inserts:
                statement.execute_many(cursor, rows(fresh))
        return results


def _idempotency_rows(slots: list[_Slot]) -> Iterator[dict[str, object]]:
    for s in slots:
        yield {
            "ivan": s.dossier.ivan,
            "message_id": s.dossier.message_id,
            "ma_gdich": s.dossier.ma_gdich,
            "body_sha256": s.dossier.body_sha256,
            "receipt": s.receipt,
        }


def _dossier_rows(slots: list[_Slot]) -> Iterator[dict[str, object]]:
    for s in slots:
        d = s.dossier
        yield {
            "ma_gdich": d.ma_gdich,
            "ivan": d.ivan,
            "message_id": d.message_id,
            "body_sha256": d.body_sha256,
            "body": d.body,
            "procedure": d.procedure,
            "period": d.period,
            "unit": d.unit,
            "status": "received",
            "received_at": d.received_at,
            "catalog_version": d.catalog_version,
            "so_hso": None,
            "next_due_at": d.next_due_at,
            "summary": json.dumps(d.summary, ensure_ascii=False),
        }


def _message_rows(slots: list[_Slot]) -> Iterator[dict[str, object]]:
    for s in slots:
        yield {
            "id": s.receipt_id,
            "ivan": s.dossier.ivan,
            "ma_gdich": s.dossier.ma_gdich,
            "kind": "receipt",
            "feed_seq": None,
            "xml": s.receipt,
            "created_at": s.dossier.received_at,
            "acked_at": None,
        }
