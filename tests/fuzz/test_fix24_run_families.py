"""Fix 24 (QA probe): every family applying to the run's procedures must get a case, a
run's partial report survives its gateway going away, and the same seed sends the same
cases (the dossiers' SigningTime was the clock: a body built a second later was another
body, so bodies judged once were sent again, and the family mix changed run to run)."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from harness.catalog import Catalog, load_catalog
from harness.cli import main
from harness.conformance import DossierChecker
from harness.fuzz import CaseExecuted, CheckerTarget, run_fuzz
from harness.fuzz import pool as pool_module
from harness.fuzz.events import Event
from harness.signing import TestPKI


def _sent(catalog: Catalog, pki: TestPKI, found: Path) -> list[tuple[str, str, str]]:
    """(family, mutation, spec) of each case a budget-30 seed-0 run sends, and the valid
    cases' ids (digests of their bodies)."""
    sent: list[tuple[str, str, str]] = []

    def note(event: Event) -> None:
        if isinstance(event, CaseExecuted):
            case = event.observation.case
            digest = case.message_id if case.mutation is None else ""
            sent.append((case.name, str(case.spec), digest))

    target = CheckerTarget(DossierChecker(catalog, pki.trust_store()))
    run_fuzz(target, catalog, budget=30, seed=0, pki=pki, found=found, minimise=0, on_event=note)
    return sent


def test_the_same_seed_sends_the_same_cases_whatever_the_clock_says(
    pki: TestPKI, found: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    catalog = load_catalog("2024.1")
    monkeypatch.setattr(pool_module, "_POOLS", {})
    first = _sent(catalog, pki, found)

    class Later(datetime):
        @classmethod
        def now(cls, tz: Any = None) -> Any:
            return datetime.now(tz) + timedelta(hours=1, seconds=7)

    monkeypatch.setattr("harness.signing.xmldsig.datetime", Later)
    monkeypatch.setattr(pool_module, "_POOLS", {})  # built afresh, as in another process
    assert _sent(catalog, pki, found) == first


def test_a_budget_too_small_for_the_families_leaves_them_unrun(pki: TestPKI, found: Path) -> None:
    catalog = load_catalog("2024.1")
    target = CheckerTarget(DossierChecker(catalog, pki.trust_store()))
    report = run_fuzz(target, catalog, budget=10, seed=0, pki=pki, found=found, minimise=0)
    assert report.ok
    assert "valid" in report.family_plan and "date" in report.family_plan
    assert "date" in report.unrun_families
    assert report.to_dict()["unrun_families"] == list(report.unrun_families)


def test_the_default_budget_reaches_every_family(pki: TestPKI, found: Path) -> None:
    catalog = load_catalog("2024.1")
    target = CheckerTarget(DossierChecker(catalog, pki.trust_store()))
    report = run_fuzz(target, catalog, budget=200, seed=0, pki=pki, found=found, minimise=0)
    assert report.unrun_families == ()
    assert len(report.family_plan) > 5


def test_cli_a_family_that_got_no_case_makes_the_run_incomplete(tmp_path: Path) -> None:
    out, found = tmp_path / "out", tmp_path / "found"
    args = ["fuzz", "--catalog", "2024.1", "--budget", "10", "--out", str(out)]
    result = CliRunner().invoke(main, [*args, "--found", str(found)])
    assert result.exit_code == 3, result.output
    assert "INCOMPLETE" in result.output
    assert "raise --budget" in result.output
    data = json.loads(next(out.glob("*/results.json")).read_text(encoding="utf-8"))
    assert data["verdict"] == "incomplete"
    assert "date" in data["run"]["meta"]["unrun_families"]
