"""What a load-test user does, as an I-VAN would: submit, retry safely, read the feed, ack.

This is the behaviour without locust: the locustfile hands in locust's HTTP client (any
object with ``request(method, path, name=, data=, headers=, catch_response=True)``
returning a context manager whose response has ``success()`` / ``failure()``), so the
logic is unit-tested with a fake client and the locustfile stays a thin adapter.

Retrying follows the reference client (:mod:`harness.client`): the same ``X-Message-Id``
on every attempt, so a retried dossier can never be stored twice; exponential backoff
with full jitter; ``Retry-After`` wins when it is longer. The hot path parses no XML: the
receipt's ``MA_GDICH`` and a refusal's code travel in headers (``X-Ma-Gdich``,
``X-BHXH-Ma-Loi``), and every millisecond the generator spends is a millisecond of load
it does not generate.

Lifecycle times are measured on the simulated clock: real seconds since the first attempt
times the gateway's clock speed, up to the moment the I-VAN holds the receipt or reads
the 02/TB-TS and 03/TB-TS messages from its feed (polling delay included, as a real
I-VAN would experience it).
"""

from __future__ import annotations

import functools
import json
import math
import os
import random
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from harness.client import RETRYABLE_STATUS, RetryPolicy, parse_retry_after
from harness.errors import GatewayUnavailable
from harness.load.pool import Picker
from harness.message_kinds import HANDOVER, RESULT
from harness.xmlsafe import XMLLimits, parse_xml

SUBMIT = "submit"
SUBMIT_RETRY = "submit (retry)"
FEED = "feed"
FEED_START = "feed (finding its end)"
FEED_AT_STOP = "feed (counting what is left at the stop)"
ACK = "ack"
ACK_OTHER = "ack (not this run's)"
"""Acknowledging a message that is not about one of the run's dossiers (an earlier run's
dossier the gateway handled meanwhile): every message is acknowledged, but these are kept
out of the ack step, so its latency is the run's own."""
STEPS = (SUBMIT, SUBMIT_RETRY, FEED, ACK)

ACCEPTED, REJECTED, ABANDONED = "accepted", "rejected", "abandoned"
IN_FLIGHT = "in flight at stop"
"""Dossiers whose user locust stopped before the gateway answered (or before a retry): the
gateway may have stored them, so the report counts them apart instead of losing them."""
ANSWERED_IN_GRACE = "answered in the stop grace"
"""Dossiers in flight when the run's duration ended whose answer came within the grace
the run gives them (counted among accepted, rejected or abandoned as well)."""
WAITING_RETRY = "waiting out Retry-After at stop"
"""Dossiers whose user was stopped while it waited to retry after a 429/503 (every attempt
answered, none timed out): the gateway refused each, so none is stored; not in flight."""
CUT_OFF = "unanswered at stop: "
"""Prefix of the counts, per step, of requests still unanswered when the stop cut them off
(after the stop grace): each is known slower than the grace, so a latency level on its
step counts it as a miss when the grace is past the level's limit."""
SENT = (ACCEPTED, REJECTED, ABANDONED, IN_FLIGHT, WAITING_RETRY)
"""A dossier's outcomes once sent: they add up to the dossiers sent."""


def sent(counts: Mapping[str, float]) -> int:
    """The dossiers sent: the sum of ``counts``' :data:`SENT` outcomes."""
    return int(sum(counts.get(k, 0) for k in SENT))


STOPPED = "not started: run stopping"
"""What :meth:`Submitter.submit` returns once locust is stopping: no dossier is started
that the stop would cut off in flight."""
NOT_TIMED = "messages not timed"
EARLY_KEPT = 100_000
"""Messages read before their dossier's receipt that a log keeps, at most, to time them
when the receipt comes back (a sibling process's or an earlier run's never are)."""
HELD_ACKS = "held_acks"
"""The key, in a worker's report, of the acks of messages read before their receipt that
no receipt has claimed yet (a snapshot): ``([ms answered], failed)``."""
DUPLICATES = "duplicate messages"
"""A message about a dossier and stage already timed (at-least-once delivery): counted,
never timed again, so a redelivery adds no sample."""

FAILED_REQUESTS = "failed_requests"
"""The key, in a lifecycle summary and each procedure's share, of ``{step: requests the
gateway did not answer}`` (no HTTP answer, 429 or 5xx): they are not response times."""

STAGES = ("submit_to_receipt", "submit_to_handover", "submit_to_result")
_STAGE_OF_KIND = {HANDOVER: "submit_to_handover", RESULT: "submit_to_result"}

TRIVIAL_BODY = b"<?xml version='1.0' encoding='UTF-8'?>\n<Hoso/>"
"""The benchmark's stand-in payload: what the generator costs without a real envelope."""

LOAD_RETRY = RetryPolicy(attempts=4, base_delay=0.5, max_delay=10.0, timeout=30.0)
_FEED_LIMITS = XMLLimits(max_bytes=64 * 1024 * 1024)
LEFT_AT_STOP_PAGES = 20
"""Feed pages a generator reads, at most, to count the messages it leaves unread at the
stop: past that many the report says "at least"."""
UNREAD, UNREAD_COUNTED, UNACKNOWLEDGED = "unread", "unread_counted", "unacknowledged"
"""An I-VAN's record of what its feed reader left at the stop (``feed_at_stop``)."""
ACK_BACKLOG_NAP = 0.05
"""Real seconds a feed reader with too many pages of acks running naps before it looks
again."""
FIND_END_PATIENCE = 20.0
"""Real seconds a generator waits in all, retrying, for its feed's end before the run: the
run's shape holds its clock 30 s for generators getting ready."""


class Response(Protocol):
    """The part of locust's response (with ``catch_response=True``) the users need."""

    status_code: int
    headers: Any

    @property
    def content(self) -> bytes | None: ...

    def success(self) -> None: ...

    def failure(self, exc: Any) -> None: ...


class Client(Protocol):
    """The part of locust's ``FastHttpSession`` the users need."""

    def request(
        self,
        method: str,
        url: str,
        *,
        name: str | None = None,
        data: bytes | None = None,
        headers: dict[str, str] | None = None,
        catch_response: bool = False,
    ) -> AbstractContextManager[Response]: ...


def _header(response: Response, name: str) -> str:
    headers = response.headers
    value = headers.get(name) if headers is not None else None
    return str(value) if value else ""


def failure_text(response: Response) -> str:
    """Why a request failed, for locust's failures table: the status and BHXH error code,
    or for status 0 (no HTTP answer) what went wrong, e.g. the connection was refused."""
    status = response.status_code
    if status == 0:
        error = getattr(response, "error", None)
        if isinstance(error, ConnectionRefusedError):
            return "no answer: connection refused (is the gateway running at this address?)"
        if error is not None:
            return f"no answer from the gateway: {type(error).__name__}: {error}"[:300]
    return f"HTTP {status} {_header(response, 'X-BHXH-Ma-Loi')}".strip()


_STOPPING_STATES = frozenset({"cleanup", "stopping", "stopped"})
"""Locust runner states once a run is being stopped (``locust.runners.STATE_*``)."""


def locust_stopping(client: object) -> bool:
    """Whether locust is stopping the run of ``client``'s user (False for a client that is
    not locust's): a dossier started then would be cut off in flight by the stop."""
    user = getattr(client, "user", None)
    runner = getattr(getattr(user, "environment", None), "runner", None)
    return getattr(runner, "state", None) in _STOPPING_STATES


_REFUSALS = frozenset({429, 503})
"""Answers that say the gateway did not take the dossier (a 502/504 may come from a proxy
whose gateway did), so a dossier refused only with these is not stored."""


def _retry_after(response: Response) -> float | None:
    return parse_retry_after(_header(response, "Retry-After")) or None


def _ceil_ms(ms: float) -> float:
    """Kept to the microsecond, rounded up: JSON stays small and never flatters the gateway."""
    return math.ceil(ms * 1000.0) / 1000.0


def answered(status: int) -> bool:
    """Whether ``status`` is the gateway's final answer (2xx-4xx, but 429): only those are
    response times. A refused connection, a timeout (status 0) or a fast 503 is a failure,
    and counting it as a latency sample made a gateway that fails fast look fast."""
    return 200 <= status < 500 and status not in RETRYABLE_STATUS


def refusal_code(response: Response) -> str:
    """The BHXH error code a refusal carries (``X-BHXH-Ma-Loi``), else its HTTP status: what
    the per-procedure breakdown lists as a rejected dossier's reason."""
    return _header(response, "X-BHXH-Ma-Loi") or f"HTTP {response.status_code}"


@dataclass
class ProcedureTally:
    """One procedure's share of a :class:`LifecycleLog`: its dossiers' outcomes, rejected
    ones' error codes, submit response times and lifecycle samples. The log records them
    in the same calls as its totals, so the procedures always add up to the totals."""

    counts: Counter[str] = field(default_factory=Counter)
    codes: Counter[str] = field(default_factory=Counter)
    latency_ms: dict[str, list[float]] = field(default_factory=dict)
    samples: dict[str, list[float]] = field(default_factory=dict)
    failed: Counter[str] = field(default_factory=Counter)  # step -> requests not answered

    def to_json(self) -> dict[str, Any]:
        return {
            "counts": dict(sorted(self.counts.items())),
            "codes": dict(self.codes.most_common()),
            "latency_ms": self.latency_ms,
            "samples": self.samples,
            FAILED_REQUESTS: dict(sorted(self.failed.items())),
        }

    def add(self, report: Mapping[str, Any]) -> None:
        """Add what a worker drained of this procedure."""
        self.counts.update({str(k): int(v) for k, v in report.get("counts", {}).items()})
        self.codes.update({str(k): int(v) for k, v in report.get("codes", {}).items()})
        self.failed.update(_counted(report.get(FAILED_REQUESTS)))
        for key, target in (("latency_ms", self.latency_ms), ("samples", self.samples)):
            for name, values in report.get(key, {}).items():
                target.setdefault(str(name), []).extend(float(v) for v in values)


def _waiting(ages: Mapping[str, float], handed_over: set[str]) -> dict[str, list[float]]:
    """Per stage, the ages of the dossiers (``{MA_GDICH: age}``) still waiting for it."""
    return {
        "submit_to_handover": [a for m, a in ages.items() if m not in handed_over],
        "submit_to_result": list(ages.values()),
    }


@dataclass
class LifecycleLog:
    """Submit-to-receipt/hand-over/result samples (simulated seconds), every request's
    response time (real ms, exact: locust's own percentiles are rounded) and counters.

    A worker process drains what is new into each report to the master; the master
    merges the reports; ``summary()`` is what the run's verdict reads. Dossiers still
    waiting for a message are reported with their age, so a level can count one that
    is already past its limit as missed instead of leaving it out. Each record also goes
    to its dossier's procedure (:attr:`procedures`), for the report's breakdown.
    """

    clock_speed: float = 1.0
    pending: dict[str, float] = field(default_factory=dict)
    samples: dict[str, list[float]] = field(default_factory=lambda: {s: [] for s in STAGES})
    counts: Counter[str] = field(default_factory=Counter)
    latency_ms: dict[str, list[float]] = field(default_factory=dict)
    failed: Counter[str] = field(default_factory=Counter)  # step -> requests not answered
    handed_over: set[str] = field(default_factory=set)
    timed: set[tuple[str, str]] = field(default_factory=set)  # (MA_GDICH, stage) sampled
    clock: Callable[[], float] = time.time  # the clock of ``pending``'s start times
    procedures: dict[str, ProcedureTally] = field(default_factory=dict)
    procedure_of: dict[str, str] = field(default_factory=dict)  # MA_GDICH → code, if pending
    at_stop: dict[str, dict[str, Any]] = field(default_factory=dict)  # I-VAN → left at stop
    sending: int = 0  # dossiers of this process waiting for their answer (or a retry)
    early: dict[str, dict[str, float]] = field(default_factory=dict)  # MA_GDICH → stage → read
    early_acks: dict[str, list[tuple[float, int]]] = field(default_factory=dict)  # (ms, status)
    _pending_elsewhere: dict[str, int] = field(default_factory=dict)
    _ages_elsewhere: dict[str, tuple[float, dict[str, list[float]]]] = field(default_factory=dict)
    _waiting_elsewhere: dict[str, dict[str, dict[str, Any]]] = field(default_factory=dict)
    _at_stop_elsewhere: dict[str, dict[str, dict[str, Any]]] = field(default_factory=dict)
    _held_elsewhere: dict[str, tuple[list[float], int]] = field(default_factory=dict)

    def tally(self, procedure: str) -> ProcedureTally:
        """The share of ``procedure`` (created on its first record)."""
        return self.procedures.setdefault(procedure, ProcedureTally())

    def receipt(self, ma_gdich: str, started: float, now: float, procedure: str = "") -> None:
        """A dossier accepted: its receipt is timed, then any message about it read
        before the receipt came back (a slow 202) is timed at the moment it was read."""
        self.pending[ma_gdich] = started
        self.procedure_of[ma_gdich] = procedure
        sample = (now - started) * self.clock_speed
        self.samples["submit_to_receipt"].append(sample)
        self.counts[ACCEPTED] += 1
        tally = self.tally(procedure)
        tally.samples.setdefault("submit_to_receipt", []).append(sample)
        tally.counts[ACCEPTED] += 1
        read = self.early.pop(ma_gdich, {})
        for stage in STAGES:
            if stage in read:
                self.counts[NOT_TIMED] -= 1  # counted not timed when read; timed now
                self._time(ma_gdich, stage, read[stage])
        for ms, status in self.early_acks.pop(ma_gdich, []):
            self.response(ACK, ms, status)

    def ours(self, ma_gdich: str) -> bool:
        """Whether ``ma_gdich`` is a dossier this process sent and holds the receipt of."""
        return ma_gdich in self.pending or (ma_gdich, "submit_to_result") in self.timed

    def early_ack(self, ma_gdich: str, ms: float, status: int) -> bool:
        """Hold the ack of a message read before its dossier's receipt, to count it in the
        ack step once the receipt comes back; False if the message is not held early."""
        if ma_gdich not in self.early:
            return False
        self.early_acks.setdefault(ma_gdich, []).append((ms, status))
        return True

    def message(self, kind: str, ma_gdich: str, now: float) -> bool:
        """A message read from the feed; True if it is about a dossier this process sent.

        Each dossier is timed once per stage, at its first delivery: a copy delivered
        again counts as a duplicate, so a gateway that delivers twice does not double
        (or, redelivering later, inflate) the lifecycle samples. One read before its
        dossier's receipt came back is kept and timed when the receipt comes.
        """
        stage = _STAGE_OF_KIND.get(kind)
        started = self.pending.get(ma_gdich)
        self.counts[f"messages {kind}"] += 1
        ours = self.ours(ma_gdich)
        if stage is not None and (ma_gdich, stage) in self.timed:
            self.counts[DUPLICATES] += 1
            return ours
        if stage is not None and stage in self.early.get(ma_gdich, {}):
            self.counts[DUPLICATES] += 1
            return ours
        if stage is None or started is None:
            self.counts[NOT_TIMED] += 1
            if stage is not None and not ours:
                self._keep_early(ma_gdich, stage, now)
            return ours
        self._time(ma_gdich, stage, now)
        return True

    def _keep_early(self, ma_gdich: str, stage: str, now: float) -> None:
        """Keep a message that may be about a dossier whose receipt has not come back: only
        while one is being sent (else it cannot be this process's), at most EARLY_KEPT."""
        if not self.sending:
            return
        if ma_gdich in self.early or len(self.early) < EARLY_KEPT:
            self.early.setdefault(ma_gdich, {})[stage] = now

    def _held_acks(self) -> tuple[list[float], int]:
        """The held acks no receipt claimed (yet): answered ones' times, and failures."""
        held = [ack for acks in self.early_acks.values() for ack in acks]
        return [_ceil_ms(ms) for ms, s in held if answered(s)], sum(
            1 for _, s in held if not answered(s)
        )

    def _time(self, ma_gdich: str, stage: str, now: float) -> None:
        """Record the dossier's first delivery of ``stage`` read at ``now``."""
        started = self.pending[ma_gdich]
        sample = (now - started) * self.clock_speed
        self.samples[stage].append(sample)
        procedure = self.procedure_of.get(ma_gdich, "")
        self.tally(procedure).samples.setdefault(stage, []).append(sample)
        self.timed.add((ma_gdich, stage))
        if stage == "submit_to_result":
            del self.pending[ma_gdich]
            self.procedure_of.pop(ma_gdich, None)
            self.handed_over.discard(ma_gdich)
        else:
            self.handed_over.add(ma_gdich)

    def timing(self, step: str, ms: float, procedure: str | None = None) -> None:
        """One request's response time in real milliseconds (a submit's also counts for
        the ``procedure`` of its dossier)."""
        value = _ceil_ms(ms)
        self.latency_ms.setdefault(step, []).append(value)
        if procedure is not None:
            self.tally(procedure).latency_ms.setdefault(step, []).append(value)

    def response(self, step: str, ms: float, status: int, procedure: str | None = None) -> None:
        """One request's outcome: a response time if the gateway gave a final answer
        (:func:`answered`), else a failed request of ``step``, kept out of the latency
        samples and counted in :attr:`failed` (``failed_requests`` in the summary)."""
        if answered(status):
            self.timing(step, ms, procedure)
            return
        self.failed[step] += 1
        if procedure is not None:
            self.tally(procedure).failed[step] += 1

    def count(self, name: str, n: int = 1, procedure: str | None = None) -> None:
        self.counts[name] += n
        if procedure is not None:
            self.tally(procedure).counts[name] += n

    def outcome(self, name: str, procedure: str, code: str = "") -> None:
        """A dossier's final outcome (rejected, abandoned, in flight at stop), in the
        totals and its procedure's share, with a rejected dossier's error ``code``."""
        self.count(name, procedure=procedure)
        if code:
            self.tally(procedure).codes[code] += 1

    def left_at_stop(self, ivan: str, unread: int, counted: bool, unacknowledged: int) -> None:
        """What ``ivan``'s feed reader left when the run stopped: messages issued and not
        read (``counted``: all of them; else at least ``unread``), and messages read whose
        acknowledgement never succeeded. Expected at a stop; the gateway keeps them."""
        self.at_stop[ivan] = {
            UNREAD: unread,
            UNREAD_COUNTED: counted,
            UNACKNOWLEDGED: unacknowledged,
        }

    def _ages(self, now: float) -> dict[str, float]:
        """``{MA_GDICH: simulated seconds waited so far}`` of the dossiers still waiting."""
        return {
            ma_gdich: math.floor((now - started) * self.clock_speed * 10) / 10
            for ma_gdich, started in self.pending.items()
        }

    def pending_ages(self) -> dict[str, list[float]]:
        """Simulated seconds each dossier still waiting for a stage has waited so far."""
        return _waiting(self._ages(self.clock()), self.handed_over)

    def _waiting_by_procedure(self, ages: Mapping[str, float]) -> dict[str, dict[str, Any]]:
        """The dossiers still waiting and their ages, per procedure (a snapshot)."""
        groups: dict[str, dict[str, float]] = {}
        for ma_gdich, age in ages.items():
            groups.setdefault(self.procedure_of.get(ma_gdich, ""), {})[ma_gdich] = age
        return {
            code: {"pending": len(group), "pending_ages": _waiting(group, self.handed_over)}
            for code, group in groups.items()
        }

    def drain(self) -> dict[str, Any]:
        """What is new since the last drain, for a worker's report to the master (what is
        still waiting is a snapshot, taken once for the totals and the procedures alike)."""
        ages = self._ages(self.clock())
        report = {
            "samples": self.samples,
            "counts": dict(self.counts),
            "pending": len(self.pending),
            "latency_ms": self.latency_ms,
            FAILED_REQUESTS: dict(self.failed),
            "pending_ages": _waiting(ages, self.handed_over),
            "procedures": {code: t.to_json() for code, t in self.procedures.items()},
            "procedures_waiting": self._waiting_by_procedure(ages),
            "feed_at_stop": dict(self.at_stop),  # a snapshot, as pending is
            HELD_ACKS: self._held_acks(),  # a snapshot: a receipt may still claim them
        }
        self.samples = {s: [] for s in STAGES}
        self.counts = Counter()
        self.latency_ms = {}
        self.failed = Counter()
        self.procedures = {}
        return report

    def merge(self, report: Mapping[str, Any], source: str) -> None:
        """Add a worker's report (``source`` is its id; its pending count is a snapshot)."""
        for stage, values in report.get("samples", {}).items():
            self.samples.setdefault(stage, []).extend(float(v) for v in values)
        for step, values in report.get("latency_ms", {}).items():
            self.latency_ms.setdefault(str(step), []).extend(float(v) for v in values)
        self.counts.update({str(k): int(v) for k, v in report.get("counts", {}).items()})
        self.failed.update(_counted(report.get(FAILED_REQUESTS)))
        self._pending_elsewhere[source] = int(report.get("pending", 0))
        ages = {str(k): [float(a) for a in v] for k, v in report.get("pending_ages", {}).items()}
        self._ages_elsewhere[source] = (time.monotonic(), ages)
        for code, share in report.get("procedures", {}).items():
            self.tally(str(code)).add(share)
        self._waiting_elsewhere[source] = dict(report.get("procedures_waiting", {}))
        if at_stop := report.get("feed_at_stop"):
            self._at_stop_elsewhere[source] = dict(at_stop)
        times, failed = report.get(HELD_ACKS) or ([], 0)
        self._held_elsewhere[source] = ([float(v) for v in times], int(failed))

    def summary(self) -> dict[str, Any]:
        own = self._ages(self.clock())
        ages = _waiting(own, self.handed_over)
        procedures = {code: t.to_json() for code, t in self.procedures.items()}
        waiting = [self._waiting_by_procedure(own)]
        now = time.monotonic()
        for source, (received, theirs) in self._ages_elsewhere.items():
            older = (now - received) * self.clock_speed  # they kept waiting since the report
            for stage, values in theirs.items():
                ages.setdefault(stage, []).extend(a + older for a in values)
            waiting.append(_older(self._waiting_elsewhere.get(source, {}), older))
        for snapshot in waiting:
            for code, share in snapshot.items():
                _add_waiting(procedures.setdefault(code, ProcedureTally().to_json()), share)
        latency, failed = self._with_held_acks()
        return {
            "clock_speed": self.clock_speed,
            "samples": self.samples,
            "counts": dict(sorted(self.counts.items())),
            "pending": len(self.pending) + sum(self._pending_elsewhere.values()),
            "pending_ages": ages,
            "latency_ms": latency,
            FAILED_REQUESTS: dict(sorted(failed.items())),
            "procedures": dict(sorted(procedures.items())),
            "feed_at_stop": feed_at_stop([self.at_stop, *self._at_stop_elsewhere.values()]),
        }

    def _with_held_acks(self) -> tuple[dict[str, list[float]], Counter[str]]:
        """Response times and failures, with the acks no receipt claimed by now counted
        as :data:`ACK_OTHER`: their messages were not about one of the run's dossiers."""
        latency = {step: list(values) for step, values in self.latency_ms.items()}
        failed = Counter(self.failed)
        for times, failures in [self._held_acks(), *self._held_elsewhere.values()]:
            if times:
                latency.setdefault(ACK_OTHER, []).extend(times)
            if failures:
                failed[ACK_OTHER] += failures
        return latency, failed

    def write(self, path: Path) -> None:
        """:meth:`summary` as JSON at ``path``, in one step: locust stopped while writing
        leaves no half file for the verdict to read."""
        partial = path.with_name(f"{path.name}.partial")
        partial.write_text(json.dumps(self.summary()), encoding="utf-8")
        os.replace(partial, path)


def _counted(counts: Any) -> dict[str, int]:
    """A report's ``{step: count}`` (nothing if a worker of an older version sent none)."""
    return {str(k): int(v) for k, v in (counts or {}).items()}


def feed_at_stop(records: Sequence[Mapping[str, Mapping[str, Any]]]) -> dict[str, Any]:
    """Per I-VAN, what its feed readers left at the stop (one record per process). Processes
    acting as the same I-VAN read the same feed, so a message is left unread only if every
    one left it: the least any of them left is kept, not the sum."""
    by_ivan: dict[str, list[Mapping[str, Any]]] = {}
    for record in records:
        for ivan, left in record.items():
            by_ivan.setdefault(str(ivan), []).append(left)
    return {
        ivan: {
            UNREAD: min(int(r.get(UNREAD, 0)) for r in lefts),
            UNREAD_COUNTED: all(bool(r.get(UNREAD_COUNTED)) for r in lefts),
            UNACKNOWLEDGED: min(int(r.get(UNACKNOWLEDGED, 0)) for r in lefts),
            "processes": len(lefts),
        }
        for ivan, lefts in sorted(by_ivan.items())
    }


def _older(snapshot: Mapping[str, Any], seconds: float) -> dict[str, dict[str, Any]]:
    """A worker's per-procedure snapshot of waiting dossiers, aged by ``seconds`` more."""
    return {
        str(code): {
            "pending": int(share.get("pending", 0)),
            "pending_ages": {
                str(stage): [float(a) + seconds for a in values]
                for stage, values in share.get("pending_ages", {}).items()
            },
        }
        for code, share in snapshot.items()
    }


def _add_waiting(record: dict[str, Any], share: Mapping[str, Any]) -> None:
    """Add a snapshot's waiting dossiers to one procedure's record of the summary."""
    record["pending"] = record.get("pending", 0) + int(share.get("pending", 0))
    ages = record.setdefault("pending_ages", {})
    for stage, values in share.get("pending_ages", {}).items():
        ages.setdefault(stage, []).extend(values)


@dataclass
class Submitter:
    """Sends one dossier until the gateway answers for good (one locust task)."""

    client: Client
    ivan_token: str
    picker: Picker
    log: LifecycleLog
    rng: random.Random
    retry: RetryPolicy = LOAD_RETRY
    trivial: bool = False
    sleep: Callable[[float], None] = time.sleep
    clock: Callable[[], float] = time.time
    timer: Callable[[], float] = time.perf_counter  # response times (locust rounds its own)
    stopping: Callable[[], bool] | None = None  # default: :func:`locust_stopping` of client
    procedure: str = ""  # of the dossier picked last (informative: see :meth:`submit`)

    def submit(self) -> str:
        """``accepted``, ``rejected`` (a 4xx answer) or ``abandoned`` (retries ran out);
        :data:`STOPPED` once the run is stopping. A dossier its user is stopped in the
        middle of (locust kills it: ``GreenletExit``) is counted :data:`IN_FLIGHT` (or
        :data:`WAITING_RETRY` if it was waiting to retry after refusals that stored
        nothing), for its own procedure even when the open model has several dossiers in
        flight at once."""
        stopping = self.stopping or functools.partial(locust_stopping, self.client)
        if stopping():
            return STOPPED
        procedure, envelope = self.picker.pick(self.rng)
        self.procedure = procedure
        return self._send(procedure, envelope)

    def _send(self, procedure: str, envelope: bytes) -> str:
        """Send one dossier, retrying as the reference client does, until a final answer.
        A stop (not an error: ``GreenletExit``) in the middle is accounted for: cut off
        in flight, or waiting out a Retry-After after refusals that stored nothing."""
        body = TRIVIAL_BODY if self.trivial else envelope
        headers = {
            "Authorization": f"Bearer {self.ivan_token}",
            "Content-Type": "application/xml",
            "X-Message-Id": str(uuid.uuid4()),  # fresh per dossier, the same on every retry
        }
        self.log.sending += 1
        try:
            return self._attempts(procedure, body, headers)
        finally:
            self.log.sending -= 1

    def _attempts(self, procedure: str, body: bytes, headers: dict[str, str]) -> str:
        """The attempts at one dossier, as the reference client makes them."""
        started = self.clock()
        maybe_stored = False  # an attempt got no answer, or one a proxy may have given
        for attempt in range(1, self.retry.attempts + 1):
            name = SUBMIT if attempt == 1 else SUBMIT_RETRY
            sent = self.timer()
            with (
                self._stop_means(CUT_OFF + name, IN_FLIGHT, procedure),
                self.client.request(
                    "POST",
                    "/api/v1/dossiers",
                    name=name,
                    data=body,
                    headers=headers,
                    catch_response=True,
                ) as response,
            ):
                status = response.status_code
                maybe_stored |= status not in _REFUSALS
                self.log.response(name, (self.timer() - sent) * 1000.0, status, procedure)
                ma_gdich = _header(response, "X-Ma-Gdich")
                if status == 202 and ma_gdich:
                    response.success()
                    self.log.receipt(ma_gdich, started, self.clock(), procedure)
                    return ACCEPTED
                retry = (status in RETRYABLE_STATUS or status == 0) and (
                    attempt < self.retry.attempts
                )
                response.failure(failure_text(response))
                wait = self.retry.delay(attempt, _retry_after(response), self.rng)
                code = refusal_code(response)
            if not retry:
                outcome = REJECTED if 400 <= status < 500 else ABANDONED
                self.log.outcome(outcome, procedure, code if outcome == REJECTED else "")
                return outcome
            self.log.count("retries", procedure=procedure)
            with self._stop_means("", IN_FLIGHT if maybe_stored else WAITING_RETRY, procedure):
                self.sleep(wait)
        return ABANDONED  # pragma: no cover - the loop returns on its last attempt

    @contextmanager
    def _stop_means(self, request: str, outcome: str, procedure: str) -> Iterator[None]:
        """A stop within the block (locust kills the user: not an ``Exception``) makes the
        dossier's outcome ``outcome``, and counts ``request`` (if any) unanswered."""
        try:
            yield
        except BaseException as exc:
            if not isinstance(exc, Exception):
                self.log.outcome(outcome, procedure)
                if request:
                    self.log.count(request)
            raise


@dataclass(frozen=True)
class FeedEntry:
    """One message of the feed, without its (large) signed content."""

    id: str
    kind: str
    ma_gdich: str


def parse_feed(body: bytes, cursor: int) -> tuple[list[FeedEntry], int]:
    """The entries of a feed page and the cursor to ask from next (``ValueError`` if bad)."""
    root = parse_xml(body, _FEED_LIMITS)
    entries = [
        FeedEntry(
            id=node.findtext("ID", ""),
            kind=node.findtext("LOAI", ""),
            ma_gdich=node.findtext("MA_GDICH", ""),
        )
        for node in root.iterfind("DS_THONGBAO/THONGBAO")
    ]
    following = root.findtext("CON_TRO_TIEP", "") or ""
    return entries, int(following) if following.isascii() and following.isdigit() else cursor


class FeedEndUnknown(GatewayUnavailable):
    """The end of an I-VAN's feed could not be found before the run: its reader must not
    start from 0, where it would re-read and re-acknowledge the gateway's whole history."""


@dataclass
class _EndFinder:
    """One-message feed reads for :meth:`FeedReader.skip_to_end`, retried within a budget
    of waiting: a gateway that refuses them for longer is not waited out."""

    client: Client
    auth: dict[str, str]
    patience: float
    sleep: Callable[[float], None]
    rng: random.Random
    waited: float = 0.0

    def next_after(self, after: int) -> int:
        """The position of the first message after ``after``, 0 for none."""
        attempt = 0
        while True:
            attempt += 1
            path = f"/api/v1/messages?after={after}&limit=1"
            with self.client.request(
                "GET", path, name=FEED_START, headers=self.auth, catch_response=True
            ) as response:
                status = response.status_code
                if status == 200:
                    return _next_position(response, after)
                why = failure_text(response)
                response.failure(why)
                asked = _retry_after(response) or 0.0
                wait = LOAD_RETRY.delay(attempt, asked, self.rng)
            if status not in RETRYABLE_STATUS and status != 0:
                raise self._unknown(why, "check the I-VAN token and the gateway's feed route")
            if self.waited + max(wait, asked) > self.patience:  # a longer wait is not waited
                raise self._unknown(why, _WAIT_HINT)
            self.waited += wait
            self.sleep(wait)

    def _unknown(self, why: str, hint: str) -> FeedEndUnknown:
        return FeedEndUnknown(
            f"the end of the I-VAN's feed could not be found before the run ({why}, "
            f"after {self.waited:.0f} s of retrying): its feed reader did not start, "
            "rather than re-read and re-acknowledge the gateway's whole history, so this "
            f"generator's lifecycle times were not measured\nHint: {hint}"
        )


_WAIT_HINT = (
    "run again once the gateway answers its feed (a maintenance window or a fault: on the "
    "mock gateway, DELETE /admin/faults clears it)"
)


def _next_position(response: Response, after: int) -> int:
    """What a one-message page says: the next message's position past ``after``, or 0."""
    try:
        entries, following = parse_feed(response.content or b"", after)
    except ValueError as exc:
        response.failure("unreadable feed page")
        raise FeedEndUnknown(
            f"the end of the I-VAN's feed could not be found before the run: an unreadable "
            f"feed page ({str(exc)[:200]}); its feed reader did not start"
        ) from None
    response.success()
    return following if entries and following > after else 0


def run_sequentially(jobs: Sequence[Callable[[], None]]) -> None:
    for job in jobs:
        job()


@dataclass
class FeedReader:
    """One I-VAN process's feed consumer: poll after the cursor, time, acknowledge all.

    An ack that fails is tried again on the next poll: an I-VAN must acknowledge every
    message, and a load test that forgot some would leave the gateway redelivering. A
    message that is not about one of the run's dossiers is acknowledged as
    :data:`ACK_OTHER`, so the ack step's latency is the run's own.
    """

    client: Client
    ivan_token: str
    log: LifecycleLog
    page: int = 200
    interval: float = 0.5
    run_all: Callable[[Sequence[Callable[[], None]]], None] = run_sequentially
    clock: Callable[[], float] = time.time
    cursor: int = 0
    timer: Callable[[], float] = time.perf_counter
    unacked: list[str] = field(default_factory=list)
    theirs: dict[str, str] = field(default_factory=dict)  # ID → MA_GDICH, not known ours
    outstanding: set[str] = field(default_factory=set)  # IDs read and not yet acknowledged
    spawn: Callable[[Callable[[], None]], object] | None = None
    """Starts a job on its own greenlet (``gevent.spawn``): a page's acks then run while
    the reader polls on, so ack latency is not charged to the lifecycle times. None: the
    acks of a page run before the next poll."""
    ack_backlog: int = 4
    """Pages whose acks may run at once with ``spawn``; the reader waits past that many."""
    acking: int = 0  # pages whose acks are running

    @property
    def _auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.ivan_token}"}

    def poll_once(self) -> int:
        """Read one page, time its messages, acknowledge them; returns how many came."""
        path = f"/api/v1/messages?after={self.cursor}&limit={self.page}"
        sent = self.timer()
        with self.client.request(
            "GET", path, name=FEED, headers=self._auth, catch_response=True
        ) as response:
            self.log.response(FEED, (self.timer() - sent) * 1000.0, response.status_code)
            if response.status_code != 200:
                response.failure(failure_text(response))
                return 0
            try:
                entries, following = parse_feed(response.content or b"", self.cursor)
            except ValueError as exc:
                response.failure(f"unreadable feed page: {str(exc)[:200]}")
                return 0
            response.success()
        now = self.clock()
        listed: dict[str, None] = {}  # a message listed twice in a page is acknowledged once
        for entry in entries:
            if not self.log.message(entry.kind, entry.ma_gdich, now):
                self.theirs[entry.id] = entry.ma_gdich
            listed[entry.id] = None
        todo = self.unacked + [message_id for message_id in listed if message_id]
        self.outstanding.update(todo)
        self.unacked = []
        self.cursor = following
        self._acknowledge([functools.partial(self.ack, message_id) for message_id in todo])
        return len(entries)

    def _acknowledge(self, jobs: list[Callable[[], None]]) -> None:
        """Run a page's acks: on their own greenlet with :attr:`spawn`, else now."""
        if self.spawn is None or not jobs:
            self.run_all(jobs)
            return
        self.acking += 1
        self.spawn(functools.partial(self._ack_page, jobs))

    def _ack_page(self, jobs: list[Callable[[], None]]) -> None:
        try:
            self.run_all(jobs)
        finally:
            self.acking -= 1

    def skip_to_end(
        self,
        client: Client | None = None,
        *,
        patience: float = FIND_END_PATIENCE,
        sleep: Callable[[float], None] = time.sleep,
        rng: random.Random | None = None,
    ) -> int:
        """Move the cursor past every message the feed holds now, and return it.

        A run then reads only its own dossiers' messages, not a long-lived gateway's whole
        history (100,000 messages were 500 pages and 100,000 acks before the run's own).
        It takes about 2·log2(N) reads of one message each: find a position past the end
        by doubling, then halve the gap. ``client`` (default: the reader's) lets the
        caller keep these reads out of the run's figures. A refused or dropped read is
        tried again as the reference client does (``Retry-After`` wins), for at most
        ``patience`` seconds of waiting in all; a feed whose end is still unknown then
        raises :class:`FeedEndUnknown`: reading from 0 would re-read and re-acknowledge
        the gateway's whole history.
        """
        ask = client or self.client
        finder = _EndFinder(ask, self._auth, patience, sleep, rng or random.Random())
        first = finder.next_after(0)
        if not first:
            return self.cursor
        low, step = first, 1  # a message sits at ``low``; is there one past ``low + step``?
        while (found := finder.next_after(low + step)) != 0:
            low, step = found, step * 2
        high = low + step  # nothing after ``high``: the end is in [low, high]
        while low < high:
            middle = (low + high) // 2
            found = finder.next_after(middle)
            low, high = (found, high) if found else (low, middle)
        self.cursor = low
        return low

    def ack(self, message_id: str) -> None:
        """Acknowledge one message, as :data:`ACK_OTHER` if it is in :attr:`theirs` and its
        dossier is still not known ours; one read before its receipt is held by the log
        and counted in the ack step if the receipt comes back."""
        about = self.theirs.get(message_id)
        name = ACK_OTHER if about is not None and not self.log.ours(about) else ACK
        sent = self.timer()
        with self.client.request(
            "POST",
            f"/api/v1/messages/{message_id}/ack",
            name=name,
            headers=self._auth,
            catch_response=True,
        ) as response:
            ms, status = (self.timer() - sent) * 1000.0, response.status_code
            if name == ACK or about is None or not self.log.early_ack(about, ms, status):
                self.log.response(name, ms, status)
            if status == 200:
                response.success()
                self._done(message_id)
                return
            response.failure(failure_text(response))
        if status != 404:  # 404: not ours or gone; retrying cannot help
            self.unacked.append(message_id)
        else:
            self._done(message_id)

    def _done(self, message_id: str) -> None:
        """The message needs no more acknowledging."""
        self.theirs.pop(message_id, None)
        self.outstanding.discard(message_id)

    def left_at_stop(
        self, client: Client | None = None, pages: int = LEFT_AT_STOP_PAGES
    ) -> tuple[int, bool]:
        """How many messages the feed holds past the cursor, read with ``client`` (default
        the reader's) and acknowledged none, and whether that is all of them: False when
        ``pages`` ran out or the gateway stopped answering (the count is then a floor)."""
        ask = client or self.client
        after, unread = self.cursor, 0
        for _ in range(pages):
            path = f"/api/v1/messages?after={after}&limit={self.page}"
            with ask.request(
                "GET", path, name=FEED_AT_STOP, headers=self._auth, catch_response=True
            ) as response:
                if response.status_code != 200:
                    response.failure(failure_text(response))
                    return unread, False
                try:
                    entries, following = parse_feed(response.content or b"", after)
                except ValueError:
                    response.failure("unreadable feed page")
                    return unread, False
                response.success()
            unread += len(entries)
            if len(entries) < self.page or following <= after:
                return unread, True
            after = following
        return unread, False

    def run(self, keep_going: Callable[[], bool], sleep: Callable[[float], None]) -> None:
        """Poll until ``keep_going()`` is false; a full page is followed at once. With
        :attr:`spawn`, a reader :attr:`ack_backlog` pages of acks behind waits for them:
        the acks stay bounded however slowly the gateway answers them."""
        while keep_going():
            while self.spawn is not None and self.acking >= self.ack_backlog:
                sleep(min(self.interval, ACK_BACKLOG_NAP))
            if self.poll_once() < self.page:
                sleep(self.interval)


__all__ = [
    "ABANDONED",
    "ACCEPTED",
    "ACK",
    "ACK_OTHER",
    "ANSWERED_IN_GRACE",
    "CUT_OFF",
    "DUPLICATES",
    "EARLY_KEPT",
    "FAILED_REQUESTS",
    "FEED",
    "FEED_AT_STOP",
    "FEED_START",
    "HELD_ACKS",
    "IN_FLIGHT",
    "LEFT_AT_STOP_PAGES",
    "LOAD_RETRY",
    "NOT_TIMED",
    "REJECTED",
    "SENT",
    "STAGES",
    "STEPS",
    "STOPPED",
    "SUBMIT",
    "SUBMIT_RETRY",
    "TRIVIAL_BODY",
    "UNACKNOWLEDGED",
    "UNREAD",
    "UNREAD_COUNTED",
    "WAITING_RETRY",
    "Client",
    "FeedEndUnknown",
    "FeedEntry",
    "FeedReader",
    "LifecycleLog",
    "ProcedureTally",
    "Response",
    "Submitter",
    "answered",
    "failure_text",
    "feed_at_stop",
    "locust_stopping",
    "parse_feed",
    "refusal_code",
    "sent",
]
