"""Run reports: runners emit events, writers turn them into JUnit XML, JSON and HTML.

The runner never knows which reports exist (STYLE.md, schemathesis' event handlers).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from harness import lazy_exports

if TYPE_CHECKING:  # mypy sees the real names; at run time each is imported on first use
    from harness.reporting.bundle import ReportBundle, bundle_digest, new_run_id, verify_bundle
    from harness.reporting.events import CaseResult, Outcome, RunInfo
else:  # importing any harness.reporting submodule runs this: it must not load jinja2, lxml
    __getattr__ = lazy_exports(
        __name__,
        {
            "harness.reporting.bundle": (
                "ReportBundle",
                "bundle_digest",
                "new_run_id",
                "verify_bundle",
            ),
            "harness.reporting.events": ("CaseResult", "Outcome", "RunInfo"),
        },
    )

__all__ = [
    "CaseResult",
    "Outcome",
    "ReportBundle",
    "RunInfo",
    "bundle_digest",
    "new_run_id",
    "verify_bundle",
]
