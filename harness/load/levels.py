"""Service levels from a YAML file, and the verdict of one run against them.

Each level has a stable dotted name (``latency.submit.p95``, ``error_rate``,
``lifecycle.submit_to_result.p95``, ``throughput_ratio``) so the exit code, the report and
a CI log all name the same thing. A level with nothing to measure is "not judged", never
missed: a missing sample (a short run, a slow clock, a retry a healthy gateway never
causes) says nothing about the gateway, and its hint says how to get it judged. A run
with no level judged at all concludes nothing (INCOMPLETE).

Latency is judged on the response times the users recorded themselves (exact; locust's
percentiles are rounded to buckets of up to 100 ms), and every figure says how many
samples it rests on. A step and a stage must be ones the users measure, so a typo in
the file stops the run before it starts instead of reading "not measured" after it.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from harness.client import RETRYABLE_STATUS
from harness.errors import ConfigError
from harness.load.ivan import (
    ACK,
    CUT_OFF,
    FEED,
    IN_FLIGHT,
    SENT,
    STAGES,
    STEPS,
    SUBMIT,
    SUBMIT_RETRY,
)
from harness.load.ivan import (
    sent as dossiers_sent,
)
from harness.load.pacing import ARRIVED, NOT_SENT
from harness.load.profile import load_dir
from harness.load.stats import (
    AGGREGATED,
    PERCENTILES,
    StepStats,
    locust_bucket_ceiling,
    percentile,
)
from harness.yamlfile import line_of, load_yaml

KINDS = ("latency", "error_rate", "lifecycle", "throughput_ratio")

PASSED, FAILED, INCOMPLETE, ERROR = "PASSED", "FAILED", "INCOMPLETE", "ERROR"
"""The run's verdicts: INCOMPLETE when no level could be judged, ERROR when the run broke."""

MET, MISSED, NOT_JUDGED = "met", "missed", "not judged"
"""A level's outcome: "not judged" when the run gave it no sample to judge."""

CLOCK_HINT = (
    "raise --duration, or the gateway's clock speed (--clock-speed with --gateway local, "
    "`serve --clock-speed` for a gateway URL)"
)
RETRIED = "/".join(str(s) for s in sorted(RETRYABLE_STATUS))
NO_REQUEST_HINTS = {
    SUBMIT: "no dossier was sent: raise --duration or --scale",
    SUBMIT_RETRY: f"a submit is retried only when the gateway answers {RETRIED} or not at "
    "all, so a healthy run makes none: this level is judged only in a run that strains the "
    "gateway (leave it out of the service-level file to judge healthy runs)",
    FEED: "the users read their feed once every generator is ready: raise --duration",
    ACK: "the users acknowledge the 02/TB-TS and 03/TB-TS messages their feed delivers, "
    "which the gateway sends after its simulated processing time: " + CLOCK_HINT,
}
"""How to get a latency level on a step that made no request judged."""


def default_levels_path() -> Path:
    return load_dir() / "service-levels.yaml"


@dataclass(frozen=True)
class Level:
    """One threshold: latency and lifecycle are maxima, the throughput ratio a minimum."""

    name: str
    kind: str
    threshold: float
    subject: str = ""  # the step (latency) or the stage (lifecycle)
    percentile: str = ""  # p95, p99, p99.9

    @property
    def unit(self) -> str:
        return {"latency": "ms", "lifecycle": "s simulated"}.get(self.kind, "")

    @property
    def at_least(self) -> bool:
        return self.kind == "throughput_ratio"

    def describe(self) -> str:
        what = " ".join(p for p in (self.subject, self.percentile) if p) or self.kind
        sign = "≥" if self.at_least else "≤"
        return f"{what} {sign} {self.threshold:g} {self.unit}".strip()


@dataclass(frozen=True)
class LevelResult:
    """A level, what was measured (None: nothing to measure, so not judged) and whether it
    was met; ``hint`` says how to get a level that was not judged judged."""

    level: Level
    measured: float | None
    passed: bool
    detail: str = ""
    basis: str = ""  # what the figure rests on: "312 requests", "95 dossiers"...
    hint: str = ""

    @property
    def judged(self) -> bool:
        return self.measured is not None

    @property
    def measured_text(self) -> str:
        """The measured value with its unit (``12032 ms``), as the terminal and the HTML
        page both show it; "—" when nothing was measured."""
        if self.measured is None:
            return "—"
        return f"{figure(self.measured)} {self.level.unit}".rstrip()

    @property
    def outcome(self) -> str:
        """met, missed or not judged (no sample: neither met nor missed)."""
        if not self.judged:
            return NOT_JUDGED
        return MET if self.passed else MISSED


def run_verdict(results: Sequence[LevelResult], error: str = "") -> str:
    """ERROR when the run broke; else FAILED if a judged level was missed, PASSED if every
    judged one was met, INCOMPLETE if none could be judged (the run concludes nothing)."""
    if error:
        return ERROR
    judged = [r for r in results if r.judged]
    if not judged:
        return INCOMPLETE
    return PASSED if all(r.passed for r in judged) else FAILED


@dataclass(frozen=True)
class Measurements:
    """Everything a run measured, in the form the levels read."""

    steps: Mapping[str, StepStats]
    lifecycle: Mapping[str, list[float]] = field(default_factory=dict)
    counts: Mapping[str, int] = field(default_factory=dict)
    pending: int = 0
    expected_dossiers: float = 0.0  # what the users scheduled (whole users at the shape's rate)
    latency: Mapping[str, list[float]] = field(default_factory=dict)  # exact ms per step
    pending_ages: Mapping[str, list[float]] = field(default_factory=dict)  # simulated s

    @property
    def accepted(self) -> int:
        return int(self.counts.get("accepted", 0))

    @property
    def error_rate(self) -> float | None:
        total = self.steps.get(AGGREGATED)
        return total.failure_ratio if total is not None and total.requests else None

    @property
    def arrivals(self) -> int | None:
        """The dossiers that actually arrived (sent + not sent) where the run counted its
        arrivals (the open model), else None: the closed model's are the model's estimate."""
        if not self.counts.get(ARRIVED):
            return None
        return sum(int(self.counts.get(k, 0)) for k in (*SENT, NOT_SENT))

    @property
    def throughput_denominator(self) -> float:
        """The real arrivals where counted, else the dossiers the users scheduled: accepted
        over the real arrivals never exceeds 1, so a loss cannot hide in the estimate."""
        arrivals = self.arrivals
        return float(arrivals) if arrivals else self.expected_dossiers

    @property
    def throughput_ratio(self) -> float | None:
        total = self.throughput_denominator
        return self.accepted / total if total > 0 else None


def figure(value: float) -> str:
    """About three significant digits, never in exponent form: 1429, 98.4, 1.02, 0.0123
    (a reader compares it with a threshold written the same way)."""
    if abs(value) >= 100:
        return f"{value:.0f}"
    return f"{value:.3g}" if value == 0 or abs(value) >= 0.001 else f"{value:.6f}"


def count_text(value: float) -> str:
    """A dossier count as a reader should see it: whole when it is (or is large), else with
    its fraction, so 0.4 scheduled never reads as "0 scheduled"."""
    if value >= 100 or value == int(value):
        return f"{value:,.0f}"
    return f"{value:.2g}" if value < 1 else f"{value:.1f}"


def _where(path: Path, node: object, key: str | None = None) -> str:
    """``file:line`` of ``node`` (of its ``key`` when given), or the file alone."""
    line = line_of(node, key)
    return f"{path}:{line}" if line else str(path)


def _percentile_levels(
    kind: str, doc: Any, path: Path, known: tuple[str, ...], parent: object
) -> list[Level]:
    key = {"latency": "latency_ms", "lifecycle": "lifecycle_s"}[kind]
    if not isinstance(doc, Mapping):
        raise ConfigError(f"{_where(path, parent)}: {key} must map names to percentiles")
    levels = []
    valid = tuple(PERCENTILES)
    for subject, thresholds in doc.items():
        if subject not in known:
            raise ConfigError(
                f"{_where(path, doc, subject)}: {key}.{subject}: no such "
                f"{'step' if kind == 'latency' else 'stage'}",
                hint=f"known names: {', '.join(known)}",
            )
        if not isinstance(thresholds, Mapping) or not thresholds:
            raise ConfigError(
                f"{_where(path, doc, subject)}: {key}.{subject} must map percentiles to "
                "thresholds, e.g. {p95: 800}"
            )
        for which, value in thresholds.items():
            if which not in valid:
                raise ConfigError(
                    f"{_where(path, thresholds, which)}: {key}.{subject}.{which}: unknown "
                    "percentile",
                    hint=f"use one of {', '.join(valid)}",
                )
            name = f"{kind}.{subject}.{which}"
            where = _where(path, thresholds, which)
            levels.append(Level(name, kind, _number(value, name, where), str(subject), which))
    return levels


def _number(value: Any, name: str, where: str, most: float = math.inf) -> float:
    """A finite threshold above 0 (and at most ``most``): 0 ms or .nan is no level."""
    if (
        isinstance(value, bool)
        or not isinstance(value, int | float)
        or not math.isfinite(value)
        or not 0 < value <= most
    ):
        bound = f" and at most {most:g}" if math.isfinite(most) else ""
        raise ConfigError(f"{where}: {name} must be a number above 0{bound} (got {value!r})")
    return float(value)


LEVEL_KEYS = ("latency_ms", "error_rate", "lifecycle_s", "throughput_ratio")


def load_levels(path: Path | None = None) -> list[Level]:
    """The levels in ``path`` (default ``fixtures/load/service-levels.yaml``); names,
    percentiles and thresholds are all checked here, before a run starts."""
    path = path or default_levels_path()
    doc = load_yaml(path) or {}
    if not isinstance(doc, Mapping):
        raise ConfigError(f"{path}: a service-level file is a mapping")
    unknown = sorted(set(doc) - set(LEVEL_KEYS))
    if unknown:
        raise ConfigError(
            f"{_where(path, doc, min(unknown, key=lambda k: line_of(doc, k) or 0))}: "
            f"unknown service-level keys {', '.join(unknown)}",
            hint=f"known keys: {', '.join(LEVEL_KEYS)}",
        )
    steps = (*STEPS, AGGREGATED)
    levels = _percentile_levels("latency", doc.get("latency_ms") or {}, path, steps, doc)
    if "error_rate" in doc:
        rate = doc["error_rate"]
        if rate == 0 and not isinstance(rate, bool):  # "no error at all" is a fair level
            levels.append(Level("error_rate", "error_rate", 0.0))
        else:
            where = _where(path, doc, "error_rate")
            levels.append(
                Level("error_rate", "error_rate", _number(rate, "error_rate", where, most=1.0))
            )
    levels += _percentile_levels("lifecycle", doc.get("lifecycle_s") or {}, path, STAGES, doc)
    if "throughput_ratio" in doc:
        where = _where(path, doc, "throughput_ratio")
        threshold = _number(doc["throughput_ratio"], "throughput_ratio", where, most=1.0)
        levels.append(Level("throughput_ratio", "throughput_ratio", threshold))
    if not levels:
        raise ConfigError(f"{path}: no service level defined")
    return levels


Measured = tuple[float | None, str, str, str]
"""The measured value, why there is none, what it rests on, and how to get one."""


def _cut_off(level: Level, m: Measurements) -> int:
    """Requests of the level's step (of every step for the aggregate) still unanswered
    when the stop cut them off, after the stop grace."""
    if level.subject == AGGREGATED:
        return sum(int(n) for key, n in m.counts.items() if key.startswith(CUT_OFF))
    return int(m.counts.get(CUT_OFF + level.subject, 0))


def _latency(level: Level, m: Measurements, grace: float) -> Measured:
    """A request unanswered after the stop grace is known slower than the grace: a miss
    when the grace is past the level's limit (as a dossier still waiting past a lifecycle
    limit), else left out, and said so."""
    samples = list(m.latency.get(level.subject, []))
    if level.subject == AGGREGATED:
        samples = [v for values in m.latency.values() for v in values]
    cut = _cut_off(level, m)
    overdue = [grace * 1000.0] * cut if grace * 1000.0 > level.threshold else []
    if samples or overdue:
        answered = f"{len(samples):,} requests"
        late = f"{cut:,} unanswered after the {grace:g} s stop grace"
        basis = " + ".join(t for t, n in ((answered, samples), (late, overdue)) if n)
        if cut and not overdue:
            basis += f" (+{cut:,} unanswered at stop, not counted: the grace is within the level)"
        return percentile(samples + overdue, level.percentile), "", basis, ""
    step = m.steps.get(level.subject)
    if step is None or not step.requests:
        return _no_latency(level, m, cut)
    bucket = step.percentiles.get(level.percentile)
    if bucket is None:
        return None, "locust reported no percentile", "", "see locust_stats.csv"
    # no exact times (a locustfile that does not record them): locust's bucket, worst case
    basis = f"{step.requests:,} requests, locust's buckets"
    return locust_bucket_ceiling(bucket), "", basis, ""


def _no_latency(level: Level, m: Measurements, cut: int) -> Measured:
    """Why a latency level has no sample: no request made, or none answered (dossiers
    were sent, but the gateway answered none of the step's requests in time)."""
    sent = dossiers_sent(m.counts)
    if cut or (sent and level.subject in (SUBMIT, AGGREGATED)):
        why = f"no {level.subject!r} request was answered ({sent:,} dossiers sent"
        why += f", {cut:,} requests unanswered at stop)" if cut else ")"
        hint = "see the failures: the gateway refused or dropped them, or answered too late"
        return None, why, "", hint
    hint = NO_REQUEST_HINTS.get(level.subject, "no request was made: raise --duration")
    return None, f"no {level.subject!r} request was made", "", hint


def _lifecycle(level: Level, m: Measurements) -> Measured:
    """A dossier still waiting past the level's limit at the end counts as missing it
    (its age is a lower bound of its time); one still within the limit is left out."""
    done = list(m.lifecycle.get(level.subject, []))
    overdue = [a for a in m.pending_ages.get(level.subject, []) if a > level.threshold]
    value = percentile(done + overdue, level.percentile)
    if value is None:
        why = f"no dossier reached {level.subject.removeprefix('submit_to_')} during the run"
        return None, why, "", CLOCK_HINT
    basis = f"{len(done):,} dossiers"
    if overdue:
        basis += f" + {len(overdue):,} still waiting past {level.threshold:g} s"
    return value, "", basis, ""


def _measure(level: Level, m: Measurements, grace: float = 0.0) -> Measured:
    """The measured value, why there is none, what it rests on, and how to get one."""
    if level.kind == "latency":
        return _latency(level, m, grace)
    if level.kind == "error_rate":
        rate = m.error_rate
        total = m.steps.get(AGGREGATED)
        basis = f"{total.requests:,} requests" if total is not None else ""
        if rate is None:
            return None, "no request was made", basis, "raise --duration"
        return rate, "", basis, ""
    if level.kind == "lifecycle":
        return _lifecycle(level, m)
    ratio = m.throughput_ratio
    in_flight = int(m.counts.get(IN_FLIGHT, 0))
    if m.arrivals:
        basis = f"{m.accepted:,} accepted of {m.arrivals:,} arrivals (sent + not sent)"
    else:
        basis = f"{m.accepted:,} accepted of {count_text(m.expected_dossiers)} scheduled"
        basis += f" (+{in_flight:,} in flight at stop, not counted)" if in_flight else ""
    if ratio is None:
        return None, "the shape asked for no dossier", basis, "raise --scale or --duration"
    return ratio, "", basis, ""


GRACE_DEFAULT = 5.0
"""Seconds of stop grace when no latency level says how slow an answer may be."""
GRACE_BOUNDS = (2.0, 10.0)
"""The stop grace is kept within these seconds: long enough for a healthy answer in
flight, short enough that a hung gateway cannot hold a run (or its Ctrl-C) open."""


def stop_grace(levels: Sequence[Level]) -> float:
    """Seconds dossiers in flight at the end get to be answered: the slowest latency
    level's limit (an answer slower than that misses its level anyway, and is counted so
    rather than lost), within :data:`GRACE_BOUNDS`."""
    limits = [level.threshold / 1000.0 for level in levels if level.kind == "latency"]
    low, high = GRACE_BOUNDS
    return min(high, max(low, max(limits))) if limits else GRACE_DEFAULT


def evaluate(levels: Sequence[Level], measurements: Measurements) -> list[LevelResult]:
    """Every level with its measured value and verdict (not judged without a sample)."""
    results = []
    grace = stop_grace(levels)  # what the run gave requests in flight at the end
    for level in levels:
        value, why, basis, hint = _measure(level, measurements, grace)
        if value is None:
            results.append(LevelResult(level, None, False, why or "not measured", basis, hint))
            continue
        passed = value >= level.threshold if level.at_least else value <= level.threshold
        result = LevelResult(level, value, passed, "", basis)
        detail = f"measured {result.measured_text} ({basis}), level {level.describe()}"
        results.append(LevelResult(level, value, passed, "" if passed else detail, basis))
    return results


__all__ = [
    "ERROR",
    "FAILED",
    "INCOMPLETE",
    "KINDS",
    "LEVEL_KEYS",
    "MET",
    "MISSED",
    "NOT_JUDGED",
    "PASSED",
    "RETRIED",
    "Level",
    "LevelResult",
    "Measurements",
    "count_text",
    "default_levels_path",
    "evaluate",
    "figure",
    "load_levels",
    "run_verdict",
    "stop_grace",
]
