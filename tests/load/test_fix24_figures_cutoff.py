"""Requests the stop cut off count in the latency levels; dossiers waiting out a
Retry-After at the stop are not "in flight"."""

from __future__ import annotations

import random

import pytest
from gevent import GreenletExit  # type: ignore[import-untyped]

from harness.load import DossierPool, LifecycleLog, Submitter
from harness.load.ivan import CUT_OFF, IN_FLIGHT, SUBMIT, WAITING_RETRY
from harness.load.levels import MISSED, NOT_JUDGED, Level, Measurements, evaluate
from harness.load.result import dossier_account
from tests.load.conftest import ScriptedClient

LEVELS = [
    Level("latency.submit.p95", "latency", 800, "submit", "p95"),
    Level("latency.submit.p99.9", "latency", 3000, "submit", "p99.9"),
    Level("latency.ack.p95", "latency", 20000, "ack", "p95"),
]


def test_submits_unanswered_after_the_grace_miss_the_levels_they_exceed() -> None:
    """No submit answered, 29 cut off after the 10 s grace (the slowest limit, at most 10 s)."""
    m = Measurements(steps={}, counts={IN_FLIGHT: 29, CUT_OFF + SUBMIT: 29})
    p95, p999, ack = evaluate(LEVELS, m)
    assert p95.outcome == MISSED and p999.outcome == MISSED
    assert "29 unanswered after the 10 s stop grace" in p95.basis
    assert ack.outcome == NOT_JUDGED  # no ack was cut off


def test_a_level_past_the_grace_is_not_judged_on_them_but_says_dossiers_were_sent() -> None:
    levels = [Level("latency.submit.p95", "latency", 12000, "submit", "p95")]
    (result,) = evaluate(
        levels, Measurements(steps={}, counts={IN_FLIGHT: 29, CUT_OFF + SUBMIT: 29})
    )
    assert result.outcome == NOT_JUDGED
    assert "no dossier was sent" not in result.detail + result.hint
    assert "29 dossiers sent" in result.detail


def test_answered_and_cut_off_together() -> None:
    m = Measurements(steps={}, latency={SUBMIT: [10.0] * 90}, counts={CUT_OFF + SUBMIT: 10})
    (p95, *_) = evaluate(LEVELS, m)
    assert p95.outcome == MISSED and p95.measured == 10000.0


class Stop(GreenletExit):  # type: ignore[misc]
    """What locust throws into a user's greenlet when it stops it."""


def _stopped_while_sleeping(
    pool: DossierPool, script: list[tuple[int, dict[str, str]]]
) -> LifecycleLog:
    log = LifecycleLog()

    def sleep(_: float) -> None:
        raise Stop

    client = ScriptedClient(script=script)
    sub = Submitter(client, "tok", pool.picker({"600": 1}), log, random.Random(1), sleep=sleep)
    with pytest.raises(Stop):
        sub.submit()
    return log


def test_a_dossier_waiting_out_retry_after_at_the_stop_is_not_in_flight(pool: DossierPool) -> None:
    log = _stopped_while_sleeping(pool, [(503, {"Retry-After": "60"})])
    assert log.counts[WAITING_RETRY] == 1 and log.counts[IN_FLIGHT] == 0
    text = dossier_account(log.counts, 1, 1)
    assert "0 in flight at stop" in text and f"1 {WAITING_RETRY}" in text


def test_one_whose_attempt_got_no_answer_may_be_stored(pool: DossierPool) -> None:
    log = _stopped_while_sleeping(pool, [(0, {})])
    assert log.counts[IN_FLIGHT] == 1 and log.counts[WAITING_RETRY] == 0


def test_a_submit_cut_off_in_the_middle_is_counted_unanswered(pool: DossierPool) -> None:
    log = LifecycleLog()

    class Hung(ScriptedClient):
        def request(self, *a: object, **kw: object):  # type: ignore[no-untyped-def]
            raise Stop

    sub = Submitter(Hung(), "tok", pool.picker({"600": 1}), log, random.Random(1))
    with pytest.raises(Stop):
        sub.submit()
    assert log.counts[IN_FLIGHT] == 1 and log.counts[CUT_OFF + SUBMIT] == 1


def test_a_level_at_the_grace_is_not_met_by_requests_slower_than_the_grace() -> None:
    level = Level("latency.submit.p99.9", "latency", 3000, "submit", "p99.9")  # grace: 3 s
    (result,) = evaluate(
        [level], Measurements(steps={}, counts={IN_FLIGHT: 5, CUT_OFF + SUBMIT: 5})
    )
    assert result.outcome == NOT_JUDGED and "5 requests unanswered at stop" in result.detail
