"""The feed messages a run's readers leave at the stop (issued and not read, read and not
acknowledged) are counted per I-VAN and reported as expected at a stop, not as lost."""

from __future__ import annotations

import json
import random
from pathlib import Path
from typing import Any

from harness.load import DossierPool, FeedReader, Ivan, LifecycleLog, Submitter, run_load
from harness.load.ivan import ACK
from harness.signing import TestPKI
from mock_gateway.testing import InProcessGateway
from tests.load.conftest import CoreClient, Reply

FEED_AT_STOP = "feed (counting what is left at the stop)"  # ivan.FEED_AT_STOP
FEED_AT_STOP_FACT = "feed left at the stop"  # result.FEED_AT_STOP


def feed_at_stop_account(left: dict[str, Any]) -> str:
    from harness.load.result import feed_at_stop_account as account

    return account(left)


def _unacked_at_the_gateway(gateway: InProcessGateway, ivan: str) -> int:
    return sum(m.acked_at is None for m in gateway.gateway.store.feed(ivan, 0, 1000))


def _every_ack_of(failing: set[str], answer):  # type: ignore[no-untyped-def]
    """The gateway's answers, but a 503 to the acks of the message ids in ``failing``."""

    def wrapped(method: str, url: str, body: bytes, headers: dict[str, str]) -> Reply:
        if url.endswith("/ack") and url.split("/")[4] in failing:
            return Reply(503, {"Retry-After": "1"}, b"")
        reply: Reply = answer(method, url, body, headers)
        return reply

    return wrapped


def test_what_the_reader_leaves_at_the_stop_is_what_the_gateway_still_holds(
    gateway: InProcessGateway, pool: DossierPool, ivan01: Ivan
) -> None:
    client = CoreClient(gateway)
    log = LifecycleLog(clock_speed=900.0)
    sub = Submitter(client, ivan01.token, pool.picker({"600": 1}), log, random.Random(3))
    for _ in range(3):
        assert sub.submit() == "accepted"
    gateway.advance(2 * 3600)  # six messages issued: a hand-over and a result per dossier
    reader = FeedReader(client, ivan01.token, log, page=4)
    first = gateway.gateway.store.feed(ivan01.code, 0, 1)[0].id
    client.fallback = _every_ack_of({first}, client.fallback)
    assert reader.poll_once() == 4  # then the run stops: two never read, one never acked

    quiet = CoreClient(gateway)
    assert reader.left_at_stop(quiet) == (2, True)
    assert reader.outstanding == {first}
    assert all(c.name == FEED_AT_STOP and c.method == "GET" for c in quiet.calls)
    assert _unacked_at_the_gateway(gateway, ivan01.code) == 2 + 1  # nothing acked by counting
    log.left_at_stop(ivan01.code, 2, True, len(reader.outstanding))

    left = log.summary()["feed_at_stop"]
    assert left == {
        "IVAN01": {"unread": 2, "unread_counted": True, "unacknowledged": 1, "processes": 1}
    }
    said = feed_at_stop_account(left)
    assert said.startswith("3 in all (IVAN01: 2 issued and not read, 1 read and not acknowledged)")
    assert "expected at a stop, not lost" in said


def test_an_acknowledged_message_is_no_longer_outstanding(
    gateway: InProcessGateway, pool: DossierPool, ivan01: Ivan
) -> None:
    client = CoreClient(gateway)
    log = LifecycleLog()
    sub = Submitter(client, ivan01.token, pool.picker({"600": 1}), log, random.Random(3))
    assert sub.submit() == "accepted"
    gateway.advance(2 * 3600)
    reader = FeedReader(client, ivan01.token, log)
    assert reader.poll_once() == 2
    assert len([c for c in client.calls if c.name == ACK]) == 2
    assert reader.outstanding == set() and reader.left_at_stop() == (0, True)


def test_a_count_cut_short_is_said_as_a_floor(
    gateway: InProcessGateway, pool: DossierPool, ivan01: Ivan
) -> None:
    client = CoreClient(gateway)
    sub = Submitter(client, ivan01.token, pool.picker({"600": 1}), LifecycleLog(), random.Random(3))
    for _ in range(2):
        assert sub.submit() == "accepted"
    gateway.advance(2 * 3600)
    reader = FeedReader(client, ivan01.token, LifecycleLog(), page=1)
    assert reader.left_at_stop(pages=2) == (2, False)
    said = feed_at_stop_account({"IVAN01": {"unread": 2, "unread_counted": False}})
    assert said.startswith("at least 2 in all (IVAN01: at least 2 issued and not read")
    dead = feed_at_stop_account({"IVAN01": {"unread": 0, "unread_counted": False}})
    assert "not counted (the gateway did not answer at the stop)" in dead


def test_processes_sharing_an_ivan_are_not_added_up() -> None:
    """Two processes acting as IVAN01 read the same feed: what both left is the least."""
    from harness.load.tally import feed_at_stop

    worker = LifecycleLog()
    worker.left_at_stop("IVAN01", 5, True, 2)
    master = LifecycleLog()
    master.left_at_stop("IVAN01", 3, True, 4)
    master.merge(worker.drain(), "worker-1")
    other = LifecycleLog()
    other.left_at_stop("IVAN02", 1, False, 0)
    master.merge(other.drain(), "worker-2")
    left = master.summary()["feed_at_stop"]
    assert feed_at_stop([master.at_stop, worker.at_stop])["IVAN01"] == left["IVAN01"]
    assert left["IVAN01"] == {
        "unread": 3,
        "unread_counted": True,
        "unacknowledged": 2,
        "processes": 2,
    }
    assert left["IVAN02"]["unread_counted"] is False
    assert "IVAN01 (2 processes): 3 issued and not read" in feed_at_stop_account(left)


def test_a_finished_run_reports_the_feed_it_left_at_the_stop(tmp_path: Path, pki: TestPKI) -> None:
    result = run_load("local", "flat", duration=4, out=tmp_path)
    data = json.loads((result.directory / "results.json").read_text(encoding="utf-8"))
    left = data["feed_at_stop"]
    assert set(left) == {"IVAN01"} and left["IVAN01"]["unread_counted"] is True
    lifecycle = json.loads((result.directory / "lifecycle.json").read_text(encoding="utf-8"))
    assert lifecycle["feed_at_stop"] == left
    line = f"{FEED_AT_STOP_FACT}: {data['run']['meta'][FEED_AT_STOP_FACT]}"
    assert line in result.summary().splitlines()
    assert "expected at a stop, not lost" in line
    assert FEED_AT_STOP not in (result.directory / "locust_stats.csv").read_text(encoding="utf-8")
