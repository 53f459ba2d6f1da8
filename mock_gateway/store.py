"""The gateway's durable store: SQLite file by default, PostgreSQL by URL.

The one promise that matters: a receipt is only ever sent for a dossier that is already
committed, together with its idempotency row and the receipt itself, in one transaction
(how the engine makes a commit durable: :mod:`mock_gateway.engine`).
"""

from __future__ import annotations

import threading
from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager, nullcontext
from typing import Any

from sqlalchemy import (
    BigInteger,
    Column,
    Connection,
    Table,
    bindparam,
    delete,
    func,
    insert,
    literal_column,
    select,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import SQLAlchemyError

from harness.errors import ConfigError
from mock_gateway import fault_store, pgsql, schema
from mock_gateway.clock import ClockState
from mock_gateway.commit import GroupCommit, IntakeSQL
from mock_gateway.engine import WRITE_OPTION, in_memory, lock_beside, open_engine
from mock_gateway.outage import quiet_pool_log
from mock_gateway.prepared import Prepared
from mock_gateway.records import (
    DOSSIER_COLUMNS,
    DossierRecord,
    Issue,
    MessageRecord,
    NewDossier,
    StoredReceipt,
    TrafficRecord,
    dossier_record,
    message_record,
)
from mock_gateway.urls import PERCENT_HINT, redact_in, redact_url

_d = schema.dossiers
_CLAIM = (
    update(_d)
    .where(_d.c.ma_gdich == bindparam("key"), _d.c.status == bindparam("from_status"))
    .values(status=bindparam("to_status"), next_due_at=bindparam("next_due"))
)
"""A lifecycle step's claim: only the process whose update moves the status issues it."""
_INSERT_MESSAGE = insert(schema.messages)
_SET_SO_HSO = (
    update(_d).where(_d.c.ma_gdich == bindparam("key")).values(so_hso=bindparam("so_hso_value"))
)
TRAFFIC_COUNTER = "traffic"
"""The ``counters`` row traffic ids are taken from (see :meth:`Store.record_traffic`)."""


class Store:
    """Typed operations over the gateway's tables; safe to share between threads."""

    def __init__(
        self, database_url: str, *, create: bool = True, synchronous: str = "FULL"
    ) -> None:
        self.url = database_url
        self.engine = open_engine(database_url, synchronous=synchronous)
        self.dialect = self.engine.dialect.name
        # An in-memory SQLite database is one connection shared by every thread, so every
        # use of it (reads too) takes this lock; on a file, only writers queue on it.
        self._shared_connection = self.dialect == "sqlite" and in_memory(self.engine.url)
        self._thread_lock = threading.RLock()
        self._lock_file = lock_beside(self.engine)
        self._sql = IntakeSQL(self.engine.dialect)
        self._traffic_ids = Prepared(self._traffic_id_statement(), self.engine.dialect)
        self._insert_traffic = Prepared(
            insert(schema.traffic).inline(),
            self.engine.dialect,
            [c.key for c in schema.traffic.columns],  # the id too: taken from the counter
        )
        self._group = GroupCommit(self.transaction, self._sql, self.idempotent)
        self._next_statement: Any = None
        self._lock_counter = self._dialect_insert(schema.counters).values(
            name=bindparam("name"), value=0
        )
        self._lock_counter = self._lock_counter.on_conflict_do_update(
            index_elements=[schema.counters.c.name],
            set_={"value": schema.counters.c.value},  # unchanged, but the row is now locked
        )
        quiet_pool_log(self.engine)
        if create:
            try:
                self._create_schema()
            except SQLAlchemyError as exc:
                self.close()
                cause = " ".join(str(getattr(exc, "orig", None) or exc).split())  # one line
                raise ConfigError(
                    f"cannot open database {redact_url(database_url)}: "
                    f"{redact_in(cause, database_url)}",
                    hint=(
                        "check the URL and the file's folder and permissions"
                        if self.dialect == "sqlite"
                        else "check the URL, that the server is reachable and that the user "
                        "may connect to that database"
                    )
                    + "; "
                    + PERCENT_HINT,
                ) from exc

    def _create_schema(self) -> None:
        """Create missing tables, and indexes added since the database was created."""
        if self.dialect == "postgresql":  # other processes may be creating them too
            pgsql.create_schema(self.engine, schema.metadata)
            return
        schema.metadata.create_all(self.engine)
        for table in schema.metadata.sorted_tables:
            for index in table.indexes:
                index.create(self.engine, checkfirst=True)

    def close(self) -> None:
        """Release the database, and remove the lock file if no other process uses it."""
        self.engine.dispose()
        if self._lock_file is not None:
            self._lock_file.close()
            self._lock_file = None

    @contextmanager
    def write(self) -> Iterator[Connection]:
        """One write transaction (``BEGIN IMMEDIATE`` on SQLite), committed on exit.

        On a SQLite file, writers first queue on a thread lock and an ``flock`` shared by
        every process using the file: the kernel wakes the next writer the moment the
        lock is free, where SQLite's own busy handler would poll with growing sleeps and
        starve some writers for a second under load.
        """
        with self._writer_lock(), self.engine.connect() as conn:
            conn.execution_options(**{WRITE_OPTION: True})
            with conn.begin():
                yield conn

    @contextmanager
    def transaction(self) -> Iterator[Any]:
        """One write transaction on a DBAPI cursor, for :mod:`mock_gateway.prepared` statements.

        The same locks and ``BEGIN IMMEDIATE`` as :meth:`write`, without SQLAlchemy's
        per-statement machinery: the intake and the traffic log run here.
        """
        with self._writer_lock():
            dbapi = self.engine.raw_connection()
            try:
                cursor = dbapi.cursor()
                if self.dialect == "sqlite":  # autocommit driver mode: we begin ourselves
                    cursor.execute("BEGIN IMMEDIATE")
                try:
                    yield cursor
                except BaseException:
                    dbapi.rollback()
                    raise
                dbapi.commit()
            finally:
                dbapi.close()  # back to the pool

    def writer_elsewhere(self) -> bool:
        """Whether another process is writing to this database now (a probe that waits
        for nothing; a thread of this process is not counted, see WriterLock)."""
        if self.dialect != "sqlite" or self._lock_file is None:
            return False
        if not self._thread_lock.acquire(blocking=False):
            return False
        try:
            return self._lock_file.held_elsewhere()
        finally:
            self._thread_lock.release()

    @contextmanager
    def _writer_lock(self) -> Iterator[None]:
        if self.dialect != "sqlite":
            yield
            return
        with self._thread_lock:
            if self._lock_file is None:
                yield
                return
            with self._lock_file.held():
                yield

    @contextmanager
    def read(self) -> Iterator[Connection]:
        with self._reader_lock(), self.engine.connect() as conn, conn.begin():
            yield conn

    def _reader_lock(self) -> AbstractContextManager[Any]:
        """The writers' lock where readers share their connection (in-memory SQLite): a
        read beginning inside a write would roll the write back."""
        return self._thread_lock if self._shared_connection else nullcontext()

    # -- intake -------------------------------------------------------------------------

    def idempotent(self, ivan: str, message_id: str) -> StoredReceipt | None:
        """The receipt already bound to ``(ivan, message_id)``, if any."""
        with self._reader_lock():
            dbapi = self.engine.raw_connection()  # one autocommitted read: no BEGIN/COMMIT
            try:
                return self._sql.bound(dbapi.cursor(), ivan, message_id)
            finally:
                dbapi.close()

    def save_accepted(self, d: NewDossier, receipt: bytes, receipt_id: str) -> StoredReceipt:
        """Commit dossier, idempotency row and receipt together; return what is bound.

        Returns only after the commit (group-committed with concurrent requests, see
        :mod:`mock_gateway.commit`). If the message id is already bound, nothing is
        written and the existing binding is returned: the caller compares body hashes.
        """
        outcome = self.save_many([(d, receipt, receipt_id)])[0]
        if isinstance(outcome, Exception):
            raise outcome
        return outcome

    def save_many(
        self, items: Sequence[tuple[NewDossier, bytes, str]]
    ) -> list[StoredReceipt | Exception]:
        """:meth:`save_accepted` for several dossiers at once, in as few transactions as
        possible; each gets what its message id is bound to, or the error that stopped it.

        Dossiers whose transaction PostgreSQL aborted to break a deadlock are saved again.
        """
        outcomes = self._group.save_many(items)
        for _ in range(pgsql.ATTEMPTS - 1):
            again = [
                i for i, o in enumerate(outcomes) if isinstance(o, Exception) and pgsql.transient(o)
            ]
            if not again:
                break
            retried = self._group.save_many([items[i] for i in again])
            for i, outcome in zip(again, retried, strict=True):
                outcomes[i] = outcome
        return outcomes

    # -- reads for I-VANs ---------------------------------------------------------------

    def dossier(self, ivan: str, ma_gdich: str) -> DossierRecord | None:
        """The dossier if it exists *and* belongs to ``ivan`` (else None: no existence leak)."""
        t = schema.dossiers
        with self.read() as conn:
            row = conn.execute(
                select(*DOSSIER_COLUMNS).where(t.c.ma_gdich == ma_gdich, t.c.ivan == ivan)
            ).first()
        return None if row is None else dossier_record(row)

    def dossier_any(self, ma_gdich: str) -> DossierRecord | None:
        """Admin and processor view: any I-VAN's dossier."""
        t = schema.dossiers
        with self.read() as conn:
            row = conn.execute(select(*DOSSIER_COLUMNS).where(t.c.ma_gdich == ma_gdich)).first()
        return None if row is None else dossier_record(row)

    def messages_of(self, ivan: str, ma_gdich: str) -> list[MessageRecord]:
        t = schema.messages
        with self.read() as conn:
            rows = conn.execute(
                select(t).where(t.c.ma_gdich == ma_gdich, t.c.ivan == ivan).order_by(t.c.sequence)
            ).all()
        return [message_record(r) for r in rows]

    def feed(
        self, ivan: str, after: int, limit: int, *, every_ivan: bool = False
    ) -> list[MessageRecord]:
        """``ivan``'s BHXH messages with a feed position after ``after``, oldest first
        (``every_ivan``: every I-VAN's, as a faulty release leaks them)."""
        t = schema.messages
        mine = t.c.ivan.is_not(None) if every_ivan else t.c.ivan == ivan
        with self.read() as conn:
            rows = conn.execute(
                select(t)
                .where(mine, t.c.feed_seq.is_not(None), t.c.feed_seq > after)
                .order_by(t.c.feed_seq)
                .limit(limit)
            ).all()
        return [message_record(r) for r in rows]

    def ack(self, ivan: str, message_id: str, at: str) -> MessageRecord | None:
        """Mark ``ivan``'s message as received (the first ack's time is kept); None if not its."""
        t = schema.messages
        with self.write() as conn:
            conn.execute(
                update(t)
                .where(t.c.id == message_id, t.c.ivan == ivan, t.c.acked_at.is_(None))
                .values(acked_at=at)
            )
            row = conn.execute(select(t).where(t.c.id == message_id, t.c.ivan == ivan)).first()
        return None if row is None else message_record(row)

    # -- processor ----------------------------------------------------------------------

    def due(self, now: str, limit: int = 200) -> list[DossierRecord]:
        """Dossiers whose next lifecycle step is due at simulated time ``now``."""
        t = schema.dossiers
        with self.read() as conn:
            rows = conn.execute(
                select(*DOSSIER_COLUMNS)
                .where(t.c.next_due_at.is_not(None), t.c.next_due_at <= now)
                .order_by(t.c.next_due_at)
                .limit(limit)
            ).all()
        return [dossier_record(r) for r in rows]

    def issue_many(self, steps: Sequence[Issue]) -> int:
        """Claim each step (status still ``from_status``) and store its message, all in one
        transaction (one fsync); returns how many were claimed (a step another process
        took is skipped). Run again if PostgreSQL aborts it to break a deadlock."""
        return pgsql.retrying(lambda: self._issue(steps))

    def _issue(self, steps: Sequence[Issue]) -> int:
        issued = 0
        with self.write() as conn:
            self._lock_counters(conn, steps)
            for step in steps:
                values = {
                    "key": step.ma_gdich,
                    "from_status": step.from_status,
                    "to_status": step.to_status,
                    "next_due": step.next_due_at,
                }
                if conn.execute(_CLAIM, values).rowcount != 1:
                    continue
                number = self._next(conn, step.number_scope) if step.number_scope else None
                xml, so_hso = step.render(number)
                if so_hso is not None:
                    conn.execute(_SET_SO_HSO, {"key": step.ma_gdich, "so_hso_value": so_hso})
                conn.execute(
                    _INSERT_MESSAGE,
                    {
                        "id": step.message_id,
                        "ivan": step.ivan,
                        "ma_gdich": step.ma_gdich,
                        "kind": step.kind,
                        "feed_seq": self._next(conn, f"feed:{step.ivan}"),
                        "xml": xml,
                        "created_at": step.created_at,
                    },
                )
                issued += 1
        return issued

    def _lock_counters(self, conn: Connection, steps: Sequence[Issue]) -> None:
        """Lock (creating at 0) every counter ``steps`` may bump, in name order, before any
        dossier: two workers taking a dossier's row lock and a counter's in opposite orders
        deadlocked on PostgreSQL. SQLite has one writer at a time: nothing to order."""
        if self.dialect == "sqlite":
            return
        names = {f"feed:{s.ivan}" for s in steps}
        names.update(s.number_scope for s in steps if s.number_scope)
        for name in sorted(names):
            conn.execute(self._lock_counter, {"name": name})

    def _next(self, conn: Connection, name: str) -> int:
        """Increment and return counter ``name`` (created at 1) in ``conn``'s transaction."""
        if self._next_statement is None:  # built once: building one costs more than running it
            self._next_statement = self._upsert(schema.counters.c.value, bindparam("name"))
        return int(conn.execute(self._next_statement, {"name": name}).scalar_one())

    def _dialect_insert(self, table: Table) -> Any:
        """``INSERT`` with ``ON CONFLICT`` clauses (both dialects spell them alike)."""
        return (postgresql.insert if self.dialect == "postgresql" else sqlite.insert)(table)

    def _upsert(self, counter: Column[Any], name: Any, **values: Any) -> Any:
        t = counter.table
        stmt = self._dialect_insert(t).values(name=name, **{counter.key: 1}, **values)
        stmt = stmt.on_conflict_do_update(
            index_elements=[t.c.name], set_={counter.key: counter + 1, **values}
        )
        return stmt.returning(counter)

    def _bump(self, conn: Connection, counter: Column[Any], name: str, **values: Any) -> int:
        """Upsert row ``name`` of ``counter``'s table: the counter starts at 1 and goes up by
        one on every later call, the other ``values`` are replaced; returns the counter."""
        return int(conn.execute(self._upsert(counter, name, **values)).scalar_one())

    # -- live settings ----------------------------------------------------------------------

    def publish_setting(self, name: str, value: str) -> int:
        """Store ``value`` under ``name`` for every worker; returns its new version."""
        with self.write() as conn:
            return self._bump(conn, schema.settings.c.version, name, value=value)

    def setting(self, name: str) -> tuple[int, str] | None:
        """``(version, value)`` of a published setting, None if never published."""
        t = schema.settings
        with self.read() as conn:
            row = conn.execute(select(t.c.version, t.c.value).where(t.c.name == name)).first()
        return None if row is None else (int(row[0]), str(row[1]))

    def replace_setting(self, name: str, version: int, old: str, new: str) -> bool:
        """Put ``new`` in place of ``old`` at the same ``version`` (followers do not adopt it
        again); False when the setting is no longer ``old``: another worker came first."""
        t = schema.settings
        stmt = (
            update(t)
            .where(t.c.name == name, t.c.version == version, t.c.value == old)
            .values(value=new)
        )
        with self.write() as conn:
            return conn.execute(stmt).rowcount == 1

    # -- fault budgets: a hook's skip and times counted once for every worker -------------

    def count_fault_request(self, plan: int, hook: int) -> int:
        """Count one more request matching hook ``hook`` of plan ``plan``; returns how many
        every worker counted so far (what the hook's ``skip`` is compared with)."""
        t = schema.fault_budgets
        stmt = self._dialect_insert(t).values(plan=plan, hook=hook, seen=1, used=0)
        stmt = stmt.on_conflict_do_update(
            index_elements=[t.c.plan, t.c.hook], set_={"seen": t.c.seen + 1}
        ).returning(t.c.seen)
        with self.write() as conn:
            return int(conn.execute(stmt).scalar_one())

    def claim_fault_hit(self, plan: int, hook: int, budget: int) -> int | None:
        """Take one of the ``budget`` hits of hook ``hook`` of plan ``plan`` in one atomic
        statement; returns the hits used with this one, None when every one was taken."""
        if budget < 1:
            return None
        t = schema.fault_budgets
        stmt = self._dialect_insert(t).values(plan=plan, hook=hook, seen=0, used=1)
        stmt = stmt.on_conflict_do_update(
            index_elements=[t.c.plan, t.c.hook],
            set_={"used": t.c.used + 1},
            where=t.c.used < budget,
        ).returning(t.c.used)
        with self.write() as conn:
            used = conn.execute(stmt).scalar_one_or_none()
        return None if used is None else int(used)

    def fault_hits(self, plan: int) -> dict[int, int]:
        """Hits taken so far per hook of plan ``plan`` (hooks never hit are missing)."""
        t = schema.fault_budgets
        with self.read() as conn:
            rows = conn.execute(select(t.c.hook, t.c.used).where(t.c.plan == plan)).all()
        return {int(hook): int(used) for hook, used in rows}

    def forget_fault_budgets(self, before: int) -> None:
        """Drop the counts, hits and windows of plans older than ``before``: unused now."""
        with self.write() as conn:
            for t in (schema.fault_budgets, fault_store.fault_hooks):
                conn.execute(delete(t).where(t.c.plan < before))

    # -- clock ----------------------------------------------------------------------------

    def load_clock(self, default: ClockState) -> ClockState:
        """The shared timeline; ``default`` is stored first if there is none yet.

        Every processor tick calls this, so the common case is a plain read and only a
        missing row costs a write transaction.
        """
        t = schema.clock
        with self.read() as conn:
            row = conn.execute(select(t).where(t.c.id == 1)).first()
        if row is None:
            # Workers starting together on a new database all get here: on PostgreSQL,
            # whose writers do not queue on our lock, a plain INSERT would fail for all
            # but one of them; the first row stored wins and the others read it back.
            with self.write() as conn:
                stmt = self._dialect_insert(t).values(id=1, **_clock_values(default))
                conn.execute(stmt.on_conflict_do_nothing(index_elements=[t.c.id]))
                row = conn.execute(select(t).where(t.c.id == 1)).one()
        return ClockState(row.origin_real, row.origin_sim, row.speed, row.offset_seconds)

    def save_clock(self, state: ClockState) -> None:
        t = schema.clock
        values = _clock_values(state)
        stmt = self._dialect_insert(t).values(id=1, **values)
        with self.write() as conn:
            conn.execute(stmt.on_conflict_do_update(index_elements=[t.c.id], set_=values))

    def advance_clock(self, seconds: float) -> ClockState:
        """Add ``seconds`` to the shared timeline; returns the timeline this update made.

        Read back in the same statement: two workers advancing together each learn the
        moment their own jump reached, not the sum of both read a moment later.
        """
        t = schema.clock
        stmt = (
            update(t)
            .where(t.c.id == 1)
            .values(offset_seconds=t.c.offset_seconds + seconds)
            .returning(t.c.origin_real, t.c.origin_sim, t.c.speed, t.c.offset_seconds)
        )
        with self.write() as conn:
            row = conn.execute(stmt).one()
        return ClockState(row.origin_real, row.origin_sim, row.speed, row.offset_seconds)

    # -- traffic and housekeeping ---------------------------------------------------------

    def record_traffic(self, rows: Sequence[TrafficRecord]) -> None:
        """Append ``rows`` to the traffic log, numbered in commit order (see below)."""
        if rows:
            pgsql.retrying(lambda: self._write_traffic(rows))

    def _write_traffic(self, rows: Sequence[TrafficRecord]) -> None:
        """Number ``rows`` from the ``traffic`` counter, whose row lock is held until commit.

        With a sequence, two workers' batches could commit out of id order, and an exporter
        reading ``?after=<last id>`` skipped the lower ids for good; the next batch now waits
        for this commit, so ids become visible in order (SQLite's writer lock did so already).
        """
        with self.transaction() as cursor:
            values = {"counter": TRAFFIC_COUNTER, "n": len(rows)}
            first = int(self._traffic_ids.execute(cursor, values).fetchone()[0]) - len(rows) + 1
            self._insert_traffic.execute_many(
                cursor, ({**r.__dict__, "id": first + i} for i, r in enumerate(rows))
            )

    def _traffic_id_statement(self) -> Any:
        """Add ``n`` to the traffic counter (created at the highest id already logged, and
        never below it: rows written without it stay unique) and return the new value."""
        t, c = schema.traffic, schema.counters
        n = bindparam("n", type_=BigInteger)
        highest = select(func.coalesce(func.max(t.c.id), literal_column("0"))).scalar_subquery()
        stmt = self._dialect_insert(c).values(name=bindparam("counter"), value=highest + n)
        greatest = func.greatest if self.dialect == "postgresql" else func.max
        stmt = stmt.on_conflict_do_update(
            index_elements=[c.c.name], set_={"value": greatest(c.c.value + n, stmt.excluded.value)}
        )
        return stmt.returning(c.c.value)

    def traffic(self, after: int = 0, limit: int | None = None) -> list[dict[str, Any]]:
        """Traffic rows after id ``after``, oldest first, as plain dictionaries."""
        t = schema.traffic
        query = select(t).where(t.c.id > after).order_by(t.c.id)
        if limit is not None:
            query = query.limit(limit)
        with self.read() as conn:
            return [dict(r._mapping) for r in conn.execute(query)]

    def counts(self) -> dict[str, int]:
        """Rows per table: what tests compare to prove a rejection left the store unchanged."""
        tables = {
            "dossiers": schema.dossiers,
            "messages": schema.messages,
            "idempotency": schema.idempotency,
            "traffic": schema.traffic,
        }
        with self.read() as conn:
            return {
                name: int(conn.execute(select(func.count()).select_from(t)).scalar_one())
                for name, t in tables.items()
            }

    def reset(self) -> None:
        """Forget everything (admin ``/admin/reset``); the clock starts again too."""
        with self.write() as conn:
            for table in (
                schema.counters,  # first: lifecycle steps lock counters before dossiers
                schema.messages,
                schema.idempotency,
                schema.dossiers,
                schema.traffic,
                schema.clock,
            ):
                conn.execute(delete(table))

    def ping(self) -> bool:
        try:
            with self.read() as conn:
                conn.execute(select(1))
        except SQLAlchemyError:
            return False
        return True


def _clock_values(state: ClockState) -> dict[str, float]:
    return {
        "origin_real": state.origin_real,
        "origin_sim": state.origin_sim,
        "speed": state.speed,
        "offset_seconds": state.offset,
    }


__all__ = [
    "DossierRecord",
    "Issue",
    "MessageRecord",
    "NewDossier",
    "Store",
    "StoredReceipt",
    "TrafficRecord",
]
