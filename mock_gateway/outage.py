"""A lost database: told apart from our own bugs, and logged once per outage.

When PostgreSQL stops (or a SQLite file becomes unreachable) every request and every
background tick fails the same way. That is the gateway being unavailable, not a bug:
requests get 503 ``SRV-001`` with ``Retry-After`` (as ``/healthz`` already says), and
the background threads log one warning when the database goes away and one when it is
back, instead of a traceback four times a second.

It is also a circuit breaker. A server that hangs (SIGSTOP, a frozen VM) fails each call
only when a timeout fires, 10-30 s later: once one call has found the database lost,
requests are answered 503 at once without touching it (:attr:`Outage.down`) until it is
seen back. A background thread that uses the database (the lifecycle processor) sees it
first; a gateway without one lets a single request at a time probe it (:meth:`probe`),
and after a slow failure not before ``Retry-After`` seconds.
"""

from __future__ import annotations

import logging
import sys
import threading
import time
from collections.abc import Callable

from sqlalchemy import Engine
from sqlalchemy import exc as sa_exc
from sqlalchemy.log import InstanceLogger

log = logging.getLogger(__name__)

_SQLALCHEMY_LOST = (sa_exc.OperationalError, sa_exc.InterfaceError, sa_exc.TimeoutError)
"""Connection refused or dropped, database file unreachable, pool exhausted: all
operational, none a mistake in our SQL (those are ProgrammingError, IntegrityError...)."""
_SQLITE_UNAVAILABLE = {
    5: "BUSY",
    6: "LOCKED",
    8: "READONLY",
    10: "IOERR",
    13: "FULL",
    14: "CANTOPEN",
    15: "PROTOCOL",
}
"""SQLite's primary result codes for a database that cannot be used now. SQLite reports
"no such table" as an OperationalError too (SQLITE_ERROR): that one is a bug, a 500."""
_SQLITE_CONTENDED = {5, 6}
"""BUSY and LOCKED: another writer held the database past the busy timeout. That request
is answered 503, but the database is not lost, so later requests are not turned away."""


def database_lost(error: BaseException, dbapi: object | None) -> bool:
    """Whether ``error`` means the database cannot be reached or used right now.

    ``dbapi`` is the driver module (``sqlite3``, ``psycopg``): the intake runs on raw
    DBAPI cursors, whose errors SQLAlchemy does not wrap.
    """
    if isinstance(error, sa_exc.DBAPIError) and error.connection_invalidated:
        return True
    if isinstance(error, sa_exc.TimeoutError):  # no pooled connection came free
        return True
    code = _sqlite_code(error)
    if code is not None:
        return code in _SQLITE_UNAVAILABLE
    if isinstance(error, _SQLALCHEMY_LOST):
        return True
    names = ("OperationalError", "InterfaceError")
    raw = tuple(kind for name in names if isinstance(kind := getattr(dbapi, name, None), type))
    return bool(raw) and isinstance(_cause(error), raw)


def _cause(error: BaseException) -> BaseException:
    """The driver's own error under SQLAlchemy's wrapper (the intake's raw cursors raise it
    unwrapped)."""
    return (error.orig or error) if isinstance(error, sa_exc.DBAPIError) else error


def _sqlite_code(error: BaseException) -> int | None:
    """SQLite's primary result code of ``error``, None for another database's error."""
    code = getattr(_cause(error), "sqlite_errorcode", None)
    return code & 0xFF if isinstance(code, int) else None


def _contended(error: BaseException) -> bool:
    return _sqlite_code(error) in _SQLITE_CONTENDED


RETRY_AFTER = 5
"""Seconds a 503 SRV-001 asks the client to wait, and between two slow probes."""
SLOW_PROBE = 1.0
"""A probe failing faster than this (connection refused) held no one up: the next
request may probe at once. A slower one (a hung server) waits ``RETRY_AFTER``."""


class Outage:
    """Remembers whether the database is down, so each change is logged once, and keeps
    requests away from it meanwhile."""

    def __init__(self, name: str, dbapi: object | None = None) -> None:
        self.name = name
        self.dbapi = dbapi
        self.down = False
        """Read on every request without the lock: one attribute check when all is well."""
        self.watched = False
        """True while a background thread's calls tell when the database is back: then
        no request probes it (on the event loop a hung probe would stall every answer)."""
        self._probing = False
        self._probe_after = 0.0  # time.monotonic() before which no request probes
        self._lock = threading.Lock()

    def caught(self, error: BaseException) -> bool:
        """True, with a warning if the database was up until now, when ``error`` means
        the database is lost; False for anything else (a bug, to log in full)."""
        if not database_lost(error, self.dbapi):
            return False
        if _contended(error):
            log.info("%s: the database was busy (%s); answered 503", self.name, _first_line(error))
            return True
        with self._lock:
            was_down, self.down = self.down, True
        if not was_down:
            log.warning(
                "%s: the database is unavailable (%s); answering 503 SRV-001 and retrying "
                "until it is back",
                self.name,
                _first_line(error),
            )
        return True

    def back(self) -> None:
        """The database answered: say so if it was down."""
        if not self.down:  # the common case, without the lock
            return
        with self._lock:
            was_down, self.down = self.down, False
            self._probe_after = 0.0
        if was_down:
            log.warning("%s: the database is back", self.name)

    def probe(self, ping: Callable[[], bool]) -> bool:
        """Whether the database is up, asking ``ping`` only if no one else is probing, no
        background thread watches, and the last slow probe ended ``RETRY_AFTER`` s ago;
        False at once otherwise. Closes the breaker when ``ping`` succeeds."""
        with self._lock:
            if not self.down:
                return True
            if self.watched or self._probing or time.monotonic() < self._probe_after:
                return False
            self._probing = True
        started, answered = time.monotonic(), False
        try:
            answered = ping()
        finally:
            ended = time.monotonic()
            with self._lock:
                self._probing = False
                slow = ended - started >= SLOW_PROBE
                self._probe_after = ended + RETRY_AFTER if slow and not answered else 0.0
        if answered:
            self.back()
        return answered


class _LostConnectionFilter(logging.Filter):
    """Drops the pool's tracebacks about a connection the database dropped (resetting or
    closing it failed): :class:`Outage` warns once about the outage instead. Any other
    error the pool logs, a bug among them, passes."""

    def filter(self, record: logging.LogRecord) -> bool:
        error = record.exc_info[1] if record.exc_info else None
        if error is None:
            return True
        driver = sys.modules.get(type(error).__module__.partition(".")[0])
        return not database_lost(error, driver)


_POOL_FILTER = _LostConnectionFilter()


def quiet_pool_log(engine: Engine) -> None:
    """Keep SQLAlchemy's pool from logging ~40 lines of traceback per lost connection."""
    pool_logger = engine.pool.logger
    logger = pool_logger.logger if isinstance(pool_logger, InstanceLogger) else pool_logger
    if _POOL_FILTER not in logger.filters:
        logger.addFilter(_POOL_FILTER)


def _first_line(error: BaseException) -> str:
    cause = getattr(error, "orig", None) or error
    text = str(cause).strip().splitlines()
    return f"{type(cause).__name__}: {text[0] if text else ''}"[:300]


__all__ = ["RETRY_AFTER", "Outage", "database_lost", "quiet_pool_log"]
