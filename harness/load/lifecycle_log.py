"""What a load run measures: :class:`LifecycleLog`, the lifecycle samples, response times
and counters of one generator process, drained to the master and merged into the summary
the verdict reads.

Lifecycle times are measured on the simulated clock: real seconds since the first attempt
times the gateway's clock speed, up to the moment the I-VAN holds the receipt or reads
the 02/TB-TS and 03/TB-TS messages from its feed (polling delay included, as a real
I-VAN would experience it). Its own module: the submitter and the feed reader both record
into it, and it is the one place the run's figures are kept.
"""

from __future__ import annotations

import json
import math
import os
import time
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from harness.load.ivan import (
    ACCEPTED,
    ACK,
    ACK_OTHER,
    DUPLICATES,
    FAILED_REQUESTS,
    HELD_ACKS,
    NOT_TIMED,
    STAGES,
    UNACKNOWLEDGED,
    UNREAD,
    UNREAD_COUNTED,
    answered,
)
from harness.load.tally import (
    ProcedureTally,
    _add_waiting,
    _counted,
    _older,
    _waiting,
    feed_at_stop,
)
from harness.message_kinds import HANDOVER, RESULT

EARLY_KEPT = 100_000
"""Messages read before their dossier's receipt that a log keeps, at most, to time them
when the receipt comes back (a sibling process's or an earlier run's never are)."""
_STAGE_OF_KIND = {HANDOVER: "submit_to_handover", RESULT: "submit_to_result"}


def _ceil_ms(ms: float) -> float:
    """Kept to the microsecond, rounded up: JSON stays small and never flatters the gateway."""
    return math.ceil(ms * 1000.0) / 1000.0


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


__all__ = ["EARLY_KEPT", "LifecycleLog"]
