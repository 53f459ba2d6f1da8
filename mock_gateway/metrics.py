"""Prometheus metrics in the text exposition format, hand-written to avoid a dependency.

Counters of requests by route, method and status, and a latency histogram by route.
Each worker process counts its own requests; with several workers, each also publishes
its numbers (:mod:`mock_gateway.metrics_share`) and ``/metrics`` answers the sum over
all of them, whichever worker the scrape reaches. Label values are route *names*, never
raw paths, so a client cannot blow up the series count.
"""

from __future__ import annotations

import threading
from bisect import bisect_left
from collections import defaultdict
from collections.abc import Sequence
from typing import Any, NamedTuple

BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
_HIST = "bhxh_gateway_request_duration_seconds"


class Gauge(NamedTuple):
    """A value read at scrape time (not summed over workers), with its ``# HELP`` text."""

    name: str
    help: str
    value: float


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


class Metrics:
    """Thread-safe counters and histograms for one gateway process."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._requests: dict[tuple[str, str, int], int] = defaultdict(int)
        self._buckets: dict[str, list[int]] = {}
        self._sum: dict[str, float] = defaultdict(float)
        self._count: dict[str, int] = defaultdict(int)
        self._outcomes: dict[str, int] = defaultdict(int)

    def observe(self, route: str, method: str, status: int, seconds: float, outcome: str) -> None:
        with self._lock:
            self._requests[(route, method, status)] += 1
            buckets = self._buckets.setdefault(route, [0] * len(BUCKETS))
            index = bisect_left(BUCKETS, seconds)
            if index < len(BUCKETS):
                buckets[index] += 1
            self._sum[route] += seconds
            self._count[route] += 1
            self._outcomes[outcome] += 1

    def snapshot(self) -> dict[str, Any]:
        """Every number so far, as JSON-ready data :meth:`render` can add to another's."""
        with self._lock:
            return {
                "requests": [[r, m, s, n] for (r, m, s), n in self._requests.items()],
                "buckets": {route: list(b) for route, b in self._buckets.items()},
                "sum": dict(self._sum),
                "count": dict(self._count),
                "outcomes": dict(self._outcomes),
            }

    def render(self, extra: Sequence[Gauge] = (), others: Sequence[dict[str, Any]] = ()) -> bytes:
        """The exposition text of this process plus ``others`` (other workers'
        :meth:`snapshot`); ``extra`` adds gauges."""
        total = Metrics()
        for snapshot in [self.snapshot(), *others]:
            total._add(snapshot)
        return total._render(extra)

    def _add(self, snapshot: dict[str, Any]) -> None:
        for route, method, status, n in snapshot.get("requests", ()):
            self._requests[(str(route), str(method), int(status))] += int(n)
        for route, counts in snapshot.get("buckets", {}).items():
            mine = self._buckets.setdefault(route, [0] * len(BUCKETS))
            for index, n in enumerate(counts[: len(BUCKETS)]):
                mine[index] += int(n)
        for route, seconds in snapshot.get("sum", {}).items():
            self._sum[route] += float(seconds)
        for route, n in snapshot.get("count", {}).items():
            self._count[route] += int(n)
        for outcome, n in snapshot.get("outcomes", {}).items():
            self._outcomes[outcome] += int(n)

    def _render(self, extra: Sequence[Gauge]) -> bytes:
        with self._lock:
            lines = [
                "# HELP bhxh_gateway_requests_total Requests by route, method and the status "
                "sent (0: a fault reset the connection instead).",
                "# TYPE bhxh_gateway_requests_total counter",
            ]
            for (route, method, status), n in sorted(self._requests.items()):
                labels = f'route="{_escape(route)}",method="{_escape(method)}",status="{status}"'
                lines.append(f"bhxh_gateway_requests_total{{{labels}}} {n}")
            lines += [
                "# HELP bhxh_gateway_outcomes_total Answers sent by outcome (OK, the error "
                "code, or RESET).",
                "# TYPE bhxh_gateway_outcomes_total counter",
            ]
            for outcome, n in sorted(self._outcomes.items()):
                lines.append(f'bhxh_gateway_outcomes_total{{code="{_escape(outcome)}"}} {n}')
            lines += [
                "# HELP bhxh_gateway_request_duration_seconds Time to answer, by route "
                "(a fault's hold included).",
                "# TYPE bhxh_gateway_request_duration_seconds histogram",
            ]
            for route in sorted(self._buckets):
                label = f'route="{_escape(route)}"'
                cumulative = 0
                for bound, n in zip(BUCKETS, self._buckets[route], strict=True):
                    cumulative += n
                    lines.append(f'{_HIST}_bucket{{{label},le="{bound}"}} {cumulative}')
                total = self._count[route]
                lines.append(
                    f'bhxh_gateway_request_duration_seconds_bucket{{{label},le="+Inf"}} {total}'
                )
                lines.append(
                    f"bhxh_gateway_request_duration_seconds_sum{{{label}}} {self._sum[route]}"
                )
                lines.append(f"bhxh_gateway_request_duration_seconds_count{{{label}}} {total}")
            for gauge in sorted(extra):
                lines += [
                    f"# HELP {gauge.name} {gauge.help}",
                    f"# TYPE {gauge.name} gauge",
                    f"{gauge.name} {gauge.value}",
                ]
        return ("\n".join(lines) + "\n").encode()
