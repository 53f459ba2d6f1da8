"""What PostgreSQL needs that SQLite does not: timeouts, a schema lock, and retries.

Several worker processes (and several ``serve`` commands) share one PostgreSQL database,
and its writers do not queue on our file lock as SQLite's do. So:

* a server that hangs must not hang the gateway: connecting gives up after
  :data:`CONNECT_TIMEOUT` seconds, a statement after :data:`STATEMENT_TIMEOUT_MS`, a
  lock wait after :data:`LOCK_TIMEOUT_MS`; each is an ``OperationalError``, which
  :mod:`mock_gateway.outage` answers with 503 ``SRV-001`` and ``Retry-After``. A server
  that is stopped outright (SIGSTOP, a frozen VM) times nothing out itself, and its
  kernel still acknowledges every packet: a :class:`Watchdog` shuts the socket of a
  pooled connection that has not answered in time;
* two processes creating the tables of an empty database at once would clash in the
  catalog, so the schema is created under an advisory lock;
* a transaction PostgreSQL aborts to break a deadlock or a serialization conflict is
  run again (:func:`retrying`) rather than reported as an outage.
"""

from __future__ import annotations

import logging
import os
import re
import socket
import threading
import time
from collections.abc import Callable
from typing import Any, TypeVar

from sqlalchemy import Engine, MetaData, create_engine, event, func, select
from sqlalchemy.engine import URL
from sqlalchemy.exc import InvalidatePoolError

from mock_gateway.schema import create_or_upgrade

log = logging.getLogger(__name__)

T = TypeVar("T")

CONNECT_TIMEOUT = 10
"""Seconds to wait for a new connection (a listener that never answers, a stopped server)."""
STATEMENT_TIMEOUT_MS = 30_000
"""The longest statement the gateway runs takes milliseconds; 30 s means the server hangs."""
LOCK_TIMEOUT_MS = 10_000
"""Row locks are held for one short transaction; waiting 10 s for one means a stuck holder."""
SCHEMA_LOCK = 0x6268_7868_5F73_6368
"""The advisory lock key ``create_schema`` takes (``bhxh_sch`` in ASCII)."""
TRANSIENT_STATES = frozenset({"40001", "40P01"})
"""SQLSTATEs of a transaction aborted only to let another one through (serialization
failure, deadlock detected): running it again succeeds."""
ATTEMPTS = 5


def connect_args(url: URL, environ: Any = os.environ) -> dict[str, Any]:
    """psycopg connect arguments adding our timeouts to what the URL (or libpq's
    ``PGCONNECT_TIMEOUT`` / ``PGOPTIONS``) already says, never overriding the user's."""
    args: dict[str, Any] = {}
    if "connect_timeout" not in url.query and not environ.get("PGCONNECT_TIMEOUT"):
        args["connect_timeout"] = CONNECT_TIMEOUT
    given = url.query.get("options")
    if isinstance(given, tuple):  # ?options=a&options=b
        given = " ".join(given)
    user_options = given if given is not None else environ.get("PGOPTIONS", "")
    ours = [
        f"-c {name}={value}"
        for name, value in (
            ("statement_timeout", STATEMENT_TIMEOUT_MS),
            ("lock_timeout", LOCK_TIMEOUT_MS),
        )
        if not re.search(rf"(?<![\w.]){name}\s*=", user_options)  # not deadlock_timeout
    ]
    if ours:
        args["options"] = " ".join([user_options, *ours]).strip()
    return args


def postgres_engine(url: URL) -> Engine:
    """A pooled engine whose connections time out instead of hanging (see module doc).

    The watchdog pings a pooled connection at checkout: SQLAlchemy's ``pool_pre_ping``
    would ping before the watchdog could watch it.
    """
    engine = create_engine(url, pool_size=10, max_overflow=30, connect_args=connect_args(url))
    Watchdog(
        ping_seconds=CONNECT_TIMEOUT,
        seconds=STATEMENT_TIMEOUT_MS / 1000 + CONNECT_TIMEOUT,
    ).attach(engine)
    return engine


_FRESH = "bhxh_fresh"


class Watchdog:
    """Shuts the socket of a connection checked out for longer than ``seconds`` (or
    whose checkout ping has not answered in ``ping_seconds``): the call waiting on it
    then fails with an ``OperationalError``, a 503 ``SRV-001``, instead of hanging."""

    def __init__(self, *, ping_seconds: float, seconds: float) -> None:
        self.ping_seconds = ping_seconds
        self.seconds = seconds
        self._out: dict[Any, tuple[float, Any]] = {}  # record: (deadline, DBAPI connection)
        self._severed: set[Any] = set()  # records whose socket we shut, until checked in
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None  # runs while a connection is out

    def attach(self, engine: Engine) -> None:
        event.listen(engine, "connect", self._connected)
        event.listen(engine, "checkout", self._checkout)
        event.listen(engine, "checkin", self._checkin)

    def _connected(self, _dbapi_connection: Any, record: Any) -> None:
        record.info[_FRESH] = True  # just connected: no ping needed

    def _checkout(self, dbapi_connection: Any, record: Any, _proxy: Any) -> None:
        """Watch the connection; ping it first unless it is new (the server may have
        restarted or stopped since it was last used)."""
        if record.info.pop(_FRESH, False):
            self._watch(record, dbapi_connection, self.seconds)
            return
        self._watch(record, dbapi_connection, self.ping_seconds)
        try:
            with dbapi_connection.cursor() as cursor:
                cursor.execute("SELECT 1")
        except Exception as exc:
            if self._checkin(dbapi_connection, record):
                raise  # the server hangs: a new connection would wait as long, then fail
            # the server went away (a restart): every pooled connection is stale, and
            # SQLAlchemy tries a new one
            raise InvalidatePoolError(f"ping failed: {exc}") from exc
        self._watch(record, dbapi_connection, self.seconds)

    def _checkin(self, _dbapi_connection: Any, record: Any) -> bool:
        """Stop watching; returns whether the watchdog had shut the connection."""
        with self._lock:
            self._out.pop(record, None)
            if record in self._severed:
                self._severed.discard(record)
                return True
            return False

    def _watch(self, record: Any, dbapi_connection: Any, seconds: float) -> None:
        with self._lock:
            self._out[record] = (time.monotonic() + seconds, dbapi_connection)
            if self._thread is None:
                self._thread = threading.Thread(
                    target=self._run, name="bhxh-db-watchdog", daemon=True
                )
                self._thread.start()

    def _run(self) -> None:
        """Every half second, sever the late connections; end when none is out."""
        while True:
            time.sleep(0.5)
            now = time.monotonic()
            with self._lock:
                late = [r for r, (deadline, _c) in self._out.items() if deadline < now]
                for record in late:
                    _deadline, connection = self._out.pop(record)
                    _sever(connection)
                    self._severed.add(record)
                if not self._out:
                    self._thread = None  # the next checkout starts another
                    return


def _sever(connection: Any) -> None:
    """Shut ``connection``'s socket: the thread waiting on it wakes with an error."""
    try:
        with socket.socket(fileno=os.dup(connection.fileno())) as sock:
            sock.shutdown(socket.SHUT_RDWR)
    except (OSError, ValueError, AttributeError) as exc:  # closed meanwhile: nothing to do
        log.debug("could not shut a hung database connection: %s", exc)
        return
    log.debug("shut a database connection that did not answer in time")


def create_schema(engine: Engine, metadata: MetaData) -> None:
    """Create missing tables, columns and indexes, one process at a time: two ``serve`` commands
    starting together on an empty database would both try to create the same types."""
    with engine.begin() as conn:
        conn.execute(select(func.pg_advisory_xact_lock(SCHEMA_LOCK)))
        create_or_upgrade(conn, metadata)


def transient(error: BaseException) -> bool:
    """Whether ``error`` (raw psycopg, or wrapped by SQLAlchemy) only aborted the
    transaction to break a deadlock or serialization conflict."""
    cause = getattr(error, "orig", None) or error
    return getattr(cause, "sqlstate", None) in TRANSIENT_STATES


def retrying(run: Callable[[], T], attempts: int = ATTEMPTS) -> T:
    """``run()``, run again (after a short pause) when PostgreSQL aborted it to break a
    deadlock or a serialization conflict; any other error, or the last one, is raised."""
    for attempt in range(1, attempts + 1):
        try:
            return run()
        except Exception as exc:
            if attempt == attempts or not transient(exc):
                raise
            log.debug("transaction aborted (%s); running it again", exc)
            time.sleep(0.01 * attempt)
    raise AssertionError("unreachable")  # pragma: no cover


__all__ = [
    "Watchdog",
    "connect_args",
    "create_schema",
    "postgres_engine",
    "retrying",
    "transient",
]
