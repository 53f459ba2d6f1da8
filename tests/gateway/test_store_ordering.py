"""PostgreSQL robustness that needs no PostgreSQL: timeouts, retries, quiet pool logs.

A listener that never answers stands in for a hung server; deadlocks are raised by hand
as psycopg would raise them.
"""

from __future__ import annotations

import logging
import socket
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError

from harness.errors import ConfigError
from mock_gateway import pgsql
from mock_gateway.records import TrafficRecord
from mock_gateway.store import Store
from tests.gateway.store_records import DUE, new_dossier, result_step

psycopg = pytest.importorskip("psycopg")


def deadlock() -> OperationalError:
    """What SQLAlchemy raises when PostgreSQL breaks a deadlock by aborting us."""
    return OperationalError("UPDATE dossiers ...", {}, psycopg.errors.DeadlockDetected("deadlock"))


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    opened = Store(f"sqlite:///{tmp_path / 'store.sqlite3'}")
    yield opened
    opened.close()


def test_a_lifecycle_step_aborted_by_a_deadlock_is_run_again(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A deadlock PostgreSQL broke by aborting us is not an outage: running the
    transaction again succeeds (it used to reach the client as 503 SRV-001)."""
    d = new_dossier(due=DUE)
    store.save_accepted(d, b"<r/>", uuid.uuid4().hex)
    write, calls = store.write, []

    @contextmanager
    def aborted_once() -> Iterator[Any]:
        calls.append(1)
        with write() as conn:
            yield conn
            if len(calls) == 1:
                raise deadlock()

    monkeypatch.setattr(store, "write", aborted_once)
    assert store.issue_many([result_step(d)]) == 1
    assert len(calls) == 2
    assert [m.kind for m in store.messages_of("IVAN01", d.ma_gdich)] == ["receipt", "03/TB-TS"]


def test_a_dossier_whose_batch_deadlocked_is_saved_again(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    transaction, calls = store._group._transaction, []

    @contextmanager
    def aborted_once() -> Iterator[Any]:
        calls.append(1)
        with transaction() as cursor:
            yield cursor
            if len(calls) == 1:
                raise deadlock()

    monkeypatch.setattr(store._group, "_transaction", aborted_once)
    d = new_dossier(due=DUE)
    assert store.save_accepted(d, b"<r/>", "r1").ma_gdich == d.ma_gdich
    assert store.counts()["dossiers"] == 1


def test_other_errors_are_not_retried() -> None:
    calls: list[int] = []

    def broken() -> None:
        calls.append(1)
        raise OperationalError("SELECT 1", {}, psycopg.OperationalError("connection refused"))

    with pytest.raises(OperationalError):
        pgsql.retrying(broken)
    assert calls == [1]


def test_timeouts_are_added_without_overriding_the_users() -> None:
    plain = pgsql.connect_args(make_url("postgresql+psycopg://u@h/db"), environ={})
    assert plain == {
        "connect_timeout": pgsql.CONNECT_TIMEOUT,
        "options": "-c statement_timeout=30000 -c lock_timeout=10000",
    }
    given = make_url(
        "postgresql+psycopg://u@h/db?connect_timeout=3&options=-c deadlock_timeout=2s"
        " -c statement_timeout=1min"
    )
    assert pgsql.connect_args(given, environ={}) == {
        "options": "-c deadlock_timeout=2s -c statement_timeout=1min -c lock_timeout=10000"
    }
    from_env = {"PGCONNECT_TIMEOUT": "4", "PGOPTIONS": "-c lock_timeout=1s"}
    assert pgsql.connect_args(make_url("postgresql+psycopg://u@h/db"), environ=from_env) == {
        "options": "-c lock_timeout=1s -c statement_timeout=30000"
    }


@pytest.fixture
def silent_listener() -> Iterator[int]:
    """A port that accepts TCP connections and never says a word (a hung server)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen(16)
        yield int(sock.getsockname()[1])


def test_start_up_on_a_server_that_never_answers_times_out(
    silent_listener: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``serve`` hung silently at start-up; now it says the database timed out."""
    monkeypatch.setattr(pgsql, "CONNECT_TIMEOUT", 2)
    url = f"postgresql+psycopg://bhxh:s3cret-pw@127.0.0.1:{silent_listener}/db"
    outcome: list[BaseException] = []

    def start() -> None:
        try:
            Store(url).close()
        except BaseException as exc:  # asserted on below
            outcome.append(exc)

    started = time.monotonic()
    thread = threading.Thread(target=start, daemon=True)
    thread.start()
    thread.join(10)
    assert not thread.is_alive(), "Store() still waiting for a server that never answers"
    assert time.monotonic() - started < 10
    [error] = outcome
    assert isinstance(error, ConfigError)
    assert "cannot open database" in str(error) and "timeout" in str(error).lower()
    assert "s3cret-pw" not in str(error)
    assert "the user may connect" in (error.hint or "") and "permissions" not in (error.hint or "")


def test_the_pool_does_not_log_tracebacks_for_a_lost_connection(
    store: Store, caplog: pytest.LogCaptureFixture
) -> None:
    """README promises one warning per outage; the pool added ~40 lines of traceback."""
    logger = store.engine.pool.logger
    caplog.set_level(logging.DEBUG)
    for error in (psycopg.OperationalError("the connection is lost"), ValueError("a bug")):
        try:
            raise error
        except Exception:
            logger.error("Exception during reset or similar", exc_info=True)
    logged = [r.exc_info[1] for r in caplog.records if r.exc_info]
    assert [type(e) for e in logged] == [ValueError]


def test_sqlite_traffic_ids_run_on_and_restart_after_reset(store: Store) -> None:
    row = TrafficRecord(None, "GET", "/healthz", None, 200, 0, b"", b"{}", "t", 1.0, "OK")
    store.record_traffic([row, row])
    store.record_traffic([row])
    assert [r["id"] for r in store.traffic()] == [1, 2, 3]
    store.reset()
    store.record_traffic([row])
    assert [r["id"] for r in store.traffic()] == [1]
