"""A certification's verdict: a run with a skipped case did not certify anything it skipped.

The report bundle's verdict ignores skipped cases (right for suites where a skip is a
choice); an I-VAN is certified only when every case ran, so a run that passed what it ran
but skipped a case is INCOMPLETE, with its own exit code.
"""

from __future__ import annotations

from typing import Any

from harness.reporting import Outcome, ReportBundle

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


class CertificationBundle(ReportBundle):
    """A report bundle whose results.json and index.html state the certification verdict."""

    def to_dict(self) -> dict[str, Any]:
        return {**super().to_dict(), "verdict": certification_verdict(self)}


__all__ = ["EXIT_CODES", "INCOMPLETE", "CertificationBundle", "certification_verdict"]
