"""Run a fuzz campaign against a target, within a budget of cases or a duration.

The runner keeps going after a failure (a campaign should count everything it finds),
so it does not let hypothesis stop and shrink at the first one: it draws batches with
hypothesis's generator, judges every case, and remembers the first failure of each
(property, family). Procedures take turns (see :func:`_take_turns`), so every procedure
the run is to reach gets a case before any gets a second, then every older form version
the catalog still accepts gets one, and the report names those a budget too small to reach
them all left without one (:attr:`FuzzReport.unreached`,
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
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from hypothesis import Phase, given, settings
from hypothesis import seed as seed_run
from hypothesis.errors import Unsatisfiable

from harness.catalog import Catalog
from harness.errors import GatewayUnavailable, UsageError
from harness.fuzz._core import DEFAULT_SETTINGS, MutationSettings
from harness.fuzz._stops import Stops as _Stops
from harness.fuzz.evidence import Evidence, GatewayReplay, write_evidence
from harness.fuzz.family_plan import family_plan
from harness.fuzz.minimise import NOT_MINIMISED, QUIET, Cause, shrunk
from harness.fuzz.minimise import cause as _cause
from harness.fuzz.minimise import minimise as shrink
from harness.fuzz.mutations import check_families
from harness.fuzz.pool import DossierSpec
from harness.fuzz.properties import DEFAULT_TIMEOUT, Observation, PropertyFailed, failures, observe
from harness.fuzz.strategies import FuzzCase, Stratum, form_versions, strata
from harness.fuzz.target import Target
from harness.identities import DEFAULT_IVAN_CODE
from harness.reporting import new_run_id
from harness.reporting.bundle import when_stopped
from harness.signing import TestPKI, ensure_pki


@dataclass
class FamilyCount:
    """Cases of one family sent, and how many broke a property."""

    executed: int = 0
    failed: int = 0


@dataclass(frozen=True)
class FuzzFailure:
    """One distinct failure: a property broken for one cause (the codes expected and
    those answered, see :func:`_cause`), wherever it showed, minimised if it could be."""

    check: str
    family: str
    mutation: str
    reason: str
    answer: str
    expected: tuple[str, ...]
    codes: tuple[str, ...]
    occurrences: int
    minimised: bool
    evidence: Evidence | None
    procedure: str = ""  # the minimal case's
    forms: tuple[str, ...] = ()  # its valid dossier's form files, e.g. D02-TS-505
    detail: str = ""  # where the answer's first error points, and what it says
    seen: tuple[tuple[str, str], ...] = ()  # every (family, procedure) it showed in
    body: str = ""  # the start of the answer that broke the property, as sent

    @property
    def cell(self) -> str:
        """The report's case that holds its minimal dossier: ``FUZZ-<family>@<procedure>``."""
        return f"FUZZ-{self.family}@{self.procedure}"


@dataclass
class FuzzReport:
    """The outcome of :func:`run_fuzz`; ``ok`` when no property failed."""

    target: str
    catalog_version: str
    seed: int
    cases: int = 0
    elapsed: float = 0.0
    families: dict[str, FamilyCount] = field(default_factory=dict)
    by_procedure: dict[tuple[str, str], FamilyCount] = field(default_factory=dict)
    """(family, procedure) -> count: which procedures each family reached, and broke."""
    mutations: dict[str, int] = field(default_factory=dict)  # by Mutation.kind
    failures: list[FuzzFailure] = field(default_factory=list)
    ivan: str = DEFAULT_IVAN_CODE
    """The I-VAN every dossier named (MaIVAN)."""
    procedures: tuple[str, ...] = ()
    """The procedures the run was to reach: each got its turn (see :func:`run_fuzz`)."""
    form_versions: dict[str, tuple[str, ...]] = field(default_factory=dict)
    """Each form version the run was to reach (``TK1-TS-590``: every version the catalog
    accepts of a form the procedures take) -> those of the procedures that take it."""
    by_form_version: dict[str, int] = field(default_factory=dict)
    """Form version -> cases over a dossier carrying it (a case counts once per form)."""
    family_plan: tuple[str, ...] = ()
    """The families the run was to reach: each that applies to one of its procedures."""
    started_at: datetime = field(kw_only=True)
    """When the campaign began (UTC), before its first case: its report's start."""
    run_id: str = field(kw_only=True)
    """The report's run id (and folder name), stamped when the campaign began."""

    @property
    def ok(self) -> bool:
        return not self.failures

    @property
    def cases_per_second(self) -> float:
        return self.cases / self.elapsed if self.elapsed else 0.0

    @property
    def cases_by_procedure(self) -> dict[str, int]:
        """Cases each procedure got, every one the run was to reach included (0 or more)."""
        counts = dict.fromkeys(self.procedures, 0)
        for (_family, procedure), count in self.by_procedure.items():
            counts[procedure] = counts.get(procedure, 0) + count.executed
        return counts

    @property
    def unreached(self) -> tuple[str, ...]:
        """The procedures the run was to reach that got no case: it says nothing of them."""
        return tuple(p for p, n in self.cases_by_procedure.items() if not n)

    @property
    def cases_by_form_version(self) -> dict[str, int]:
        """Cases over each form version, every one the run was to reach included (0 or more)."""
        counts = dict.fromkeys(self.form_versions, 0)
        for form_version, count in self.by_form_version.items():
            counts[form_version] = counts.get(form_version, 0) + count
        return counts

    @property
    def unreached_form_versions(self) -> tuple[str, ...]:
        """The accepted form versions the run was to reach that got no case: it says nothing
        of senders still filing them."""
        return tuple(v for v, n in self.cases_by_form_version.items() if not n)

    @property
    def unrun_families(self) -> tuple[str, ...]:
        """The families the run was to reach that got no case: it says nothing of them."""
        return tuple(f for f in self.family_plan if f not in self.families)

    def to_dict(self) -> dict[str, Any]:
        """Plain data for JSON reports."""
        return {
            "target": self.target,
            "catalog_version": self.catalog_version,
            "seed": self.seed,
            "ivan": self.ivan,
            "cases": self.cases,
            "elapsed": round(self.elapsed, 3),
            "ok": self.ok,
            "families": {k: vars(v) for k, v in sorted(self.families.items())},
            "unrun_families": list(self.unrun_families),
            "cases_by_procedure": self.cases_by_procedure,
            "unreached_procedures": list(self.unreached),
            "cases_by_form_version": self.cases_by_form_version,
            "unreached_form_versions": list(self.unreached_form_versions),
            "mutations": dict(sorted(self.mutations.items())),
            "failures": [
                {
                    **{k: v for k, v in vars(f).items() if k != "evidence"},
                    "evidence": None if f.evidence is None else str(f.evidence.dossier),
                    "reproduce": None if f.evidence is None else f.evidence.command,
                }
                for f in self.failures
            ],
        }


@dataclass(frozen=True)
class CaseExecuted:
    """A case was sent and judged (``failed`` lists the properties it broke)."""

    observation: Observation
    failed: tuple[PropertyFailed, ...]


@dataclass(frozen=True)
class FailureMinimised:
    """A distinct failure was minimised (or could not be) and written as evidence."""

    failure: FuzzFailure


@dataclass(frozen=True)
class FuzzFinished:
    """The campaign ended."""

    report: FuzzReport


@dataclass(frozen=True)
class FuzzInterrupted:
    """The campaign was stopped (Ctrl-C, SIGTERM) before it finished: ``report`` holds the
    cases judged so far and every distinct failure found, each written as evidence
    (minimised if it got that far, else as first seen)."""

    report: FuzzReport


@dataclass(frozen=True)
class GatewayWentAway:
    """The gateway went away: ``report`` holds the cases judged before (no failure written),
    so the partial report can still say what ran; :class:`GatewayUnavailable` follows."""

    report: FuzzReport
    problem: GatewayUnavailable


Event = CaseExecuted | FailureMinimised | FuzzFinished | FuzzInterrupted | GatewayWentAway


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


@dataclass(frozen=True)
class _Setup:
    """Who fuzzed which gateway, and how to replay there: what evidence is written for."""

    gateway: str
    ivan: str
    pki: TestPKI
    replay: GatewayReplay | None
    taken: dict[str, str]  # evidence name -> the cause written there: one file per failure


def _written(
    failure: PropertyFailed,
    minimal: PropertyFailed,
    occurrences: int,
    found: Path | None,
    setup: _Setup,
    catalog: Catalog,
    seen: tuple[tuple[str, str], ...] = (),
    key: Cause = (),
) -> FuzzFailure:
    """``failure`` as the report gives it, with ``minimal`` (``failure`` itself when it was
    not minimised) written as evidence in ``found``, named for the ``setup`` that found it."""
    evidence = write_evidence(
        minimal,
        found,
        pki_dir=setup.pki.directory,
        replay=setup.replay,
        ivan=setup.ivan,
        gateway=setup.gateway,
        shrunk=shrunk(failure.check, minimal is not failure),
        taken=setup.taken,
        cause="/".join(key),
    )
    obs = minimal.observation
    return FuzzFailure(
        failure.check,
        failure.case.family,
        minimal.case.name,
        minimal.reason,
        obs.answer_for(failure.check),
        tuple(sorted(minimal.case.expected_codes)),
        () if obs.answer is None else tuple(dict.fromkeys(obs.answer.codes)),
        occurrences,
        minimal is not failure,
        evidence,
        minimal.case.spec.procedure,
        _forms(catalog, minimal.case.spec),
        obs.detail,
        seen,
        obs.body_for(failure.check),
    )


def _forms(catalog: Catalog, spec: DossierSpec) -> tuple[str, ...]:
    """The form versions ``spec``'s valid dossier carries (``D02-TS-505``): what a
    failure line names beside the procedure, so whoever reads it knows where to look."""
    return spec.form_files(catalog)


def _pinned(catalog: Catalog, plan: Sequence[Stratum], size: int) -> list[tuple[str, Any]]:
    """One turn per older form version the catalog accepts of a form the run's procedures
    take: the widest dossier of the first procedure taking the form, in that version. Named
    ``PROCEDURE:FORM=VERSION``, the turn's hypothesis seed, so it depends on nothing else."""
    pinned = []
    for form in catalog.forms.values():
        takers = [s for s in plan if form.code in catalog.procedures[s.procedure].forms]
        for version in form.versions[:-1] if takers else ():  # the last one is current
            strategy = takers[0].batches(size, widest=True, pinned={form.code: version.version})
            pinned.append((f"{takers[0].procedure}:{form.code}={version.version}", strategy))
    return pinned


Turn = Callable[[Any, int, str, int], None]
"""Draws ``examples`` batches of a strategy with a seed, judging up to ``quota`` new cases."""


def _take_turns(
    turns: list[tuple[str, Any, Any]],
    size: int,
    budget: int | None,
    seed: int,
    turn: Turn,
    cases: Callable[[], int],
    exhausted: Callable[[], bool],
    pinned: Sequence[tuple[str, Any]] = (),
) -> None:
    """Rounds of turns, one per procedure in catalog order, until the budget or the time is
    spent: round 0 sends each procedure's widest dossier (every form it takes, in its
    current version), so every procedure gets a case before any gets a second; then each
    ``pinned`` turn (an older form version, see :func:`_pinned`) sends one case, before the
    rounds go on. A turn's hypothesis seed names the seed, round and procedure (a pinned
    one's: the seed and its name): the same seed draws the same cases, and adding a
    procedure to the catalog does not change the others'."""
    for round_ in itertools.count():
        if round_ == 1 and not _pinned_turns(pinned, seed, turn, exhausted):
            return
        before = cases()
        quotas = _quotas(round_, budget, before, len(turns), size)
        for (procedure, widest, drawn), quota in zip(turns, quotas, strict=True):
            if exhausted():
                return
            if quota:
                # +2: a turn's first batch is hypothesis's simplest (one body repeated, sent
                # once), and a batch may draw a body twice
                examples = 1 if round_ == 0 else -(-quota // size) + 2
                turn(
                    widest if round_ == 0 else drawn,
                    quota,
                    f"{seed}:{round_}:{procedure}",
                    examples,
                )
        if exhausted() or cases() == before:
            return  # hypothesis had nothing left to generate


def _pinned_turns(
    pinned: Sequence[tuple[str, Any]], seed: int, turn: Turn, exhausted: Callable[[], bool]
) -> bool:
    """One case of each pinned turn (its simplest batch); False once the budget or the time
    is spent. A version whose dossiers the run's families find nothing to break in gets no
    case (hypothesis finds no batch to send), and the report counts it 0."""
    for name, strategy in pinned:
        if exhausted():
            return False
        try:
            turn(strategy, 1, f"{seed}:{name}", 1)
        except Unsatisfiable:
            continue
    return not exhausted()


TURN_BATCHES = 4
"""Batches a procedure draws in one turn before the next procedure's: a run stopped early
(--duration, Ctrl-C) has still spread its cases over every procedure."""


def _batch_size(batch: int, budget: int | None, procedures: int) -> int:
    """Cases per drawn dossier: ``batch``, fewer when the budget would not give every
    procedure a batch after the first round's one case each."""
    if budget is None or not procedures:
        return batch
    return max(1, min(batch, (budget - procedures) // procedures))


def _quotas(round_: int, budget: int | None, cases: int, procedures: int, size: int) -> list[int]:
    """New cases each procedure may get this round, in turn: one each in round 0 (its
    widest dossier), then a fair share of what the budget has left, a turn at most."""
    if round_ == 0:
        return [1] * procedures
    most = TURN_BATCHES * size
    if budget is None:
        return [most] * procedures
    left = max(0, budget - cases)
    return [min(most, left // procedures + (i < left % procedures)) for i in range(procedures)]


def _generate(strategy: Any, judge: Callable[[list[FuzzCase]], None], seed: str, n: int) -> None:
    @seed_run(seed)
    @settings(max_examples=n, phases=[Phase.generate], **QUIET)  # type: ignore[arg-type]
    @given(strategy)
    def step(cases: list[FuzzCase]) -> None:
        judge(cases)

    step()


__all__ = [
    "CaseExecuted",
    "Event",
    "FailureMinimised",
    "FamilyCount",
    "FuzzFailure",
    "FuzzFinished",
    "FuzzInterrupted",
    "FuzzReport",
    "GatewayWentAway",
    "check_budget",
    "run_fuzz",
]
