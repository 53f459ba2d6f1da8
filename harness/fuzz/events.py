"""The past-tense events a fuzz campaign emits as it goes. Its own module so the CLI's
progress display and the report writers subscribe to them without naming the runner."""

from __future__ import annotations

from dataclasses import dataclass

from harness.errors import GatewayUnavailable
from harness.fuzz.observation import Observation
from harness.fuzz.outcome import FuzzFailure, FuzzReport
from harness.fuzz.properties import PropertyFailed


@dataclass(frozen=True)
class CaseExecuted:
    """A case was sent and judged (``failed`` lists the properties it broke)."""

    observation: Observation
    failed: tuple[PropertyFailed, ...]


@dataclass(frozen=True)
class FailureMinimised:
    """A distinct failure was minimised (or could not be) and written as evidence."""

    failure: FuzzFailure


@dataclass(frozen=True)
class FuzzFinished:
    """The campaign ended."""

    report: FuzzReport


@dataclass(frozen=True)
class FuzzInterrupted:
    """The campaign was stopped (Ctrl-C, SIGTERM) before it finished: ``report`` holds the
    cases judged so far and every distinct failure found, each written as evidence
    (minimised if it got that far, else as first seen)."""

    report: FuzzReport


@dataclass(frozen=True)
class GatewayWentAway:
    """The gateway went away: ``report`` holds the cases judged before (no failure written),
    so the partial report can still say what ran; :class:`GatewayUnavailable` follows."""

    report: FuzzReport
    problem: GatewayUnavailable


Event = CaseExecuted | FailureMinimised | FuzzFinished | FuzzInterrupted | GatewayWentAway


__all__ = [
    "CaseExecuted",
    "Event",
    "FailureMinimised",
    "FuzzFinished",
    "FuzzInterrupted",
    "GatewayWentAway",
]
