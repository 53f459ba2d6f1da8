"""Service levels: read from YAML, each met or missed by name, nothing measured is missed."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from harness.errors import ConfigError
from harness.load import Level, Measurements, evaluate, load_levels
from harness.load.stats import StepStats, percentile


def step(name: str, p95: float, requests: int = 100, failures: int = 0) -> StepStats:
    percentiles = {"p50": p95 / 2, "p95": p95, "p99": p95 * 1.2, "p99.9": p95 * 1.5}
    return StepStats(name, requests, failures, 10.0, p95 / 2, p95 * 2, percentiles)


def healthy(**changes: object) -> Measurements:
    values: dict[str, object] = {
        "steps": {
            "submit": step("submit", 50),
            "feed": step("feed", 10),
            "ack": step("ack", 10),
            "Aggregated": step("Aggregated", 40, requests=300),
        },
        "lifecycle": {
            "submit_to_receipt": [30.0] * 50,
            "submit_to_handover": [1200.0] * 50,
            "submit_to_result": [5000.0] * 50,
        },
        "counts": {"accepted": 95},
        "expected_dossiers": 100.0,
    }
    return Measurements(**(values | changes))  # type: ignore[arg-type]


def names(results: list) -> list[str]:  # type: ignore[type-arg]
    return [r.level.name for r in results if not r.passed]


def test_default_file_has_every_kind_of_level() -> None:
    levels = {level.name: level for level in load_levels()}
    for name in (
        "latency.submit.p95",
        "latency.submit.p99.9",
        "latency.ack.p99",
        "error_rate",
        "lifecycle.submit_to_receipt.p99",
        "lifecycle.submit_to_result.p95",
        "throughput_ratio",
    ):
        assert name in levels
    assert levels["lifecycle.submit_to_receipt.p99"].threshold == 7200  # Decree 166: 2 h
    assert levels["throughput_ratio"].at_least


def test_a_healthy_run_meets_every_level() -> None:
    results = evaluate(load_levels(), healthy())
    assert names(results) == []
    assert all(r.measured is not None for r in results)


def test_a_slow_submit_misses_its_latency_levels_by_name() -> None:
    slow = healthy().steps | {"submit": step("submit", 1300)}
    times = [100.0] * 90 + [1300.0] * 8 + [1600.0] * 2  # p95 1300 ms, p99 1600 ms
    results = evaluate(load_levels(), healthy(steps=slow, latency={"submit": times}))
    assert names(results) == ["latency.submit.p95", "latency.submit.p99"]
    (missed, _) = [r for r in results if not r.passed]
    assert "measured 1300 ms (100 requests)" in missed.detail
    assert "submit p95 ≤ 800 ms" in missed.detail


def test_errors_and_shed_load_are_levels_too() -> None:
    failing = healthy().steps | {"Aggregated": step("Aggregated", 40, requests=300, failures=9)}
    results = evaluate(load_levels(), healthy(steps=failing, counts={"accepted": 60}))
    assert names(results) == ["error_rate", "throughput_ratio"]


def test_nothing_measured_is_not_judged_with_a_hint() -> None:
    results = evaluate(load_levels(), healthy(lifecycle={}))
    missed = {r.level.name: r for r in results if not r.judged}
    assert set(missed) == {
        "lifecycle.submit_to_receipt.p99",
        "lifecycle.submit_to_handover.p95",
        "lifecycle.submit_to_result.p95",
    }
    assert "--clock-speed" in missed["lifecycle.submit_to_result.p95"].hint
    no_acks = healthy().steps | {"ack": step("ack", 0, requests=0)}
    assert "latency.ack.p95" in names(evaluate(load_levels(), healthy(steps=no_acks)))


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("latency_ms:\n  submit: {p90: 5}\n", "submit.p90: unknown percentile"),
        ("latency_ms:\n  submit: {p95: -1}\n", "latency.submit.p95 must be a number above 0"),
        ("error_rat: 0.1\n", "unknown service-level keys error_rat"),
        ("{}\n", "no service level"),
    ],
)
def test_a_bad_level_file_says_what_to_fix(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "levels.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError, match=message):
        load_levels(path)


def test_nearest_rank_percentile() -> None:
    values = [float(v) for v in range(1, 101)]
    assert percentile(values, "p95") == 95.0
    assert percentile(values, "p99.9") == 100.0
    assert percentile([3.0], "p50") == 3.0
    assert percentile([], "p95") is None


def test_the_terminal_summary_lists_every_level_with_what_was_measured(tmp_path: Path) -> None:
    from typing import Any, cast

    from harness.load.runner import LoadResult

    slow = healthy(
        steps={**healthy().steps, "submit": step("submit", 1234.5)},
        latency={"submit": [1234.5] * 100, "feed": [10.0] * 7},
        lifecycle={},
    )
    results = evaluate(load_levels(), slow)
    summary = LoadResult("run", tmp_path, results, slow, cast(Any, None)).summary()
    lines = summary.splitlines()
    judged = [r for r in results if r.judged]
    met, rest = sum(r.passed for r in judged), len(results) - len(judged)
    assert lines[0] == (
        f"verdict: FAILED ({met} of {len(judged)} judged service levels met; "
        f"{rest} not judged, listed below)"
    )
    assert "  missed latency.submit.p95: 1234 ms from 100 requests (submit p95 ≤ 800 ms)" in lines
    assert "  met    latency.feed.p95: 10 ms from 7 requests (feed p95 ≤ 500 ms)" in lines
    missing = lines.index(next(x for x in lines if "submit_to_result" in x))
    assert "  not judged " in lines[missing] and lines[missing + 1].startswith("         ")
    assert "`serve --clock-speed` for a gateway URL" in summary  # --clock-speed alone is local
    assert lines[-1] == f"report: {tmp_path / 'verdict.html'}"
    assert "e+" not in summary and "e-" not in summary  # no exponent forms


def test_latency_is_judged_on_exact_times_not_locusts_buckets() -> None:
    """The QA probe: the fastest submit took 1007.6 ms, locust's p50 bucket said 1000."""
    levels = [Level("latency.submit.p50", "latency", 1000.0, "submit", "p50")]
    rounded = healthy().steps | {"submit": step("submit", 2000)}
    rounded["submit"].percentiles["p50"] = 1000.0  # locust's bucket for 1007.6 and 1010
    (exact,) = evaluate(levels, healthy(steps=rounded, latency={"submit": [1007.6, 1010.0]}))
    assert not exact.passed and exact.measured == 1007.6 and exact.basis == "2 requests"
    (bucket,) = evaluate(levels, healthy(steps=rounded))  # no exact times: worst case
    assert not bucket.passed and bucket.measured == 1050.0


def test_a_dossier_still_waiting_past_the_limit_counts_as_missed() -> None:
    levels = [
        Level("lifecycle.submit_to_result.p95", "lifecycle", 14400.0, "submit_to_result", "p95")
    ]
    done = {"submit_to_result": [5000.0] * 90}
    waiting = {"submit_to_result": [20000.0] * 10 + [100.0] * 50}  # 10 overdue, 50 in time
    (result,) = evaluate(levels, healthy(lifecycle=done, pending_ages=waiting))
    assert not result.passed and result.measured == 20000.0
    assert result.basis == "90 dossiers + 10 still waiting past 14400 s"
    (in_time,) = evaluate(levels, healthy(lifecycle=done, pending_ages={"submit_to_result": [1.0]}))
    assert in_time.passed and in_time.basis == "90 dossiers"


def test_throughput_is_measured_against_what_whole_users_scheduled() -> None:
    """At --scale 0.05 one user (a dossier every 5 s) is already 2.4x the shape's rate."""
    from harness.load import Plan, load_profile

    profile = load_profile()
    tiny = Plan(profile, profile.shape("flat"), 0.05, 20.0, "open")
    assert tiny.expected_dossiers < 2 and math.isclose(tiny.scheduled_dossiers, 4.0)
    ratio = Measurements({}, counts={"accepted": 4}, expected_dossiers=tiny.scheduled_dossiers)
    assert ratio.throughput_ratio == 1.0  # not 2.4: the surplus no longer hides lost dossiers
    national = Plan(profile, profile.shape("month-end"), 1.0, 60.0, "open")
    assert 1.0 < national.scheduled_dossiers / national.expected_dossiers < 1.1
