"""The checked values of one fault hook's parameters.

A fault plan comes from a person (``--faults``, ``PUT /admin/faults``), so every value is
read and checked when the plan is set: a wrong type or range is a ConfigError naming the
profile and the parameter then, never an exception on some later request.

Values are also capped: a plan is a test of how a client copes, and a latency of a year
(or Infinity, which JSON cannot even carry back in ``GET /admin/faults``) would only hang
the client and hold a connection open for good.
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Sequence
from typing import Any

from harness.errors import ConfigError
from harness.suggestions import did_you_mean
from mock_gateway.routes import ROUTES, Route

PARAMETER_NAMES = "$parameters"
"""Key of a bound hook mapping its fields to the profile parameters that filled them."""
MAX_SECONDS = 86_400.0
"""The longest duration a hook takes by default (a day): longer than any client waits."""
MAX_COUNT = 1_000_000_000
"""The largest count (``count``, ``skip``); null already means "no limit"."""
_HINT = "fix the value in --faults or in the PUT /admin/faults body"
DAY = "; durations stop at a day (86400 s), longer than any client waits"
"""Why :data:`MAX_SECONDS` (the hint of a duration over it)."""


class HookParams:
    """Typed readers over one hook's ``spec`` (its profile's parameters filled in)."""

    def __init__(self, profile: str, spec: dict[str, Any]) -> None:
        self.profile, self.spec = profile, spec
        self.names: dict[str, str] = spec.get(PARAMETER_NAMES) or {}

    def bad(self, key: str, expected: str, hint: str = _HINT) -> ConfigError:
        """The error for a value of ``key`` that is not ``expected``, named as the user
        wrote it (``count`` for the ``times`` it fills)."""
        name = self.names.get(key, key)
        shown = repr(self.spec.get(key))
        shown = shown if len(shown) <= 60 else shown[:57] + "..."
        return ConfigError(
            f"fault profile {self.profile!r}: {name} must be {expected}, not {shown}", hint=hint
        )

    def number(
        self, key: str, default: float, *, maximum: float = MAX_SECONDS, why: str = DAY
    ) -> float:
        """``spec[key]`` as a finite number from 0 to ``maximum`` (by default a day, in
        seconds: :data:`MAX_SECONDS`); ``why`` is the cap's reason, for the hint."""
        value = self.spec.get(key, default)
        is_number = isinstance(value, int | float) and not isinstance(value, bool)
        if not is_number or not 0 <= value <= maximum:  # NaN and Infinity fail too
            limit = f"{maximum:.0f}" if float(maximum).is_integer() else f"{maximum:g}"
            raise self.bad(key, f"a number from 0 to {limit}", hint=_HINT + why)
        return float(value)

    def optional_number(self, key: str) -> float | None:
        """``spec[key]`` as a duration (:meth:`number`), or None when absent or null."""
        return None if self.spec.get(key) is None else self.number(key, 0.0)

    def count(self, key: str, default: int) -> int:
        """``spec[key]`` as a whole number from 0 to :data:`MAX_COUNT`."""
        value = self.spec.get(key, default)
        whole = isinstance(value, int) or (isinstance(value, float) and value.is_integer())
        if isinstance(value, bool) or not whole or not 0 <= value <= MAX_COUNT:
            raise self.bad(key, f"a whole number from 0 to {MAX_COUNT}")
        return int(value)

    def optional_count(self, key: str) -> int | None:
        """``spec[key]`` as a whole number >= 0, or None (no limit) when absent or null."""
        return None if self.spec.get(key) is None else self.count(key, 0)

    def choice(self, key: str, default: str, choices: tuple[str, ...]) -> str:
        """``spec[key]``, one of ``choices``."""
        value = self.spec.get(key, default)
        if value not in choices:
            raise self.bad(key, "one of " + ", ".join(choices))
        return str(value)

    def flag(self, key: str, default: bool) -> bool:
        """``spec[key]`` as true or false."""
        value = self.spec.get(key, default)
        if not isinstance(value, bool):
            raise self.bad(key, "true or false")
        return value

    def routes(self, acts_on: tuple[Route, ...] | None = None) -> tuple[str, ...]:
        """``spec["routes"]``: ``"METHOD /path"`` globs, or ``"*"`` (every I-VAN route).

        Each must reach a route of the gateway, and one of ``acts_on`` when the hook acts
        on those alone: a misspelt route or an empty list was a plan that never fired.
        """
        value = self.spec.get("routes", ("*",))
        if isinstance(value, str):  # one route, as --faults "...:routes=GET /api/v1/messages"
            value = [value]
        if not isinstance(value, list | tuple) or not all(isinstance(r, str) for r in value):
            raise self.bad("routes", 'a list of "METHOD /path" patterns or "*"')
        if not value:
            raise self.bad(
                "routes", 'at least one "METHOD /path" pattern, or "*" for every I-VAN route'
            )
        for pattern in value:
            self._reaches(pattern, ROUTES, "no route of the gateway")
            if acts_on is not None:
                self._reaches(pattern, acts_on, "no route this profile acts on")
        return tuple(value)

    def _reaches(self, pattern: str, routes: Sequence[Route], what: str) -> None:
        """Refuse ``pattern`` if it reaches none of ``routes``."""
        if any(_reached(pattern, route) for route in routes):
            return
        lines = [f"{r.method} {r.template}" for r in routes]
        guess = did_you_mean(pattern, lines)
        shown = "; ".join(lines) if len(lines) <= 3 else 'e.g. "GET /api/v1/messages"'
        name = self.names.get("routes", "routes")
        raise ConfigError(
            f"fault profile {self.profile!r}: {name} pattern {pattern[:80]!r} matches {what}",
            hint=f'{guess}give METHOD /path of a route ({shown}), or "*" for every I-VAN '
            "route; GET /openapi.json lists them",
        )


def reaches(pattern: str, method: str, path: str) -> bool:
    """Whether ``pattern`` matches a request: ``"*"`` every I-VAN route (``/api/...``),
    else a ``"METHOD /path"`` glob."""
    if pattern == "*":
        return path.startswith("/api/")
    return fnmatch.fnmatchcase(f"{method} {path}", pattern)


def _reached(pattern: str, route: Route) -> bool:
    """Whether ``pattern`` matches requests to ``route``: a glob such as
    ``GET /api/v1/dossiers/*``, or one path of it, ``GET /api/v1/dossiers/X``."""
    if reaches(pattern, route.method, _PLACEHOLDER.sub("0", route.template)):
        return True
    method, _, path = pattern.partition(" ")
    return method == route.method and route.match(path) is not None


_PLACEHOLDER = re.compile(r"\{\w+\}")


__all__ = ["HookParams", "reaches"]
