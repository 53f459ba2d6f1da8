"""The outcome of a load run: :class:`LoadResult` (the verdict and its terminal summary) and
the report's cases, one per service level plus one when the run itself broke.

Apart from :mod:`harness.load.runner` because this is what a reader of the terminal,
the JUnit file or the HTML index sees, and it changes for different reasons.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from harness.load.levels import LevelResult, Measurements
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
        lines.append(f"report: {self.directory / 'verdict.html'}")
        return "\n".join(lines)


def _figure(value: float) -> str:
    """About three significant digits, never in exponent form: 1429, 98.4, 1.02, 0.0123."""
    if abs(value) >= 100:
        return f"{value:.0f}"
    return f"{value:.3g}" if value == 0 or abs(value) >= 0.001 else f"{value:.6f}"


def cases(results: list[LevelResult], reproduce: str, error: str) -> list[CaseResult]:
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
        )
        for r in results
    ]
    if error:
        cases.append(
            CaseResult("load-run", "the load run completes", Outcome.ERROR, message=error[:4000])
        )
    return cases


__all__ = ["REQUIREMENTS", "LoadResult", "cases"]
