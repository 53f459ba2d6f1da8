"""Every procedure the final latency comparison flags was timed twice: re-timing some
lowers the machine factor, which can flag others, and a whole-gateway slowdown ("all") is
re-timed too, its difference then stating the times it was measured on."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from types import SimpleNamespace
from typing import Any

import pytest

from harness.regression import latency_retiming as retiming
from harness.regression.compare import LatencyThresholds
from harness.signing import TestPKI

PROCEDURES = ("600", "601", "604", "607", "610", "612", "630a", "static")
CORPUS: Any = [SimpleNamespace(procedure=None if p == "static" else p) for p in PROCEDURES]
RECORDED = {p: {"n": 25, "p50_ms": 3.0, "p95_ms": 3.0} for p in PROCEDURES}


@contextmanager
def _no_gateway(_gateway: str, **_options: Any) -> Iterator[object]:
    yield object()


def _judge(
    monkeypatch: pytest.MonkeyPatch, pki: TestPKI, first: dict[str, float]
) -> tuple[Any, list[set[str]]]:
    """Judge a run first timed at ``first`` (ms per procedure), whose second timing of any
    procedure is the baseline's 3 ms: a busy first pass, not a slower release."""
    timed: list[set[str]] = []

    def time_again(_target: object, entries: Any, **_kw: Any) -> dict[str, list[float]]:
        procedures = {e.procedure or "static" for e in entries}
        timed.append(procedures)
        return {p: [3.0] * 25 for p in procedures}

    monkeypatch.setattr(retiming, "open_target", _no_gateway)
    monkeypatch.setattr(retiming, "time_submissions", time_again)
    run: Any = SimpleNamespace(latencies_ms={p: [ms] * 25 for p, ms in first.items()})
    judged = retiming.judge_latency(
        "inproc", CORPUS, run, RECORDED, LatencyThresholds(), pki, None, {}
    )
    return judged, timed


def test_a_procedure_flagged_once_others_were_retimed_is_retimed_too(
    monkeypatch: pytest.MonkeyPatch, pki: TestPKI
) -> None:
    """The probe's blip: 600/601 look fine beside the very slow 604-612 (machine factor
    x2.7), and slower once those are re-timed (factor x1): they must be timed twice too."""
    first = {"600": 8.0, "601": 8.0, "630a": 3.0, "static": 3.0}
    first |= {p: 23.0 for p in ("604", "607", "610", "612")}
    (latency, slower, notes), timed = _judge(monkeypatch, pki, first)
    assert slower == []
    assert timed[0] == {"604", "607", "610", "612"} and {"600", "601"} <= set().union(*timed)
    assert all(latency[p]["p50_ms"] == 3.0 for p in ("600", "601", "604"))
    assert any(n.startswith("latency of 601 timed twice") for n in notes)


def test_a_whole_gateway_slowdown_is_retimed_before_it_fails_the_run(
    monkeypatch: pytest.MonkeyPatch, pki: TestPKI
) -> None:
    """Three CPU hogs slow every procedure alike (x10): the median ratio ("all") passes
    its x3, and the run is timed again before it is judged."""
    (latency, slower, notes), timed = _judge(monkeypatch, pki, {p: 30.0 for p in PROCEDURES})
    assert slower == [] and set().union(*timed) == set(PROCEDURES)
    assert latency["600"]["p50_ms"] == 3.0
    assert notes[0].startswith("the whole gateway looked slower (median p50 ratio x10.0")


def test_a_whole_gateway_still_slower_says_the_times_it_was_judged_on(
    monkeypatch: pytest.MonkeyPatch, pki: TestPKI
) -> None:
    def slow_again(_target: object, entries: Any, **_kw: Any) -> dict[str, list[float]]:
        return {e.procedure or "static": [31.0] * 25 for e in entries}

    monkeypatch.setattr(retiming, "open_target", _no_gateway)
    monkeypatch.setattr(retiming, "time_submissions", slow_again)
    run: Any = SimpleNamespace(latencies_ms={p: [30.0] * 25 for p in PROCEDURES})
    _latency, slower, _notes = retiming.judge_latency(
        "inproc", CORPUS, run, RECORDED, LatencyThresholds(), pki, None, {}
    )
    [whole] = [d for d in slower if d.procedure == "all"]
    assert whole.expected == "x3 allowed; procedures' median p50 3.0 ms"
    assert whole.actual == "x10.0; procedures' median p50 30.0 ms"
