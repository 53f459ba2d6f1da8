"""Messages read before their dossier's receipt came back are timed when it comes back."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from harness.load.feed import FeedReader
from harness.load.ivan import ACK, ACK_OTHER, NOT_TIMED
from harness.load.lifecycle_log import LifecycleLog
from harness.message_kinds import HANDOVER, RESULT
from tests.load.conftest import Reply


def page(*entries: tuple[str, str, str], following: int = 9) -> bytes:
    """A feed page with ``(ID, LOAI, MA_GDICH)`` entries."""
    items = "".join(
        f"<THONGBAO><ID>{i}</ID><LOAI>{k}</LOAI><MA_GDICH>{m}</MA_GDICH></THONGBAO>"
        for i, k, m in entries
    )
    return (
        f"<KetQua><DS_THONGBAO>{items}</DS_THONGBAO><CON_TRO_TIEP>{following}</CON_TRO_TIEP>"
        "</KetQua>"
    ).encode()


@dataclass
class FeedClient:
    """Serves one feed page, then empty ones; acknowledges everything."""

    body: bytes
    names: list[str | None] = field(default_factory=list)

    @contextmanager
    def request(
        self, method: str, url: str, *, name: str | None = None, **_: Any
    ) -> Iterator[Reply]:
        self.names.append(name)
        if method == "GET":
            body, self.body = self.body, page()
            yield Reply(200, {}, body)
        else:
            yield Reply(200, {}, b"")


def test_messages_read_before_the_receipt_are_timed_when_it_comes() -> None:
    now = [100.0]
    log = LifecycleLog(clock_speed=10.0, clock=lambda: now[0])
    log.sending = 1  # a submit waits for its answer (the Submitter counts it)
    client = FeedClient(page(("1", HANDOVER, "G1"), ("2", RESULT, "G1")))
    reader = FeedReader(client, "tok", log, clock=lambda: now[0], timer=lambda: now[0])
    now[0] = 103.0
    assert reader.poll_once() == 2  # read (and acknowledged) 3 s in: the 202 is still out
    now[0] = 105.0
    log.receipt("G1", 100.0, now[0], "600")  # the slow 202 comes back 5 s in
    summary = log.summary()
    assert summary["samples"]["submit_to_handover"] == [30.0]
    assert summary["samples"]["submit_to_result"] == [30.0]
    assert summary["pending"] == 0  # its result was delivered: not still waiting
    assert summary["counts"].get(NOT_TIMED, 0) == 0
    assert summary["latency_ms"][ACK] == [0.0, 0.0]  # its acks are this run's
    assert ACK_OTHER not in summary["latency_ms"]


def test_a_message_no_receipt_claims_stays_not_this_runs() -> None:
    log = LifecycleLog(clock=lambda: 0.0, sending=1)
    reader = FeedReader(FeedClient(page(("1", HANDOVER, "X9"))), "tok", log, clock=lambda: 0.0)
    assert reader.poll_once() == 1
    summary = log.summary()
    assert summary["counts"][NOT_TIMED] == 1
    assert summary["latency_ms"][ACK_OTHER] and ACK not in summary["latency_ms"]


def test_held_acks_travel_from_a_worker_to_the_master() -> None:
    worker, master = LifecycleLog(clock=lambda: 0.0), LifecycleLog(clock=lambda: 0.0)
    worker.sending = 1
    reader = FeedReader(FeedClient(page(("1", HANDOVER, "X9"))), "tok", worker, clock=lambda: 0.0)
    reader.poll_once()
    master.merge(worker.drain(), "w1")
    master.merge(worker.drain(), "w1")  # a snapshot: sent again, counted once
    assert len(master.summary()["latency_ms"][ACK_OTHER]) == 1
