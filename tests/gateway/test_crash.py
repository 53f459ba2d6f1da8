"""SIGKILL in the middle of a load: every receipted dossier survives, none is duplicated."""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Callable
from pathlib import Path

import requests

from harness.dossiers.factory import Dossier
from harness.signing import TestPKI
from mock_gateway.testing import Answer, ServerProcess

TOKEN = {"Authorization": "Bearer test-token-IVAN01", "Content-Type": "application/xml"}


def test_receipted_dossiers_survive_sigkill(
    tmp_path: Path, pki: TestPKI, valid: Callable[..., Dossier]
) -> None:
    del pki  # the child process trusts the session PKI through $BHXH_HARNESS_PKI
    bodies = [valid().envelope for _ in range(120)]
    server = ServerProcess(tmp_path / "gateway.sqlite3").start()
    receipts: dict[str, tuple[str, bytes, bytes]] = {}  # message id -> (MA_GDICH, body, receipt)
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
    while len(receipts) < 20 and time.monotonic() < deadline and any(t.is_alive() for t in threads):
        time.sleep(0.01)
    server.kill()  # SIGKILL mid-load
    stop.set()
    for t in threads:
        t.join(timeout=20)
    assert len(receipts) >= 5, (sorted(set(outcomes)), server.log.read_text()[-2000:])

    with ServerProcess(tmp_path / "gateway.sqlite3") as restarted:
        for message_id, (ma_gdich, body, receipt) in receipts.items():
            status = requests.get(
                f"{restarted.url}/api/v1/dossiers/{ma_gdich}", headers=TOKEN, timeout=10
            )
            assert status.status_code == 200, ma_gdich
            replay = requests.post(
                f"{restarted.url}/api/v1/dossiers",
                data=body,
                headers={**TOKEN, "X-Message-Id": message_id},
                timeout=10,
            )
            assert replay.status_code == 202 and replay.content == receipt

    with sqlite3.connect(tmp_path / "gateway.sqlite3") as db:
        duplicated = db.execute(
            "select message_id from dossiers group by ivan, message_id having count(*) > 1"
        ).fetchall()
        stored = db.execute("select count(*) from dossiers").fetchone()[0]
    assert duplicated == []
    assert stored >= len(receipts)
