"""Load shapes and procedure mixes, read from ``fixtures/load/`` (data, never Python).

A shape is a curve: for each moment of a run (a fraction of its duration) the multiple of
the "1x" arrival rate, which is DOMAIN.md's 48,000 dossiers a day spread over the filing
hours. ``--scale`` multiplies the curve, so the same file describes a small CI run and a
national one. The curve turns into users through a model: *open* (arrival rate, each user
a Poisson process) or *closed* (a population that thinks between dossiers), because a
deadline is an arrival rate and only the open model keeps sending when the gateway slows.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

from harness.errors import ConfigError
from harness.paths import fixtures_dir
from harness.yamlfile import line_of, load_yaml

MODELS = ("open", "closed", "max")
"""``max`` is for benchmarks: a fixed number of users that never wait."""


def load_dir() -> Path:
    """``fixtures/load/``: shapes, mixes and service levels."""
    return fixtures_dir() / "load"


@dataclass(frozen=True)
class Base:
    """DOMAIN.md's national figures and the hours they spread over."""

    dossiers_per_day: float
    units: int
    filing_hours_per_day: float

    @property
    def rate(self) -> float:
        """The 1x arrival rate in dossiers per second."""
        return self.dossiers_per_day / (self.filing_hours_per_day * 3600.0)


@dataclass(frozen=True)
class FeedSettings:
    """How one I-VAN process reads its feed."""

    interval: float
    page: int
    ack_concurrency: int


@dataclass(frozen=True)
class Shape:
    """A named curve of rate multiples over the run, and the mix it uses by default."""

    name: str
    title: str
    mix: str
    points: tuple[tuple[float, float], ...]

    def multiple(self, fraction: float) -> float:
        """The rate multiple at ``fraction`` (0..1) of the run, linear between points."""
        pts = self.points
        if fraction <= pts[0][0]:
            return pts[0][1]
        for (x0, y0), (x1, y1) in itertools.pairwise(pts):
            if fraction <= x1:
                return y0 if x1 == x0 else y0 + (y1 - y0) * (fraction - x0) / (x1 - x0)
        return pts[-1][1]

    def mean_multiple(self, steps: int = 1000) -> float:
        """The curve's average (midpoint rule): expected dossiers = mean x rate x duration."""
        return sum(self.multiple((i + 0.5) / steps) for i in range(steps)) / steps


@dataclass(frozen=True)
class Profile:
    """Everything ``fixtures/load/shapes.yaml`` and ``mixes.yaml`` say."""

    base: Base
    models: Mapping[str, Mapping[str, float]]
    feed: FeedSettings
    shapes: Mapping[str, Shape]
    mixes: Mapping[str, Mapping[str, float]]
    gaps: str = "jittered"  # the open model's gap distribution
    max_in_flight: int = 64  # the open model's cap of dossiers in flight per user
    mix_lines: Mapping[str, str] = field(default_factory=dict)  # mix -> "file:line"

    def shape(self, name: str) -> Shape:
        if name not in self.shapes:
            raise ConfigError(
                f"unknown shape {name!r}", hint=f"known shapes: {', '.join(self.shapes)}"
            )
        return self.shapes[name]

    def mix(self, name: str) -> Mapping[str, float]:
        if name not in self.mixes:
            raise ConfigError(f"unknown mix {name!r}", hint=f"known mixes: {', '.join(self.mixes)}")
        return self.mixes[name]

    def per_user_interval(self, model: str) -> float:
        """Seconds one user contributes per dossier: rate x this = users."""
        if model == "open":
            return float(self.models["open"]["mean_interval"])
        if model == "closed":
            return float(self.models["closed"]["think_time"])
        raise ConfigError(f"model {model!r} has no rate", hint="use open or closed")


@dataclass(frozen=True)
class Plan:
    """One run's load: the shape at a scale over a duration, in a model."""

    profile: Profile
    shape: Shape
    scale: float
    duration: float
    model: str
    users_max: int = 0  # the ``max`` model's fixed user count

    def __post_init__(self) -> None:
        problems = []
        if not (math.isfinite(self.scale) and self.scale > 0):
            problems.append(f"scale={self.scale} must be a positive number")
        if not (math.isfinite(self.duration) and self.duration > 0):
            problems.append(f"duration={self.duration} must be a positive number of seconds")
        if self.model not in MODELS:
            problems.append(f"model={self.model!r} must be one of {', '.join(MODELS)}")
        if self.model == "max" and self.users_max < 1:
            problems.append("the max model needs users_max >= 1")
        if problems:
            raise ConfigError("invalid load plan: " + "; ".join(problems))

    def rate(self, elapsed: float) -> float:
        """Target dossiers per second ``elapsed`` seconds into the run."""
        multiple = self.shape.multiple(min(max(elapsed / self.duration, 0.0), 1.0))
        return self.profile.base.rate * self.scale * multiple

    def users(self, elapsed: float) -> int:
        """Users the shape runs at ``elapsed``; at least one so the run never idles."""
        if self.model == "max":
            return self.users_max
        per_user = self.profile.per_user_interval(self.model)
        return max(1, math.ceil(self.rate(elapsed) * per_user))

    @property
    def expected_dossiers(self) -> float:
        """Dossiers the shape asks for over the whole run."""
        return self.profile.base.rate * self.scale * self.shape.mean_multiple() * self.duration

    @property
    def scheduled_dossiers(self) -> float:
        """Dossiers the users will start: users are whole (at least one), each starting one
        every per-user interval, so a small scale schedules more than the shape asks for.
        An estimate: the throughput level divides by it only where the run does not count
        its real arrivals (the closed model); random gaps can make it fall short of them."""
        if self.model == "max":
            return self.expected_dossiers
        per_user = self.profile.per_user_interval(self.model)
        steps = 1000
        users = sum(self.users((i + 0.5) * self.duration / steps) for i in range(steps)) / steps
        return users * self.duration / per_user

    @property
    def peak_rate(self) -> float:
        return self.profile.base.rate * self.scale * max(y for _, y in self.shape.points)


def _at(path: Path, node: object) -> str:
    """``file:line`` of a mapping read by :func:`load_yaml` (``file`` if unknown)."""
    line = line_of(node)
    return f"{path}:{line}" if line else str(path)


def _section(doc: object, key: str, path: Path, where: str = "") -> Mapping[str, Any]:
    """``doc[key]``, which must be a mapping; says which key is missing and where."""
    value = doc.get(key) if isinstance(doc, Mapping) else None
    if not isinstance(value, Mapping):
        name = f"{where}.{key}" if where else key
        state = (
            "is missing" if not isinstance(doc, Mapping) or key not in doc else "is not a mapping"
        )
        raise ConfigError(
            f"{_at(path, doc)}: {name}: {state}",
            hint=f"compare with the {path.name} in fixtures/load/",
        )
    return value


def _finite(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def _number(doc: Mapping[str, Any], key: str, where: str, path: Path) -> float:
    value: Any = doc.get(key)
    if not _finite(value) or value <= 0:
        raise ConfigError(
            f"{_at(path, doc)}: {where}.{key} must be a positive number (got {value!r})"
        )
    return float(value)


MAX_IN_FLIGHT = 64
"""``models.open.max_in_flight`` when the file leaves it out."""


def _in_flight_cap(open_doc: Mapping[str, Any], path: Path) -> int:
    """``models.open.max_in_flight``: a whole number of dossiers, 1 or more (default 64);
    it bounds what one user has waiting for answers, so it must not be 0 or fractional."""
    value: Any = open_doc.get("max_in_flight", MAX_IN_FLIGHT)
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ConfigError(
            f"{_at(path, open_doc)}: models.open.max_in_flight must be a whole number of "
            f"dossiers, 1 or more (got {value!r})",
            hint=f"the dossiers one open-model user may have waiting for an answer at once; "
            f"leave it out for {MAX_IN_FLIGHT}",
        )
    return value


def _points(spec: Mapping[str, Any], name: str, path: Path) -> tuple[tuple[float, float], ...]:
    where = f"{_at(path, spec)}: shape {name!r}"
    raw = spec.get("points")
    try:
        points = tuple((float(x), float(y)) for x, y in raw)  # type: ignore[union-attr]
    except (TypeError, ValueError):
        raise ConfigError(f"{where}: points must be [[fraction, multiple], ...]") from None
    xs = [x for x, _ in points]
    if len(points) < 2 or xs != sorted(xs) or xs[0] != 0.0 or xs[-1] != 1.0:
        raise ConfigError(f"{where}: points must run from 0.0 to 1.0 in order")
    if any(not math.isfinite(y) or y < 0 for _, y in points):
        raise ConfigError(f"{where}: multiples must be finite numbers, 0 or more")
    if not any(y > 0 for _, y in points):
        raise ConfigError(f"{where}: every multiple is 0, so the shape asks for no dossier")
    return points


def _mixes(path: Path) -> tuple[dict[str, dict[str, float]], dict[str, str]]:
    doc = load_yaml(path)
    mixes: dict[str, dict[str, float]] = {}
    lines: dict[str, str] = {}
    for name, weights in _section(doc, "mixes", path).items():
        if not isinstance(weights, Mapping) or not weights:
            raise ConfigError(
                f"{_at(path, doc.get('mixes'))}: mix {name!r} must map procedure codes to "
                'weights, e.g. {"600": 70, "601": 10}'
            )
        where = f"{_at(path, weights)}: mix {name!r}"
        for code, weight in weights.items():
            if not _finite(weight) or weight < 0:
                raise ConfigError(
                    f"{where}: the weight of {code} must be a finite number, 0 or more "
                    f"(got {weight!r})"
                )
        if not any(weights.values()):
            raise ConfigError(f"{where}: every weight is 0; give one procedure a weight")
        mixes[str(name)] = {str(code): float(w) for code, w in weights.items()}
        lines[str(name)] = _at(path, weights)
    return mixes, lines


@cache
def load_profile(directory: Path | None = None) -> Profile:
    """Read ``shapes.yaml`` and ``mixes.yaml``; every mistake names the file and line."""
    folder = directory or load_dir()
    path = folder / "shapes.yaml"
    doc = load_yaml(path)
    base_doc = _section(doc, "base", path)
    base = Base(
        dossiers_per_day=_number(base_doc, "dossiers_per_day", "base", path),
        units=int(_number(base_doc, "units", "base", path)),
        filing_hours_per_day=_number(base_doc, "filing_hours_per_day", "base", path),
    )
    models_doc = _section(doc, "models", path)
    open_doc = _section(models_doc, "open", path, "models")
    closed_doc = _section(models_doc, "closed", path, "models")
    models = {
        "open": {"mean_interval": _number(open_doc, "mean_interval", "models.open", path)},
        "closed": {"think_time": _number(closed_doc, "think_time", "models.closed", path)},
    }
    gaps = str(open_doc.get("gaps", "jittered"))
    if gaps not in ("jittered", "poisson"):
        raise ConfigError(
            f"{_at(path, open_doc)}: models.open.gaps must be jittered or poisson, not {gaps!r}"
        )
    max_in_flight = _in_flight_cap(open_doc, path)
    feed_doc = _section(doc, "feed", path)
    feed = FeedSettings(
        interval=_number(feed_doc, "interval", "feed", path),
        page=int(_number(feed_doc, "page", "feed", path)),
        ack_concurrency=int(_number(feed_doc, "ack_concurrency", "feed", path)),
    )
    mixes, mix_lines = _mixes(folder / "mixes.yaml")
    shapes: dict[str, Shape] = {}
    for name, spec in _section(doc, "shapes", path).items():
        if not isinstance(spec, Mapping):
            raise ConfigError(f"{_at(path, doc['shapes'])}: shape {name!r} must be a mapping")
        mix = str(spec.get("mix", ""))
        if mix not in mixes:
            raise ConfigError(
                f"{_at(path, spec)}: shape {name!r} names mix {mix!r}",
                hint=f"mixes in {folder / 'mixes.yaml'}: {', '.join(mixes)}",
            )
        points = _points(spec, str(name), path)
        shapes[str(name)] = Shape(str(name), str(spec.get("title", name)), mix, points)
    if not shapes:
        raise ConfigError(f"{_at(path, doc)}: shapes: no shape defined")
    return Profile(base, models, feed, shapes, mixes, gaps, max_in_flight, mix_lines)


def mix_for_catalog(
    weights: Mapping[str, float], procedures: Sequence[str]
) -> tuple[dict[str, float], list[str]]:
    """``(weights kept, codes left out)``: only procedures the catalog version has."""
    kept = {code: w for code, w in weights.items() if code in procedures and w > 0}
    dropped = sorted(code for code in weights if code not in procedures)
    if not kept:
        raise ConfigError(
            "the mix names no procedure of this catalog version",
            hint=f"catalog procedures: {', '.join(procedures)}",
        )
    return kept, dropped


__all__ = [
    "MAX_IN_FLIGHT",
    "MODELS",
    "Base",
    "FeedSettings",
    "Plan",
    "Profile",
    "Shape",
    "load_dir",
    "load_profile",
    "mix_for_catalog",
]
