"""How the figures of a lifecycle report add up: one procedure's share
(:class:`ProcedureTally`), the stages a dossier still waits for, the feed left at the stop
per I-VAN, and worker snapshots merged on the master.

Apart from :mod:`harness.load.lifecycle_log`, which records the figures, because these are
the shapes the reports travel in between processes and how the master combines them.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from harness.load.ivan import FAILED_REQUESTS, UNACKNOWLEDGED, UNREAD, UNREAD_COUNTED


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


__all__ = ["ProcedureTally", "feed_at_stop"]
