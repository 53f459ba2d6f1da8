"""A fuzz campaign as a report bundle (JUnit, JSON, self-contained HTML, manifest).

Cases are ``FUZZ-<family>@<procedure>``: one per mutation family and procedure, so the HTML
matrix shows which procedures each family reached, and each failed cell's evidence lists
the properties its cases broke with the minimal dossier and its reproduce line.
"""

from __future__ import annotations

from pathlib import Path

from harness.fuzz.runner import FamilyCount, FuzzFailure, FuzzReport
from harness.paths import reports_dir
from harness.reporting import CaseResult, Outcome, ReportBundle, RunInfo

REQUIREMENT = (
    "DESIGN.md Suites/Fuzz: valid accepted, each mutation rejected with its code, never 5xx"
)


def report_bundle(report: FuzzReport, out: Path | None = None) -> ReportBundle:
    """One case per mutation family and procedure: passed when none of its cases broke a
    property, so the matrix shows which procedures each family reached."""
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
        },
    )
    bundle = ReportBundle(info, (out or reports_dir()) / report.run_id)
    for (family, procedure), count in sorted(report.by_procedure.items()):
        failures = [f for f in report.failures if f.family == family and f.procedure == procedure]
        bundle.add(_case(family, procedure, count, failures))
    return bundle


def _case(
    family: str, procedure: str, count: FamilyCount, failures: list[FuzzFailure]
) -> CaseResult:
    """The cell of ``family`` in ``procedure``: its cases, and the failures minimised there."""
    message = "; ".join(f"{f.check}: {f.reason}" for f in failures)[:2000]
    if count.failed and not failures:  # minimised once per property and family
        message = f"{count.failed} case(s) broke a property (minimised under another procedure)"
    return CaseResult(
        case_id=f"FUZZ-{family}@{procedure}",
        title=f"{count.executed} {family} cases",
        outcome=Outcome.FAILED if count.failed else Outcome.PASSED,
        procedure=procedure,
        requirement=REQUIREMENT,
        message=message,
        evidence={
            f"{f.check} {f.mutation}": f"answer: {f.answer}\nexpected: {f.expected}\n"
            f"codes: {f.codes}\nevidence: {f.evidence.dossier if f.evidence else '-'}"
            for f in failures
        },
        reproduce="; ".join(f.evidence.command for f in failures if f.evidence),
    )


__all__ = ["REQUIREMENT", "report_bundle"]
