"""Each traffic row bounds how long its request may have waited before the gateway's loop
read it (``unread_ms``): a client's timeout runs from its send, and certification judges
whether an I-VAN read a refusal by the gateway's times (``checks_retry.py``)."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

import requests
from sqlalchemy import create_engine, inspect, text

from mock_gateway.app import create_app
from mock_gateway.local import LocalServer
from mock_gateway.loop_watch import BEAT, HOLD, watch
from mock_gateway.store import Store
from mock_gateway.testing import InProcessGateway

STALL = 1.0
Scope = MutableMapping[str, Any]
App = Callable[[Scope, Callable[[], Awaitable[Any]], Callable[[Any], Awaitable[None]]], Any]


def test_the_bound_covers_a_stall_whichever_runs_first_reads_or_timers() -> None:
    async def run() -> tuple[float, float, float, float]:
        loop = asyncio.get_running_loop()
        found = watch(loop)
        assert watch(loop) is found  # one per loop
        await asyncio.sleep(3 * BEAT)
        quiet = found.unread_bound()
        time.sleep(0.4)  # the loop stalls: nothing runs
        read_before_timers = found.unread_bound()
        await asyncio.sleep(BEAT / 5)  # the overdue tick runs, as a loop running timers first
        read_after_timers = found.unread_bound()
        await asyncio.sleep(3 * BEAT)  # a read some turns after the stall ended
        read_later = found.unread_bound()
        await asyncio.sleep(HOLD + 2 * BEAT)
        assert read_later >= 0.35, read_later
        return quiet, read_before_timers, read_after_timers, found.unread_bound()

    quiet, before, after, later = asyncio.run(run())
    assert before >= 0.4 and after >= 0.35, (before, after)
    assert quiet < 0.4 and later < 0.4, (quiet, later)  # a stall's bound does not stay for ever


def _stalling(app: App) -> App:
    """``app``, but ``GET /stall`` blocks the event loop for :data:`STALL` seconds."""

    async def wrapped(scope: Scope, receive: Any, send: Any) -> None:
        if scope["type"] == "http" and scope["path"] == "/stall":
            time.sleep(STALL)
            await send({"type": "http.response.start", "status": 204, "headers": []})
            await send({"type": "http.response.body", "body": b""})
            return
        await app(scope, receive, send)

    return wrapped


def test_a_request_sent_while_the_loop_stalled_says_how_long_it_may_have_waited(
    gw: InProcessGateway,
) -> None:
    headers = {"Authorization": f"Bearer {gw.token()}"}
    app = _stalling(create_app(gw.gateway, background=False, close=False))
    with LocalServer(gw.gateway, app=app) as server:
        calm = requests.get(f"{server.url}/api/v1/dossiers/CALM", headers=headers, timeout=10)
        stall = threading.Thread(target=requests.get, args=(f"{server.url}/stall",))
        stall.start()
        time.sleep(STALL / 5)  # the loop is asleep in /stall now
        late = requests.get(f"{server.url}/api/v1/dossiers/LATE", headers=headers, timeout=10)
        stall.join(timeout=10)
    assert (calm.status_code, late.status_code) == (404, 404)
    rows = {r["path"].rsplit("/", 1)[-1]: r for r in gw.gateway.traffic_log()}
    assert rows["LATE"]["unread_ms"] >= 0.6 * STALL * 1000, rows["LATE"]
    assert rows["CALM"]["unread_ms"] is not None


def test_a_database_from_before_the_column_gets_it_on_opening(tmp_path: Any) -> None:
    path = tmp_path / "old.sqlite3"
    Store(f"sqlite:///{path}").close()
    engine = create_engine(f"sqlite:///{path}")
    with engine.begin() as conn:  # as the release before made it: no unread_ms
        conn.execute(text("ALTER TABLE traffic DROP COLUMN unread_ms"))
    engine.dispose()
    store = Store(f"sqlite:///{path}")
    try:
        assert "unread_ms" in {c["name"] for c in inspect(store.engine).get_columns("traffic")}
    finally:
        store.close()
