"""Dossiers in flight when the run's duration ends get a bounded grace to be answered.

They used to be cut off at once (locust's ``--stop-timeout 0``): their receipts were lost
from the latency and throughput figures and they only showed as "in flight at stop". Now
the shape drains at the end (no dossier starts after it) and locust's stop timeout lets
each answer come back, up to the slowest latency level (2-10 s); what is still
unanswered after that is counted cut off. A gateway made slow by ``--fault-latency``
(every answer 1.5 s late) shows it, in one process and with a master and a worker. That
stop, users cut mid-dossier, is also where locust logged an error now and then ("a user
that didn't have proper args"): no locust process may log one.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.load import LocustSettings, load_levels, run_load
from harness.load.ivan import ACCEPTED, ANSWERED_IN_GRACE, IN_FLIGHT
from harness.load.levels import Level, stop_grace
from harness.load.processes import master_args
from harness.signing import TestPKI
from tests.load.logs import locust_errors


@pytest.mark.parametrize("workers", [0, 1])
def test_dossiers_in_flight_at_the_end_are_answered_and_counted(
    pki: TestPKI, tmp_path: Path, workers: int
) -> None:
    result = run_load("local", duration=5, workers=workers, fault_latency=1.5, out=tmp_path)
    counts = result.measurements.counts
    assert counts.get(ANSWERED_IN_GRACE, 0) >= 1, result.summary()
    assert counts.get(IN_FLIGHT, 0) == 0, result.summary()
    assert counts[ACCEPTED] >= counts[ANSWERED_IN_GRACE]
    dossiers = result.facts["dossiers"]
    assert "0 in flight at stop" in dossiers
    assert "answered in the grace" in dossiers
    assert "stop grace" in result.facts
    assert locust_errors(result.directory) == []


def test_what_the_grace_does_not_cover_is_counted_cut_off(pki: TestPKI, tmp_path: Path) -> None:
    levels = tmp_path / "levels.yaml"
    levels.write_text("latency_ms:\n  submit: {p95: 2000}\n", encoding="utf-8")
    # answers take 4 s, the grace (the slowest latency level) is 2 s
    result = run_load(
        "local", duration=4, fault_latency=4.0, service_levels=levels, out=tmp_path / "r"
    )
    counts = result.measurements.counts
    assert counts.get(IN_FLIGHT, 0) >= 1, result.summary()
    assert f"{counts[IN_FLIGHT]:,} in flight at stop (cut off" in result.facts["dossiers"]


def test_the_grace_follows_the_slowest_latency_level_within_bounds() -> None:
    assert stop_grace(load_levels()) == 3.0  # the default file's submit p99.9: 3000 ms
    assert stop_grace([Level("x", "latency", 500.0, "submit", "p95")]) == 2.0
    assert stop_grace([Level("x", "latency", 60000.0, "submit", "p95")]) == 10.0
    assert stop_grace([Level("throughput_ratio", "throughput_ratio", 0.8)]) == 5.0


def test_locust_is_given_the_grace_as_its_stop_timeout(tmp_path: Path) -> None:
    args = master_args("http://127.0.0.1:9", tmp_path, LocustSettings(grace=3.0), 0, 0)
    assert args[args.index("--stop-timeout") + 1] == "3"
