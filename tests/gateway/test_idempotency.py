"""X-Message-Id: same id and body → the same receipt, stored once; another body → 409."""

from __future__ import annotations

import threading
from collections.abc import Callable

from harness.dossiers.factory import Dossier
from mock_gateway.exchange import GatewayResponse
from mock_gateway.testing import Answer, InProcessGateway


def test_replay_returns_the_stored_receipt(
    gw: InProcessGateway, valid: Callable[..., Dossier]
) -> None:
    envelope = valid().envelope
    first = gw.submit(envelope, message_id="idem-1")
    gw.advance(60)  # a replay later must still get the original receipt, byte for byte
    again = gw.submit(envelope, message_id="idem-1")
    assert (first.status, again.status) == (202, 202)
    assert again.body == first.body
    assert first.headers["X-Idempotent-Replay"] == "false"
    assert again.headers["X-Idempotent-Replay"] == "true"
    counts = gw.gateway.store.counts()
    assert (counts["dossiers"], counts["idempotency"]) == (1, 1)


def test_same_id_other_body_is_409(gw: InProcessGateway, valid: Callable[..., Dossier]) -> None:
    assert gw.submit(valid().envelope, message_id="idem-2").status == 202
    before = gw.gateway.store.counts()
    clash = gw.submit(valid().envelope, message_id="idem-2")
    assert clash.status == 409
    assert Answer.parse(clash).ma_loi == "DUP-001"
    after = gw.gateway.store.counts()
    assert after["dossiers"] == before["dossiers"] == 1


def test_message_ids_are_scoped_per_ivan(
    gw: InProcessGateway, valid: Callable[..., Dossier], valid02: Callable[..., Dossier]
) -> None:
    assert gw.submit(valid().envelope, message_id="shared").status == 202
    other = gw.submit(valid02().envelope, ivan="IVAN02", message_id="shared")
    assert other.status == 202  # not a duplicate: another I-VAN's key space


def test_rejected_dossier_does_not_bind_the_id(
    gw: InProcessGateway, valid: Callable[..., Dossier]
) -> None:
    bad = gw.submit(b"<Hoso/>", message_id="idem-3")
    assert bad.status == 400
    good = gw.submit(valid().envelope, message_id="idem-3")
    assert good.status == 202


def test_concurrent_duplicates_are_stored_once(
    gw: InProcessGateway, valid: Callable[..., Dossier]
) -> None:
    envelope = valid().envelope
    answers: list[GatewayResponse] = []
    lock = threading.Lock()
    start = threading.Barrier(6)

    def send() -> None:
        start.wait(timeout=10)
        response = gw.submit(envelope, message_id="race")
        with lock:
            answers.append(response)

    threads = [threading.Thread(target=send) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert [a.status for a in answers] == [202] * 6
    assert len({a.body for a in answers}) == 1
    counts = gw.gateway.store.counts()
    assert (counts["dossiers"], counts["idempotency"]) == (1, 1)
