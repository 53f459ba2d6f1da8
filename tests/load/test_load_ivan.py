"""The I-VAN behaviour of the load users: retries, the feed, acks, lifecycle timing, pacing."""

from __future__ import annotations

import random

import pytest

from harness.load import DossierPool, FeedReader, Ivan, LifecycleLog, Pacer, Submitter, parse_feed
from harness.load.feed import FeedEndUnknown
from harness.load.ivan import (
    ACK,
    FEED,
    FEED_START,
    SUBMIT,
    SUBMIT_RETRY,
)
from harness.load.submitter import TRIVIAL_BODY
from mock_gateway.testing import InProcessGateway
from tests.load.conftest import CoreClient, Reply, ScriptedClient


class Clock:
    """A hand-moved clock: tests decide how long each step took."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def submitter(client: ScriptedClient, pool: DossierPool, log: LifecycleLog, **kw: object):  # type: ignore[no-untyped-def]
    sleeps: list[float] = []
    sub = Submitter(
        client,
        "test-token-IVAN01",
        pool.picker({"600": 1, "604": 1}),
        log,
        random.Random(7),
        sleep=sleeps.append,
        **kw,  # type: ignore[arg-type]
    )
    return sub, sleeps


def test_accepted_dossier_is_timed_on_the_simulated_clock(
    gateway: InProcessGateway, pool: DossierPool
) -> None:
    clock = Clock()
    log = LifecycleLog(clock_speed=900.0)
    client = CoreClient(gateway)
    sub, _ = submitter(client, pool, log, clock=clock)
    assert sub.submit() == "accepted"
    (call,) = client.calls
    assert call.name == SUBMIT and call.reply.verdict == "success"
    assert call.data in {e for envelopes in pool.dossiers.values() for e in envelopes}
    assert call.headers["X-Message-Id"] and call.headers["Content-Type"] == "application/xml"
    assert log.counts["accepted"] == 1
    assert log.samples["submit_to_receipt"] == [0.0]  # the hand-moved clock did not move
    assert list(log.pending) == [call.reply.headers["X-Ma-Gdich"]]


def test_every_dossier_gets_a_fresh_message_id_for_the_same_envelope(
    gateway: InProcessGateway, pool: DossierPool
) -> None:
    client = CoreClient(gateway)
    sub, _ = submitter(client, pool, LifecycleLog())
    for _ in range(6):
        assert sub.submit() == "accepted"
    ids = [c.headers["X-Message-Id"] for c in client.calls]
    assert len(set(ids)) == 6
    assert len({c.data for c in client.calls}) < 6  # envelopes are reused from the pool


def test_503_is_retried_with_the_same_message_id_after_retry_after(
    gateway: InProcessGateway, pool: DossierPool
) -> None:
    client = CoreClient(gateway)
    client.script = [(503, {"Retry-After": "3", "X-BHXH-Ma-Loi": "SRV-001"}), (0, {})]
    log = LifecycleLog()
    sub, sleeps = submitter(client, pool, log)
    assert sub.submit() == "accepted"
    first, second, third = client.calls
    assert [c.name for c in client.calls] == [SUBMIT, SUBMIT_RETRY, SUBMIT_RETRY]
    assert first.reply.verdict == "HTTP 503 SRV-001" and second.reply.verdict == "HTTP 0"
    assert first.headers["X-Message-Id"] == second.headers["X-Message-Id"]
    assert third.headers["X-Message-Id"] == first.headers["X-Message-Id"]
    assert first.data == third.data
    assert sleeps[0] >= 3.0  # Retry-After wins over a shorter backoff
    assert log.counts["retries"] == 2 and log.counts["accepted"] == 1


def test_a_refusal_is_not_retried(pool: DossierPool) -> None:
    client = ScriptedClient(script=[(422, {"X-BHXH-Ma-Loi": "SCH-001"})])
    log = LifecycleLog()
    sub, sleeps = submitter(client, pool, log)
    assert sub.submit() == "rejected"
    assert len(client.calls) == 1 and sleeps == []
    assert client.calls[0].reply.verdict == "HTTP 422 SCH-001"
    assert log.counts["rejected"] == 1 and not log.pending


def test_retries_run_out(pool: DossierPool) -> None:
    client = ScriptedClient(script=[(503, {})] * 4)
    log = LifecycleLog()
    sub, sleeps = submitter(client, pool, log)
    assert sub.submit() == "abandoned"
    assert len(client.calls) == 4 and len(sleeps) == 3
    assert log.counts["abandoned"] == 1


def test_trivial_payload_for_the_generator_benchmark(pool: DossierPool) -> None:
    client = ScriptedClient(script=[(202, {"X-Ma-Gdich": "X1"})])
    sub, _ = submitter(client, pool, LifecycleLog(), trivial=True)
    assert sub.submit() == "accepted"
    assert client.calls[0].data == TRIVIAL_BODY


def test_feed_reader_times_hand_over_and_result_then_acks_all(
    gateway: InProcessGateway, pool: DossierPool, ivan01: Ivan
) -> None:
    clock = Clock()
    log = LifecycleLog(clock_speed=900.0)
    client = CoreClient(gateway)
    sub, _ = submitter(client, pool, log, clock=clock)
    for _ in range(3):
        assert sub.submit() == "accepted"
    gateway.advance(2 * 3600)
    clock.now += 8.0  # eight real seconds later the I-VAN polls
    reader = FeedReader(client, ivan01.token, log, page=4, clock=clock)
    assert reader.poll_once() == 4  # a full page: the reader would poll again at once
    assert reader.poll_once() == 2
    assert reader.poll_once() == 0
    feeds = [c for c in client.calls if c.name == FEED]
    acks = [c for c in client.calls if c.name == ACK]
    assert all(c.reply.verdict == "success" for c in feeds + acks)
    assert len(acks) == 6
    assert log.samples["submit_to_handover"] == [7200.0] * 3
    assert log.samples["submit_to_result"] == [7200.0] * 3
    assert not log.pending
    assert log.counts["messages 02/TB-TS"] == 3 and log.counts["messages 03/TB-TS"] == 3
    assert "after=0" in feeds[0].url and "after=0" not in feeds[1].url


@pytest.mark.parametrize("earlier", [0, 1, 2, 7, 30])
def test_a_reader_starts_past_the_messages_earlier_runs_left(
    gateway: InProcessGateway, pool: DossierPool, ivan01: Ivan, earlier: int
) -> None:
    """On a re-used gateway a run reads only its own dossiers' messages, found with about
    2·log2(N) one-message reads that are not the run's feed figures."""
    client = CoreClient(gateway)
    sub, _ = submitter(client, pool, LifecycleLog())
    for _ in range(earlier):
        assert sub.submit() == "accepted"
    gateway.advance(2 * 3600)  # two messages per dossier, none acknowledged
    log = LifecycleLog()
    reader = FeedReader(client, ivan01.token, log)
    quiet = CoreClient(gateway)
    assert reader.skip_to_end(quiet) == reader.cursor == 2 * earlier
    assert all(c.name == FEED_START and "limit=1" in c.url for c in quiet.calls)
    assert len(quiet.calls) <= 2 * max(1, (2 * earlier).bit_length()) + 1
    assert not [c for c in client.calls if c.name in (FEED, FEED_START)]
    ours, _ = submitter(client, pool, log)
    assert ours.submit() == "accepted"
    gateway.advance(2 * 3600)
    assert reader.poll_once() == 2  # this run's own hand-over and result, nothing older
    assert log.counts["messages 02/TB-TS"] == 1 and not log.pending


def test_a_reader_that_cannot_find_the_end_never_reads_from_the_beginning(ivan01: Ivan) -> None:
    """It gives up (the run says why) rather than re-read and re-acknowledge the history."""
    reader = FeedReader(ScriptedClient(), ivan01.token, LifecycleLog())
    failing = ScriptedClient(script=[(503, {})] * 3)
    with pytest.raises(FeedEndUnknown):
        reader.skip_to_end(failing, sleep=lambda _s: None, patience=0.1)
    assert reader.cursor == 0


def test_a_failed_ack_is_tried_again_on_the_next_poll(
    gateway: InProcessGateway, pool: DossierPool, ivan01: Ivan
) -> None:
    client = CoreClient(gateway)
    log = LifecycleLog()
    sub, _ = submitter(client, pool, log)
    sub.submit()
    gateway.advance(2 * 3600)
    reader = FeedReader(client, ivan01.token, log)
    client.calls.clear()
    client.fallback = _first_ack_fails(client.fallback)
    assert reader.poll_once() == 2
    acks = [c for c in client.calls if c.name == ACK]
    assert [c.reply.status_code for c in acks] == [503, 200]
    assert reader.unacked == [acks[0].url.split("/")[4]]
    client.calls.clear()
    assert reader.poll_once() == 0
    (again,) = [c for c in client.calls if c.name == ACK]
    assert again.url == acks[0].url and again.reply.status_code == 200
    assert reader.unacked == []


def _first_ack_fails(answer):  # type: ignore[no-untyped-def]
    failed: list[str] = []

    def wrapped(method: str, url: str, body: bytes, headers: dict[str, str]) -> Reply:
        if url.endswith("/ack") and not failed:
            failed.append(url)
            return Reply(503, {"Retry-After": "1"}, b"")
        reply: Reply = answer(method, url, body, headers)
        return reply

    return wrapped


def test_ack_failure_is_reported_and_kept(ivan01: Ivan) -> None:
    client = ScriptedClient(script=[(503, {"X-BHXH-Ma-Loi": "SRV-001"}), (404, {})])
    reader = FeedReader(client, ivan01.token, LifecycleLog())
    reader.ack("m1")
    reader.ack("m2")
    assert reader.unacked == ["m1"]  # a 404 cannot succeed later; a 503 can
    assert client.calls[0].reply.verdict == "HTTP 503 SRV-001"


def test_unreadable_feed_page_is_a_failure(ivan01: Ivan) -> None:
    client = ScriptedClient(fallback=lambda *_: Reply(200, {}, b"<not xml"))
    reader = FeedReader(client, ivan01.token, LifecycleLog())
    assert reader.poll_once() == 0
    assert client.calls[0].reply.verdict.startswith("unreadable feed page")
    assert reader.cursor == 0


def test_parse_feed_keeps_the_cursor_when_the_page_is_empty() -> None:
    body = b"<BHXH><DS_THONGBAO/><CON_TRO_TIEP>17</CON_TRO_TIEP></BHXH>"
    assert parse_feed(body, 3) == ([], 17)
    assert parse_feed(b"<BHXH><DS_THONGBAO/></BHXH>", 3) == ([], 3)


def test_lifecycle_log_drains_to_the_master_and_merges() -> None:
    worker = LifecycleLog(clock_speed=10.0)
    worker.receipt("A", started=0.0, now=0.5)
    worker.receipt("B", started=0.0, now=1.0)
    worker.message("03/TB-TS", "A", now=60.0)
    worker.message("03/TB-TS", "someone else's", now=60.0)
    master = LifecycleLog(clock_speed=10.0)
    master.merge(worker.drain(), "w1")
    assert worker.samples["submit_to_receipt"] == [] and not worker.counts
    worker.receipt("C", started=0.0, now=0.2)
    master.merge(worker.drain(), "w1")
    summary = master.summary()
    assert summary["samples"]["submit_to_receipt"] == [5.0, 10.0, 2.0]
    assert summary["samples"]["submit_to_result"] == [600.0]
    assert summary["counts"]["accepted"] == 3
    assert summary["counts"]["messages not timed"] == 1
    assert summary["pending"] == 2  # B and C: the latest snapshot, not a sum of snapshots


@pytest.mark.parametrize("gaps", ["jittered", "poisson"])
def test_open_model_keeps_its_rate_and_counts_late_arrivals(gaps: str) -> None:
    clock = Clock()
    log = LifecycleLog()
    pacer = Pacer("open", 5.0, random.Random(3), log, clock=clock, gaps=gaps)
    total = 0.0
    for _ in range(4000):
        pacer.started()
        wait = pacer.wait()
        clock.now += wait
        total += wait
    assert 4.7 < total / 4000 < 5.3  # arrivals every 5 s on average, whatever the latency
    assert log.counts["late arrivals"] == 0
    pacer.started()
    clock.now += 60.0  # the generator stalled a minute: the next arrival is due, and late
    assert pacer.wait() == 0.0
    pacer.started()
    assert log.counts["late arrivals"] == 1


def test_closed_and_max_models() -> None:
    rng = random.Random(1)
    closed = Pacer("closed", 2.0, rng, LifecycleLog())
    assert all(1.0 <= closed.wait() <= 3.0 for _ in range(100))
    assert 0.0 <= closed.first_delay() <= 2.0
    assert Pacer("max", 0.0, rng, LifecycleLog()).wait() == 0.0
    with pytest.raises(ValueError, match="gaps"):
        Pacer("open", 1.0, rng, LifecycleLog(), gaps="bursty")


def test_picker_follows_the_weights(pool: DossierPool) -> None:
    picker = pool.picker({"600": 3, "604": 1, "999": 5})
    rng = random.Random(5)
    picks = [picker.pick(rng)[0] for _ in range(4000)]
    assert set(picks) == {"600", "604"}  # 999 is not in the pool
    assert 0.70 < picks.count("600") / len(picks) < 0.80


class Ticker:
    """A timer that moves ``step`` seconds each time it is read (one request = two reads)."""

    def __init__(self, step: float) -> None:
        self.now, self.step = 0.0, step

    def __call__(self) -> float:
        self.now += self.step
        return self.now


def test_every_request_is_timed_exactly_by_the_users(
    gateway: InProcessGateway, pool: DossierPool
) -> None:
    """Locust rounds response times above 1 s to 100 ms; the users keep their own."""
    log = LifecycleLog()
    sub, _ = submitter(CoreClient(gateway), pool, log, timer=Ticker(1.0076))
    assert sub.submit() == "accepted"
    assert log.latency_ms == {SUBMIT: [1007.6]}
    reader = FeedReader(CoreClient(gateway), "test-token-IVAN01", log, timer=Ticker(0.0021))
    reader.poll_once()
    assert log.latency_ms[FEED] == [2.1]
    report = log.drain()
    assert report["latency_ms"][SUBMIT] == [1007.6] and log.latency_ms == {}


def test_dossiers_still_waiting_are_reported_with_their_age() -> None:
    clock = Clock()
    log = LifecycleLog(clock_speed=900.0, clock=clock)
    log.receipt("A", started=clock.now, now=clock.now)
    log.receipt("B", started=clock.now, now=clock.now)
    log.message("02/TB-TS", "B", clock.now + 1)
    clock.now += 10  # ten real seconds: 9,000 simulated
    assert log.pending_ages() == {
        "submit_to_handover": [9000.0],
        "submit_to_result": [9000.0, 9000.0],
    }
    master = LifecycleLog(clock_speed=900.0)
    master.merge(log.drain(), "worker-1")
    ages = master.summary()["pending_ages"]
    assert ages["submit_to_handover"][0] >= 9000.0 and len(ages["submit_to_result"]) == 2
