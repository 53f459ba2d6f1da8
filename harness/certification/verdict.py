"""A certification's verdict: a run with a skipped case did not certify anything it skipped.

The report bundle's verdict ignores skipped cases (right for suites where a skip is a
choice); an I-VAN is certified only when every case ran, so a run that passed what it ran
but skipped a case is INCOMPLETE, with its own exit code.
"""

from __future__ import annotations

import signal
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from harness.reporting import CaseResult, Outcome, ReportBundle

INCOMPLETE = "incomplete"
EXIT_CODES = {"passed": 0, "failed": 1, "error": 1, INCOMPLETE: 3}
"""``certify`` exit codes by verdict (2 is a usage problem, before any case)."""


def certification_verdict(bundle: ReportBundle) -> str:
    """``passed`` only when every case ran and passed; ``failed``/``error`` as the bundle's;
    ``incomplete`` when the rest passed but a case was skipped (or nothing ran)."""
    worst = bundle.verdict
    if worst in (Outcome.FAILED, Outcome.ERROR):
        return worst.value
    if any(c.outcome is Outcome.SKIPPED for c in bundle.cases) or not bundle.cases:
        return INCOMPLETE
    return worst.value


@dataclass
class CertificationBundle(ReportBundle):
    """A report bundle whose results.json and index.html state the certification verdict,
    and that lists the selected cases a stopped run never ran as skipped."""

    planned: list[CaseResult] = field(default_factory=list)
    """Every selected case (per procedure) as a skipped placeholder, in the order planned."""
    unrun: int = field(default=0, init=False, repr=False)

    def to_dict(self) -> dict[str, Any]:
        return {**super().to_dict(), "verdict": certification_verdict(self)}

    def skip_unrun(self, reason: str) -> int:
        """Add the planned cases that have no result, skipped for ``reason``; how many."""
        done = {c.case_id for c in self.cases}
        unrun = [replace(c, message=reason) for c in self.planned if c.case_id not in done]
        self.cases.extend(unrun)
        self.unrun += len(unrun)
        return len(unrun)

    def write_interrupted(self, signum: int) -> Path | None:
        """As for any bundle, with the cases Ctrl-C or SIGTERM kept from running listed as
        skipped: ``certify --help`` and the guide promise a stopped run reports them."""
        name = signal.Signals(signum).name
        self.skip_unrun(f"not run: stopped by {name} before it ran")
        return super().write_interrupted(signum)

    def _interruption(self, verdict_so_far: str) -> dict[str, Any]:
        """The base message counts every case as finished; the skipped ones did not run."""
        stop = super()._interruption(verdict_so_far)
        if self.unrun:
            ran = len(self.cases) - self.unrun
            stop["message"] = (
                f"stopped by {stop['signal']} after {ran} case(s): this report holds the cases "
                f"that finished, the {self.unrun} others as skipped, and no verdict"
            )
        return stop


__all__ = ["EXIT_CODES", "INCOMPLETE", "CertificationBundle", "certification_verdict"]
