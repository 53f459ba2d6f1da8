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
    LOAD_RETRY,
    NOT_TIMED,
    REJECTED,
    UNACKNOWLEDGED,
    UNREAD,
    UNREAD_COUNTED,
    WAITING_RETRY,
)
from harness.load.ivan import (
    sent as dossiers_sent,
)
from harness.load.levels import (
    INCOMPLETE,
    NOT_JUDGED,
    PASSED,
    RETRIED,
    LevelResult,
    Measurements,
    count_text,
    run_verdict,
)
from harness.load.pacing import LATE, LATE_TOLERANCE, NOT_SENT
from harness.load.profile import MAX_IN_FLIGHT
from harness.load.stats import RequestFailure
from harness.reporting import CaseResult, Outcome, ReportBundle

DEFAULT_SOURCE = "fixtures/load/service-levels.yaml"
"""How the report names the default service-level file (a file given with
``--service-levels`` is named by its absolute path)."""

REQUIREMENTS = {
    "latency": "{source} latency_ms (real time per step)",
    "error_rate": "{source} error_rate",
    "lifecycle": "Decree 166 art. 25/30 (2 hours) and {source} lifecycle_s",
    "throughput_ratio": "{source} throughput_ratio: the gateway took the load",
}


def requirement(kind: str, source: str = DEFAULT_SOURCE) -> str:
    """What a level's case rests on, naming the service-level file the run used."""
    return REQUIREMENTS[kind].format(source=source)


ABANDONED_MEANS = (
    f"given up with no acceptance or refusal: no answer or {RETRIED} on all "
    f"{LOAD_RETRY.attempts} attempts of the retry policy, or an answer that is neither 202 "
    "nor 4xx"
)
"""What "abandoned" means in the dossiers line (harness.load.submitter's retry policy)."""

TOP_FAILURES = 3
"""Reasons the terminal and the facts name; results.json and verdict.html hold more."""


def failure_account(failures: list[RequestFailure], top: int = TOP_FAILURES) -> str:
    """Why requests failed, most frequent first, from locust's failures table: a dead
    gateway or one in maintenance is named here, not only in locust_failures.csv."""
    total = sum(f.count for f in failures)
    if not total:
        return "none"
    shown = "; ".join(f.describe() for f in failures[:top])
    more = f"; +{len(failures) - top} more reasons" if len(failures) > top else ""
    return f"{total:,} by request and reason: {shown}{more} (locust_failures.csv)"


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
        return self.verdict == PASSED

    @property
    def verdict(self) -> str:
        """ERROR: the run itself broke (no verdict on the gateway); INCOMPLETE: no level
        could be judged; else PASSED or FAILED on the levels judged."""
        return run_verdict(self.results, self.error)

    @property
    def failed(self) -> list[LevelResult]:
        """The levels missed (judged and not met)."""
        return [] if self.error else [r for r in self.results if r.judged and not r.passed]

    @property
    def not_judged(self) -> list[LevelResult]:
        """The levels the run gave no sample (every level, when the run itself broke)."""
        return list(self.results) if self.error else [r for r in self.results if not r.judged]

    def headline(self) -> str:
        """The verdict line: a levels count only of levels judged, and why for the rest."""
        if self.error:
            first, *_rest = self.error.splitlines() or [""]
            return f"verdict: ERROR (the run itself failed: {first}; no service level judged)"
        judged = [r for r in self.results if r.judged]
        if not judged:
            return (
                f"verdict: {INCOMPLETE} (none of the {len(self.results)} service levels had "
                "a sample to judge: the run concludes nothing)"
            )
        met = sum(r.passed for r in judged)
        skipped = len(self.results) - len(judged)
        rest = f"; {skipped} not judged, listed below" if skipped else ""
        return f"verdict: {self.verdict} ({met} of {len(judged)} judged service levels met{rest})"

    def summary(self) -> str:
        """Lines for a terminal or a CI log: verdict, every level with what was measured
        (a passing run's margins are news too), the missed ones' details, report path."""
        lines = [self.headline()]
        if self.error:  # the headline has its first line; the levels were not judged
            lines += [f"  {line}" for line in self.error.splitlines()[1:]]
            facts: tuple[str, ...] = ("dossiers", FAILURES)
        else:
            lines += _levels_lines(self.results)
            if self.not_judged:
                names = ", ".join(r.level.name for r in self.not_judged)
                lines.append(f"not judged (no sample, neither met nor missed): {names}")
            lines += self._procedure_lines()
            facts = SUMMARY_FACTS
        lines += [f"{key}: {self.facts[key]}" for key in facts if key in self.facts]
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


_MARKS = {"met": "met   ", "missed": "missed", NOT_JUDGED: NOT_JUDGED}


def _levels_lines(results: list[LevelResult]) -> list[str]:
    """Every level's lines; why a level was not judged is said once for levels in a row
    that share it (ack p95, p99, p99.9)."""
    lines: list[str] = []
    said: tuple[str, str] | None = None
    for r in results:
        own = _level_lines(r)
        why = (r.detail, r.hint) if not r.judged else None
        lines += own[:1] + (["         (as above)"] if why and why == said else own[1:])
        said = why
    return lines


def _level_lines(r: LevelResult) -> list[str]:
    """A level's terminal line, and for one not judged why and how to get it judged."""
    level = r.level
    measured = (
        "no sample"
        if r.measured is None
        else r.measured_text + (f" from {r.basis}" if r.basis else "")
    )
    lines = [f"  {_MARKS[r.outcome]} {level.name}: {measured} ({level.describe()})"]
    if not r.judged:
        lines += [
            f"             {text}" for text in (r.detail, r.hint and f"hint: {r.hint}") if text
        ]
    return lines


@dataclass
class LoadBundle(ReportBundle):
    """The load run's report bundle: results.json also holds the breakdown by procedure,
    why requests failed, and the load verdict (INCOMPLETE when no level was judged)."""

    procedures: dict[str, Any] = field(default_factory=dict)
    failures: list[dict[str, Any]] = field(default_factory=list)
    load_verdict: str = ""
    feed_at_stop: dict[str, Any] = field(default_factory=dict)
    """Per I-VAN, the feed messages its readers left unread or unacknowledged at the stop."""
    partial: str = ""
    """Set on a stopped run's bundle: its figures are only what ran before the stop."""

    def to_dict(self) -> dict[str, Any]:
        data = {
            **super().to_dict(),
            "procedures": self.procedures,
            "failures": self.failures,
            "feed_at_stop": self.feed_at_stop,
        }
        if self.partial:
            data["partial"] = self.partial
        if self.load_verdict == INCOMPLETE:  # every case skipped: the bundle says "skipped"
            data["verdict"] = INCOMPLETE.lower()
        return data


FAILURES = "failed requests"
LIFECYCLE_NOTE = "lifecycle times"
FEED_AT_STOP = "feed left at the stop"
PARTIAL = "partial figures"
"""The fact that labels a stopped run's figures (results.json also says it as ``partial``)."""
PARTIAL_PAGE = "partial.html"
"""A stopped run's page of figures (no verdict: verdict.html is a finished run's)."""
SUMMARY_FACTS = ("dossiers", FAILURES, "feed messages", FEED_AT_STOP, LIFECYCLE_NOTE)
"""Facts the terminal repeats from the verdict page: where every dossier and message went,
why requests failed, and how lifecycle times were counted."""


def lifecycle_note(clock_speed: float) -> str:
    """Which clock lifecycle times are on: the generator's wall clock scaled to simulated
    seconds, not the gateway's timestamps, so network latency and polling count too."""
    plural = "" if clock_speed == 1 else "s"
    return (
        "simulated seconds as the I-VAN saw them: its own wall-clock time from the first "
        "attempt until it held the receipt or read the message from its feed (polling delay "
        "and the request's own latency included), times the gateway's clock speed "
        f"{clock_speed:g} (one real second counts {clock_speed:g} simulated second{plural}); "
        "not read from the gateway's timestamps"
    )


def dossier_account(
    counts: Mapping[str, int],
    scheduled: float,
    asked: float,
    model: str = "open",
    cap: int = MAX_IN_FLIGHT,
) -> str:
    """Where the scheduled dossiers went, every one accounted for: scheduled = accepted +
    rejected + abandoned + in flight at stop + not sent (+ the difference left to chance).
    ``cap``: the open model's in-flight cap per user, the one reason an arrival is not sent."""
    parts = [
        f"{counts.get(ACCEPTED, 0):,} accepted",
        f"{counts.get(REJECTED, 0):,} rejected",
        f"{counts.get(ABANDONED, 0):,} abandoned ({ABANDONED_MEANS})",
        f"{counts.get(IN_FLIGHT, 0):,} in flight at stop (cut off: no answer within the stop "
        "grace after the end; the gateway may have stored them)",
        f"{counts.get(WAITING_RETRY, 0):,} {WAITING_RETRY} (every attempt refused with "
        "429/503: not stored)",
    ]
    sent = dossiers_sent(counts)
    not_sent = counts.get(NOT_SENT, 0)
    if model == "open":
        parts.append(
            f"{not_sent:,} not sent (in-flight cap: each arrival is sent at its time, but these "
            f"came while their user already had {cap:,} dossiers waiting for an answer)"
        )
    rest = round(scheduled - sent - not_sent)
    why = (
        "each user waits for its answer before thinking"
        if model == "closed"
        else "random gaps, arrivals due as the run stopped"
    )
    if rest > 0:
        parts.append(f"{rest:,} not started by the end ({why})")
    elif rest < 0:
        parts.append(f"{-rest:,} more started than scheduled (random gaps)")
    text = f"{count_text(scheduled)} scheduled (the shape asks for {count_text(asked)}): "
    text += ", ".join(parts)
    if grace := counts.get(ANSWERED_IN_GRACE, 0):
        text += f"; {grace:,} of those answered were in flight at the end and answered in the grace"
    if late := counts.get(LATE, 0):
        text += (
            f"; {late:,} of those sent started late (more than {LATE_TOLERANCE:g} s after their "
            "arrival time: the generator fell behind its schedule, e.g. short of CPU)"
        )
    return text + f"; {counts.get('retries', 0):,} retries"


def partial_dossiers(counts: Mapping[str, int]) -> str:
    """Where the dossiers sent before a stop went: a stopped run measured no schedule to
    account them against, so only what was sent is counted."""
    sent = dossiers_sent(counts)
    return (
        f"{sent:,} sent before the stop: {counts.get(ACCEPTED, 0):,} accepted, "
        f"{counts.get(REJECTED, 0):,} rejected, {counts.get(ABANDONED, 0):,} abandoned, "
        f"{counts.get(IN_FLIGHT, 0):,} in flight at stop (cut off by the stop; the gateway "
        f"may have stored them), {counts.get(WAITING_RETRY, 0):,} {WAITING_RETRY} (not "
        f"stored); {counts.get('retries', 0):,} retries"
    )


def partial_lines(
    facts: Mapping[str, str], rows: tuple[list[ProcedureFigures], ProcedureFigures] | None
) -> list[str]:
    """A stopped run's figures for the terminal: the label, the table by procedure (when
    the lifecycle file was written) and the accounts, as a finished run prints them."""
    lines = [f"{PARTIAL}: {facts[PARTIAL]}"]
    if rows is not None:
        lines += [f"by procedure, up to the stop ({PARTIAL}):", *table_lines(*rows)]
    keys = ("dossiers", FAILURES, "feed messages", FEED_AT_STOP, LIFECYCLE_NOTE)
    return lines + [f"{key}: {facts[key]}" for key in keys if key in facts]


def feed_account(counts: Mapping[str, int], shared: bool = False) -> str:
    """What the feed readers read: messages timed, duplicates (timed once) and messages not
    timed (not about one of the run's dossiers; their acks are kept out of the ack level).
    ``shared``: processes act as the same I-VAN, so each also reads its siblings' messages."""
    read = sum(v for k, v in counts.items() if k.startswith("messages ") and k != NOT_TIMED)
    duplicates, not_timed = counts.get(DUPLICATES, 0), counts.get(NOT_TIMED, 0)
    whose = "a sibling process's sharing its I-VAN, " if shared else ""
    return (
        f"{read:,} read: {read - duplicates - not_timed:,} timed, {duplicates:,} duplicates "
        f"(delivered again: each dossier is timed at its first delivery), {not_timed:,} "
        f"messages not timed (not about a dossier of the process reading it: {whose}an "
        "earlier run's; one read before its receipt came back is timed when it comes; "
        "acknowledged as "
        '"ack (not this run\'s)", outside the ack latency level)'
    )


FEED_AT_STOP_MEANS = (
    "expected at a stop, not lost: the feed readers stop with the run, and the gateway "
    "keeps each message for its I-VAN's next read; messages issued after the stop are not "
    "counted"
)


def _left(ivan: str, left: Mapping[str, Any]) -> str:
    """One I-VAN's share: ``IVAN01: 3 issued and not read, 1 read and not acknowledged``."""
    unread = int(left.get(UNREAD, 0))
    counted = bool(left.get(UNREAD_COUNTED))
    if counted:
        issued = f"{unread:,} issued and not read"
    elif unread:
        issued = f"at least {unread:,} issued and not read (counting stopped there)"
    else:
        issued = "issued and not read: not counted (the gateway did not answer at the stop)"
    shared = int(left.get("processes", 1))
    who = f"{ivan} ({shared} processes)" if shared > 1 else ivan
    return f"{who}: {issued}, {int(left.get(UNACKNOWLEDGED, 0)):,} read and not acknowledged"


def feed_at_stop_account(at_stop: Mapping[str, Mapping[str, Any]]) -> str:
    """The messages the gateway issued to the run's I-VANs that their readers left unread
    or unacknowledged when the run stopped, per I-VAN and in all, said to be expected: a
    reader must not take them for lost messages. Empty when no reader recorded any."""
    if not at_stop:
        return ""
    unread = sum(int(v.get(UNREAD, 0)) for v in at_stop.values())
    unacked = sum(int(v.get(UNACKNOWLEDGED, 0)) for v in at_stop.values())
    exact = all(v.get(UNREAD_COUNTED) for v in at_stop.values())
    parts = "; ".join(_left(ivan, left) for ivan, left in sorted(at_stop.items()))
    total = f"{unread + unacked:,}" if exact else f"at least {unread + unacked:,}"
    return f"{total} in all ({parts}): {FEED_AT_STOP_MEANS}"


def _case_outcome(r: LevelResult, error: str) -> tuple[Outcome, str]:
    """A level's case: skipped when not judged (no sample, or the run itself broke)."""
    if error:
        return Outcome.SKIPPED, "not judged: the run itself failed (see the load-run case)"
    if not r.judged:
        return Outcome.SKIPPED, f"not judged: {r.detail}" + (f"; hint: {r.hint}" if r.hint else "")
    return (Outcome.PASSED if r.passed else Outcome.FAILED), r.detail


def cases(
    results: list[LevelResult],
    reproduce: str,
    error: str,
    seconds: float = 0.0,
    source: str = DEFAULT_SOURCE,
) -> list[CaseResult]:
    """One case per level (and one for a broken run), naming the service-level file
    ``source``. Every level is judged on the whole run, so its ``seconds`` are shared
    among the cases: JUnit's suite time is the run's."""
    share = seconds / max(1, len(results) + bool(error))
    cases = []
    for r in results:
        outcome, message = _case_outcome(r, error)
        cases.append(
            CaseResult(
                case_id=r.level.name,
                title=r.level.describe(),
                outcome=outcome,
                requirement=requirement(r.level.kind, source),
                message=message,
                evidence={
                    "measured": "—" if r.measured is None else f"{r.measured:.6g}",
                    "samples": r.basis or "—",
                },
                reproduce=reproduce,
                duration_s=share,
            )
        )
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
    "ABANDONED_MEANS",
    "DEFAULT_SOURCE",
    "FAILURES",
    "FEED_AT_STOP",
    "FEED_AT_STOP_MEANS",
    "LIFECYCLE_NOTE",
    "PARTIAL",
    "PARTIAL_PAGE",
    "REQUIREMENTS",
    "SUMMARY_FACTS",
    "LoadBundle",
    "LoadResult",
    "cases",
    "dossier_account",
    "failure_account",
    "feed_account",
    "feed_at_stop_account",
    "lifecycle_note",
    "partial_dossiers",
    "partial_lines",
    "requirement",
]
