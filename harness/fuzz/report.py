"""A fuzz campaign as a report bundle (JUnit, JSON, self-contained HTML, manifest).

Cases are ``FUZZ-<family>@<procedure>``: one per mutation family and procedure, so the HTML
matrix shows which procedures each family reached. A distinct failure's minimal dossier
and reproduce line sit in the cell it was minimised in; every other cell where the same
failure showed names that cell and repeats its reproduce line. A procedure the run was to
reach that got no case is a skipped ``FUZZ-no-case@<procedure>``, and the verdict of a run
that broke nothing is then ``incomplete`` (as when a --family asked for got no case). So
is it when a form version the catalog accepts got no case: a skipped
``FUZZ-no-case-<form version>@<procedure>`` names it under the first procedure taking the
form (unless no procedure taking it got a case: that procedure's cell says it already).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from harness.fuzz.minimise import shrunk
from harness.fuzz.outcome import FamilyCount, FuzzFailure, FuzzReport
from harness.fuzz.properties import REQUIREMENT, requirement
from harness.paths import reports_dir
from harness.reporting import CaseResult, Outcome, ReportBundle, RunInfo

if TYPE_CHECKING:
    from harness.fuzz.lifecycle_run import LifecycleResult

INCOMPLETE = "incomplete"
"""The verdict of a run that broke no property but said nothing of part of what it was
asked: a procedure, a form version, or a family applying to its procedures got no case."""

NO_CASE = "FUZZ-no-case"
"""The case id (before ``@<procedure>``) of a procedure the run was to reach and did not."""


@dataclass
class FuzzBundle(ReportBundle):
    """A fuzz report bundle: its results.json and index.html say ``incomplete`` rather
    than ``passed`` when a procedure, a form version or a family asked for got no case."""

    lifecycle: dict[str, Any] | None = None
    """The lifecycle machine's outcome as data (results.json's ``lifecycle``; the run's
    meta, which the HTML and JUnit show as text, gets a line of words)."""
    gaps: tuple[str, ...] = ()
    """What got no case, in words (``procedure 612``, ``form version TK1-TS-590``,
    ``--family wage``)."""
    distinct_failures: int = 0

    def to_dict(self) -> dict[str, Any]:
        """A fuzz bundle's results are family@procedure cells, not the cases sent: the
        summary says both (as the terminal does), and the counts of cases sent get tables."""
        data = super().to_dict()
        if self.gaps and data["verdict"] in (Outcome.PASSED.value, Outcome.SKIPPED.value):
            data["verdict"] = INCOMPLETE
        meta = self.info.meta
        data["unit"] = "cells (family@procedure)"
        if self.lifecycle is not None:
            data["lifecycle"] = self.lifecycle
        data["sent"] = {"cases": meta.get("cases", 0), "distinct_failures": self.distinct_failures}
        data["tables"] = {
            title: meta[key]
            for title, key in _TABLES.items()
            if isinstance(meta.get(key), dict) and meta[key]
        }
        return data


_TABLES = {
    "Cases sent by family": "cases_by_family",
    "Cases sent by procedure": "cases_by_procedure",
    "Cases sent by form version": "cases_by_form_version",
}


def distinct_failures(report: FuzzReport, lifecycle: LifecycleResult | None) -> int:
    """The run's distinct failures: one per cause, and a lifecycle failure one more."""
    return len(report.failures) + (lifecycle is not None and not lifecycle.ok)


def report_bundle(
    report: FuzzReport,
    out: Path | None = None,
    meta: dict[str, Any] | None = None,
    lifecycle: LifecycleResult | None = None,
) -> FuzzBundle:
    """One case per mutation family and procedure: passed when none of its cases broke a
    property, so the matrix shows which procedures each family reached; one skipped case
    per procedure that got none. ``meta`` adds what the run was asked (budget, families,
    procedures, the run's command; ``unrun_families``: the families asked for that got no
    case). ``lifecycle``, the state machine's outcome, is one more case (``FUZZ-lifecycle``)
    and results.json's ``lifecycle``."""
    extra = {} if lifecycle is None else {"lifecycle": lifecycle.line()}
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
            "cases_by_procedure": report.cases_by_procedure,
            "unreached_procedures": list(report.unreached),
            "cases_by_form_version": report.cases_by_form_version,
            "unreached_form_versions": list(report.unreached_form_versions),
            "unrun_families": list(report.unrun_families),
            **(meta or {}),
            **extra,
        },
    )
    asked = (meta or {}).get("unrun_families", ())
    unrun = [f"family {f}" for f in dict.fromkeys([*asked, *report.unrun_families])]
    versions = [f"form version {v}" for v in report.unreached_form_versions]
    gaps = (*(f"procedure {p}" for p in report.unreached), *versions, *unrun)
    if lifecycle is not None and lifecycle.no_verdict:
        gaps = (*gaps, f"the lifecycle ({lifecycle.no_verdict})")
    folder = (out or reports_dir()) / report.run_id
    broken = distinct_failures(report, lifecycle)
    bundle = FuzzBundle(info, folder, gaps=gaps, distinct_failures=broken)
    bundle.lifecycle = None if lifecycle is None else lifecycle.to_dict()
    for (family, procedure), count in sorted(report.by_procedure.items()):
        shown = [f for f in report.failures if (family, procedure) in _seen(f)]
        bundle.add(_case(family, procedure, count, shown))
    for procedure in report.unreached:
        bundle.add(_no_case(f"procedure {procedure}", NO_CASE, procedure, report.cases))
    for form_version in report.unreached_form_versions:
        reached = [p for p in report.form_versions[form_version] if p not in report.unreached]
        if reached:  # else the cell of each procedure taking it says it already
            what, case = f"form version {form_version}", f"{NO_CASE}-{form_version}"
            bundle.add(_no_case(what, case, reached[0], report.cases))
    if lifecycle is not None:
        bundle.add(lifecycle.case())
    return bundle


def _no_case(what: str, case: str, procedure: str, cases: int) -> CaseResult:
    """The cell of what the run was to reach and did not (a procedure, or an accepted form
    version under the first reached procedure taking its form): skipped, saying why, so
    the matrix and the skipped list show that nothing was said of it."""
    return CaseResult(
        case_id=f"{case}@{procedure}",
        title="no case",
        outcome=Outcome.SKIPPED,
        procedure=procedure,
        requirement=REQUIREMENT,
        message=f"no case of {what} ran: the {cases} case(s) ran out before its turn; "
        "raise --budget (or --duration)",
    )


def _case(family: str, procedure: str, count: FamilyCount, shown: list[FuzzFailure]) -> CaseResult:
    """The cell of ``family`` in ``procedure``: its cases, and the failures that showed there
    (the minimal dossier of one minimised in another cell is named with that cell)."""
    cell = f"FUZZ-{family}@{procedure}"
    lines = []
    for f in shown:
        there = "minimised there" if f.minimised else "written there"
        where = "" if f.cell == cell else f" (the same failure as {f.cell}, {there})"
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
    dossier = failure.evidence.dossier if failure.evidence else "-"
    if failure.minimised:
        lines += [f"minimal dossier: {dossier}", f"minimised in: {failure.cell}"]
    else:  # a timeout, or nothing smaller showed the same cause: not to be called minimal
        lines += [f"dossier: {dossier}", shrunk(failure.check, False), f"seen in: {failure.cell}"]
    if _cells(failure):
        lines.append(f"also seen in: {', '.join(_cells(failure))}")
    if failure.body:
        lines.append(f"answer as sent:\n{failure.body}")
    return "\n".join(lines)


def _seen(failure: FuzzFailure) -> tuple[tuple[str, str], ...]:
    """Every (family, procedure) the failure showed in; at least the one minimised in."""
    return failure.seen or ((failure.family, failure.procedure),)


def _cells(failure: FuzzFailure) -> list[str]:
    """Every cell the failure showed in but the one it was minimised in."""
    cells = [f"FUZZ-{family}@{procedure}" for family, procedure in _seen(failure)]
    return [cell for cell in cells if cell != failure.cell]


__all__ = ["INCOMPLETE", "NO_CASE", "REQUIREMENT", "FuzzBundle", "report_bundle"]
