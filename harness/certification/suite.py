"""The certification suite as data: ``scenarios/certification/cases.yaml`` and its checks.

The engine knows step kinds, never cases: which scenarios exist, which cases judge them,
which requirement each case checks and the suite's settings are all in the YAML file, and
each case names a check function of a ``checks*.py`` module beside it (registered with
:func:`check`). The folder is loaded by path, like a test collector does, so ``harness``
never imports ``scenarios`` (ARCHITECTURE.md) and a vendor can point the suite at a copy.
"""

from __future__ import annotations

import importlib.util
import math
import re
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, TypeVar

import yaml

from harness.errors import ConfigError
from harness.paths import scenarios_dir
from harness.suggestions import did_you_mean

CASE_ID = re.compile(r"^CERT-[A-Z]{2,4}-\d{2}$")
STEP_KINDS = frozenset(
    {
        *("handover", "faults", "clear_faults", "run", "advance", "tick", "wait"),
        *("restart", "recover", "neighbour"),
    }
)
_NUMERIC_ARGS: dict[str, tuple[str, ...]] = {
    "handover": ("jobs",),
    "run": ("minutes", "step"),
    "advance": ("minutes",),
    "wait": ("seconds",),
}
"""Step arguments the engine reads as numbers (``jobs`` as a whole number)."""
_CHECK_ATTRIBUTE = "__certification_check__"
NEEDS = {
    "tick": "BHXH's messages cannot reach the employer, nor a dossier deferred to later be resent",
    "recover": "the I-VAN cannot be asked for a dossier's messages",
    "restart": "the I-VAN cannot be restarted",
}
"""The optional adapter operations a case may need (``needs:``), and what their absence
leaves unexercised: such a case is skipped, not failed, for an adapter without them."""

F = TypeVar("F", bound=Callable[..., Any])


def check(name: str) -> Callable[[F], F]:
    """Register a check function under ``name`` (the ``check:`` of cases in cases.yaml).

    A check takes an :class:`~harness.certification.observe.Observation` and returns a
    short note (or None) when the I-VAN passed; it raises
    :class:`~harness.certification.model.CaseFailed` with evidence when it did not, and
    :class:`~harness.certification.model.CaseBlocked` when the case could not be exercised.
    """

    def register(function: F) -> F:
        setattr(function, _CHECK_ATTRIBUTE, name)
        return function

    return register


@dataclass(frozen=True)
class CaseSpec:
    """One numbered case: what it judges, the requirement, its scenario and check."""

    id: str
    title: str
    requirement: str
    scenario: str
    check: str
    needs: tuple[str, ...] = ()

    def missing(self, capabilities: frozenset[str]) -> list[str]:
        """The operations this case needs that an adapter with ``capabilities`` lacks."""
        return [n for n in self.needs if n not in capabilities]


@dataclass(frozen=True)
class ScenarioSpec:
    """What the suite does to the I-VAN and the gateway: an ordered list of steps."""

    name: str
    description: str
    steps: tuple[tuple[str, Any], ...]


@dataclass(frozen=True)
class Suite:
    """A loaded suite: settings, scenarios, cases and the check functions."""

    name: str
    version: str
    settings: dict[str, Any]
    scenarios: dict[str, ScenarioSpec]
    cases: dict[str, CaseSpec]
    checks: dict[str, Callable[..., Any]] = field(repr=False)
    directory: Path = Path()

    def with_settings(self, **overrides: Any) -> Suite:
        """A copy with some settings replaced (unknown names are a ConfigError)."""
        unknown = sorted(set(overrides) - set(self.settings))
        if unknown:
            raise ConfigError(
                f"unknown suite setting {', '.join(unknown)}",
                hint=f"settings of {self.name}: {', '.join(sorted(self.settings))}",
            )
        return replace(self, settings={**self.settings, **overrides})

    @property
    def resolved(self) -> dict[str, Any]:
        """Settings plus the derived ones (``timeout_delay``)."""
        return _resolved(self.settings)

    def select(self, case_ids: Sequence[str] | None = None) -> list[CaseSpec]:
        """The cases to run, in suite order; unknown ids are a ConfigError."""
        if not case_ids:
            return list(self.cases.values())
        unknown = [c for c in case_ids if c not in self.cases]
        if unknown:  # ids are upper case (CASE_ID): 'cert-sch-01' is told the one it means
            guess = did_you_mean(unknown[0].upper(), self.cases)
            raise ConfigError(
                f"unknown case {', '.join(unknown)}", hint=f"{guess}cases: {', '.join(self.cases)}"
            )
        return [c for c in self.cases.values() if c.id in case_ids]


def suite_dir() -> Path:
    return scenarios_dir() / "certification"


def _resolved(settings: dict[str, Any]) -> dict[str, Any]:
    """``settings`` plus the derived ones (``timeout_delay``), which need two numbers."""
    needed: dict[str, Any] = {n: settings.get(n) for n in ("client_timeout", "timeout_margin")}
    try:
        delay = float(needed["client_timeout"]) + float(needed["timeout_margin"])
    except (TypeError, ValueError):
        raise ConfigError(
            f"the suite settings client_timeout and timeout_margin must be seconds, got {needed}",
            hint="see settings: in the shipped scenarios/certification/cases.yaml",
        ) from None
    return {**settings, "timeout_delay": delay}


def resolve(raw: Any, settings: dict[str, Any]) -> Any:
    """A step argument with every ``"$name"`` in it read from ``settings``."""
    if isinstance(raw, str) and raw.startswith("$"):
        return settings[raw[1:]]
    if isinstance(raw, dict):
        return {k: resolve(v, settings) for k, v in raw.items()}
    if isinstance(raw, list):
        return [resolve(v, settings) for v in raw]
    return raw


def _references(raw: Any) -> set[str]:
    """Every setting a step argument names as ``"$name"``, at any depth."""
    if isinstance(raw, str) and raw.startswith("$"):
        return {raw[1:]}
    values = raw.values() if isinstance(raw, dict) else raw if isinstance(raw, list) else ()
    return set().union(*(_references(v) for v in values))


def _number_problem(key: str, value: Any) -> str:
    """Why the engine could not use ``value`` for numeric argument ``key`` ("" if it can)."""
    try:
        number = float(int(value) if key == "jobs" else float(value))
    except (TypeError, ValueError, OverflowError):
        number = math.nan
    if isinstance(value, bool) or not math.isfinite(number) or number < 0:
        return f"{key} must be a number of 0 or more, got {value!r}"
    if key == "step" and number == 0:
        return "step must be more than 0 minutes"
    return ""


RESULT_DEFECTIVE = "defective-result"
HANDOVER_DEFECTS = {"defective": "rejection_defects", RESULT_DEFECTIVE: "result_defects"}
"""A handover kind breaking a named defect, and the setting listing the defects it may use:
one BHXH refuses at intake, or one it accepts and lists in the 03/TB-TS (``RES-*``)."""


def _handover_problem(kind: Any, settings: dict[str, Any]) -> str:
    """A handover kind the engine does not know, or a defective one with no defects to use."""
    kinds = ("valid", *HANDOVER_DEFECTS)
    if kind not in kinds:
        return f"kind must be {', '.join(kinds[:-1])} or {kinds[-1]}, got {kind!r}"
    setting = HANDOVER_DEFECTS.get(kind)
    if setting is not None and setting not in settings:
        return f"a {kind} handover needs the setting {setting}"
    return ""


def _args_problem(kind: str, args: Any, settings: dict[str, Any]) -> str:
    """What the engine would trip over in one step's arguments ("" if nothing): a
    ``$name`` no setting has, a number it cannot use, a handover kind it does not know."""
    unknown = sorted(_references(args) - set(settings))
    if unknown:
        names = ", ".join(f"${n}" for n in unknown)
        return f"no setting {names} (settings: {', '.join(sorted(settings))})"
    if kind not in _NUMERIC_ARGS:
        return ""
    if not isinstance(args, dict):
        return f"{kind} takes a mapping of {', '.join(_NUMERIC_ARGS[kind])}, got {args!r}"
    values = resolve(args, settings)
    problems = [_number_problem(k, values[k]) for k in _NUMERIC_ARGS[kind] if k in values]
    if kind == "handover":
        problems.append(_handover_problem(values.get("kind", "valid"), settings))
    return "; ".join(p for p in problems if p)


def _steps(where: str, raw: Any, settings: dict[str, Any]) -> tuple[tuple[str, Any], ...]:
    """A scenario's steps, each checked against what the engine does with it: a mistake
    in the suite's data is a ConfigError here, not a case error blamed on the adapter."""
    steps = []
    for index, step in enumerate(raw or (), 1):
        kind, args = next(iter(step.items())) if isinstance(step, dict) else (step, {})
        if kind not in STEP_KINDS or (isinstance(step, dict) and len(step) != 1):
            raise ConfigError(
                f"{where}: bad step {step!r}",
                hint=f"steps: {', '.join(sorted(STEP_KINDS))}",
            )
        args = args if args is not None else {}
        problem = _args_problem(str(kind), args, settings)
        if problem:
            raise ConfigError(f"{where}, step {index} ({kind}): {problem}")
        steps.append((str(kind), args))
    return tuple(steps)


def _where(path: Path, scenario: Any, cases: dict[Any, Any]) -> str:
    """``cases.yaml: scenario NAME (cases CERT-...)``: where a step mistake is."""
    judged = [
        str(i) for i, c in cases.items() if isinstance(c, dict) and c.get("scenario") == scenario
    ]
    return f"{path}: scenario {scenario}" + (f" (cases {', '.join(judged)})" if judged else "")


def _text(value: Any) -> str:
    return " ".join(str(value or "").split())


def _load_checks(path: Path) -> dict[str, Callable[..., Any]]:
    module_name = f"_bhxh_certification_checks_{abs(hash(str(path.resolve())))}"
    spec = importlib.util.spec_from_file_location(module_name, path)
    if spec is None or spec.loader is None:
        raise ConfigError(f"cannot load checks from {path}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[module_name] = module
    spec.loader.exec_module(module)
    found = {}
    for value in vars(module).values():
        name = getattr(value, _CHECK_ATTRIBUTE, None)
        if isinstance(name, str):
            found[name] = value
    return found


def _needs_problem(needs: Any) -> str:
    """What is wrong with a case's ``needs:`` ("" if nothing): a list of known operations."""
    if needs is None:
        return ""
    if not isinstance(needs, list) or any(n not in NEEDS for n in needs):
        return f"needs must be a list of {', '.join(NEEDS)}, got {needs!r}"
    return ""


def load_suite(directory: Path | None = None) -> Suite:
    """The suite in ``directory`` (default ``scenarios/certification``), fully checked."""
    folder = directory or suite_dir()
    path = folder / "cases.yaml"
    try:
        doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise ConfigError(f"cannot read the certification suite {path}: {exc}") from exc
    checks: dict[str, Callable[..., Any]] = {}
    for module in sorted(folder.glob("checks*.py")):
        checks |= _load_checks(module)
    settings = dict(doc.get("settings") or {})
    known, raw_cases = _resolved(settings), doc.get("cases") or {}
    scenarios = {
        str(name): ScenarioSpec(
            str(name),
            _text(s.get("description")),
            _steps(_where(path, name, raw_cases), s.get("steps"), known),
        )
        for name, s in (doc.get("scenarios") or {}).items()
    }
    cases = {}
    for case_id, c in raw_cases.items():
        problems = [
            "id must look like CERT-ABC-01" if not CASE_ID.match(str(case_id)) else "",
            "" if c.get("requirement") else "a requirement is needed",
            "" if c.get("scenario") in scenarios else f"unknown scenario {c.get('scenario')!r}",
            "" if c.get("check") in checks else f"no check {c.get('check')!r} in checks*.py",
            _needs_problem(c.get("needs")),
        ]
        if any(problems):
            raise ConfigError(f"{path}: case {case_id}: " + "; ".join(p for p in problems if p))
        cases[str(case_id)] = CaseSpec(
            str(case_id),
            str(c["title"]),
            str(c["requirement"]),
            str(c["scenario"]),
            str(c["check"]),
            tuple(str(n) for n in c.get("needs") or ()),
        )
    return Suite(
        name=str(doc.get("suite", "certification")),
        version=str(doc.get("version", "0")),
        settings=settings,
        scenarios=scenarios,
        cases=cases,
        checks=checks,
        directory=folder,
    )


def load_variants(directory: Path | None = None) -> dict[str, list[str]]:
    """``variants.yaml``: each bundled faulty I-VAN and the cases it must fail."""
    path = (directory or suite_dir()) / "variants.yaml"
    doc = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    return {str(k): [str(c) for c in v] for k, v in doc.items()}


__all__ = [
    "CASE_ID",
    "HANDOVER_DEFECTS",
    "NEEDS",
    "RESULT_DEFECTIVE",
    "STEP_KINDS",
    "CaseSpec",
    "ScenarioSpec",
    "Suite",
    "check",
    "load_suite",
    "load_variants",
    "resolve",
    "suite_dir",
]
