"""A procedure that looks slower is timed once more, and the lower median is judged: a
slower release is slower twice, a busy machine rarely hits the same procedure twice."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from types import SimpleNamespace
from typing import Any

import pytest

from harness.regression import latency_retiming as retiming
from harness.regression.compare import Difference
from harness.signing import TestPKI

CORPUS: Any = [SimpleNamespace(procedure="600", body=b"x"), SimpleNamespace(procedure="604")]


@contextmanager
def _no_gateway(_gateway: str, **_options: Any) -> Iterator[object]:
    yield object()


@pytest.mark.parametrize(("again", "judged"), [(3.1, 3.1), (25.0, 20.0)])
def test_the_lower_of_two_timings_is_judged(
    monkeypatch: pytest.MonkeyPatch, pki: TestPKI, again: float, judged: float
) -> None:
    timed: list[list[str]] = []

    def time_again(_target: object, entries: Any, **_kw: Any) -> dict[str, list[float]]:
        timed.append([e.procedure for e in entries])
        return {"600": [again] * 25}

    monkeypatch.setattr(retiming, "open_target", _no_gateway)
    monkeypatch.setattr(retiming, "time_submissions", time_again)
    first = {"600": [20.0] * 25, "604": [3.0] * 25}
    slower = [Difference("latency-p50", "600"), Difference("latency-p50", "all")]
    summary, notes, _untimed = retiming.confirm_latency(
        "inproc", CORPUS, first, slower, pki, None, {}
    )
    assert timed == [["600"]]  # only the procedure that looked slower, not "all"
    assert summary["600"]["p50_ms"] == judged and summary["604"]["p50_ms"] == 3.0
    assert notes == [
        f"latency of 600 timed twice (it looked slower): p50 20.0 ms, then {again:.1f} ms; "
        "the lower is judged"
    ]


def test_nothing_is_timed_again_for_a_whole_run_slowdown(
    monkeypatch: pytest.MonkeyPatch, pki: TestPKI
) -> None:
    monkeypatch.setattr(retiming, "open_target", None)  # would fail if called
    first = {"600": [20.0] * 25}
    summary, notes, _untimed = retiming.confirm_latency(
        "inproc", CORPUS, first, [Difference("latency-p50", "all")], pki, None, {}
    )
    assert summary["600"]["p50_ms"] == 20.0 and notes == []
