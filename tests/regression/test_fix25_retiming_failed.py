"""A procedure that looked slower and whose second timing failed (every submission a 5xx
or no answer) kept its first sample with no word of it: its latency verdict then read as
confirmed twice. The note says so, and the difference stands, marked as timed once."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest

from harness.regression import latency_retiming as retiming
from harness.regression.compare import LatencyThresholds
from harness.signing import TestPKI
from tests.regression.test_fix24_run_latency import CORPUS, PROCEDURES, RECORDED, _no_gateway


def _judge(
    monkeypatch: pytest.MonkeyPatch, pki: TestPKI, first: dict[str, float]
) -> tuple[Any, list[Any], list[str]]:
    """Judge a run first timed at ``first`` (ms per procedure) whose second timing fails
    for every submission: ``time_submissions`` keeps no sample of a 5xx or a lost answer."""
    monkeypatch.setattr(retiming, "open_target", _no_gateway)
    monkeypatch.setattr(retiming, "time_submissions", lambda *_a, **_kw: {})
    run: Any = SimpleNamespace(latencies_ms={p: [ms] * 25 for p, ms in first.items()})
    return retiming.judge_latency(
        "inproc", CORPUS, run, RECORDED, LatencyThresholds(), pki, None, {}
    )


def test_a_procedure_whose_second_timing_failed_is_said_and_still_judged(
    monkeypatch: pytest.MonkeyPatch, pki: TestPKI
) -> None:
    first = {p: 3.0 for p in PROCEDURES} | {"604": 23.0}
    latency, slower, notes = _judge(monkeypatch, pki, first)
    assert notes == [
        "latency of 604 looked slower but could not be timed again: every submission of the "
        "second timing got a 5xx or no answer; its first timing (p50 23.0 ms) alone is judged"
    ]
    assert latency["604"]["p50_ms"] == 23.0  # the first sample, the only one
    [p50] = [d for d in slower if d.kind == "latency-p50"]
    assert p50.procedure == "604"
    assert p50.actual.endswith("; timed once: its second timing failed")


def test_a_whole_gateway_whose_second_timing_failed_says_its_verdict_rests_on_one(
    monkeypatch: pytest.MonkeyPatch, pki: TestPKI
) -> None:
    _latency, slower, notes = _judge(monkeypatch, pki, {p: 30.0 for p in PROCEDURES})
    assert notes[0].startswith("the whole gateway looked slower")
    assert len([n for n in notes if "could not be timed again" in n]) == len(PROCEDURES)
    [whole] = [d for d in slower if d.procedure == "all"]
    assert whole.actual.endswith(
        f"; {len(PROCEDURES)} procedure(s) timed once (600, 601, 604, 607, 610, 612, 630a, "
        "static): their second timing failed"
    )
