"""What every section of the :class:`~mock_gateway.store.Store` runs on: the engine, the
writer and reader locks, the write and read transactions, and the dialect's upserts.

Its own module so each section (``store_*.py``) is written against this one typed base
and reads alone; the store's promise, a receipt only for a committed dossier, is kept by
these transactions (how the engine makes a commit durable: :mod:`mock_gateway.engine`).
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from typing import Any

from sqlalchemy import Column, Connection, Table
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import SQLAlchemyError

from harness.errors import ConfigError
from mock_gateway import pgsql, schema
from mock_gateway.engine import WRITE_OPTION, in_memory, lock_beside, open_engine
from mock_gateway.urls import PERCENT_HINT, redact_in, redact_url


class StoreBase:
    """The database connection and its transactions; safe to share between threads."""

    def __init__(self, database_url: str, *, synchronous: str = "FULL") -> None:
        self.url = database_url
        self.engine = open_engine(database_url, synchronous=synchronous)
        self.dialect = self.engine.dialect.name
        # An in-memory SQLite database is one connection shared by every thread, so every
        # use of it (reads too) takes this lock; on a file, only writers queue on it.
        self._shared_connection = self.dialect == "sqlite" and in_memory(self.engine.url)
        self._thread_lock = threading.RLock()
        self._lock_file = lock_beside(self.engine)

    def _open_schema(self) -> None:
        """:meth:`_create_schema`, or close and say what to check when it cannot be done."""
        try:
            self._create_schema()
        except SQLAlchemyError as exc:
            self.close()
            cause = " ".join(str(getattr(exc, "orig", None) or exc).split())  # one line
            raise ConfigError(
                f"cannot open database {redact_url(self.url)}: {redact_in(cause, self.url)}",
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
        """Create missing tables, and columns and indexes added since the database was
        created."""
        if self.dialect == "postgresql":  # other processes may be creating them too
            pgsql.create_schema(self.engine, schema.metadata)
            return
        with self.write() as conn:  # one process at a time: the writer lock
            schema.create_or_upgrade(conn)

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

    # -- upserts: both dialects spell ON CONFLICT alike ---------------------------------

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
