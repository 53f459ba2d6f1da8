"""The checked values of one fault hook's parameters.

A fault plan comes from a person (``--faults``, ``PUT /admin/faults``), so every value is
read and checked when the plan is set: a wrong type or range is a ConfigError naming the
profile and the parameter then, never an exception on some later request.
"""

from __future__ import annotations

import math
from typing import Any

from harness.errors import ConfigError

PARAMETER_NAMES = "$parameters"
"""Key of a bound hook mapping its fields to the profile parameters that filled them."""


class HookParams:
    """Typed readers over one hook's ``spec`` (its profile's parameters filled in)."""

    def __init__(self, profile: str, spec: dict[str, Any]) -> None:
        self.profile, self.spec = profile, spec
        self.names: dict[str, str] = spec.get(PARAMETER_NAMES) or {}

    def bad(self, key: str, expected: str) -> ConfigError:
        """The error for a value of ``key`` that is not ``expected``, named as the user
        wrote it (``count`` for the ``times`` it fills)."""
        name = self.names.get(key, key)
        return ConfigError(
            f"fault profile {self.profile!r}: {name} must be {expected}, "
            f"not {self.spec.get(key)!r}",
            hint="fix the value in --faults or in the PUT /admin/faults body",
        )

    def number(self, key: str, default: float, *, maximum: float = math.inf) -> float:
        """``spec[key]`` as a number from 0 to ``maximum``."""
        value = self.spec.get(key, default)
        is_number = isinstance(value, int | float) and not isinstance(value, bool)
        if not is_number or not 0 <= value <= maximum:  # NaN fails both comparisons
            bounds = ">= 0" if maximum == math.inf else f"from 0 to {maximum:g}"
            raise self.bad(key, f"a number {bounds}")
        return float(value)

    def optional_number(self, key: str) -> float | None:
        """``spec[key]`` as a number >= 0, or None when absent or null."""
        return None if self.spec.get(key) is None else self.number(key, 0.0)

    def count(self, key: str, default: int) -> int:
        """``spec[key]`` as a whole number >= 0."""
        value = self.spec.get(key, default)
        whole = isinstance(value, int) or (isinstance(value, float) and value.is_integer())
        if isinstance(value, bool) or not whole or value < 0:
            raise self.bad(key, "a whole number >= 0")
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

    def routes(self) -> tuple[str, ...]:
        """``spec["routes"]``: ``"METHOD /path"`` globs, or ``"*"`` (every I-VAN route)."""
        value = self.spec.get("routes") or ("*",)
        if isinstance(value, str):  # one route, as --faults "...:routes=GET /api/v1/messages"
            return (value,)
        if not isinstance(value, list | tuple) or not all(isinstance(r, str) for r in value):
            raise self.bad("routes", 'a list of "METHOD /path" patterns or "*"')
        return tuple(value)


__all__ = ["HookParams"]
