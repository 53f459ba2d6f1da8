"""The latency verdict of ``regress``: a procedure that looks slower is timed once more
against a fresh gateway and the lower median judged, so a busy machine is not a slower
release; re-timing one procedure moves the machine factor, so the loop runs until no
procedure is due (each timed twice at most)."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import Any

from harness.dossiers.corpus import CorpusEntry
from harness.regression.baseline import latency_summary, percentile
from harness.regression.compare import Difference, LatencyThresholds, compare_latency
from harness.regression.replay import Replay, time_submissions
from harness.regression.target import open_target
from harness.signing import TestPKI


def judge_latency(
    gateway: str,
    corpus: Sequence[CorpusEntry],
    run: Replay,
    recorded: dict[str, dict[str, float]],
    thresholds: LatencyThresholds,
    pki: TestPKI,
    max_backoff: float | None,
    options: dict[str, Any],
) -> tuple[dict[str, dict[str, float]], list[Difference], list[str]]:
    """The candidate's latency summary, its latency differences from ``recorded``, and the
    notes of the procedures timed twice because they looked slower the first time."""
    latency = latency_summary(run.latencies_ms)
    notes: list[str] = []
    retimed: set[str] = set()
    untimed: set[str] = set()
    while True:  # re-timing one procedure moves the machine factor, which may flag another
        slower = compare_latency(recorded, latency, thresholds)
        due = _due(slower, latency, retimed)
        if not due:  # each procedure is timed twice at most: at most one pass per procedure
            return latency, _timed_once(_with_times(slower, recorded, latency), untimed), notes
        notes += _whole_gateway_note(slower, due)
        again = [Difference("latency-p50", procedure) for procedure in sorted(due)]
        summary, more, failed = confirm_latency(
            gateway, corpus, run.latencies_ms, again, pki, max_backoff, options
        )
        latency = {**latency, **{p: summary[p] for p in due if p in summary}}
        retimed |= due
        untimed |= failed
        notes += more


def confirm_latency(
    gateway: str,
    corpus: Sequence[CorpusEntry],
    first: dict[str, list[float]],
    slower: Sequence[Difference],
    pki: TestPKI,
    max_backoff: float | None,
    options: dict[str, Any],
) -> tuple[dict[str, dict[str, float]], list[str], set[str]]:
    """Time the procedures that looked slower once more and keep, for each, the sample
    with the lower median: a release that is slower is slower twice, while a busy
    machine (another job, a CPU-hungry neighbour) rarely hits the same procedure twice.
    Returns the latency summary, a note per procedure re-timed, and the procedures that
    could not be (every submission of the second timing failed: the first sample stands)."""
    procedures = {d.procedure for d in slower if d.procedure != "all"}
    if not procedures:
        return latency_summary(first), [], set()
    entries = [e for e in corpus if (e.procedure or "static") in procedures]
    with open_target(gateway, pki=pki, **options) as target:
        second = time_submissions(target, entries, max_backoff=max_backoff)
    kept = dict(first)
    notes = []
    untimed = set()
    for procedure in sorted(procedures):
        before, again = first.get(procedure, []), second.get(procedure, [])
        if not again:  # its first sample stands: said, so no verdict looks confirmed
            notes.append(_untimed_note(procedure, before))
            untimed.add(procedure)
            continue
        p50_first, p50_again = percentile(before, 50), percentile(again, 50)
        if p50_again < p50_first:
            kept[procedure] = again
        notes.append(
            f"latency of {procedure} timed twice (it looked slower): p50 {p50_first:.1f} ms, "
            f"then {p50_again:.1f} ms; the lower is judged"
        )
    return latency_summary(kept), notes, untimed


def _untimed_note(procedure: str, before: list[float]) -> str:
    """``latency of 604 looked slower but could not be timed again ...``: a busy machine
    is then not ruled out, and the verdict rests on the first timing alone."""
    p50 = f" (p50 {percentile(before, 50):.1f} ms)" if before else ""
    return (
        f"latency of {procedure} looked slower but could not be timed again: every submission "
        f"of the second timing got a 5xx or no answer; its first timing{p50} alone is judged"
    )


def _timed_once(slower: list[Difference], untimed: set[str]) -> list[Difference]:
    """A latency difference judged on a first timing alone says so (the second failed): a
    reader must not take it for a slowdown seen twice. It stands: a slower release whose
    re-timing broke must not pass."""
    if not untimed:
        return slower
    whole = f"; {len(untimed)} procedure(s) timed once ({', '.join(sorted(untimed))}): "
    return [
        dataclasses.replace(d, actual=f"{d.actual}; timed once: its second timing failed")
        if d.procedure in untimed
        else dataclasses.replace(d, actual=f"{d.actual}{whole}their second timing failed")
        if d.procedure == "all"
        else d
        for d in slower
    ]


def _due(
    slower: Sequence[Difference], latency: dict[str, dict[str, float]], retimed: set[str]
) -> set[str]:
    """The procedures to time again: each flagged one (every one when the whole gateway is,
    ``all``) not timed twice yet, so the final verdict never rests on a single timing."""
    flagged = {d.procedure for d in slower}
    if "all" in flagged:
        flagged = set(latency)
    return (flagged & set(latency)) - retimed


def _whole_gateway_note(slower: Sequence[Difference], due: set[str]) -> list[str]:
    """Why every procedure is timed again: the run's median slowdown passed its limit."""
    whole = next((d for d in slower if d.procedure == "all"), None)
    if whole is None:
        return []
    return [
        f"the whole gateway looked slower (median p50 ratio {whole.actual}, "
        f"{whole.expected}): {len(due)} procedure(s) timed twice ({', '.join(sorted(due))}), "
        "the lower median of each is judged"
    ]


def _with_times(
    slower: list[Difference],
    recorded: dict[str, dict[str, float]],
    latency: dict[str, dict[str, float]],
) -> list[Difference]:
    """The whole gateway's slowdown (a ratio of medians) with the times it was measured
    on: the procedures' median p50 before and now, as a procedure's difference shows."""
    common = sorted(set(recorded) & set(latency))
    if not common:
        return slower
    before = _lower_median([float(recorded[p]["p50_ms"]) for p in common])
    now = _lower_median([float(latency[p]["p50_ms"]) for p in common])
    return [
        dataclasses.replace(
            d,
            expected=f"{d.expected}; procedures' median p50 {before:.1f} ms",
            actual=f"{d.actual}; procedures' median p50 {now:.1f} ms",
        )
        if d.procedure == "all" and d.kind == "latency-p50"
        else d
        for d in slower
    ]


def _lower_median(values: list[float]) -> float:
    """The lower median, as the machine factor takes it (never flattering)."""
    ordered = sorted(values)
    return ordered[(len(ordered) - 1) // 2]


__all__ = ["confirm_latency", "judge_latency"]
