"""The outcome of a load run: :class:`LoadResult` (the verdict and its terminal summary) and
the report's cases, one per service level plus one when the run itself broke.

Apart from :mod:`harness.load.runner` because this is what a reader of the terminal,
the JUnit file or the HTML index sees, and it changes for different reasons.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from harness.load.breakdown import ProcedureFigures, table_lines
from harness.load.ivan import (
    ABANDONED,
    ACCEPTED,
    ANSWERED_IN_GRACE,
    DUPLICATES,
    IN_FLIGHT,
    NOT_TIMED,
    REJECTED,
)
from harness.load.levels import LevelResult, Measurements, count_text
from harness.load.pacing import LATE, NOT_SENT
from harness.reporting import CaseResult, Outcome, ReportBundle

REQUIREMENTS = {
    "latency": "fixtures/load/service-levels.yaml latency_ms (real time per step)",
    "error_rate": "fixtures/load/service-levels.yaml error_rate",
    "lifecycle": "Decree 166 art. 25/30 (2 hours) and service-levels.yaml lifecycle_s",
    "throughput_ratio": "service-levels.yaml throughput_ratio: the gateway took the load",
}


@dataclass
class LoadResult:
    """The verdict of one run and where its report is."""

    run_id: str
    directory: Path
    results: list[LevelResult]
    measurements: Measurements
    bundle: ReportBundle
    error: str = ""
    facts: dict[str, Any] = field(default_factory=dict)
    procedures: list[ProcedureFigures] = field(default_factory=list)
    """The breakdown by procedure of the mix (results.json's ``procedures``)."""
    procedures_total: ProcedureFigures | None = None
    """Its totals row, from the totals' own records."""

    @property
    def passed(self) -> bool:
        return not self.error and all(r.passed for r in self.results)

    @property
    def verdict(self) -> str:
        """ERROR: the run itself broke (no verdict on the gateway); else PASSED or FAILED."""
        if self.error:
            return "ERROR"
        return "PASSED" if self.passed else "FAILED"

    @property
    def failed(self) -> list[LevelResult]:
        return [r for r in self.results if not r.passed]

    def summary(self) -> str:
        """Lines for a terminal or a CI log: verdict, every level with what was measured
        (a passing run's margins are news too), the missed ones' details, report path."""
        met = sum(r.passed for r in self.results)
        lines = [f"verdict: {self.verdict} ({met} of {len(self.results)} service levels met)"]
        if self.error:  # the levels would only repeat that nothing was measured
            lines.append(f"the run itself failed: {self.error}")
        else:
            for r in self.results:
                level = r.level
                measured = (
                    "not measured"
                    if r.measured is None
                    else f"{_figure(r.measured)} {level.unit}".rstrip()
                    + (f" from {r.basis}" if r.basis else "")
                )
                mark = "met   " if r.passed else "missed"
                lines.append(f"  {mark} {level.name}: {measured} ({level.describe()})")
                if r.measured is None and r.detail:  # why nothing was measured
                    lines.append(f"         {r.detail}")
            lines += self._procedure_lines()
            lines += [f"{key}: {self.facts[key]}" for key in SUMMARY_FACTS if key in self.facts]
        lines.append(f"report: {self.directory / 'verdict.html'}")
        return "\n".join(lines)

    def _procedure_lines(self) -> list[str]:
        """The breakdown by procedure, after the levels: was each procedure sent, taken?"""
        if not self.procedures or self.procedures_total is None:
            return []
        return [
            "by procedure (submit: first attempts' exact times; 02/TB-TS, 03/TB-TS: "
            "received within the stage's strictest lifecycle level, simulated s):",
            *table_lines(self.procedures, self.procedures_total),
        ]


@dataclass
class LoadBundle(ReportBundle):
    """The load run's report bundle: results.json also holds the breakdown by procedure."""

    procedures: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {**super().to_dict(), "procedures": self.procedures}


SUMMARY_FACTS = ("dossiers", "feed messages")
"""Facts the terminal repeats from the verdict page: where every dossier and message went."""


def dossier_account(
    counts: Mapping[str, int], scheduled: float, asked: float, model: str = "open"
) -> str:
    """Where the scheduled dossiers went, every one accounted for: scheduled = accepted +
    rejected + abandoned + in flight at stop + not sent (+ the difference left to chance)."""
    planned = round(scheduled)
    parts = [
        f"{counts.get(ACCEPTED, 0):,} accepted",
        f"{counts.get(REJECTED, 0):,} rejected",
        f"{counts.get(ABANDONED, 0):,} abandoned",
        f"{counts.get(IN_FLIGHT, 0):,} in flight at stop (cut off: no answer within the stop "
        "grace after the end; the gateway may have stored them)",
    ]
    sent = sum(counts.get(k, 0) for k in (ACCEPTED, REJECTED, ABANDONED, IN_FLIGHT))
    not_sent = counts.get(NOT_SENT, 0)
    if model == "open":
        parts.append(
            f"{not_sent:,} not sent (users busy: a user sends one dossier at a time, and these "
            "came due while it waited for an answer)"
        )
    rest = planned - sent - not_sent
    why = (
        "each user waits for its answer before thinking"
        if model == "closed"
        else "random gaps, arrivals due as the run stopped"
    )
    if rest > 0:
        parts.append(f"{rest:,} not started by the end ({why})")
    elif rest < 0:
        parts.append(f"{-rest:,} more started than scheduled (random gaps)")
    text = f"{planned:,} scheduled (the shape asks for {count_text(asked)}): " + ", ".join(parts)
    if grace := counts.get(ANSWERED_IN_GRACE, 0):
        text += f"; {grace:,} of those answered were in flight at the end and answered in the grace"
    if late := counts.get(LATE, 0):
        text += f"; {late:,} of those sent started late (their user was still busy when due)"
    return text + f"; {counts.get('retries', 0):,} retries"


def feed_account(counts: Mapping[str, int]) -> str:
    """What the feed readers read: messages timed, duplicates (timed once) and messages not
    timed (not about one of the run's dossiers; their acks are kept out of the ack level)."""
    read = sum(v for k, v in counts.items() if k.startswith("messages ") and k != NOT_TIMED)
    duplicates, not_timed = counts.get(DUPLICATES, 0), counts.get(NOT_TIMED, 0)
    return (
        f"{read:,} read: {read - duplicates - not_timed:,} timed, {duplicates:,} duplicates "
        f"(delivered again: each dossier is timed at its first delivery), {not_timed:,} "
        "messages not timed (not about a dossier of this run: an earlier run's, or one "
        'read before its receipt came back; acknowledged as "ack (not this run\'s)", '
        "outside the ack latency level)"
    )


def _figure(value: float) -> str:
    """About three significant digits, never in exponent form: 1429, 98.4, 1.02, 0.0123."""
    if abs(value) >= 100:
        return f"{value:.0f}"
    return f"{value:.3g}" if value == 0 or abs(value) >= 0.001 else f"{value:.6f}"


def cases(
    results: list[LevelResult], reproduce: str, error: str, seconds: float = 0.0
) -> list[CaseResult]:
    """One case per level (and one for a broken run). Every level is judged on the whole
    run, so its ``seconds`` are shared among the cases: JUnit's suite time is the run's."""
    share = seconds / max(1, len(results) + bool(error))
    cases = [
        CaseResult(
            case_id=r.level.name,
            title=r.level.describe(),
            outcome=Outcome.PASSED if r.passed else Outcome.FAILED,
            requirement=REQUIREMENTS[r.level.kind],
            message=r.detail,
            evidence={
                "measured": "—" if r.measured is None else f"{r.measured:.6g}",
                "samples": r.basis or "—",
            },
            reproduce=reproduce,
            duration_s=share,
        )
        for r in results
    ]
    if error:
        cases.append(
            CaseResult(
                "load-run",
                "the load run completes",
                Outcome.ERROR,
                duration_s=share,
                message=error[:4000],
            )
        )
    return cases


__all__ = [
    "REQUIREMENTS",
    "SUMMARY_FACTS",
    "LoadBundle",
    "LoadResult",
    "cases",
    "dossier_account",
    "feed_account",
]
