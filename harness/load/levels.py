"""Service levels from a YAML file, and the verdict of one run against them.

Each level has a stable dotted name (``latency.submit.p95``, ``error_rate``,
``lifecycle.submit_to_result.p95``, ``throughput_ratio``) so the exit code, the report and
a CI log all name the same thing. A level with nothing to measure fails: a load test that
saw no results cannot vouch for them, and the message says what to change.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from harness.errors import ConfigError
from harness.load.profile import load_dir
from harness.load.stats import AGGREGATED, PERCENTILES, StepStats, percentile
from harness.yamlfile import load_yaml

KINDS = ("latency", "error_rate", "lifecycle", "throughput_ratio")


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
    """A level, what was measured (None: nothing to measure) and whether it was met."""

    level: Level
    measured: float | None
    passed: bool
    detail: str = ""


@dataclass(frozen=True)
class Measurements:
    """Everything a run measured, in the form the levels read."""

    steps: Mapping[str, StepStats]
    lifecycle: Mapping[str, list[float]] = field(default_factory=dict)
    counts: Mapping[str, int] = field(default_factory=dict)
    pending: int = 0
    expected_dossiers: float = 0.0

    @property
    def accepted(self) -> int:
        return int(self.counts.get("accepted", 0))

    @property
    def error_rate(self) -> float | None:
        total = self.steps.get(AGGREGATED)
        return total.failure_ratio if total is not None and total.requests else None

    @property
    def throughput_ratio(self) -> float | None:
        return self.accepted / self.expected_dossiers if self.expected_dossiers > 0 else None


def _percentile_levels(
    kind: str, doc: Mapping[str, Any], path: Path, valid: tuple[str, ...]
) -> list[Level]:
    levels = []
    for subject, thresholds in doc.items():
        if not isinstance(thresholds, Mapping):
            raise ConfigError(f"{path}: {kind}.{subject} must map percentiles to thresholds")
        for which, value in thresholds.items():
            if which not in valid:
                raise ConfigError(
                    f"{path}: {kind}.{subject}.{which}: unknown percentile",
                    hint=f"use one of {', '.join(valid)}",
                )
            name = f"{kind}.{subject}.{which}"
            levels.append(Level(name, kind, _positive(value, name, path), str(subject), which))
    return levels


def _positive(value: Any, name: str, path: Path) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
        raise ConfigError(f"{path}: {name} must be a number, 0 or more (got {value!r})")
    return float(value)


def load_levels(path: Path | None = None) -> list[Level]:
    """The levels in ``path`` (default ``fixtures/load/service-levels.yaml``)."""
    path = path or default_levels_path()
    doc = load_yaml(path) or {}
    if not isinstance(doc, Mapping):
        raise ConfigError(f"{path}: a service-level file is a mapping")
    unknown = sorted(set(doc) - {"latency_ms", "error_rate", "lifecycle_s", "throughput_ratio"})
    if unknown:
        raise ConfigError(f"{path}: unknown service-level keys {', '.join(unknown)}")
    valid = tuple(PERCENTILES)
    levels = _percentile_levels("latency", doc.get("latency_ms") or {}, path, valid)
    if "error_rate" in doc:
        levels.append(
            Level("error_rate", "error_rate", _positive(doc["error_rate"], "error_rate", path))
        )
    levels += _percentile_levels("lifecycle", doc.get("lifecycle_s") or {}, path, valid)
    if "throughput_ratio" in doc:
        threshold = _positive(doc["throughput_ratio"], "throughput_ratio", path)
        levels.append(Level("throughput_ratio", "throughput_ratio", threshold))
    if not levels:
        raise ConfigError(f"{path}: no service level defined")
    return levels


def _measure(level: Level, m: Measurements) -> tuple[float | None, str]:
    """The measured value and, when there is none, why."""
    if level.kind == "latency":
        step = m.steps.get(level.subject)
        if step is None or not step.requests:
            return None, f"no {level.subject!r} request was made"
        return step.percentiles.get(level.percentile), ""
    if level.kind == "error_rate":
        rate = m.error_rate
        return rate, "" if rate is not None else "no request was made"
    if level.kind == "lifecycle":
        value = percentile(list(m.lifecycle.get(level.subject, [])), level.percentile)
        why = (
            f"no dossier reached {level.subject.removeprefix('submit_to_')} during the run "
            "(raise --duration or --clock-speed)"
        )
        return value, "" if value is not None else why
    ratio = m.throughput_ratio
    return ratio, "" if ratio is not None else "the shape asked for no dossier"


def evaluate(levels: Sequence[Level], measurements: Measurements) -> list[LevelResult]:
    """Every level with its measured value and verdict."""
    results = []
    for level in levels:
        value, why = _measure(level, measurements)
        if value is None:
            results.append(LevelResult(level, None, False, why or "not measured"))
            continue
        passed = value >= level.threshold if level.at_least else value <= level.threshold
        detail = "" if passed else f"measured {value:.4g}, level {level.describe()}"
        results.append(LevelResult(level, value, passed, detail))
    return results


__all__ = [
    "KINDS",
    "Level",
    "LevelResult",
    "Measurements",
    "default_levels_path",
    "evaluate",
    "load_levels",
]
