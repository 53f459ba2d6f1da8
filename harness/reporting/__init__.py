"""Run reports: runners emit events, writers turn them into JUnit XML, JSON and HTML.

The runner never knows which reports exist (STYLE.md, schemathesis' event handlers).
"""

from harness.reporting.bundle import ReportBundle, bundle_digest, new_run_id, verify_bundle
from harness.reporting.events import CaseResult, Outcome, RunInfo

__all__ = [
    "CaseResult",
    "Outcome",
    "ReportBundle",
    "RunInfo",
    "bundle_digest",
    "new_run_id",
    "verify_bundle",
]
