"""Latency samples are the gateway's answers: a refused connection or a fast 503 is a
failed request, counted apart (``failed_requests``), never a response time."""

from __future__ import annotations

import random
from collections.abc import Iterator

import pytest

from harness.client import RetryPolicy
from harness.load import DossierPool, FeedReader, Ivan, LifecycleLog, Submitter
from harness.load.ivan import ACK, FEED, SUBMIT, SUBMIT_RETRY
from mock_gateway.testing import InProcessGateway
from tests.load.conftest import CoreClient, ScriptedClient


def ticking() -> Iterator[float]:
    """A timer where every request takes one millisecond."""
    now = 0.0
    while True:
        yield now
        now += 0.001


def submitter(client: ScriptedClient, pool: DossierPool, log: LifecycleLog) -> Submitter:
    timer = ticking()
    return Submitter(
        client,
        "test-token-IVAN01",
        pool.picker({"600": 1}),
        log,
        random.Random(1),
        retry=RetryPolicy(attempts=3, base_delay=0.0, max_delay=0.0, timeout=1.0),
        sleep=lambda _s: None,
        timer=lambda: next(timer),
        stopping=lambda: False,
    )


def test_connection_refused_and_503_are_failures_not_response_times(
    gateway: InProcessGateway, pool: DossierPool
) -> None:
    client = CoreClient(gateway)
    client.script = [(0, {}), (503, {"Retry-After": "1"})]
    log = LifecycleLog()
    assert submitter(client, pool, log).submit() == "accepted"
    assert log.latency_ms.get(SUBMIT, []) == []
    assert len(log.latency_ms[SUBMIT_RETRY]) == 1  # the one answered attempt, the 202
    assert log.failed == {SUBMIT: 1, SUBMIT_RETRY: 1}
    share = log.procedures["600"]
    assert share.failed == {SUBMIT: 1, SUBMIT_RETRY: 1} and SUBMIT not in share.latency_ms


def test_a_rejection_is_an_answer_and_a_response_time(
    gateway: InProcessGateway, pool: DossierPool
) -> None:
    client = CoreClient(gateway)
    client.script = [(400, {"X-BHXH-Ma-Loi": "ENV-001"})]
    log = LifecycleLog()
    assert submitter(client, pool, log).submit() == "rejected"
    assert len(log.latency_ms[SUBMIT]) == 1 and not log.failed


def test_failed_requests_travel_from_worker_to_master_and_summary(
    gateway: InProcessGateway, pool: DossierPool
) -> None:
    worker = LifecycleLog()
    client = CoreClient(gateway)
    client.script = [(0, {}), (0, {}), (0, {})]
    assert submitter(client, pool, worker).submit() == "abandoned"
    master = LifecycleLog()
    master.merge(worker.drain(), "w1")
    assert not worker.failed  # drained
    summary = master.summary()
    assert summary["failed_requests"] == {SUBMIT: 1, SUBMIT_RETRY: 2}
    assert summary["latency_ms"] == {}
    assert summary["procedures"]["600"]["failed_requests"] == {SUBMIT: 1, SUBMIT_RETRY: 2}


@pytest.mark.parametrize("status", [0, 503, 500])
def test_feed_and_ack_failures_are_not_latency_samples(ivan01: Ivan, status: int) -> None:
    log = LifecycleLog()
    reader = FeedReader(ScriptedClient(script=[(status, {})]), ivan01.token, log)
    assert reader.poll_once() == 0
    reader.client = ScriptedClient(script=[(status, {})])
    reader.ack("42")
    assert log.latency_ms == {} and log.failed == {FEED: 1, ACK: 1}
    assert reader.unacked == ["42"]  # still acknowledged later
