"""A fuzz campaign as a report bundle (JUnit, JSON, self-contained HTML, manifest).

Cases are ``FUZZ-<family>@<procedure>``: one per mutation family and procedure, so the HTML
matrix shows which procedures each family reached. A distinct failure's minimal dossier
and reproduce line sit in the cell it was minimised in; every other cell where the same
failure showed names that cell and repeats its reproduce line.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from harness.fuzz.properties import REQUIREMENT, requirement
from harness.fuzz.runner import FamilyCount, FuzzFailure, FuzzReport
from harness.paths import reports_dir
from harness.reporting import CaseResult, Outcome, ReportBundle, RunInfo


def report_bundle(
    report: FuzzReport, out: Path | None = None, meta: dict[str, Any] | None = None
) -> ReportBundle:
    """One case per mutation family and procedure: passed when none of its cases broke a
    property, so the matrix shows which procedures each family reached. ``meta`` adds what
    the run was asked (budget, families, procedures, the run's command...)."""
    info = RunInfo(
        run_id=report.run_id,
        suite="fuzz",
        title=f"Fuzz {report.target} — catalog {report.catalog_version}",
        started_at=report.started_at.isoformat(timespec="seconds"),
        meta={
            "target": report.target,
            "catalog": report.catalog_version,
            "seed": report.seed,
            "ivan": report.ivan,
            "cases": report.cases,
            "cases_per_second": round(report.cases_per_second, 1),
            "cases_by_family": {k: v.executed for k, v in sorted(report.families.items())},
            **(meta or {}),
        },
    )
    bundle = ReportBundle(info, (out or reports_dir()) / report.run_id)
    for (family, procedure), count in sorted(report.by_procedure.items()):
        shown = [f for f in report.failures if (family, procedure) in _seen(f)]
        bundle.add(_case(family, procedure, count, shown))
    return bundle


def _case(family: str, procedure: str, count: FamilyCount, shown: list[FuzzFailure]) -> CaseResult:
    """The cell of ``family`` in ``procedure``: its cases, and the failures that showed there
    (the minimal dossier of one minimised in another cell is named with that cell)."""
    cell = f"FUZZ-{family}@{procedure}"
    lines = []
    for f in shown:
        where = "" if f.cell == cell else f" (the same failure as {f.cell}, minimised there)"
        lines.append(f"{f.check}: {f.reason}{where}")
    message = "; ".join(lines)[:2000]
    if count.failed and not shown:  # a failure built without where it showed
        message = f"{count.failed} case(s) broke a property (minimised under another procedure)"
    return CaseResult(
        case_id=cell,
        title=f"{count.executed} {family} {'case' if count.executed == 1 else 'cases'}",
        outcome=Outcome.FAILED if count.failed else Outcome.PASSED,
        procedure=procedure,
        requirement="; ".join(dict.fromkeys(requirement(f.check) for f in shown)) or REQUIREMENT,
        message=message,
        evidence={f"{f.check} {f.mutation}": _evidence(f) for f in shown},
        reproduce="; ".join(f.evidence.command for f in shown if f.evidence),
    )


def _evidence(failure: FuzzFailure) -> str:
    """What one failure's evidence says, in words (not Python tuples)."""
    lines = [
        f"answer: {failure.answer}",
        f"expected: {','.join(failure.expected) or 'accepted'}",
        f"codes: {','.join(failure.codes) or 'none'}",
    ]
    if failure.detail:
        lines.append(f"gateway said: {failure.detail}")
    lines.append(f"minimal dossier: {failure.evidence.dossier if failure.evidence else '-'}")
    lines.append(f"minimised in: {failure.cell}")
    if _cells(failure):
        lines.append(f"also seen in: {', '.join(_cells(failure))}")
    return "\n".join(lines)


def _seen(failure: FuzzFailure) -> tuple[tuple[str, str], ...]:
    """Every (family, procedure) the failure showed in; at least the one minimised in."""
    return failure.seen or ((failure.family, failure.procedure),)


def _cells(failure: FuzzFailure) -> list[str]:
    """Every cell the failure showed in but the one it was minimised in."""
    cells = [f"FUZZ-{family}@{procedure}" for family, procedure in _seen(failure)]
    return [cell for cell in cells if cell != failure.cell]


__all__ = ["REQUIREMENT", "report_bundle"]
