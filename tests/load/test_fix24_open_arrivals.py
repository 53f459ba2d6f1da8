"""The open model is truly open: each arrival is sent at its time on its own greenlet.

A user used to send one dossier at a time, so against a slow gateway an arrival due while
it waited was sent late and the ones due meanwhile were dropped ("not sent (user busy)"):
the offered load fell just when a deadline test matters. Now a slow answer delays and
drops nothing; only a user's in-flight cap (``models.open.max_in_flight``) leaves an
arrival unsent, and it is counted. The real run is locust against a local gateway on
127.0.0.1 whose every answer is 1.5 s late, three times an arrival's mean gap.
"""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys
from collections import Counter
from pathlib import Path
from typing import Any

import gevent
import gevent.event
import pytest

from harness.errors import ConfigError
from harness.load import DossierPool, LifecycleLog, Pacer, Submitter
from harness.load.arrivals import OpenArrivals
from harness.load.ivan import ACCEPTED, IN_FLIGHT
from harness.load.pacing import LATE, LATE_TOLERANCE, NOT_SENT
from harness.load.profile import load_profile
from harness.load.result import dossier_account
from harness.paths import cache_dir
from harness.signing import TestPKI
from tests.catalog_copies import edited_home
from tests.load.conftest import Reply, ScriptedClient


class Clock:
    """A hand-moved clock."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_an_overdue_arrival_is_sent_at_once_and_none_is_dropped() -> None:
    """The generator stalls 60 s (gaps of 4 s): the 15 arrivals due meanwhile are all sent
    at once, counted late; none is 'not sent' as a busy user's used to be."""
    clock, log = Clock(), LifecycleLog()
    pacer = Pacer("open", 4.0, random.Random(3), log, clock=clock)
    clock.now += pacer.first_delay()
    pacer.started()
    clock.now += 60.0
    due_now = 0
    while pacer.wait() == 0.0:
        pacer.started()
        due_now += 1
    assert 12 <= due_now <= 18  # 60 s / 4 s, jittered
    assert log.counts[LATE] == due_now and log.counts[NOT_SENT] == 0


def test_only_arrivals_past_the_tolerance_are_late() -> None:
    clock, log = Clock(), LifecycleLog()
    pacer = Pacer("open", 5.0, random.Random(1), log, clock=clock)
    clock.now += pacer.first_delay() + LATE_TOLERANCE / 2  # scheduling jitter: on time
    pacer.started()
    clock.now += pacer.wait() + LATE_TOLERANCE * 2  # the generator fell behind
    pacer.started()
    assert log.counts[LATE] == 1


def _slow(seconds: float, record: list[int], busy: list[int]) -> Any:
    """A dossier that takes ``seconds``, recording how many were in flight with it."""

    def send() -> None:
        busy.append(1)
        record.append(len(busy))
        gevent.sleep(seconds)
        busy.pop()

    return send


def test_a_slow_answer_delays_no_other_arrival() -> None:
    """Arrivals every 0.05 s, answers after 0.3 s: about 20 sent in 1 s, up to ~6 at once
    (one at a time, only 1 s / 0.3 s = 3 or 4 went out before)."""
    log = LifecycleLog()
    pacer = Pacer("open", 0.05, random.Random(5), log)
    arrivals = OpenArrivals(pacer, 64, log)
    in_flight: list[int] = []
    busy: list[int] = []
    gevent.sleep(pacer.first_delay())
    ends = gevent.get_hub().loop.now() + 1.0
    sent = 0
    while gevent.get_hub().loop.now() < ends:
        sent += arrivals.dispatch(_slow(0.3, in_flight, busy))
        gevent.sleep(pacer.wait())
    arrivals.stop(grace=2.0)
    assert 15 <= sent <= 25 and len(in_flight) == sent
    assert max(in_flight) >= 4
    assert log.counts[NOT_SENT] == 0 and not busy and arrivals.in_flight == 0


def test_arrivals_beyond_the_in_flight_cap_are_counted_not_sent() -> None:
    log = LifecycleLog()
    answer = gevent.event.Event()
    arrivals = OpenArrivals(Pacer("open", 1.0, random.Random(1), log), 2, log)
    results = [arrivals.dispatch(answer.wait) for _ in range(5)]
    gevent.sleep(0)
    assert results == [True, True, False, False, False]
    assert log.counts[NOT_SENT] == 3 and arrivals.in_flight == 2
    answer.set()
    arrivals.stop(grace=1.0)
    assert arrivals.in_flight == 0
    assert arrivals.dispatch(lambda: None)  # room again
    arrivals.stop(grace=1.0)


def test_nothing_starts_or_counts_once_the_run_is_stopping() -> None:
    log = LifecycleLog()
    arrivals = OpenArrivals(Pacer("open", 1.0, random.Random(1), log), 0, log, lambda: True)
    assert not arrivals.dispatch(lambda: None)
    assert not log.counts


def test_a_failing_dossier_is_reported_not_lost() -> None:
    errors: list[Exception] = []
    log = LifecycleLog()
    arrivals = OpenArrivals(
        Pacer("max", 0.0, random.Random(1), log), 4, log, on_error=errors.append
    )

    def broken() -> None:
        raise RuntimeError("bug")

    arrivals.dispatch(broken)
    arrivals.stop(grace=1.0)
    assert [str(e) for e in errors] == ["bug"] and arrivals.in_flight == 0


class SlowClient(ScriptedClient):
    """Every submit is answered 202 after ``delay`` seconds of gevent time."""

    def __init__(self, delay: float) -> None:
        super().__init__(fallback=self._answer)
        self.delay = delay

    def _answer(self, method: str, url: str, body: bytes, headers: dict[str, str]) -> Reply:
        gevent.sleep(self.delay)
        return Reply(202, {"X-Ma-Gdich": headers["X-Message-Id"]}, b"")


def test_dossiers_cut_off_together_are_counted_for_their_own_procedures(
    pool: DossierPool,
) -> None:
    """Six dossiers of one user in flight at the stop: each counted in flight for its own
    procedure (the user's one submitter used to count all for the procedure picked last)."""
    log = LifecycleLog()
    picker = pool.picker({"600": 1, "604": 1})
    rng = random.Random(0)
    expected = Counter(picker.pick(rng)[0] for _ in range(6))  # the picks the submits make
    assert set(expected) == {"600", "604"}
    submitter = Submitter(SlowClient(5.0), "token", picker, log, random.Random(0))
    arrivals = OpenArrivals(Pacer("open", 1.0, random.Random(1), log), 8, log)
    for _ in range(6):
        arrivals.dispatch(submitter.submit)
    gevent.sleep(0.05)
    arrivals.stop(grace=0.0)
    assert log.counts[IN_FLIGHT] == 6
    assert {code: t.counts[IN_FLIGHT] for code, t in log.procedures.items()} == expected


def test_the_in_flight_cap_is_a_profile_setting(tmp_path: Path) -> None:
    assert load_profile().max_in_flight == 64
    for bad in ("0", "2.5", "lots", "true"):
        home = edited_home(
            tmp_path / bad, Path("load/shapes.yaml"), "max_in_flight: 64", f"max_in_flight: {bad}"
        )
        with pytest.raises(ConfigError, match=r"shapes\.yaml:\d+: models\.open\.max_in_flight"):
            load_profile(home / "fixtures" / "load")
    home = edited_home(tmp_path / "unset", Path("load/shapes.yaml"), "max_in_flight: 64", "")
    assert load_profile(home / "fixtures" / "load").max_in_flight == 64


def test_the_dossiers_line_says_why_an_arrival_was_not_sent() -> None:
    counts = {ACCEPTED: 90, NOT_SENT: 6, LATE: 3}
    text = dossier_account(counts, 96.0, 96.0, "open", 8)
    assert "6 not sent (in-flight cap: " in text and "had 8 dossiers waiting" in text
    assert "users busy" not in text and "one dossier at a time" not in text
    assert f"3 of those sent started late (more than {LATE_TOLERANCE:g} s after" in text


SLOW = 1.5
"""Seconds every answer of the local gateway is late: three mean gaps of a user."""


def test_a_slow_gateway_receives_every_arrival(pki: TestPKI, tmp_path: Path) -> None:
    """Flat shape at 5 arrivals/s for 4 s, users sending every 0.5 s on average, answers
    1.5 s late: all ~24 scheduled arrivals are sent (one at a time per user, about a third
    were, the rest counted not sent)."""
    home = edited_home(
        tmp_path, Path("load/shapes.yaml"), "mean_interval: 5.0", "mean_interval: 0.5"
    )
    env = {**os.environ, "BHXH_HARNESS_HOME": str(home), "BHXH_HARNESS_CACHE": str(cache_dir())}
    args = ["--shape", "flat", "--scale", "3", "--duration", "4", "--fault-latency", str(SLOW)]
    done = subprocess.run(
        [sys.executable, "-m", "harness", "load", *args, "--out", str(tmp_path / "reports")],
        capture_output=True,
        text=True,
        env=env,
        timeout=180,
    )
    assert done.returncode in (0, 1), done.stdout + done.stderr
    (lifecycle,) = (tmp_path / "reports").glob("*/lifecycle.json")
    counts = json.loads(lifecycle.read_text(encoding="utf-8"))["counts"]
    sent = sum(counts.get(k, 0) for k in (ACCEPTED, "rejected", "abandoned", IN_FLIGHT))
    (results,) = (tmp_path / "reports").glob("*/results.json")
    dossiers = json.loads(results.read_text(encoding="utf-8"))["run"]["meta"]["dossiers"]
    scheduled = float(dossiers.split(" scheduled", 1)[0].replace(",", ""))
    assert counts.get(NOT_SENT, 0) == 0 and "not sent (user busy)" not in counts, dossiers
    assert sent >= 0.85 * scheduled, dossiers
