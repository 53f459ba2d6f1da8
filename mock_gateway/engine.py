"""The SQLAlchemy engine under the store: SQLite file by default, PostgreSQL by URL.

SQLite runs in WAL mode with ``synchronous=FULL`` (a commit survives SIGKILL and power
loss), and write transactions start with ``BEGIN IMMEDIATE`` (a connection's
:data:`WRITE_OPTION`), so two writers queue on the busy timeout instead of failing
half-way with a lock-upgrade error. Apart from :mod:`mock_gateway.store` because what a
database URL opens is a question of its own (``serve`` asks it before any store exists).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError, NoSuchModuleError
from sqlalchemy.pool import StaticPool

from harness.errors import ConfigError
from mock_gateway import pgsql
from mock_gateway.urls import PERCENT_HINT, redact_in, redact_url
from mock_gateway.writer_lock import WriterLock

WRITE_OPTION = "bhxh_write"
"""The execution option that begins a connection's transaction with ``BEGIN IMMEDIATE``."""


def in_memory(url: URL) -> bool:
    """Whether ``url`` names an in-memory SQLite database (``:memory:``, ``mode=memory``)."""
    database = url.database
    return (
        database in (None, "", ":memory:")
        or url.query.get("mode") == "memory"
        or str(database).startswith("file::memory:")
    )


def memory_database(database_url: str) -> bool:
    """Whether ``database_url`` is an in-memory SQLite database (each process has its own)."""
    try:
        url = make_url(database_url)
    except (ArgumentError, ValueError):
        return False  # open_engine says what is wrong with it
    return url.get_backend_name() == "sqlite" and in_memory(url)


def _sqlite_engine(url: Any, synchronous: str) -> Engine:
    memory = in_memory(url)
    engine = create_engine(
        url,
        connect_args={"check_same_thread": False, "timeout": 30.0},
        poolclass=StaticPool if memory else None,
    )

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None  # transactions are begun explicitly below
        cursor = dbapi_connection.cursor()
        for pragma in (
            "journal_mode=WAL",
            f"synchronous={synchronous}",
            "busy_timeout=30000",
            "foreign_keys=ON",
        ):
            cursor.execute(f"PRAGMA {pragma}")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        write = conn.get_execution_options().get(WRITE_OPTION, False)
        conn.exec_driver_sql("BEGIN IMMEDIATE" if write else "BEGIN")

    return engine


def lock_beside(engine: Engine) -> WriterLock | None:
    """The lock file beside a SQLite database file (None for memory or other databases)."""
    if engine.dialect.name != "sqlite" or in_memory(engine.url):
        return None
    return WriterLock(f"{engine.url.database}.writer-lock")


def open_engine(database_url: str, *, synchronous: str = "FULL") -> Engine:
    """An engine for ``database_url``; a bad URL or a missing driver is a :class:`ConfigError`.

    ``synchronous`` applies to SQLite: ``FULL`` fsyncs the WAL at every commit, so an
    acknowledged dossier survives power loss; ``NORMAL`` still survives a killed process
    (the OS holds the written WAL) at a fraction of the commit cost.
    """
    if synchronous not in ("FULL", "NORMAL"):
        raise ConfigError(f"synchronous must be FULL or NORMAL, not {synchronous!r}")
    try:
        url = make_url(database_url)
        backend = url.get_backend_name()
        if backend == "sqlite":
            return _sqlite_engine(url, synchronous)
        if backend != "postgresql":
            raise ValueError(f"unsupported database {backend!r} (SQLite or PostgreSQL only)")
        return pgsql.postgres_engine(url)
    except (ArgumentError, NoSuchModuleError, ImportError, ValueError) as exc:
        raise ConfigError(
            f"cannot use database URL {redact_url(database_url)!r}: {redact_in(exc, database_url)}",
            hint="use sqlite:///path/to/file.sqlite3 or postgresql+psycopg://user@host/db "
            f"(with its driver installed); {PERCENT_HINT}",
        ) from exc


__all__ = ["WRITE_OPTION", "in_memory", "lock_beside", "memory_database", "open_engine"]
