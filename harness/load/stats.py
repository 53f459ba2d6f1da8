"""Read what a locust run wrote: final statistics per step, and their history over time.

Locust's CSV files are its stable, documented output (``--csv PREFIX`` writes
``PREFIX_stats.csv`` and, with ``--csv-full-history``, every step in
``PREFIX_stats_history.csv``), so the verdict reads them instead of reaching into locust's
objects; the same files are in the report for anyone to check the verdict against.
"""

from __future__ import annotations

import csv
import itertools
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from harness.percentiles import nearest_rank

AGGREGATED = "Aggregated"
PERCENTILES = {"p50": "50%", "p95": "95%", "p99": "99%", "p99.9": "99.9%"}
"""Our percentile names and locust's CSV columns for them."""


def _number(text: str | None) -> float | None:
    if text is None or text.strip() in ("", "N/A"):
        return None
    try:
        return float(text)
    except ValueError:
        return None


@dataclass(frozen=True)
class StepStats:
    """One request name's totals over the whole run (milliseconds)."""

    name: str
    requests: int
    failures: int
    rps: float
    average_ms: float | None
    max_ms: float | None
    percentiles: dict[str, float | None]

    @property
    def failure_ratio(self) -> float:
        return self.failures / self.requests if self.requests else 0.0


@dataclass(frozen=True)
class HistoryRow:
    """One sample of ``_stats_history.csv``: the last seconds' rate and percentiles."""

    elapsed: float
    users: int
    name: str
    rps: float
    failures_per_s: float
    percentiles: dict[str, float | None]
    total_requests: int = 0
    total_failures: int = 0


def read_stats(path: Path) -> dict[str, StepStats]:
    """``{name: StepStats}`` from ``PREFIX_stats.csv``, including ``Aggregated``."""
    steps: dict[str, StepStats] = {}
    with path.open(encoding="utf-8", newline="") as handle:
        for row in csv.DictReader(handle):
            name = row.get("Name", "")
            steps[name] = StepStats(
                name=name,
                requests=int(row.get("Request Count") or 0),
                failures=int(row.get("Failure Count") or 0),
                rps=_number(row.get("Requests/s")) or 0.0,
                average_ms=_number(row.get("Average Response Time")),
                max_ms=_number(row.get("Max Response Time")),
                percentiles={ours: _number(row.get(col)) for ours, col in PERCENTILES.items()},
            )
    return steps


def read_history(path: Path) -> list[HistoryRow]:
    """Rows of ``PREFIX_stats_history.csv``, time counted from the start of the load.

    A master writes rows while it waits for its workers; the load starts with the last
    row that still has no user, so that is time zero, where the shape's curve starts.
    """
    if not path.is_file():
        return []
    rows: list[HistoryRow] = []
    start: float | None = None
    with path.open(encoding="utf-8", newline="") as handle:
        for row in csv.DictReader(handle):
            stamp = _number(row.get("Timestamp"))
            if stamp is None:
                continue
            start = stamp if start is None else start
            rows.append(
                HistoryRow(
                    elapsed=stamp - start,
                    users=int(_number(row.get("User Count")) or 0),
                    name=row.get("Name", ""),
                    rps=_number(row.get("Requests/s")) or 0.0,
                    failures_per_s=_number(row.get("Failures/s")) or 0.0,
                    percentiles={ours: _number(row.get(c)) for ours, c in PERCENTILES.items()},
                    total_requests=int(_number(row.get("Total Request Count")) or 0),
                    total_failures=int(_number(row.get("Total Failure Count")) or 0),
                )
            )
    first_user = next((i for i, r in enumerate(rows) if r.users > 0), 0)
    offset = rows[max(first_user - 1, 0)].elapsed if rows else 0.0
    return [replace(r, elapsed=r.elapsed - offset) for r in rows if r.elapsed >= offset]


def rates(
    rows: Sequence[HistoryRow], window: float | None = None
) -> list[tuple[float, float, float]]:
    """``(time, requests/s, failures/s)`` from the running totals over ``window`` s.

    Locust's own "current" rate is smoothed over ten seconds, which hides a spike in a
    short run; differences of the running totals show it within seconds. In distributed
    mode the totals move only when a worker reports (every 3 s), so by default the window
    is twice the usual gap between changes, and at least two seconds. Each rate is placed
    at the middle of its window, where it belongs, rather than at its end.
    """
    if window is None:
        pairs = itertools.pairwise(rows)
        changes = [b.elapsed for a, b in pairs if b.total_requests != a.total_requests]
        gaps = sorted(b - a for a, b in itertools.pairwise(changes))
        window = max(2.0, 2 * gaps[len(gaps) // 2]) if gaps else 2.0
    out = []
    for i, row in enumerate(rows):
        j = i
        while j > 0 and row.elapsed - rows[j - 1].elapsed <= window:
            j -= 1
        earlier = rows[j] if j < i else (rows[i - 1] if i else row)
        span = row.elapsed - earlier.elapsed
        if span <= 0:
            continue
        out.append(
            (
                (row.elapsed + earlier.elapsed) / 2,
                (row.total_requests - earlier.total_requests) / span,
                (row.total_failures - earlier.total_failures) / span,
            )
        )
    return out


@dataclass(frozen=True)
class UserException:
    """An exception raised inside a locust user (``PREFIX_exceptions.csv``): a bug in the
    generator or a broken setting, never the gateway's answer, so the run is in error."""

    count: int
    message: str
    traceback: str = ""


def read_exceptions(path: Path) -> list[UserException]:
    """Rows of ``PREFIX_exceptions.csv`` (none when the file is missing)."""
    if not path.is_file():
        return []
    with path.open(encoding="utf-8", newline="") as handle:
        return [
            UserException(
                int(_number(row.get("Count")) or 0),
                (row.get("Message") or "").strip(),
                row.get("Traceback") or "",
            )
            for row in csv.DictReader(handle)
        ]


@dataclass(frozen=True)
class RequestFailure:
    """One row of ``PREFIX_failures.csv``: why requests of one name failed, and how often;
    the cause of a failed run (a dead gateway, a gateway in maintenance) is read here."""

    name: str
    error: str
    count: int

    def describe(self) -> str:
        return f"{self.count:,} × {self.name}: {self.error}"


def _unwrap(error: str) -> str:
    """Locust's text of a failure without its exception's wrapper:
    ``CatchResponseError('HTTP 503 SRV-001')`` reads ``HTTP 503 SRV-001``."""
    head, sep, rest = error.partition("(")
    if sep and head.isidentifier() and rest.endswith(")"):
        inner = rest[:-1]
        if len(inner) >= 2 and inner[0] == inner[-1] and inner[0] in "'\"":
            return inner[1:-1]
    return error


def read_failures(path: Path) -> list[RequestFailure]:
    """Rows of ``PREFIX_failures.csv``, most frequent first (none when the file is missing)."""
    if not path.is_file():
        return []
    with path.open(encoding="utf-8", newline="") as handle:
        rows = [
            RequestFailure(
                row.get("Name") or "",
                _unwrap((row.get("Error") or "").strip()),
                int(_number(row.get("Occurrences")) or 0),
            )
            for row in csv.DictReader(handle)
        ]
    return sorted(rows, key=lambda f: -f.count)


def last_totals(path: Path, tail: int = 8192) -> HistoryRow | None:
    """The latest ``Aggregated`` row of a history file being written (for progress lines);
    reads only the file's end, so it stays cheap however long the run."""
    try:
        with path.open("rb") as handle:
            header = handle.readline().decode("utf-8", "replace")
            size = handle.seek(0, 2)
            handle.seek(max(len(header), size - tail))
            lines = handle.read().decode("utf-8", "replace").splitlines()[1:]
    except OSError:
        return None
    names = next(csv.reader([header]), [])
    for values in reversed(list(csv.reader(lines))):
        row = dict(zip(names, values, strict=False))
        if row.get("Name") == AGGREGATED:
            return HistoryRow(
                elapsed=0.0,
                users=int(_number(row.get("User Count")) or 0),
                name=AGGREGATED,
                rps=_number(row.get("Requests/s")) or 0.0,
                failures_per_s=_number(row.get("Failures/s")) or 0.0,
                percentiles={},
                total_requests=int(_number(row.get("Total Request Count")) or 0),
                total_failures=int(_number(row.get("Total Failure Count")) or 0),
            )
    return None


def locust_bucket_ceiling(ms: float) -> float:
    """The highest response time locust may have put in the bucket ``ms`` (it keeps
    times to 1 ms below 100 ms, to 10 ms below 1 s and to 100 ms above): a figure judged
    on a bucket is judged on this, so the rounding never works in the gateway's favour."""
    if ms < 100:
        return ms + 0.5
    if ms < 1000:
        return ms + 5.0
    return ms + 50.0


def percentile(values: list[float], which: str) -> float | None:
    """Nearest-rank percentile (``p95``...) of raw samples; None without samples."""
    return nearest_rank(values, float(which.lstrip("p")))


__all__ = [
    "AGGREGATED",
    "PERCENTILES",
    "HistoryRow",
    "RequestFailure",
    "StepStats",
    "UserException",
    "last_totals",
    "locust_bucket_ceiling",
    "percentile",
    "rates",
    "read_exceptions",
    "read_failures",
    "read_history",
    "read_stats",
]
