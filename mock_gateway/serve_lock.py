"""One ``bhxh-harness serve`` per database: a second one would rewrite the first one's
settings (its clock speed, its fault plan) under its feet.

A SQLite database is claimed with ``flock`` on ``<database>.serve-lock`` beside it, which
holds the serving process's id; PostgreSQL with a session-level advisory lock
(``pg_try_advisory_lock``) on a connection kept for the server's life, named with the
process id in ``application_name``. Only the serving (supervising) process holds the
claim: its own workers share the database legitimately, and the kernel or PostgreSQL
drops the claim when the process dies, however it dies.
"""

from __future__ import annotations

import fcntl
import os
from collections.abc import Iterator
from contextlib import contextmanager
from typing import IO

from sqlalchemy import Connection, create_engine, text
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError, SQLAlchemyError
from sqlalchemy.pool import NullPool

from harness.errors import ConfigError
from mock_gateway import pgsql
from mock_gateway.engine import memory_database, open_engine
from mock_gateway.writer_lock import still_named

ADVISORY_KEY = 0x42485848  # "BHXH": advisory locks are per database, one key suffices
_APPLICATION = "bhxh-gateway serve pid "


def _refusal(pid: str) -> ConfigError:
    who = f" (pid {pid})" if pid else ""
    return ConfigError(
        f"another gateway serves this database{who}",
        hint="stop it, or give this one another --database-url",
    )


@contextmanager
def serving(database_url: str) -> Iterator[None]:
    """Claim ``database_url`` for this server while the block runs, or raise
    :class:`ConfigError` naming the process that has it (an in-memory database is
    this process's own: nothing to claim)."""
    try:
        url = make_url(database_url)
    except (ArgumentError, ValueError):
        yield  # open_engine, in preflight, says what is wrong with it
        return
    backend = url.get_backend_name()
    if backend == "sqlite" and not memory_database(database_url) and url.database:
        with _file_claim(f"{url.database}.serve-lock"):
            yield
    elif backend == "postgresql":
        open_engine(database_url).dispose()  # a bad URL or driver: the usual ConfigError
        with _advisory_claim(url):
            yield
    else:
        yield


def _open_claimed(path: str) -> IO[bytes] | None:
    """The lock file, open and locked by this process (None where the folder does not
    let us create it: preflight then says the database is not writable)."""
    while True:
        try:
            handle = open(path, "a+b")  # noqa: SIM115 - kept open while serving
        except OSError:
            return None
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.seek(0)
            pid = handle.read(32).decode("ascii", "replace").strip()
            handle.close()
            raise _refusal(pid) from None
        except OSError:  # a file system without locks: serve as before
            handle.close()
            return None
        if still_named(path, handle):  # else removed by a server that stopped meanwhile
            return handle
        handle.close()


@contextmanager
def _file_claim(path: str) -> Iterator[None]:
    path = os.path.realpath(path)
    handle = _open_claimed(path)
    if handle is None:
        yield
        return
    try:
        handle.truncate(0)
        handle.write(str(os.getpid()).encode("ascii"))
        handle.flush()
        yield
    finally:
        if still_named(path, handle):
            os.unlink(path)  # while locked: a server waiting on it opens a fresh file
        handle.close()


@contextmanager
def _advisory_claim(url: URL) -> Iterator[None]:
    """The advisory lock, on a connection of its own outside the pool (the pool's
    watchdog closes a connection checked out for long)."""
    args = pgsql.connect_args(url)
    args["application_name"] = f"{_APPLICATION}{os.getpid()}"
    engine = create_engine(url, poolclass=NullPool, connect_args=args)
    try:
        connection = engine.connect()
    except SQLAlchemyError:  # preflight says why, with its hints (e.g. "@" in a user name)
        engine.dispose()
        yield
        return
    try:
        if not _try_lock(connection):
            raise _refusal(_holder(connection))
        yield
    finally:
        connection.close()  # ends the session, and with it the lock
        engine.dispose()


def _try_lock(connection: Connection) -> bool:
    query = text("SELECT pg_try_advisory_lock(:key)")
    taken = bool(connection.execute(query, {"key": ADVISORY_KEY}).scalar())
    connection.commit()  # the lock is the session's; no transaction is left open
    return taken


def _holder(connection: Connection) -> str:
    """The process id the holder put in its ``application_name`` ('' if unknown)."""
    query = text(
        "SELECT a.application_name FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid "
        "WHERE l.locktype = 'advisory' AND l.granted AND l.objid = :key "
        "AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())"
    )
    try:
        name = str(connection.execute(query, {"key": ADVISORY_KEY}).scalar() or "")
    except SQLAlchemyError:  # a role that may not read pg_stat_activity
        return ""
    return name.removeprefix(_APPLICATION) if name.startswith(_APPLICATION) else ""


__all__ = ["ADVISORY_KEY", "serving"]
