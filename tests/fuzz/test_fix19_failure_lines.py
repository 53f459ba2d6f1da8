"""Each failure line on the terminal names the procedure and the form versions of the
dossier that broke the property, so a reader knows which catalog data to look at."""

from __future__ import annotations

import io
from datetime import UTC, datetime
from pathlib import Path

from rich.console import Console

from harness.catalog import Catalog
from harness.fuzz import CheckerTarget, run_fuzz
from harness.fuzz.cli import _summary
from harness.fuzz.outcome import FuzzFailure, FuzzReport
from harness.signing import TestPKI
from tests.fuzz.conftest import HangsOnDoctype


def _printed(report: FuzzReport) -> str:
    out = io.StringIO()
    _summary(Console(file=out, width=400, highlight=False), report, "FAILED")
    return out.getvalue()


def test_a_failure_line_names_the_procedure_and_its_forms() -> None:
    failure = FuzzFailure(
        "valid-accepted", "valid", "valid", "must be accepted, got HTTP 400 RULE-110",
        "HTTP 400", (), ("RULE-110",), 1, False, None, "630a", ("M01B-HSB-505",),
    )  # fmt: skip
    report = FuzzReport("inproc", "2026.1", 0, started_at=datetime.now(UTC), run_id="fuzz-x")
    report.failures = [failure]
    line = _printed(report).splitlines()[1]
    assert "procedure 630a (M01B-HSB-505)" in line, line
    assert line.endswith("must be accepted, got HTTP 400 RULE-110"), line


def test_a_campaign_records_the_forms_of_each_failure(
    catalog: Catalog, pki: TestPKI, found: Path
) -> None:
    from tests.fuzz.test_finds_bugs import _target

    target: CheckerTarget = _target(HangsOnDoctype, catalog, pki)
    report = run_fuzz(
        target, catalog, budget=8, seed=3, procedure="607", families=["hostile"], pki=pki,
        found=found, timeout=0.2, minimise=0,
    )  # fmt: skip
    assert report.failures
    expected = f"TK1-TS-{catalog.forms['TK1-TS'].current.version}"
    for failure in report.failures:
        assert failure.procedure == "607" and failure.forms == (expected,), failure
    assert f"procedure 607 ({expected})" in _printed(report)
