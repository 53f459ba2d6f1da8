"""What a run reports: its identity, then one result per case."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from enum import StrEnum
from typing import Any

SHOW_EVIDENCE = "show-evidence"
"""An evidence key by which a case that did not fail asks for its evidence to be shown
anyway (index.html details only failed cases otherwise; junit.xml gives it as the case's
system-out); its value says why."""


class Outcome(StrEnum):
    """A case's verdict, worst last so ``max`` gives the run's."""

    PASSED = "passed"
    SKIPPED = "skipped"
    FAILED = "failed"
    ERROR = "error"


@dataclass(frozen=True)
class RunInfo:
    """Everything needed to reproduce a run: suite, versions, seeds, target."""

    run_id: str
    suite: str
    title: str
    started_at: str
    meta: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class CaseResult:
    """One case: what it checks (requirement), where (procedure), how it went, the evidence."""

    case_id: str
    title: str
    outcome: Outcome
    procedure: str = ""
    requirement: str = ""
    duration_s: float = 0.0
    message: str = ""
    evidence: dict[str, str] = field(default_factory=dict)
    reproduce: str = ""

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["outcome"] = self.outcome.value
        return data
