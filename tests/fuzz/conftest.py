"""Fixtures for the fuzz tests: checker targets per catalog version and deliberately broken
checkers (the fuzzer must find each one)."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from datetime import datetime
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from harness.catalog import Catalog, list_versions, load_catalog
from harness.conformance import CheckResult, DossierChecker
from harness.errors import Finding
from harness.fuzz import CheckerTarget, Retrieved, Submitted
from harness.signing import TestPKI

if TYPE_CHECKING:
    from harness.fuzz.lifecycle_run import LifecycleResult
    from harness.fuzz.lifecycle_wire import LifecycleGateway

VERSIONS = list_versions()


@cache
def _checker(version: str, pki: TestPKI) -> DossierChecker:
    return DossierChecker(load_catalog(version), pki.trust_store())


@pytest.fixture(scope="session")
def catalog() -> Catalog:
    return load_catalog(VERSIONS[-1])


@pytest.fixture
def checker_for(pki: TestPKI) -> Callable[[str], DossierChecker]:
    return lambda version: _checker(version, pki)


@pytest.fixture
def target_for(pki: TestPKI) -> Callable[[str], CheckerTarget]:
    """A fresh target (receipts are per target) over the cached checker of a version."""
    return lambda version: CheckerTarget(_checker(version, pki))


@pytest.fixture
def found(tmp_path: Path) -> Iterator[Path]:
    """Evidence goes to a temporary folder, never into fixtures/, during tests."""
    path = tmp_path / "found"
    yield path


# -- deliberately broken checkers and targets: the fuzzer must catch each -----------------


class AcceptsEverything(DossierChecker):
    """Says yes to anything, like a gateway whose validation was switched off."""

    def check(
        self, body: bytes, *, ivan: str | None = None, at: datetime | None = None
    ) -> CheckResult:
        return CheckResult()


class IgnoresWageFloor(DossierChecker):
    """Drops one rule (RULE-102), like a release that lost a Schematron assert."""

    def check(
        self, body: bytes, *, ivan: str | None = None, at: datetime | None = None
    ) -> CheckResult:
        result = super().check(body, ivan=ivan, at=at)
        result.findings = [f for f in result.findings if f.code != "RULE-102"]
        return result


class CrashesOnBom(DossierChecker):
    """Raises on a UTF-8 BOM, like a parser call that forgot to strip it."""

    def check(
        self, body: bytes, *, ivan: str | None = None, at: datetime | None = None
    ) -> CheckResult:
        if body.startswith(b"\xef\xbb\xbf"):
            raise RuntimeError("unexpected BOM")
        return super().check(body, ivan=ivan, at=at)


class HangsOnDoctype(DossierChecker):
    """Takes far too long on a DTD, like a parser that resolves external entities."""

    def check(
        self, body: bytes, *, ivan: str | None = None, at: datetime | None = None
    ) -> CheckResult:
        if b"<!DOCTYPE" in body:
            time.sleep(1.5)
        return super().check(body, ivan=ivan, at=at)


class RefusesNfd(DossierChecker):
    """Treats the NFC warning as an error: rejects names that are only decomposed."""

    def check(
        self, body: bytes, *, ivan: str | None = None, at: datetime | None = None
    ) -> CheckResult:
        result = super().check(body, ivan=ivan, at=at)
        result.findings = [
            Finding(f.code, f.xpath, f.message_vi, f.message_en, "error", f.context)
            if f.code == "RULE-101"
            else f
            for f in result.findings
        ]
        return result


class ServerErrorOnDtd(CheckerTarget):
    """Answers 500 instead of 400 when a DTD is refused."""

    def submit(self, body: bytes, message_id: str) -> Submitted:
        answer = super().submit(body, message_id)
        if "XML-002" in answer.codes:
            return Submitted(500, ("SRV-002",), None)
        return answer


class LosesReceipts(CheckerTarget):
    """Acknowledges dossiers it cannot find again."""

    def fetch(self, receipt_id: str) -> Retrieved:
        return Retrieved(404, None)


class ReportsExtraCode(CheckerTarget):
    """Adds an unrelated code to every rejection (a cascade, or a wrong code)."""

    def submit(self, body: bytes, message_id: str) -> Submitted:
        answer = super().submit(body, message_id)
        if answer.status >= 400:
            return Submitted(answer.status, (*answer.codes, "RULE-001"), None)
        return answer


LIFECYCLE_IVANS = ("IVAN01", "IVAN02")


@pytest.fixture(scope="session")
def bodies(pki: TestPKI) -> dict[str, list[bytes]]:
    """Each lifecycle I-VAN's signed dossiers, built once (signing is the slow part)."""
    from harness.fuzz.lifecycle_run import lifecycle_bodies

    catalog = load_catalog("2026.1")
    return {ivan: lifecycle_bodies(catalog, pki, ivan) for ivan in LIFECYCLE_IVANS}


def run_inproc(
    pki: TestPKI,
    bodies: dict[str, list[bytes]],
    *,
    release: str | None = None,
    kind: type[LifecycleGateway] | None = None,
    steps: int = 60,
    seed: int = 0,
    alone: bool = False,
    **kwargs: Any,
) -> LifecycleResult:
    """The lifecycle machine against an in-process gateway, ``kind`` making one answer
    faulty, ``alone`` as a URL with --token only (no second I-VAN, no admin)."""
    from harness.fuzz.lifecycle_run import inproc_lifecycle, run_lifecycle

    with inproc_lifecycle(pki, "IVAN01", release) as gateway:
        if kind is not None:
            gateway.__class__ = kind  # the same gateway, one answer made faulty
        if alone:  # as a URL with --token only: no second I-VAN, no admin
            gateway.other, gateway.admin, gateway.clock, gateway.faults = None, None, False, False
        return run_lifecycle(gateway, bodies, steps=steps, seed=seed, shrink_seconds=10, **kwargs)
