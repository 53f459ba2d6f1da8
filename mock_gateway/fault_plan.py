"""Fault plans: which profiles are active with which parameters, as text, JSON and data.

A plan arrives as a ``--faults`` spec line, a ``PUT /admin/faults`` JSON body, or a row of
the store's ``settings`` table, where one worker publishes it and every other worker of
the same database adopts it (:class:`mock_gateway.faulty_app.FaultyGateway` looks at most
every :data:`PLAN_POLL_SECONDS`, when it answers a request). The row carries the simulated
moment the plan was set, so every worker counts a maintenance window from it, and the
``skip``/``times`` budgets of its hooks, their hits and a burst's window are kept in the
store (:class:`mock_gateway.fault_budget.SharedBudget`), so ``--workers N`` neither
multiplies nor divides them.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from typing import Any

import yaml

from harness.errors import ConfigError
from mock_gateway.headers import media_type
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


SEED_MAX = 2**63 - 1
"""The largest seed a plan takes (seeds are whole numbers from 0)."""
MAX_DEPTH = 8
"""How deep a plan's JSON may nest; a real one is 5 deep (``{profiles: [{params: {routes:
[...]}}]}``), and a deeper one would only be a client bug or an attack on the parser."""
_PLAN_KEYS = ("profiles", "seed", "spec")
_ENTRY_KEYS = ("name", "params")
_SHAPE = (
    'a fault plan is {"profiles": [{"name": ..., "params": {...}}], "seed": n} or {"spec": "..."}'
)
_CLEAR = 'DELETE /admin/faults clears the plan; {"profiles": []} sets an empty one'
_TOO_DEEP = object()
_YAML_ERRORS = (yaml.YAMLError, ValueError, TypeError, RecursionError)
"""What ``yaml.safe_load`` raises for a value it cannot read (a bad date is a ValueError)."""


def parse_spec(text: str) -> list[FaultSpec]:
    """``"burst-503:count=5,retry_after=2; latency:seconds=0.1"`` as fault specs.

    An empty value (``count=``) is refused rather than read as null, which for some
    parameters means "no limit" (``burst-503:count=`` would be a 503 forever): write
    ``count=null`` to mean that.
    """
    specs = []
    for part in filter(None, (p.strip() for p in text.split(";"))):
        name, _, rest = part.partition(":")
        if not name.strip():
            raise ConfigError(f"fault spec {part[:80]!r} names no profile", hint=_SPEC_HINT)
        params: dict[str, Any] = {}
        for item in filter(None, (i.strip() for i in rest.split(","))):
            key, sep, raw = (x.strip() for x in item.partition("="))
            where = f"in {part[:80]!r}"
            if not sep:
                raise ConfigError(f"fault option {item[:80]!r} is not key=value", hint=where)
            if not key or not raw:
                missing = "name" if not key else "value (write null for none)"
                raise ConfigError(f"fault option {item[:80]!r} has no {missing}", hint=where)
            if key in params:
                raise ConfigError(f"fault option {key[:40]!r} is given twice", hint=where)
            params[key] = _spec_value(raw)
        specs.append(FaultSpec(name.strip(), params))
    return specs


_SPEC_HINT = 'write "profile:key=value,key=value; profile2", e.g. "burst-503:count=5"'


def _spec_value(raw: str) -> Any:
    """``raw`` read as YAML (``5``, ``0.1``, ``null``, ``true``), else the text itself.

    What JSON could not carry back (a date, a nested mapping) stays text, so every plan
    the store shares is JSON; the hooks then say which type they expected.
    """
    try:
        value = yaml.safe_load(raw)
    except _YAML_ERRORS:
        return raw
    return value if value is None or isinstance(value, bool | int | float | str) else raw


def json_media(content_type: str | None) -> None:
    """Refuse a ``Content-Type`` other than ``application/json`` (charset UTF-8 if any):
    XML or a form sent by mistake must not be read as some other plan."""
    media, charset = media_type(content_type or "")
    if media != "application/json" or charset not in ("", "utf-8"):
        shown = (content_type or "(none)")[:60]
        raise ConfigError(f"Content-Type must be application/json, not {shown!r}", hint=_SHAPE)


def read_body(body: bytes) -> tuple[list[FaultSpec], int | None]:
    """A ``PUT /admin/faults`` body as a plan; a ConfigError that says what to send instead.

    Strict because a mistake here is silent otherwise: an empty body or a misspelt key
    used to read as an empty plan and clear the faults a run relies on.
    """
    if not body.strip():
        raise ConfigError("the body is empty", hint=_CLEAR)
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise ConfigError("the body is not UTF-8 text", hint=_SHAPE) from None
    try:
        data = json.loads(
            text,
            object_pairs_hook=_object,
            parse_constant=_constant,
            parse_float=_float,
            parse_int=_int,
        )
    except RecursionError:
        data = _TOO_DEEP
    except json.JSONDecodeError as exc:
        at = f"line {exc.lineno} column {exc.colno}"
        raise ConfigError(f"the body is not JSON: {exc.msg} at {at}", hint=_SHAPE) from None
    if data is _TOO_DEEP or _depth(data) > MAX_DEPTH:
        raise ConfigError(f"the plan nests deeper than {MAX_DEPTH} levels", hint=_SHAPE)
    return specs_from_json(data)


def _object(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in pairs:
        if key in out:
            raise ConfigError(f"key {key[:40]!r} is given twice in one object", hint=_SHAPE)
        out[key] = value
    return out


def _constant(name: str) -> Any:
    raise ConfigError(f"{name} is not a number JSON allows", hint="numbers must be finite")


def _float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise ConfigError(f"the number {text[:40]} is out of range", hint="numbers must be finite")
    return value


def _int(text: str) -> int:
    if len(text.lstrip("-")) > 30:
        raise ConfigError(f"the number {text[:40]}... is out of range", hint=_SHAPE)
    return int(text)


def _depth(value: Any) -> int:
    """How deep ``value`` nests (a scalar is 0), without recursion."""
    deepest, stack = 0, [(value, 1)]
    while stack:
        item, level = stack.pop()
        children = (
            item.values() if isinstance(item, dict) else item if isinstance(item, list) else None
        )
        if children is not None:
            deepest = max(deepest, level)
            if level <= MAX_DEPTH:
                stack.extend((child, level + 1) for child in children)
    return deepest


def specs_from_json(data: Any) -> tuple[list[FaultSpec], int | None]:
    """A plan as JSON data: ``{"profiles": [{name, params}], "seed": n}`` or ``{"spec": ...}``.

    Every key and type is checked (an unknown key is a typo, never ignored), and the
    errors say what was expected, not what Python made of it.
    """
    if not isinstance(data, dict):
        raise ConfigError(f"the plan must be a JSON object, not {_kind(data)}", hint=_SHAPE)
    _refuse_unknown(data, _PLAN_KEYS, "the plan")
    if ("profiles" in data) == ("spec" in data):
        said = "both profiles and spec" if "profiles" in data else "neither profiles nor spec"
        raise ConfigError(f"the plan gives {said}", hint=f"{_SHAPE}; {_CLEAR}")
    seed = _seed(data.get("seed"))
    if "spec" in data:
        if not isinstance(data["spec"], str):
            raise ConfigError(f"spec must be a string, not {_kind(data['spec'])}", hint=_SPEC_HINT)
        specs = parse_spec(data["spec"])
        if not specs:  # would clear the plan: that is DELETE's job, never a typo's
            raise ConfigError("spec names no fault profile", hint=f"{_SPEC_HINT}; {_CLEAR}")
        return specs, seed
    entries = data["profiles"]
    if not isinstance(entries, list):
        raise ConfigError(
            f"profiles must be a list of {{name, params}}, not {_kind(entries)}", hint=_SHAPE
        )
    return [_entry(number, item) for number, item in enumerate(entries, 1)], seed


def _seed(value: Any) -> int | None:
    """A seed: null (keep the current one) or a whole number from 0 to :data:`SEED_MAX`."""
    if value is None:
        return None
    whole = isinstance(value, int) or (isinstance(value, float) and value.is_integer())
    if isinstance(value, bool) or not whole or not 0 <= value <= SEED_MAX:
        raise ConfigError(
            f"seed must be a whole number from 0 to {SEED_MAX}, not {_shown(value)}",
            hint="the same seed replays the same fault draws",
        )
    return int(value)


def _entry(number: int, item: Any) -> FaultSpec:
    """Entry ``number`` (from 1) of ``profiles``: ``{"name": str, "params": {...}}``."""
    where = f"profiles entry {number}"
    if not isinstance(item, dict):
        raise ConfigError(
            f"{where} must be an object {{name, params}}, not {_kind(item)}", hint=_SHAPE
        )
    _refuse_unknown(item, _ENTRY_KEYS, where)
    name, params = item.get("name"), item.get("params")
    if not isinstance(name, str) or not name.strip():
        raise ConfigError(f"{where} needs a name, a profile's name as a string", hint=_SHAPE)
    if params is not None and not isinstance(params, dict):
        raise ConfigError(
            f"{where} ({name[:40]!r}): params must be an object, not {_kind(params)}", hint=_SHAPE
        )
    return FaultSpec(name, dict(params or {}))


def _refuse_unknown(data: dict[str, Any], known: tuple[str, ...], where: str) -> None:
    """A key the plan does not take is a typo, never ignored."""
    unknown = sorted(set(data) - set(known))
    if unknown:
        names = ", ".join(repr(k[:40]) for k in unknown[:3])
        raise ConfigError(f"unknown key {names} in {where}", hint=_SHAPE)


def _kind(value: Any) -> str:
    """The JSON name of ``value``'s type, with the value when it is short."""
    names = {dict: "an object", list: "a list", str: "a string", bool: "a boolean"}
    kind = "null" if value is None else names.get(type(value), "a number")
    return kind if isinstance(value, dict | list) or value is None else f"{kind} {_shown(value)}"


def _shown(value: Any) -> str:
    """``value`` as JSON, cut to 40 characters."""
    text = (
        json.dumps(value) if not isinstance(value, float) or math.isfinite(value) else repr(value)
    )
    return text if len(text) <= 40 else text[:37] + "..."


def plan_json(specs: list[FaultSpec], seed: int, at: float | None = None) -> str:
    """A plan as the store shares it: what :func:`specs_from_json` reads, with ``at``.

    ``at`` is the simulated moment the plan was set, which a maintenance window counts
    from: every worker must count from the same one. None (a plan ``serve`` publishes
    before any worker runs) is settled by the first worker to start (:func:`settle_start`).
    """
    plan: dict[str, Any] = {"profiles": [s.to_dict() for s in specs], "seed": seed}
    return json.dumps(plan | ({} if at is None else {AT_KEY: at}))


AT_KEY = "at"
"""The key of a published plan holding the simulated moment it was set."""


def published_plan(text: str) -> tuple[list[FaultSpec], int | None, float | None]:
    """A published plan (:func:`plan_json`) as ``(specs, seed, at)``; ``at`` is None when
    it is not settled yet (or was written by a version that did not publish it)."""
    data = json.loads(text)
    at = data.pop(AT_KEY, None) if isinstance(data, dict) else None
    if isinstance(at, bool) or not isinstance(at, int | float) or not math.isfinite(at):
        at = None  # unsettled, or not a moment: settled anew
    return (*specs_from_json(data), None if at is None else float(at))


def publish_plan(store: Store, specs: list[FaultSpec], seed: int, at: float | None = None) -> int:
    """Make ``specs`` the plan of every gateway worker on ``store``; returns its version.

    The counts (budgets, hits, windows) of older plans are dropped: every worker adopts
    this one.
    """
    version = store.publish_setting(PLAN_SETTING, plan_json(specs, seed, at))
    store.forget_fault_budgets(version)
    return version


def settle_start(store: Store, version: int, text: str, at: float) -> float | None:
    """The moment published plan ``version`` (``text``, no ``at`` yet) was set: ``at`` if
    this worker is the first to settle it, else the one another worker settled first
    (None if the plan was replaced meanwhile)."""
    specs, seed, _ = published_plan(text)
    if store.replace_setting(PLAN_SETTING, version, text, plan_json(specs, seed or 0, at)):
        return at
    now = store.setting(PLAN_SETTING)
    if now is None or now[0] != version:
        return None
    return published_plan(now[1])[2]


__all__ = [
    "AT_KEY",
    "PLAN_POLL_SECONDS",
    "PLAN_SETTING",
    "SEED_MAX",
    "FaultSpec",
    "json_media",
    "parse_spec",
    "plan_json",
    "publish_plan",
    "published_plan",
    "read_body",
    "settle_start",
    "specs_from_json",
]
