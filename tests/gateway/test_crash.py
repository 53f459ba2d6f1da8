"""SIGKILL in the middle of a load: every receipted dossier survives, none is duplicated.

The second test kills a two-worker server while both workers' lifecycle processors are
issuing 02/TB-TS and 03/TB-TS messages (clock x3600): after a restart every dossier
gets each message exactly once, with a unique SO_HSO, on a feed without holes.
"""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Callable, Sequence
from contextlib import closing
from pathlib import Path

import requests

from harness.dossiers.factory import Dossier
from harness.signing import TestPKI
from mock_gateway.testing import Answer, ServerProcess

TOKEN = {"Authorization": "Bearer test-token-IVAN01", "Content-Type": "application/xml"}
ADMIN = {"Authorization": "Bearer test-admin-token"}
Receipts = dict[str, tuple[str, bytes, bytes]]  # message id -> (MA_GDICH, body, receipt)


def load_then_kill(
    server: ServerProcess,
    bodies: Sequence[bytes],
    receipted: int,
    also: Callable[[], bool] = lambda: True,
) -> Receipts:
    """Four clients submit ``bodies``; SIGKILL once ``receipted`` receipts came back and
    ``also()`` holds."""
    receipts: Receipts = {}
    lock = threading.Lock()
    stop = threading.Event()
    outcomes: list[str] = []

    def sender(offset: int) -> None:
        with requests.Session() as session:
            for index in range(offset, len(bodies), 4):
                if stop.is_set():
                    return
                message_id = f"crash-{index}"
                try:
                    response = session.post(
                        f"{server.url}/api/v1/dossiers",
                        data=bodies[index],
                        headers={**TOKEN, "X-Message-Id": message_id},
                        timeout=60,
                    )
                except requests.RequestException as exc:
                    outcomes.append(type(exc).__name__)
                    return  # the server died under us: this one has no receipt
                outcomes.append(str(response.status_code))
                if response.status_code == 202:
                    with lock:
                        receipts[message_id] = (
                            Answer.parse(response.content).ma_gdich,
                            bodies[index],
                            response.content,
                        )

    threads = [threading.Thread(target=sender, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    deadline = time.monotonic() + 90  # generous: a busy CI machine may be very slow
    while time.monotonic() < deadline:
        loaded = len(receipts) >= receipted or not any(t.is_alive() for t in threads)
        if loaded and also():  # waits for also() even once every body was sent: on a
            break  # loaded machine the load could end before the processors issued anything
        time.sleep(0.01)
    server.kill()  # SIGKILL mid-load
    stop.set()
    for t in threads:
        t.join(timeout=20)
    assert len(receipts) >= 5, (sorted(set(outcomes)), server.log.read_text()[-2000:])
    return receipts


def assert_receipts_kept(url: str, receipts: Receipts) -> None:
    """Each receipted dossier is readable, and its replay gets the very same receipt."""
    for message_id, (ma_gdich, body, receipt) in receipts.items():
        status = requests.get(f"{url}/api/v1/dossiers/{ma_gdich}", headers=TOKEN, timeout=10)
        assert status.status_code == 200, ma_gdich
        replay = requests.post(
            f"{url}/api/v1/dossiers",
            data=body,
            headers={**TOKEN, "X-Message-Id": message_id},
            timeout=10,
        )
        assert replay.status_code == 202 and replay.content == receipt


def stored_once(database: Path, receipts: Receipts) -> None:
    with sqlite3.connect(database) as db:
        duplicated = db.execute(
            "select message_id from dossiers group by ivan, message_id having count(*) > 1"
        ).fetchall()
        stored = db.execute("select count(*) from dossiers").fetchone()[0]
    assert duplicated == []
    assert stored >= len(receipts)


def test_receipted_dossiers_survive_sigkill(
    tmp_path: Path, pki: TestPKI, valid: Callable[..., Dossier]
) -> None:
    del pki  # the child process trusts the session PKI through $BHXH_HARNESS_PKI
    bodies = [valid().envelope for _ in range(120)]
    database = tmp_path / "gateway.sqlite3"
    receipts = load_then_kill(ServerProcess(database).start(), bodies, receipted=20)
    with ServerProcess(database) as restarted:
        assert_receipts_kept(restarted.url, receipts)
    stored_once(database, receipts)


def test_lifecycle_messages_survive_sigkill_once_each(
    tmp_path: Path, pki: TestPKI, valid: Callable[..., Dossier]
) -> None:
    del pki
    bodies = [valid().envelope for _ in range(160)]
    database = tmp_path / "gateway.sqlite3"
    running = ServerProcess(database, workers=2, clock_speed=3600).start()

    def issuing() -> bool:  # the processors are at work: kill them mid-lifecycle
        with closing(sqlite3.connect(f"file:{database}?mode=ro", uri=True, timeout=5)) as db:
            return bool(db.execute("select 1 from messages where kind != 'receipt'").fetchone())

    receipts = load_then_kill(running, bodies, receipted=60, also=issuing)
    with closing(sqlite3.connect(database)) as db:
        issued = db.execute("select count(*) from messages where kind != 'receipt'").fetchone()
    assert issued[0] > 0, "the kill came before the first lifecycle message"

    with ServerProcess(database, workers=2) as restarted:  # clock frozen: we advance it
        assert_receipts_kept(restarted.url, receipts)
        answer = requests.post(
            f"{restarted.url}/admin/clock/advance?seconds=86400", headers=ADMIN, timeout=120
        )
        assert answer.status_code == 200, answer.text
    stored_once(database, receipts)

    with sqlite3.connect(database) as db:
        statuses = dict(db.execute("select status, count(*) from dossiers group by status"))
        kinds = db.execute(
            "select d.ma_gdich, count(m.id), count(distinct m.kind) from dossiers d "
            "join messages m on m.ma_gdich = d.ma_gdich and m.kind != 'receipt' "
            "group by d.ma_gdich"
        ).fetchall()
        feed = [
            seq
            for (seq,) in db.execute(
                "select feed_seq from messages where ivan = 'IVAN01' and kind != 'receipt' "
                "order by feed_seq"
            )
        ]
        numbers = db.execute(
            "select count(*), count(distinct so_hso), count(so_hso) from dossiers"
        ).fetchone()
    assert set(statuses) == {"accepted"}, statuses  # every dossier ran its whole life
    assert kinds and all(row[1:] == (2, 2) for row in kinds), kinds  # 02 and 03, once each
    assert len(kinds) == sum(statuses.values())
    assert feed == list(range(1, len(feed) + 1))  # no hole, no repeat
    assert numbers[0] == numbers[1] == numbers[2]  # one distinct SO_HSO per dossier
