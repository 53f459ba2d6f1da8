"""Several workers (one :class:`Store` each) on one PostgreSQL database at once.

Each test gets a database of its own on the session's cluster (``postgres_url``), so the
tables start empty and a test never sees another's rows. Skipped where PostgreSQL cannot
start here.
"""

from __future__ import annotations

import contextlib
import socket
import threading
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError

from mock_gateway import pgsql
from mock_gateway.records import Issue, NewDossier, TrafficRecord
from mock_gateway.store import Store
from tests.gateway.store_records import DUE, handover_step, new_dossier
from tests.postgres import fresh_database


@pytest.fixture
def fresh_db(postgres_url: str) -> Iterator[str]:
    """The URL of a new, empty database, dropped after the test."""
    with fresh_database(postgres_url, "workers") as url:
        yield url


@contextmanager
def workers(url: str, count: int = 2) -> Iterator[list[Store]]:
    """``count`` stores on one database, as ``serve --workers`` runs them."""
    stores = [Store(url) for _ in range(count)]
    try:
        yield stores
    finally:
        for store in stores:
            store.close()


def traffic_row(path: str) -> TrafficRecord:
    return TrafficRecord(
        ivan="IVAN01",
        method="GET",
        path=path,
        message_id=None,
        status=200,
        request_size=0,
        request=b"",
        response=b"<BHXH/>",
        started="2026-01-01T00:00:00.000000Z",
        duration_ms=1.0,
        outcome="OK",
    )


def in_thread(action: Callable[[], Any]) -> tuple[threading.Thread, list[Any]]:
    """Run ``action`` in a daemon thread; its result or exception lands in the list."""
    outcome: list[Any] = []

    def run() -> None:
        try:
            outcome.append(action())
        except Exception as exc:  # asserted on by the test, not raised in the thread
            outcome.append(exc)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread, outcome


def test_traffic_ids_become_visible_in_commit_order(fresh_db: str) -> None:
    """Worker A's batch is written but not yet committed when worker B writes one: B's
    rows must not become visible with higher ids before A's, or an exporter paging with
    ``?after=<last id>`` skips A's rows for good (7 of 693 in the QA probe)."""
    with workers(fresh_db) as (a, b):
        inserted, release = threading.Event(), threading.Event()
        a_transaction = a.transaction

        @contextmanager
        def held_open() -> Iterator[Any]:
            with a_transaction() as cursor:
                yield cursor
                inserted.set()  # A's rows are in, its commit waits for the test
                release.wait(5)

        a.transaction = held_open  # type: ignore[method-assign]
        first, a_done = in_thread(lambda: a.record_traffic([traffic_row("/a")]))
        assert inserted.wait(5)
        second, b_done = in_thread(lambda: b.record_traffic([traffic_row("/b")]))
        second.join(1.0)  # B may finish (old code) or wait for A's commit (fixed)

        seen = {row["id"] for row in b.traffic(after=0)}  # the exporter's first page
        after = max(seen, default=0)
        release.set()
        first.join(5)
        second.join(5)
        assert a_done == [None] and b_done == [None], (a_done, b_done)
        seen |= {row["id"] for row in b.traffic(after=after)}  # its next page

        logged = {row["id"]: row["path"] for row in b.traffic(after=0)}
        assert seen == set(logged), f"skipped for good: {set(logged) - seen} of {logged}"
        assert [logged[i] for i in sorted(logged)] == ["/a", "/b"]


def test_traffic_ids_continue_after_rows_written_without_the_counter(fresh_db: str) -> None:
    """Rows a test (or an older gateway) inserted straight into the table keep their
    ids: the counter starts above the highest one, and never goes below it."""
    with workers(fresh_db, 1) as (store,):
        store.record_traffic([traffic_row("/1"), traffic_row("/2")])
        with store.write() as conn:
            conn.execute(
                text(
                    "INSERT INTO traffic (id, method, path, status, request_size, request,"
                    " response, started, duration_ms, outcome) VALUES (10, 'GET', '/x', 200,"
                    " 0, '', '', '', 0, 'OK')"
                )
            )
        store.record_traffic([traffic_row("/3")])
        assert [(r["id"], r["path"]) for r in store.traffic()] == [
            (1, "/1"),
            (2, "/2"),
            (10, "/x"),
            (11, "/3"),
        ]


def handover(dossier: NewDossier, render: Callable[[int | None], None]) -> Issue:
    """The 02/TB-TS step of ``dossier``, calling ``render`` as the step is rendered."""

    def rendered(number: int | None) -> tuple[bytes, str | None]:
        render(number)
        return b"<THONGBAO/>", f"{number:06d}"

    return handover_step(dossier, rendered)


def test_two_workers_issuing_in_opposite_orders_do_not_deadlock(fresh_db: str) -> None:
    """Worker A claims dossier 1 then 2, worker B dossier 2 then 1, each pausing after its
    first claim until the other has made one: PostgreSQL aborted one of them with
    "deadlock detected" (503 SRV-001 for a concurrent clock advance)."""
    with workers(fresh_db) as (a, b):
        first, second = new_dossier(ivan="IVAN01", due=DUE), new_dossier(ivan="IVAN02", due=DUE)
        for d in (first, second):
            a.save_accepted(d, b"<r/>", uuid.uuid4().hex)
        claimed = {"a": threading.Event(), "b": threading.Event()}

        def pause(me: str, other: str) -> Callable[[int | None], None]:
            def render(_number: int | None) -> None:
                if not claimed[me].is_set():
                    claimed[me].set()
                    claimed[other].wait(1.5)  # the other never gets here if it must wait

            return render

        a_steps: Sequence[Issue] = [handover(d, pause("a", "b")) for d in (first, second)]
        b_steps: Sequence[Issue] = [handover(d, pause("b", "a")) for d in (second, first)]
        ta, a_done = in_thread(lambda: a.issue_many(a_steps))
        tb, b_done = in_thread(lambda: b.issue_many(b_steps))
        ta.join(15)
        tb.join(15)
        outcomes = a_done + b_done
        assert not [o for o in outcomes if isinstance(o, Exception)], outcomes
        assert sorted(outcomes) == [0, 2], outcomes  # one worker issued both, once each
        messages = a.messages_of("IVAN01", first.ma_gdich) + a.messages_of(
            "IVAN02", second.ma_gdich
        )
        assert sorted(m.kind for m in messages) == ["02/TB-TS", "02/TB-TS", "receipt", "receipt"]
        numbers = {a.dossier_any(d.ma_gdich).so_hso for d in (first, second)}  # type: ignore[union-attr]
        assert numbers == {"000001", "000002"}


def test_many_stores_creating_the_schema_at_once(fresh_db: str) -> None:
    """Two ``serve`` commands starting together on an empty database: create_all clashed
    ("duplicate key value violates unique constraint pg_type_typname_nsp_index")."""
    barrier = threading.Barrier(6)
    opened: list[Any] = []

    def start() -> None:
        barrier.wait(5)
        try:
            opened.append(Store(fresh_db))
        except Exception as exc:  # asserted on below
            opened.append(exc)

    threads = [threading.Thread(target=start, daemon=True) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(20)
    try:
        assert all(isinstance(s, Store) for s in opened) and len(opened) == 6, opened
    finally:
        for s in opened:
            if isinstance(s, Store):
                s.close()


def test_connections_carry_statement_and_lock_timeouts(fresh_db: str) -> None:
    """A server that stops answering mid-statement, or a lock never released, ends in an
    OperationalError (a 503 SRV-001) instead of a request hanging for ever."""
    with workers(fresh_db, 1) as (store,), store.read() as conn:
        assert conn.execute(text("SHOW statement_timeout")).scalar_one() == "30s"
        assert conn.execute(text("SHOW lock_timeout")).scalar_one() == "10s"


def test_a_statement_over_the_timeout_is_an_outage(
    fresh_db: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(pgsql, "STATEMENT_TIMEOUT_MS", 200)
    with workers(fresh_db, 1) as (store,):
        with pytest.raises(OperationalError) as caught, store.read() as conn:
            conn.execute(text("SELECT pg_sleep(3)"))
        from mock_gateway.outage import database_lost

        assert database_lost(caught.value, store.engine.dialect.loaded_dbapi)


def test_options_in_the_url_are_kept(fresh_db: str) -> None:
    url = f"{fresh_db}?options=-c%20statement_timeout%3D5s%20-c%20application_name%3Dmine"
    with workers(url, 1) as (store,), store.read() as conn:
        assert conn.execute(text("SHOW statement_timeout")).scalar_one() == "5s"
        assert conn.execute(text("SHOW application_name")).scalar_one() == "mine"
        assert conn.execute(text("SHOW lock_timeout")).scalar_one() == "10s"


class FreezingProxy:
    """A TCP relay to PostgreSQL that can stop answering, as a SIGSTOPped server does:
    its kernel still accepts connections and acknowledges every byte, nothing comes back."""

    def __init__(self, host: str, port: int) -> None:
        self.upstream = (host, port)
        self.frozen = threading.Event()
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = int(self.listener.getsockname()[1])
        self.sockets: list[socket.socket] = [self.listener]
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return  # closed
            self.sockets.append(client)
            if self.frozen.is_set():
                continue  # accepted, never answered
            server = socket.create_connection(self.upstream)
            self.sockets.append(server)
            for src, dst in ((client, server), (server, client)):
                threading.Thread(target=self._pump, args=(src, dst), daemon=True).start()

    def _pump(self, src: socket.socket, dst: socket.socket) -> None:
        while True:
            try:
                data = src.recv(65536)
                if not data:
                    return
                if not self.frozen.is_set():  # frozen: swallowed, like a stopped process
                    dst.sendall(data)
            except OSError:
                return

    def close(self) -> None:
        for sock in self.sockets:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
            sock.close()


@pytest.fixture
def frozen_server(fresh_db: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[FreezingProxy]:
    """The test database behind a :class:`FreezingProxy`, with short timeouts."""
    monkeypatch.setattr(pgsql, "CONNECT_TIMEOUT", 2)
    monkeypatch.setattr(pgsql, "STATEMENT_TIMEOUT_MS", 1000)
    url = make_url(fresh_db)
    assert url.host is not None and url.port is not None
    proxy = FreezingProxy(url.host, url.port)
    try:
        yield proxy
    finally:
        proxy.close()


def test_a_stopped_server_times_out_instead_of_hanging(
    fresh_db: str, frozen_server: FreezingProxy
) -> None:
    """``/healthz`` and every request hung for good on a SIGSTOPped PostgreSQL: the
    pooled connections waited for an answer that never came (no server-side timeout
    fires in a stopped process). Now the ping fails, and a statement in flight too."""
    url = make_url(fresh_db).set(host="127.0.0.1", port=frozen_server.port)
    store = Store(url.render_as_string(hide_password=False))
    try:
        assert store.ping()  # a pooled connection, as a running gateway has

        def stopped_mid_transaction() -> object:
            with store.read() as conn:
                frozen_server.frozen.set()
                return conn.execute(text("SELECT 1")).scalar()

        started = time.monotonic()
        in_flight, failed = in_thread(stopped_mid_transaction)
        in_flight.join(10)
        assert not in_flight.is_alive(), "a statement on a stopped server hangs"
        assert isinstance(failed[0], OperationalError), failed
        assert time.monotonic() - started < 10

        healthz, answer = in_thread(store.ping)
        healthz.join(10)
        assert not healthz.is_alive(), "ping (/healthz) hangs on a stopped server"
        assert answer == [False]
    finally:
        frozen_server.close()  # wakes whatever the old code left waiting
        store.close()
