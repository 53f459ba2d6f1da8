"""What a certification run tells its listener as it goes (the CLI's progress bar, a
vendor's own dashboard): the run began, a scenario began, a case finished, the run ended."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from harness.reporting import CaseResult, ReportBundle


@dataclass(frozen=True)
class RunStarted:
    """The run's cases are planned; its report goes to ``directory``."""

    run_id: str
    total: int
    directory: Path


@dataclass(frozen=True)
class ScenarioStarted:
    """A scenario begins for one procedure (its cases finish after it)."""

    scenario: str
    procedure: str


@dataclass(frozen=True)
class CaseFinished:
    """One case was judged."""

    result: CaseResult


@dataclass(frozen=True)
class RunFinished:
    """The run ended; its bundle is written."""

    bundle: ReportBundle


Event = RunStarted | ScenarioStarted | CaseFinished | RunFinished
Listener = Callable[[Event], None]


__all__ = [
    "CaseFinished",
    "Event",
    "Listener",
    "RunFinished",
    "RunStarted",
    "ScenarioStarted",
]
