"""The throughput ratio divides by the real arrivals where the run counts them."""

from __future__ import annotations

import random

from harness.load import LifecycleLog, Pacer
from harness.load.ivan import ABANDONED, ACCEPTED
from harness.load.levels import MISSED, Level, Measurements, evaluate
from harness.load.pacing import ARRIVED, NOT_SENT

LEVEL = Level("throughput_ratio", "throughput_ratio", 0.98)


def test_lost_dossiers_are_not_hidden_by_a_low_estimate() -> None:
    counts = {ARRIVED: 143, ACCEPTED: 138, ABANDONED: 5}
    (result,) = evaluate([LEVEL], Measurements(steps={}, counts=counts, expected_dossiers=136))
    assert result.measured is not None and round(result.measured, 3) == 0.965
    assert result.outcome == MISSED
    assert "138 accepted of 143 arrivals" in result.basis


def test_arrivals_not_sent_count_too() -> None:
    counts = {ARRIVED: 100, ACCEPTED: 100, NOT_SENT: 25}
    (result,) = evaluate([LEVEL], Measurements(steps={}, counts=counts, expected_dossiers=100))
    assert result.measured == 0.8


def test_closed_model_keeps_the_estimate() -> None:
    counts = {ACCEPTED: 90}
    (result,) = evaluate([LEVEL], Measurements(steps={}, counts=counts, expected_dossiers=100))
    assert result.measured == 0.9 and "90 accepted of 100 scheduled" in result.basis


def test_open_model_counts_its_arrivals_and_closed_does_not() -> None:
    for model, expected in (("open", 3), ("closed", 0)):
        log = LifecycleLog()
        pacer = Pacer(model, 1.0, random.Random(1), log, clock=lambda: 0.0)
        for _ in range(3):
            pacer.started()
        assert log.counts[ARRIVED] == expected
