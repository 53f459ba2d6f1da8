"""The report's breakdown by procedure: what each procedure of the mix sent and what became
of it, from the same records as the totals (lifecycle.json), so its rows add up to them.

Apart from :mod:`harness.load.result` because it reads lifecycle.json's per-procedure
records and the service levels' limits, and a reader asking "was my procedure sent, and
accepted?" reads it row by row; the totals row is computed from the totals' own records,
not by adding the rows, so a row lost on the way would show as a difference.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from harness.load.ivan import SENT, SUBMIT
from harness.load.ivan import sent as dossiers_sent
from harness.load.levels import Level
from harness.load.stats import percentile

TOTAL = "all"
"""The totals row's name in the table (results.json keeps the totals in its facts)."""

OUTCOMES = SENT
"""Where a sent dossier ends, as the report's ``dossiers`` line counts them."""

MESSAGES = {"submit_to_handover": "02/TB-TS", "submit_to_result": "03/TB-TS"}
"""The lifecycle stages the breakdown shows, by the message that ends each."""

TOP_CODES = 3
"""Error codes a row shows for its rejected dossiers (results.json keeps them all)."""


@dataclass(frozen=True)
class StageFigures:
    """One procedure's dossiers at one lifecycle stage: received, within the limit (the
    stage's strictest lifecycle level), and still waiting past it at the end (a miss)."""

    received: int
    within: int | None  # None: no lifecycle level for the stage, so no limit
    limit: float | None
    overdue: int
    waiting: int

    def to_json(self) -> dict[str, Any]:
        return {
            "received": self.received,
            "within limit": self.within,
            "limit_s": self.limit,
            "still waiting past the limit": self.overdue,
            "still waiting": self.waiting,
        }


@dataclass(frozen=True)
class ProcedureFigures:
    """One row of the breakdown: a procedure's (or all) dossiers from send to result."""

    procedure: str
    weight: float | None  # its weight in the mix; None: not in the mix
    outcomes: Mapping[str, int]
    codes: Mapping[str, int]
    retries: int
    submit_ms: Sequence[float]
    stages: Mapping[str, StageFigures]
    note: str = ""  # why a procedure of the mix was not sent (e.g. not in the catalog)

    @property
    def sent(self) -> int:
        return dossiers_sent(self.outcomes)

    def submit_percentile(self, which: str) -> float | None:
        return percentile(list(self.submit_ms), which)

    def top_codes(self, n: int = TOP_CODES) -> str:
        """``ENV-010 ×3, XSD-001 ×1`` (and how many more codes), or an empty string."""
        ranked = sorted(self.codes.items(), key=lambda kv: (-kv[1], kv[0]))
        text = ", ".join(f"{code} ×{count:,}" for code, count in ranked[:n])
        return text + (f" (+{len(ranked) - n} more)" if len(ranked) > n else "")

    def to_json(self) -> dict[str, Any]:
        """The row as results.json's ``procedures`` object holds it."""
        return {
            "weight": self.weight,
            **({"note": self.note} if self.note else {}),
            "sent": self.sent,
            **{name: self.outcomes.get(name, 0) for name in OUTCOMES},
            "rejected codes": dict(sorted(self.codes.items(), key=lambda kv: (-kv[1], kv[0]))),
            "retries": self.retries,
            "submit": {
                "requests": len(self.submit_ms),
                "p50_ms": self.submit_percentile("p50"),
                "p95_ms": self.submit_percentile("p95"),
            },
            **{MESSAGES[stage]: figures.to_json() for stage, figures in self.stages.items()},
        }


def lifecycle_limits(levels: Iterable[Level]) -> dict[str, float]:
    """Per stage the breakdown shows, the strictest lifecycle level's threshold."""
    limits: dict[str, float] = {}
    for level in levels:
        if level.kind == "lifecycle" and level.subject in MESSAGES:
            limits[level.subject] = min(level.threshold, limits.get(level.subject, level.threshold))
    return limits


def _stage(record: Mapping[str, Any], stage: str, limit: float | None) -> StageFigures:
    received = [float(v) for v in record.get("samples", {}).get(stage, [])]
    ages = [float(a) for a in record.get("pending_ages", {}).get(stage, [])]
    if limit is None:
        return StageFigures(len(received), None, None, 0, len(ages))
    within = sum(v <= limit for v in received)
    return StageFigures(len(received), within, limit, sum(a > limit for a in ages), len(ages))


def figures(
    procedure: str,
    record: Mapping[str, Any],
    limits: Mapping[str, float],
    weight: float | None = None,
    note: str = "",
) -> ProcedureFigures:
    """A row from one record of lifecycle.json: a procedure's (``procedures.<code>``), or
    the totals (its top level: ``counts``, ``latency_ms``, ``samples``, ``pending_ages``)."""
    counts = record.get("counts", {})
    return ProcedureFigures(
        procedure=procedure,
        weight=weight,
        outcomes={name: int(counts.get(name, 0)) for name in OUTCOMES},
        codes={str(k): int(v) for k, v in record.get("codes", {}).items()},
        retries=int(counts.get("retries", 0)),
        submit_ms=[float(v) for v in record.get("latency_ms", {}).get(SUBMIT, [])],
        stages={stage: _stage(record, stage, limits.get(stage)) for stage in MESSAGES},
        note=note,
    )


def breakdown(
    records: Mapping[str, Mapping[str, Any]],
    mix: Mapping[str, float],
    limits: Mapping[str, float],
    notes: Mapping[str, str] | None = None,
) -> list[ProcedureFigures]:
    """One row per procedure of the mix as mixes.yaml weighs it, in its order: one that
    sent nothing (weight 0, or ``notes``: left out of the run) shows zeros; then any other
    procedure the records hold, so no dossier sent is left out of the rows."""
    notes = notes or {}
    order = list(mix) + sorted(code for code in records if code not in mix)
    return [
        figures(code, records.get(code, {}), limits, mix.get(code), notes.get(code, ""))
        for code in order
    ]


def total_row(
    lifecycle: Mapping[str, Any], rows: Sequence[ProcedureFigures], limits: Mapping[str, float]
) -> ProcedureFigures:
    """The totals row, from lifecycle.json's totals (the error codes, which only the
    procedures record, are theirs added up)."""
    codes: Counter[str] = Counter()
    for row in rows:
        codes.update(row.codes)
    return figures(TOTAL, {**lifecycle, "codes": codes}, limits)


def to_json(rows: Sequence[ProcedureFigures]) -> dict[str, Any]:
    """results.json's ``procedures`` object: ``{code: row}``."""
    return {row.procedure: row.to_json() for row in rows}


FIGURES = ("sent", *SENT, "submit p50 ms", "submit p95 ms")
NUMERIC_COLUMNS = frozenset(range(2, 2 + len(FIGURES)))
"""The columns holding one figure each (right-aligned), after procedure and weight."""


def header(total: ProcedureFigures) -> list[str]:
    """The breakdown's columns, in the terminal and on the verdict page alike; a stage's
    limit is the same for every row, so it is named here once."""
    stages = [
        f"{MESSAGES[stage]} received"
        if figures.limit is None
        else f"{MESSAGES[stage]} within {figures.limit:g} s simulated"
        for stage, figures in total.stages.items()
    ]
    return ["procedure", "weight", *FIGURES, *stages, "rejected: top error codes"]


def _ms(value: float | None) -> str:
    return "—" if value is None else f"{value:,.0f}" if value >= 100 else f"{value:.3g}"


def stage_text(figures: StageFigures) -> str:
    """``40 of 42`` received within the limit, ``+1 still waiting past it`` when a dossier
    is overdue at the end (a miss); the count received when no level sets a limit."""
    if figures.within is None:
        return f"{figures.received:,}"
    text = f"{figures.within:,} of {figures.received:,}"
    return text + (f", +{figures.overdue:,} still waiting past it" if figures.overdue else "")


def cells(row: ProcedureFigures) -> list[str]:
    """A row's cells under :data:`HEADER`."""
    weight = "—" if row.weight is None else f"{row.weight:g}"
    return [
        row.procedure,
        f"{weight} ({row.note})" if row.note else weight,
        f"{row.sent:,}",
        *(f"{row.outcomes.get(name, 0):,}" for name in OUTCOMES),
        _ms(row.submit_percentile("p50")),
        _ms(row.submit_percentile("p95")),
        *(stage_text(row.stages[stage]) for stage in MESSAGES),
        row.top_codes() or "—",
    ]


def _line(cells_: Sequence[str], widths: Sequence[int]) -> str:
    """Figures right-aligned, text left-aligned; the last column (codes) as it is."""
    padded = [
        cell.rjust(width) if i in NUMERIC_COLUMNS else cell.ljust(width)
        for i, (cell, width) in enumerate(zip(cells_, widths, strict=False))
    ]
    return "  " + "  ".join([*padded, cells_[-1]]).rstrip()


def table_lines(rows: Sequence[ProcedureFigures], total: ProcedureFigures) -> list[str]:
    """The breakdown as aligned text lines for a terminal or CI log, totals row last."""
    table = [header(total), *(cells(row) for row in rows), cells(total)]
    widths = [max(len(line[i]) for line in table) for i in range(len(table[0]) - 1)]
    return [_line(line, widths) for line in table]


__all__ = [
    "FIGURES",
    "MESSAGES",
    "NUMERIC_COLUMNS",
    "OUTCOMES",
    "TOTAL",
    "ProcedureFigures",
    "StageFigures",
    "breakdown",
    "cells",
    "figures",
    "header",
    "lifecycle_limits",
    "stage_text",
    "table_lines",
    "to_json",
    "total_row",
]
