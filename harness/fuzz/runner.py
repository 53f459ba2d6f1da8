"""Run a fuzz campaign against a target, within a budget of cases or a duration.

The runner keeps going after a failure (a campaign should count everything it finds),
so it does not let hypothesis stop and shrink at the first one: it draws batches with
hypothesis's generator, judges every case, and remembers the first failure of each
(property, family). Procedures take turns (see :func:`harness.fuzz.turns.take_turns`), so
every procedure the run is to reach gets a case before any gets a second, then every older
form version the catalog still accepts gets one, and the report names those a budget too
small to reach them all left without one (:attr:`FuzzReport.unreached`,
:attr:`FuzzReport.unreached_form_versions`).
Afterwards each failure is minimised on its own with :func:`hypothesis.find` over the same
family and procedure, and the minimal dossier is written as evidence. Everything
observable is emitted as a past-tense event, so the CLI's progress display and report
writers subscribe instead of being called by name.

A campaign stopped by Ctrl-C or SIGTERM keeps what it found: each distinct failure not yet
minimised is written as first seen, and :class:`FuzzInterrupted` carries the partial report.
A target that went away (its ``unavailable`` set, as :class:`~harness.fuzz.http_target.
HttpTarget` does) ends the campaign with :class:`GatewayUnavailable`: no verdict, and no
"minimal failure" of a refused connection written.

This module is the case loop; the schedule of turns is :mod:`harness.fuzz.turns`, the
record it fills :mod:`harness.fuzz.outcome`, the events it emits :mod:`harness.fuzz.events`.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from harness.catalog import Catalog
from harness.errors import GatewayUnavailable, UsageError
from harness.fuzz._core import DEFAULT_SETTINGS, MutationSettings
from harness.fuzz._stops import Stops as _Stops
from harness.fuzz.events import (
    CaseExecuted,
    Event,
    FailureMinimised,
    FuzzFinished,
    FuzzInterrupted,
    GatewayWentAway,
)
from harness.fuzz.evidence import GatewayReplay
from harness.fuzz.exchange import observe
from harness.fuzz.failure_record import Setup as _Setup
from harness.fuzz.failure_record import written as _written
from harness.fuzz.family_plan import family_plan
from harness.fuzz.minimise import NOT_MINIMISED, Cause
from harness.fuzz.minimise import cause as _cause
from harness.fuzz.minimise import minimise as shrink
from harness.fuzz.mutations import check_families
from harness.fuzz.observation import DEFAULT_TIMEOUT, Observation
from harness.fuzz.outcome import FamilyCount, FuzzFailure, FuzzReport
from harness.fuzz.properties import PropertyFailed, failures
from harness.fuzz.strategies import FuzzCase, form_versions, strata
from harness.fuzz.target import Target
from harness.fuzz.turns import batch_size as _batch_size
from harness.fuzz.turns import generate as _generate
from harness.fuzz.turns import pinned as _pinned
from harness.fuzz.turns import take_turns as _take_turns
from harness.identities import DEFAULT_IVAN_CODE
from harness.reporting import new_run_id
from harness.reporting.bundle import when_stopped
from harness.signing import TestPKI, ensure_pki


def run_fuzz(
    target: Target,
    catalog: Catalog,
    *,
    budget: int | None = None,
    duration: float | None = None,
    seed: int = 0,
    procedure: str | Iterable[str] | None = None,
    families: Iterable[str] | None = None,
    pki: TestPKI | None = None,
    mutation_settings: MutationSettings = DEFAULT_SETTINGS,
    timeout: float = DEFAULT_TIMEOUT,
    strict: bool = True,
    found: Path | None = None,
    minimise: int = 100,
    batch: int = 4,
    valid: bool = True,
    on_event: Callable[[Event], None] | None = None,
    replay: GatewayReplay | None = None,
    ivan: str = DEFAULT_IVAN_CODE,
) -> FuzzReport:
    """Fuzz ``target`` with ``budget`` cases and/or for ``duration`` seconds.

    ``seed`` makes a budgeted run repeatable; ``valid`` mixes valid dossiers in (one
    more "family") so "valid → accepted" is judged too. Each procedure (of ``procedure``;
    with ``families``, those one of them applies to) gets its turn and a fair share of the
    budget; a body drawn twice is sent once. ``minimise`` is the number of examples
    :func:`hypothesis.find` may try per distinct failure (0 writes the first failing
    case as found). Evidence goes to ``found`` (default ``fixtures/dossiers/found``);
    ``replay``, for a URL target, makes its reproduce lines send the dossier there.
    Every dossier, minimised ones included, names ``ivan`` (MaIVAN): the I-VAN whose
    token the target submits with.
    """
    check_budget(budget, duration)
    wanted = None if families is None else tuple(families)
    chosen = () if wanted == () and valid else check_families(wanted)  # (): valid alone
    pki = pki or ensure_pki()
    emit = on_event or (lambda event: None)
    name = getattr(target, "name", type(target).__name__)
    started_at, run_id = datetime.now(UTC), new_run_id("fuzz")
    report = FuzzReport(
        name, catalog.version, seed, ivan=ivan, started_at=started_at, run_id=run_id
    )
    replay = None if replay is None else replace(replay, timeout=timeout)  # --max-time
    setup = _Setup(name, ivan, pki, replay, {})  # evidence is named for it
    first: dict[Cause, PropertyFailed] = {}
    counts: dict[Cause, int] = {}
    seen: dict[Cause, dict[tuple[str, str], None]] = {}  # where each showed, in order
    written: set[Cause] = set()
    plan = strata(
        catalog,
        procedure,
        families=None if wanted is None else chosen,  # None: no family to check applies
        pki=pki,
        settings=mutation_settings,
        valid=valid,
        ivan=ivan,
    )
    report.procedures = tuple(stratum.procedure for stratum in plan)
    report.form_versions = form_versions(catalog, report.procedures)
    report.family_plan = family_plan(plan, chosen, valid)
    size = _batch_size(batch, budget, len(plan))
    turns = [(s.procedure, s.batches(size, widest=True), s.batches(size)) for s in plan]
    pinned = _pinned(catalog, plan, size)
    done: set[str] = set()  # the bodies judged: a body drawn again is not sent again
    stops = _Stops()
    start = time.perf_counter()
    sent: list[FuzzCase] = []  # the last case sent: the one a gateway that went away got
    lost: list[GatewayUnavailable] = []  # the gateway kept asking to wait

    def send(case: FuzzCase) -> Observation:
        stops.check()
        sent[:] = [case]
        obs = observe(target, case, timeout=timeout, strict=strict)
        if obs.unavailable is not None and not lost:
            lost.append(GatewayUnavailable(f"the gateway {name} is unavailable: {obs.unavailable}"))
        return obs

    def problem() -> GatewayUnavailable | None:
        return _unavailable(target) or (lost[0] if lost else None)

    def gone() -> bool:
        return problem() is not None

    def exhausted() -> bool:
        over_time = duration is not None and time.perf_counter() - start >= duration
        return over_time or (budget is not None and report.cases >= budget) or gone()

    def no_verdict_if_gone() -> None:
        why = problem()
        if why is not None:
            ended = _no_verdict(why, report, len(first), sent[0] if sent else None)
            report.elapsed = time.perf_counter() - start
            emit(GatewayWentAway(report, ended))
            raise ended

    def judge(case: FuzzCase) -> bool:
        """Send and judge one case; False when the gateway went away (nothing counted)."""
        obs = send(case)
        if gone():
            return False  # the gateway's absence is no property of this case
        done.add(case.message_id)
        failed = tuple(failures(obs))
        report.cases += 1
        for tally in (
            report.families.setdefault(case.family, FamilyCount()),
            report.by_procedure.setdefault((case.family, case.spec.procedure), FamilyCount()),
        ):
            tally.executed += 1
            tally.failed += bool(failed)
        report.mutations[case.kind] = report.mutations.get(case.kind, 0) + 1
        for form_version in case.spec.form_files(catalog):
            report.by_form_version[form_version] = report.by_form_version.get(form_version, 0) + 1
        for failure in failed:
            key = _cause(failure)
            counts[key] = counts.get(key, 0) + 1  # first: a stop between keeps both in step
            seen.setdefault(key, {})[(case.family, case.spec.procedure)] = None
            first.setdefault(key, failure)
        emit(CaseExecuted(obs, failed))
        return True

    def turn(strategy: Any, quota: int, key: str, examples: int) -> None:
        """One procedure's turn: up to ``quota`` new cases from ``examples`` batches drawn
        with hypothesis seed ``key``."""
        judged = 0

        def step(cases: list[FuzzCase]) -> None:
            nonlocal judged
            for case in cases:
                if judged >= quota or exhausted():
                    return
                if case.message_id not in done:
                    if not judge(case):
                        return
                    judged += 1

        _generate(strategy, step, key, examples)

    def result(key: Cause, minimal: PropertyFailed) -> FuzzFailure:
        written.add(key)
        where = tuple(seen.get(key, {}))
        failure = first[key]
        return _written(failure, minimal, counts[key], found, setup, catalog, where, key)

    def keep() -> None:
        """On a stop: the failures not written yet, as first seen, and the partial report."""
        for key, failure in first.items():
            if key not in written:
                report.failures.append(result(key, failure))
        report.elapsed = time.perf_counter() - start
        emit(FuzzInterrupted(report))

    with stops.watching(), when_stopped(keep):
        _take_turns(turns, size, budget, seed, turn, lambda: report.cases, exhausted, pinned)
        no_verdict_if_gone()
        for key, failure in first.items():
            minimal = failure
            if minimise and failure.check not in NOT_MINIMISED:
                minimal = shrink(
                    failure, send, catalog, pki, mutation_settings, minimise, seed, ivan, gone
                )
                no_verdict_if_gone()
            report.failures.append(result(key, minimal))
            emit(FailureMinimised(report.failures[-1]))
    report.elapsed = time.perf_counter() - start
    emit(FuzzFinished(report))
    return report


def check_budget(budget: int | None, duration: float | None) -> None:
    """Refuse a campaign that could send no case, saying what to give instead."""
    if budget is None and duration is None:
        raise UsageError(
            "give --budget (cases) or --duration (seconds), or both",
            hint="e.g. --budget 200, or --duration 600 for ten minutes",
        )
    if budget is not None and budget < 1:
        raise UsageError(
            f"--budget {budget}: give at least 1 case",
            hint="e.g. --budget 200; or leave --budget out and give --duration SECONDS",
        )
    if duration is not None and not duration > 0:  # NaN too
        raise UsageError(
            f"--duration {duration:g}: give a positive number of seconds",
            hint="e.g. --duration 600 for ten minutes",
        )


def _unavailable(target: Target) -> GatewayUnavailable | None:
    """Why ``target`` no longer answers at all, if it says so (an HTTP target does)."""
    problem = getattr(target, "unavailable", None)
    return problem if isinstance(problem, GatewayUnavailable) else None


def _no_verdict(
    problem: GatewayUnavailable, report: FuzzReport, seen: int, last: FuzzCase | None
) -> GatewayUnavailable:
    """The campaign's end when the gateway went away: what was done, what was not written,
    the case it was sent last (a gateway may have crashed on it), and what to do."""
    lines = [
        str(problem),
        f"it went away after {report.cases} judged case(s): no verdict, and no minimal "
        f"failure written ({seen} distinct failure(s) seen before)",
    ]
    if last is not None:
        lines.append(
            f"the last case sent was {last.in_words()}: if the gateway crashed on it, "
            "that is a finding to reproduce"
        )
    lines.append(
        "Hint: check that the gateway still runs and is reachable, then re-run (the same "
        "--seed sends the same cases)"
    )
    return GatewayUnavailable("\n".join(lines))


__all__ = ["check_budget", "run_fuzz"]
