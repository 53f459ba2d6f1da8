"""Where every dossier and message of a load run goes (QA probe against the gateway's log).

In-flight dossiers at the stop, arrivals the open model's busy users could not send,
duplicate feed deliveries, other runs' messages, a run that schedules no dossier, and the
report's small print: each is counted and said, so the report reconciles with the gateway.
"""

from __future__ import annotations

import random
from pathlib import Path
from types import SimpleNamespace
from typing import Any, cast

import pytest
from click.testing import CliRunner

from harness.errors import ConfigError
from harness.load import DossierPool, FeedReader, Ivan, LifecycleLog, Submitter
from harness.load.cli import load
from harness.load.finish import _ivans_used
from harness.load.ivan import (
    ACK,
    ACK_OTHER,
    DUPLICATES,
    IN_FLIGHT,
    NOT_TIMED,
    STOPPED,
    failure_text,
)
from harness.load.levels import Level, Measurements, evaluate, load_levels
from harness.load.pacing import LATE, NOT_SENT
from harness.load.profile import Plan, load_profile
from harness.load.request import LoadRequest, check_scheduled
from harness.load.result import LoadResult, cases, dossier_account, feed_account
from harness.message_kinds import HANDOVER, RESULT
from mock_gateway.testing import InProcessGateway
from tests.load.conftest import CoreClient, Reply, ScriptedClient


class Killed(BaseException):
    """What locust throws into a user it stops (``GreenletExit`` is a BaseException)."""


def _submitter(client: Any, pool: DossierPool, log: LifecycleLog) -> Submitter:
    picker = pool.picker({"600": 1, "604": 1})
    return Submitter(
        client, "test-token-IVAN01", picker, log, random.Random(7), sleep=lambda _s: None
    )


def test_a_dossier_its_user_is_stopped_in_the_middle_of_is_counted_in_flight(
    pool: DossierPool,
) -> None:
    class Hanging(ScriptedClient):
        def request(self, *args: Any, **kw: Any) -> Any:
            raise Killed  # the stop arrives while the POST waits for its answer

    log = LifecycleLog()
    with pytest.raises(Killed):
        _submitter(Hanging(), pool, log).submit()
    assert log.counts[IN_FLIGHT] == 1 and log.counts["accepted"] == 0


def test_no_dossier_is_started_once_locust_is_stopping(
    gateway: InProcessGateway, pool: DossierPool
) -> None:
    client = CoreClient(gateway)
    runner = SimpleNamespace(state="running")
    cast(Any, client).user = SimpleNamespace(environment=SimpleNamespace(runner=runner))
    sub = _submitter(client, pool, LifecycleLog())
    assert sub.submit() == "accepted"
    runner.state = "cleanup"  # locust.runners.STATE_CLEANUP: Runner.stop() has begun
    assert sub.submit() == STOPPED
    assert len(client.calls) == 1


def test_a_dossier_is_timed_once_per_stage_however_often_it_is_delivered() -> None:
    log = LifecycleLog(clock_speed=1.0)
    log.receipt("A", started=0.0, now=1.0)
    log.message(HANDOVER, "A", 100.0)
    log.message(HANDOVER, "A", 100.0)  # listed twice in one page
    log.message(HANDOVER, "A", 500.0)  # redelivered later
    log.message(RESULT, "A", 900.0)
    log.message(RESULT, "A", 900.0)
    assert log.samples["submit_to_handover"] == [100.0]
    assert log.samples["submit_to_result"] == [900.0]
    assert log.counts[DUPLICATES] == 3 and log.counts[NOT_TIMED] == 0
    assert "3 duplicates" in feed_account(log.counts)


def test_acks_of_other_runs_messages_stay_out_of_the_ack_step(
    gateway: InProcessGateway, pool: DossierPool, ivan01: Ivan
) -> None:
    client = CoreClient(gateway)
    assert _submitter(client, pool, LifecycleLog()).submit() == "accepted"  # an earlier run
    gateway.advance(2 * 3600)
    log = LifecycleLog()
    reader = FeedReader(client, ivan01.token, log)
    assert reader.poll_once() == 2
    names = [c.name for c in client.calls if c.url.endswith("/ack")]
    assert names == [ACK_OTHER, ACK_OTHER]
    assert ACK not in log.latency_ms and len(log.latency_ms[ACK_OTHER]) == 2
    assert log.counts[NOT_TIMED] == 2
    assert "2 messages not timed" in feed_account(log.counts)


def test_every_scheduled_dossier_is_accounted_for() -> None:
    counts = {"accepted": 68, IN_FLIGHT: 17, NOT_SENT: 45, LATE: 30, "retries": 2}
    text = dossier_account(counts, 136.2, 135.6, "open")
    assert text.startswith("136 scheduled (the shape asks for 136): 68 accepted, 0 rejected")
    assert "17 in flight at stop" in text and "45 not sent (in-flight cap" in text
    assert "6 not started by the end" in text  # 136 = 68 + 17 + 45 + 6
    assert "30 of those sent started late (more than 0.25 s after" in text
    more = dossier_account({"accepted": 12}, 10.0, 10.0, "open")
    assert "2 more started than scheduled" in more


def test_throughput_is_never_a_ratio_against_a_rounded_zero() -> None:
    (ratio,) = evaluate(
        [Level("throughput_ratio", "throughput_ratio", 0.9)],
        Measurements({}, counts={"accepted": 3, IN_FLIGHT: 2}, expected_dossiers=3.4),
    )
    assert ratio.basis == "3 accepted of 3.4 scheduled (+2 in flight at stop, not counted)"


def test_a_run_that_schedules_less_than_one_dossier_is_refused() -> None:
    profile = load_profile()
    plan = Plan(profile, profile.shape("flat"), 0.01, 2.0, "open")
    request = LoadRequest(shape="flat", scale=0.01, duration=2.0)
    with pytest.raises(ConfigError, match="fewer than one") as caught:
        check_scheduled(plan, request)
    assert "raise --duration to" in str(caught.value)


def test_the_cli_refuses_it_before_anything_starts(tmp_path: Path) -> None:
    args = ["--gateway", "http://127.0.0.1:9", "--shape", "flat", "--scale", "0.0001"]
    outcome = CliRunner().invoke(
        load, [*args, "--duration", "1", "--model", "closed", "--out", str(tmp_path)]
    )
    assert outcome.exit_code == 2, outcome.output
    assert "fewer than one, so no service level could be judged" in outcome.output
    assert not any(tmp_path.iterdir())


def test_the_report_names_the_ivans_the_processes_used() -> None:
    tokens = {"IVAN02": "b", "IVAN01": "a"}
    assert _ivans_used(tokens, 1) == ["IVAN01"]
    assert _ivans_used(tokens, 3) == ["IVAN01", "IVAN02"]


def test_an_unknown_service_level_key_is_named_at_its_line(tmp_path: Path) -> None:
    path = tmp_path / "extra.yaml"
    path.write_text("latency_ms:\n  submit: {p95: 800}\nextra: 1\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"extra\.yaml:3: unknown service-level keys extra"):
        load_levels(path)


def test_a_refused_connection_says_so() -> None:
    refused = Reply(0, {}, b"")
    cast(Any, refused).error = ConnectionRefusedError(111, "Connection refused")
    assert "connection refused" in failure_text(refused)
    assert failure_text(Reply(503, {"X-BHXH-Ma-Loi": "SRV-001"}, b"")) == "HTTP 503 SRV-001"


def test_the_junit_time_is_the_runs_and_the_terminal_shows_the_accounting(
    tmp_path: Path,
) -> None:
    levels = [Level("throughput_ratio", "throughput_ratio", 0.9)]
    measured = Measurements({}, counts={"accepted": 9}, expected_dossiers=10.0)
    results = evaluate(levels, measured)
    assert sum(c.duration_s for c in cases(results, "", "", 30.0)) == pytest.approx(30.0)
    facts = {"dossiers": "10 scheduled: ...", "feed messages": "4 read: ..."}
    result = LoadResult("run", tmp_path, results, measured, cast(Any, None), facts=facts)
    lines = result.summary().splitlines()
    assert "dossiers: 10 scheduled: ..." in lines and "feed messages: 4 read: ..." in lines
