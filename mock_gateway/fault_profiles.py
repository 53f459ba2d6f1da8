"""Fault profiles as data: ``fixtures/faults/*.yaml``, each a set of parameters with
defaults and the hooks they fill in (``$param`` placeholders).

Adding a profile is adding a file; its hooks name kinds from :data:`KINDS`,
and a file naming an unknown kind is refused when the profiles load.
"""

from __future__ import annotations

import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from harness.errors import ConfigError
from harness.paths import fixtures_dir
from harness.signing import TestPKI
from harness.yamlfile import load_yaml
from mock_gateway import fault_feed  # noqa: F401  (defines the feed's hook kinds)
from mock_gateway.fault_plan import FaultSpec
from mock_gateway.faults import Fault
from mock_gateway.hook_params import PARAMETER_NAMES

KINDS: dict[str, type[Fault]] = {k.kind: k for k in Fault.__subclasses__()}
"""Every hook kind, by the name profiles use: the hooks of :mod:`mock_gateway.faults` and
:mod:`mock_gateway.fault_feed` (imported above so its kinds are defined)."""


@dataclass(frozen=True)
class FaultProfile:
    """A named profile: default parameters and hook templates (``$param`` placeholders)."""

    name: str
    description: str
    params: dict[str, Any]
    hooks: tuple[dict[str, Any], ...]

    def bind(self, overrides: dict[str, Any] | None = None) -> list[dict[str, Any]]:
        """The hooks with parameters filled in; an unknown parameter is a ConfigError.

        Each hook also maps its fields to the parameters that filled them (under
        :data:`~mock_gateway.hook_params.PARAMETER_NAMES`), so an error about a value names
        the parameter the user wrote.
        """
        unknown = sorted(set(overrides or {}) - set(self.params))
        if unknown:
            raise ConfigError(
                f"fault profile {self.name!r} has no parameter {', '.join(unknown)}",
                hint=f"its parameters: {', '.join(sorted(self.params)) or '(none)'}",
            )
        values = {**self.params, **(overrides or {})}

        def source(value: Any) -> str | None:
            placeholder = isinstance(value, str) and value.startswith("$")
            return value[1:] if placeholder and value[1:] in values else None

        hooks = []
        for hook in self.hooks:
            sources = {k: name for k, v in hook.items() if (name := source(v)) is not None}
            filled = {k: values[sources[k]] if k in sources else v for k, v in hook.items()}
            hooks.append({**filled, PARAMETER_NAMES: sources})
        return hooks


def load_profiles(directory: Path | None = None) -> dict[str, FaultProfile]:
    """Every ``*.yaml`` profile in ``directory`` (default ``fixtures/faults``), checked."""
    profiles = {}
    for path in sorted((directory or fixtures_dir() / "faults").glob("*.yaml")):
        doc = load_yaml(path) or {}  # file:line for a syntax error or a key given twice
        hooks = tuple(dict(h) for h in doc.get("hooks") or ())
        for hook in hooks:
            if hook.get("kind") not in KINDS:
                raise ConfigError(
                    f"{path}: unknown fault kind {hook.get('kind')!r}",
                    hint=f"known kinds: {', '.join(sorted(KINDS))}",
                )
        description = " ".join(str(doc.get("description", "")).split())
        profiles[path.stem] = FaultProfile(
            path.stem, description, dict(doc.get("params") or {}), hooks
        )
    return profiles


def build_plan(
    specs: Sequence[FaultSpec],
    profiles: Mapping[str, FaultProfile],
    seed: int,
    at: float,
    pki: TestPKI,
) -> list[Fault]:
    """The hooks of a plan, every value checked; a ConfigError for anything unusable.

    ``at`` is the simulated moment the plan is set; each hook draws from its own RNG seeded
    by the plan's seed and its place in the plan, so a run is reproducible.
    """
    built: list[Fault] = []
    for index, spec in enumerate(specs):
        profile = profiles.get(spec.name)
        if profile is None:
            known = ", ".join(sorted(profiles))
            raise ConfigError(f"unknown fault profile {spec.name!r}", hint=f"known: {known}")
        for number, hook in enumerate(profile.bind(spec.params)):
            rng = random.Random(f"{seed}/{index}/{spec.name}/{number}")
            built.append(KINDS[hook["kind"]](spec.name, hook, rng, at))
    for fault in built:
        fault.prepare(pki)
    return built


__all__ = ["KINDS", "FaultProfile", "build_plan", "load_profiles"]
