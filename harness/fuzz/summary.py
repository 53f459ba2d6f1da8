"""The terminal summary of a fuzz run: verdict, cases by family, procedure and form
version, each distinct failure with where it showed and its reproduce line, and the
lifecycle machine's outcome."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from rich.console import Console

    from harness.fuzz.events import GatewayWentAway
    from harness.fuzz.evidence import GatewayReplay
    from harness.fuzz.lifecycle_run import LifecycleResult
    from harness.fuzz.outcome import FuzzFailure, FuzzReport
    from harness.reporting import ReportBundle


def print_summary(
    console: Console,
    report: FuzzReport,
    verdict: str,
    replay: GatewayReplay | None = None,
    lifecycle: LifecycleResult | None = None,
) -> None:
    """The verdict line, the cases each family, procedure and form version got (a case
    counts under each form it carries), then each distinct
    failure (one per cause: see :func:`harness.fuzz.minimise.cause`) with where it showed
    and the line that replays it. A lifecycle failure counts as one more."""
    from harness.fuzz.report import distinct_failures

    broken = distinct_failures(report, lifecycle)
    console.print(
        f"fuzz: {verdict}: {broken} distinct failure(s) in {report.cases} "
        f"cases ({report.elapsed:.1f} s, {report.cases_per_second:.0f}/s)"
    )
    if report.families:
        counts = ", ".join(f"{k} {v.executed}" for k, v in sorted(report.families.items()))
        console.print(f"  cases by family: {counts}", markup=False)
    if report.procedures:
        counts = ", ".join(f"{k} {n}" for k, n in report.cases_by_procedure.items())
        console.print(f"  cases by procedure: {counts}", markup=False)
    if report.form_versions:
        counts = ", ".join(f"{k} {n}" for k, n in report.cases_by_form_version.items())
        console.print(f"  cases by form version: {counts}", markup=False)
    if replay is not None and report.failures:  # what the reproduce lines need first
        console.print(f"  {replay.token_line()}", markup=False)
    for failure in report.failures:
        line = f"  {failure.check} [{failure.family}] {where(failure)}: {failure.reason}"
        console.print(line, markup=False)  # [valid], mutation[0]: text, not rich markup
        if failure.detail:
            console.print(f"    gateway said: {failure.detail}", markup=False)
        if len(failure.seen) > 1:
            cells = ", ".join(f"{family}@{procedure}" for family, procedure in failure.seen)
            console.print(f"    showed in: {cells} ({failure.occurrences} cases)", markup=False)
        if failure.evidence is not None:
            console.print(f"    reproduce: {failure.evidence.command}", markup=False)


def where(failure: FuzzFailure) -> str:
    """``procedure 600 (D02-TS-505, TK1-TS-595)``: which dossier broke the property."""
    forms = f" ({', '.join(failure.forms)})" if failure.forms else ""
    return f"procedure {failure.procedure or '?'}{forms}"


def print_lifecycle(console: Console, result: LifecycleResult | None) -> None:
    """The lifecycle machine's line: what it exercised, or the property broken and the
    steps that show it; the rules left out and why."""
    if result is None:
        return
    failure = result.failure
    if failure is None:
        console.print(f"  lifecycle: {result.outcome()}", markup=False)
    else:
        shrunk = "as run" if failure.flaky else "shrunk"
        console.print(f"  lifecycle: {failure.check}: {failure.reason}", markup=False)
        ran = f"{result.ran} of {result.steps} steps ran"
        console.print(f"    steps ({shrunk}; {ran}):", markup=False)
        for step in failure.steps:
            console.print(f"      {step}", markup=False)
        if result.found:
            console.print(f"    saved: {result.found}", markup=False)
        if result.reproduce:
            console.print(f"    reproduce: {result.reproduce}", markup=False)
    for why in result.left_out:
        console.print(f"    left out: {why}", markup=False)


def print_gaps(
    console: Console, cases: int, unrun: list[str], unreached: list[str], versions: list[str]
) -> None:
    """What got no case, each with what to do (a run that broke nothing says it)."""
    for what, names in (
        ("family(ies)", unrun),
        ("procedure(s)", unreached),
        ("form version(s)", versions),
    ):
        if names:
            console.print(
                f"no verdict on {what} {', '.join(names)}: no case of it ran in {cases} "
                "cases; raise --budget (or --duration)"
            )


def stopped(
    report: FuzzReport,
    out: Path | None,
    console: Console,
    meta: dict[str, object],
    replay: GatewayReplay | None = None,
    lifecycle: LifecycleResult | None = None,
) -> list[ReportBundle]:
    """A stopped campaign's failures so far, and its report begun (written, marked
    interrupted, as the command exits), unless no case ran: then there is nothing to report.
    ``lifecycle``: the cases all ran, and the lifecycle was stopped."""
    from harness.fuzz.report import report_bundle

    if not report.cases:
        return []
    print_summary(console, report, "STOPPED", replay, lifecycle)
    print_lifecycle(console, lifecycle)
    return [report_bundle(report, out, meta, lifecycle).begin()]


def gone_bundle(event: GatewayWentAway, out: Path | None, meta: dict[str, object]) -> ReportBundle:
    """The partial report of a run whose gateway went away: what ran before, verdict
    ``incomplete`` (no failure written: the run gave no verdict), and why it ended."""
    from harness.fuzz.report import report_bundle

    bundle = report_bundle(event.report, out, meta | {"unavailable": str(event.problem)})
    bundle.gaps = (*bundle.gaps, "the gateway went away before the run ended")
    return bundle


__all__ = ["gone_bundle", "print_gaps", "print_lifecycle", "print_summary", "stopped", "where"]
