"""Fault plans: which profiles are active with which parameters, as text, JSON and data.

A plan arrives as a ``--faults`` spec line, a ``PUT /admin/faults`` JSON body, or a row of
the store's ``settings`` table, where one worker publishes it and every other worker of
the same database adopts it (:class:`mock_gateway.faulty_app.FaultyGateway` polls every
:data:`PLAN_POLL_SECONDS`).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import yaml

from harness.errors import ConfigError
from mock_gateway.store import Store

PLAN_SETTING = "fault-plan"
PLAN_POLL_SECONDS = 0.25
"""How often a worker looks for a plan another worker published (``PUT /admin/faults``)."""


@dataclass(frozen=True)
class FaultSpec:
    """One profile to activate, with parameter overrides."""

    name: str
    params: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "params": dict(self.params)}


def parse_spec(text: str) -> list[FaultSpec]:
    """``"burst-503:count=5,retry_after=2; latency:seconds=0.1"`` as fault specs."""
    specs = []
    for part in filter(None, (p.strip() for p in text.split(";"))):
        name, _, rest = part.partition(":")
        params: dict[str, Any] = {}
        for item in filter(None, (i.strip() for i in rest.split(","))):
            key, sep, raw = item.partition("=")
            if not sep:
                raise ConfigError(f"fault option {item!r} is not key=value", hint=f"in {part!r}")
            params[key.strip()] = yaml.safe_load(raw.strip())
        specs.append(FaultSpec(name.strip(), params))
    return specs


def specs_from_json(data: Any) -> tuple[list[FaultSpec], int | None]:
    """A ``PUT /admin/faults`` body: ``{"profiles": [{name, params}], "seed": n}`` or a spec."""
    if not isinstance(data, dict):
        raise ConfigError("the fault plan must be a JSON object")
    seed = None if data.get("seed") is None else int(data["seed"])
    if "spec" in data:
        return parse_spec(str(data["spec"])), seed
    specs = []
    for item in data.get("profiles") or ():
        if not isinstance(item, dict) or not isinstance(item.get("name"), str):
            raise ConfigError(f"fault profile entry {item!r} needs a name")
        specs.append(FaultSpec(item["name"], dict(item.get("params") or {})))
    return specs, seed


def plan_json(specs: list[FaultSpec], seed: int) -> str:
    """A plan as the JSON :func:`specs_from_json` reads back (what the store shares)."""
    return json.dumps({"profiles": [s.to_dict() for s in specs], "seed": seed})


def publish_plan(store: Store, specs: list[FaultSpec], seed: int) -> int:
    """Make ``specs`` the plan of every gateway worker on ``store``; returns its version."""
    return store.publish_setting(PLAN_SETTING, plan_json(specs, seed))


__all__ = [
    "PLAN_POLL_SECONDS",
    "PLAN_SETTING",
    "FaultSpec",
    "parse_spec",
    "plan_json",
    "publish_plan",
    "specs_from_json",
]
