"""Quality: the fuzzer catches deliberately broken checkers and targets, and says how.

A property suite that never fails proves nothing; each broken checker here has one fault
a real gateway release could have, and the fuzzer must name it within a small budget,
minimise it and leave a replayable fixture behind.
"""

from __future__ import annotations

import base64
from pathlib import Path

import pytest
from hypothesis import given, settings

from harness.catalog import Catalog
from harness.conformance import DossierChecker
from harness.fuzz import (
    CheckerTarget,
    EvidenceLog,
    FuzzReport,
    PropertyFailed,
    assert_case,
    hunt,
    mutated_dossiers,
    run_fuzz,
)
from harness.signing import TestPKI
from tests.fuzz.conftest import (
    AcceptsEverything,
    CrashesOnBom,
    HangsOnDoctype,
    IgnoresWageFloor,
    LosesReceipts,
    RefusesNfd,
    ReportsExtraCode,
    ServerErrorOnDtd,
)


def _target(kind: type[DossierChecker], catalog: Catalog, pki: TestPKI) -> CheckerTarget:
    return CheckerTarget(kind(catalog, pki.trust_store()))


def _only(report: FuzzReport, check: str) -> None:
    assert report.failures, "the fuzzer found nothing"
    assert {f.check for f in report.failures} == {check}, report.failures


def test_a_checker_that_accepts_everything_fails_with_a_replayable_fixture(
    catalog: Catalog, pki: TestPKI, found: Path
) -> None:
    target = _target(AcceptsEverything, catalog, pki)
    log = EvidenceLog(found, pki_dir=pki.directory)

    @settings(max_examples=20)
    @given(case=mutated_dossiers(catalog, "607", families=["facet"], pki=pki))
    def rejected(case):  # type: ignore[no-untyped-def]
        assert_case(target, case, record=log.record)

    with pytest.raises(PropertyFailed) as raised:
        hunt(rejected, log)
    failure = raised.value
    assert failure.check == "rejected-as-expected"
    notes = "\n".join(getattr(failure, "__notes__", []))
    assert "evidence:" in notes and "reproduce: " in notes
    (xml,) = found.glob("*.xml")
    command = (xml.with_suffix(".txt")).read_text(encoding="utf-8").splitlines()[0]
    assert command.endswith(f"bhxh-harness dossier check --catalog {catalog.version} {xml}")
    assert f"BHXH_HARNESS_PKI={pki.directory}" in command
    # the fixture replays: the real checker rejects it with the expected code
    real = DossierChecker(catalog, pki.trust_store()).check(xml.read_bytes())
    assert not real.accepted and set(real.codes) <= failure.case.expected_codes


def test_a_dropped_rule_is_found_and_minimised(catalog: Catalog, pki: TestPKI, found: Path) -> None:
    target = _target(IgnoresWageFloor, catalog, pki)
    report = run_fuzz(
        target, catalog, budget=40, seed=1, families=["wage"], pki=pki, found=found, minimise=30
    )
    _only(report, "rejected-as-expected")
    (failure,) = report.failures
    assert failure.family == "wage" and failure.expected == ("RULE-102",)
    assert failure.mutation.startswith("wage:below:") and failure.minimised
    assert failure.evidence is not None and failure.evidence.dossier.is_file()


def test_a_crash_is_found(catalog: Catalog, pki: TestPKI, found: Path) -> None:
    target = _target(CrashesOnBom, catalog, pki)
    report = run_fuzz(
        target, catalog, budget=60, seed=2, families=["encoding"], pki=pki, found=found
    )
    _only(report, "no-crash")
    assert report.failures[0].mutation.startswith("encoding:bom")
    assert report.failures[0].evidence is not None
    assert "RuntimeError: unexpected BOM" in report.failures[0].evidence.note.read_text("utf-8")


def test_a_hang_is_cut_off_at_the_timeout(catalog: Catalog, pki: TestPKI, found: Path) -> None:
    target = _target(HangsOnDoctype, catalog, pki)
    report = run_fuzz(
        target,
        catalog,
        budget=8,
        seed=3,
        procedure="607",
        families=["hostile"],
        pki=pki,
        found=found,
        timeout=0.2,
    )
    assert "within-timeout" in {f.check for f in report.failures}
    assert report.elapsed < 8 * 1.5  # the runner never waited for a hung call to finish


def test_a_server_error_is_found(catalog: Catalog, pki: TestPKI, found: Path) -> None:
    target = ServerErrorOnDtd(DossierChecker(catalog, pki.trust_store()))
    report = run_fuzz(
        target, catalog, budget=24, seed=4, families=["hostile"], pki=pki, found=found
    )
    assert "no-server-error" in {f.check for f in report.failures}


def test_a_lost_receipt_is_found(catalog: Catalog, pki: TestPKI, found: Path) -> None:
    target = LosesReceipts(DossierChecker(catalog, pki.trust_store()))
    report = run_fuzz(
        target, catalog, budget=12, seed=5, families=["encoding"], pki=pki, found=found
    )
    assert "acknowledged-retrievable" in {f.check for f in report.failures}


def test_refusing_nfd_names_is_found(catalog: Catalog, pki: TestPKI, found: Path) -> None:
    target = _target(RefusesNfd, catalog, pki)
    report = run_fuzz(
        target,
        catalog,
        budget=60,
        seed=6,
        procedure="607",
        families=["encoding"],
        pki=pki,
        found=found,
    )
    failures = [f for f in report.failures if f.check == "valid-accepted"]
    assert failures and failures[0].mutation.startswith("encoding:nfd")


def test_strict_mode_flags_extra_codes_and_lenient_mode_does_not(
    catalog: Catalog, pki: TestPKI, found: Path
) -> None:
    def run(strict: bool) -> FuzzReport:
        target = ReportsExtraCode(DossierChecker(catalog, pki.trust_store()))
        return run_fuzz(
            target,
            catalog,
            budget=10,
            seed=7,
            procedure="607",
            families=["facet"],
            pki=pki,
            found=found,
            strict=strict,
            minimise=0,
        )

    _only(run(strict=True), "rejected-as-expected")
    assert run(strict=False).ok


def test_evidence_bodies_are_the_cases_bytes(catalog: Catalog, pki: TestPKI, found: Path) -> None:
    target = _target(AcceptsEverything, catalog, pki)
    report = run_fuzz(
        target,
        catalog,
        budget=4,
        seed=8,
        procedure="612",
        families=["envelope"],
        pki=pki,
        found=found,
        minimise=0,
        valid=False,
    )
    evidence = report.failures[0].evidence
    assert evidence is not None
    body = evidence.dossier.read_bytes()
    assert body.startswith(b"<?xml") and base64.b64encode(body)  # bytes, as sent
    assert evidence.dossier.stem in evidence.note.read_text("utf-8").splitlines()[0]
