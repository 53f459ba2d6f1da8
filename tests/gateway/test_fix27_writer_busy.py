"""While another process writes to the database, a flush keeps the event loop serving.

Two workers share one SQLite file. A flush that blocked on the writer lock left its core
idle through the other worker's commit; now it looks again every ``WRITER_LOOK_AGAIN``
(a timer: looking every turn spun the loop), up to ``writer_wait``, and only then waits
for the lock as before.
"""

from __future__ import annotations

import asyncio
import fcntl
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

from harness.dossiers.factory import Dossier
from mock_gateway.app import WRITER_LOOK_AGAIN, WRITER_WAIT_ON_LOOP, CommitBatch, create_app
from mock_gateway.store import Store
from mock_gateway.testing import InProcessGateway
from mock_gateway.writer_lock import WriterLock

HEADERS = {"Authorization": "Bearer test-token-IVAN01", "Content-Type": "application/xml"}


@contextmanager
def other_process_holds(path: str) -> Iterator[Callable[[], None]]:
    """The lock taken through a file description of its own, as another process takes it;
    yields a release function (also called on exit)."""
    handle = open(path, "a+b")  # noqa: SIM115 - closed below
    fcntl.flock(handle, fcntl.LOCK_EX)
    released = threading.Event()

    def release() -> None:
        if not released.is_set():
            released.set()
            fcntl.flock(handle, fcntl.LOCK_UN)

    try:
        yield release
    finally:
        release()
        handle.close()


def _lock_path(store: Store) -> str:
    return f"{store.engine.url.database}.writer-lock"


def test_the_probe_sees_another_process_not_another_thread_and_holds_nothing(
    tmp_path: Path,
) -> None:
    lock = WriterLock(str(tmp_path / "db.sqlite3.writer-lock"))
    try:
        assert lock.held_elsewhere() is False
        assert lock.path is not None
        with other_process_holds(lock.path):
            assert lock.held_elsewhere() is True
        assert lock.held_elsewhere() is False
        inside, leave = threading.Event(), threading.Event()

        def writer() -> None:
            with lock.held():
                inside.set()
                leave.wait(10)

        thread = threading.Thread(target=writer)
        thread.start()
        assert inside.wait(10)
        # A thread of this process: not counted (waiting for it releases the GIL it needs).
        assert lock.held_elsewhere() is False
        leave.set()
        thread.join(10)
        assert lock.held_elsewhere() is False
        with other_process_holds(lock.path):  # the probe left nothing held behind it
            pass
    finally:
        lock.close()


def test_the_store_probe_is_false_where_there_is_no_lock_to_wait_for(tmp_path: Path) -> None:
    memory = Store("sqlite://")
    try:
        assert memory.writer_elsewhere() is False
    finally:
        memory.close()
    store = Store(f"sqlite:///{tmp_path / 'db.sqlite3'}")
    try:
        assert store.writer_elsewhere() is False
        with other_process_holds(_lock_path(store)):
            assert store.writer_elsewhere() is True
        store.close()
        assert store.writer_elsewhere() is False  # closed: nothing to wait for, nothing raised
    finally:
        store.close()


async def _submit(client: httpx.AsyncClient, body: bytes, message_id: str) -> httpx.Response:
    headers = {**HEADERS, "X-Message-Id": message_id}
    return await client.post("/api/v1/dossiers", content=body, headers=headers)


def test_a_flush_keeps_the_loop_serving_while_another_process_writes(
    gw: InProcessGateway, valid: Callable[..., Dossier]
) -> None:
    app = create_app(gw.gateway, background=False, close=False)
    batch: CommitBatch = app.state.commit_batch
    batch.writer_wait = 60.0  # this test releases the lock itself
    first, later = valid().envelope, valid().envelope

    async def scenario() -> tuple[int, list[int], int]:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://gateway") as client:
            with other_process_holds(_lock_path(gw.gateway.store)) as release:
                # A safety net: with a flush that blocks the loop, nothing below would run
                # to release the lock, so a timer does it and the asserts below fail.
                timer = threading.Timer(5.0, release)
                timer.start()
                try:
                    waiting = asyncio.create_task(_submit(client, first, "held-1"))
                    ticks = 0
                    for _ in range(50):  # the loop turns while the first dossier waits
                        await asyncio.sleep(0)
                        ticks += 1
                    assert not waiting.done()
                    # A request arriving meanwhile is checked and joins the same batch.
                    joining = asyncio.create_task(_submit(client, later, "held-2"))
                    for _ in range(50):
                        await asyncio.sleep(0)
                    stored_while_held = gw.gateway.store.counts()["dossiers"]
                    release()
                    answers = await asyncio.gather(waiting, joining)
                finally:
                    timer.cancel()
        return ticks, [a.status_code for a in answers], stored_while_held

    ticks, statuses, stored_while_held = asyncio.run(scenario())
    assert ticks == 50
    assert stored_while_held == 0  # nothing acknowledged, nothing stored before the lock
    assert statuses == [202, 202]
    assert batch.deferred > 0
    assert batch.flushes == 1 and batch.committed == 2  # both in the one transaction
    assert gw.gateway.store.counts()["dossiers"] == 2


def test_a_deferred_flush_looks_again_on_a_timer_not_every_turn(
    gw: InProcessGateway, valid: Callable[..., Dossier]
) -> None:
    """Held for 0.2 s, the lock is looked at about 200 times at most; looking every turn
    of an otherwise idle loop looked thousands of times, CPU the other worker wanted."""
    app = create_app(gw.gateway, background=False, close=False)
    batch: CommitBatch = app.state.commit_batch
    batch.writer_wait = 60.0
    held = 0.2

    async def scenario() -> int:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://gateway") as client:
            with other_process_holds(_lock_path(gw.gateway.store)) as release:
                timer = threading.Timer(held, release)
                timer.start()
                try:
                    answer = await _submit(client, valid().envelope, "held-on-a-timer")
                finally:
                    timer.cancel()
        return answer.status_code

    assert asyncio.run(scenario()) == 202
    assert 0 < batch.deferred <= 2 * held / WRITER_LOOK_AGAIN
    assert batch.flushes == 1


def test_a_flush_waits_for_the_lock_once_it_has_deferred_long_enough(
    gw: InProcessGateway, valid: Callable[..., Dossier], monkeypatch: pytest.MonkeyPatch
) -> None:
    app = create_app(gw.gateway, background=False, close=False)
    batch: CommitBatch = app.state.commit_batch
    assert batch.writer_wait == WRITER_WAIT_ON_LOOP
    probes: list[bool] = []
    monkeypatch.setattr(gw.gateway.store, "writer_elsewhere", lambda: probes.append(True) or True)
    body = valid().envelope

    async def scenario() -> int:
        loop = asyncio.get_running_loop()
        now = [loop.time()]
        monkeypatch.setattr(loop, "time", lambda: now[0])
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://gateway") as client:
            waiting = asyncio.create_task(_submit(client, body, "always-busy"))
            for _ in range(30):
                await asyncio.sleep(0)
            assert not waiting.done()  # the probe says busy and no time has passed
            now[0] += WRITER_WAIT_ON_LOOP  # the wait is over: commit, busy or not
            answer = await waiting
        return answer.status_code

    assert asyncio.run(scenario()) == 202
    assert batch.deferred == len(probes) - 1  # every probe but the last deferred
    assert batch.flushes == 1
    assert gw.gateway.store.counts()["dossiers"] == 1


def test_a_thread_of_this_worker_holding_the_lock_is_waited_for_without_looking_again(
    gw: InProcessGateway, valid: Callable[..., Dossier]
) -> None:
    """The traffic log's thread needs the GIL to finish its write: a loop looking again
    every turn would keep taking it, so the flush waits for the lock at once."""
    app = create_app(gw.gateway, background=False, close=False)
    batch: CommitBatch = app.state.commit_batch
    batch.writer_wait = 60.0
    inside, leave = threading.Event(), threading.Event()

    def writer() -> None:
        with gw.gateway.store.write():
            inside.set()
            leave.wait(10)

    thread = threading.Thread(target=writer)
    thread.start()
    assert inside.wait(10)
    timer = threading.Timer(0.2, leave.set)
    timer.start()
    try:

        async def scenario() -> int:
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://gateway") as client:
                return (await _submit(client, valid().envelope, "thread-held")).status_code

        assert asyncio.run(scenario()) == 202
    finally:
        timer.cancel()
        leave.set()
        thread.join(10)
    assert batch.deferred == 0
    assert batch.flushes == 1
