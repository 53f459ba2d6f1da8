"""Fixtures for the gateway tests: factories, known-valid dossiers, an in-process gateway.

Dossiers come from the lead's ``harness.dossiers.factory``. A few seeds may produce a
dossier the catalog's rules reject (the factory is young), so ``valid`` keeps only
dossiers the gateway's own intake pipeline accepts, and tests that need a valid dossier
never depend on one particular seed.
"""

from __future__ import annotations

import base64
import copy
import hashlib
import itertools
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from lxml import etree

from harness.catalog import load_catalog
from harness.dossiers.factory import Dossier, DossierFactory
from harness.signing import TestPKI, sign
from harness.xmlsafe import XMLLimits
from mock_gateway import server, workers
from mock_gateway.intake import CatalogSet, Intake, Rejected
from mock_gateway.testing import InProcessGateway

DS = "http://www.w3.org/2000/09/xmldsig#"
IVAN02 = ("IVAN02", "I-VAN THỬ NGHIỆM SỐ 2")


@pytest.fixture(scope="session")
def factory(pki: TestPKI) -> DossierFactory:
    return DossierFactory(load_catalog("2024.1"), pki)


@pytest.fixture(scope="session")
def factory02(pki: TestPKI) -> DossierFactory:
    return DossierFactory(load_catalog("2024.1"), pki, ivan=IVAN02)


class ValidDossiers:
    """Hands out distinct factory dossiers, each checked to pass the gateway's intake."""

    def __init__(self, factory: DossierFactory, pki: TestPKI) -> None:
        self.factory = factory
        catalogs = CatalogSet([factory.catalog.version])
        self.intake = Intake(catalogs, pki.trust_store(), XMLLimits())
        self.seeds = itertools.count(1000)

    def __call__(self, procedure: str = "600", **options: Any) -> Dossier:
        dossier = self.factory.build(procedure, next(self.seeds), **options)
        try:
            self.intake.check(dossier.envelope, dossier.ivan, datetime.now(UTC))
        except Rejected as exc:  # a factory bug: every seed must give a valid dossier
            message = f"factory dossier {procedure}/{dossier.seed} rejected: {exc}"
            raise AssertionError(message) from exc
        return dossier


@pytest.fixture(scope="session")
def valid(factory: DossierFactory, pki: TestPKI) -> ValidDossiers:
    return ValidDossiers(factory, pki)


@pytest.fixture(scope="session")
def valid2026(pki: TestPKI) -> ValidDossiers:
    return ValidDossiers(DossierFactory(load_catalog("2026.1"), pki), pki)


@pytest.fixture(scope="session")
def valid02(factory02: DossierFactory, pki: TestPKI) -> ValidDossiers:
    return ValidDossiers(factory02, pki)


@pytest.fixture
def gw(pki: TestPKI) -> Iterator[InProcessGateway]:
    """A fresh gateway over a temporary SQLite file, clock frozen at real now."""
    with InProcessGateway(pki=pki) as gateway:
        yield gateway


class Mutator:
    """Edits a signed envelope and signs it again, so exactly one thing is wrong."""

    def __init__(self, pki: TestPKI) -> None:
        self.pki = pki

    @staticmethod
    def root(envelope: bytes) -> etree._Element:
        return etree.fromstring(envelope)

    def resign(self, root: etree._Element, credential: str = "unit") -> bytes:
        work = copy.deepcopy(root)
        for sig in work.findall(f"CKy_Dvi/{{{DS}}}Signature"):
            work.find("CKy_Dvi").remove(sig)
        signed = sign(work, self.pki.credential(credential), signature_parent="CKy_Dvi")
        data: bytes = etree.tostring(signed, xml_declaration=True, encoding="UTF-8")
        return data

    def envelope(self, envelope: bytes, change: Callable[[etree._Element], None]) -> bytes:
        """Apply ``change`` to the envelope and re-sign it."""
        root = self.root(envelope)
        change(root)
        return self.resign(root)

    def form(self, envelope: bytes, change: Callable[[bytes], bytes], index: int = 0) -> bytes:
        """Replace the bytes of embedded form ``index`` (fixing DoDaiFile) and re-sign."""

        def apply(root: etree._Element) -> None:
            node = root.findall("NoiDung/ThongTinHoSo/ToKhais/FileToKhai")[index]
            content = base64.b64decode(node.findtext("NoiDungFile") or "")
            encoded = base64.b64encode(change(content)).decode("ascii")
            node.find("NoiDungFile").text = encoded
            node.find("DoDaiFile").text = str(len(encoded))

        return self.envelope(envelope, apply)


@pytest.fixture(scope="session")
def mutate(pki: TestPKI) -> Mutator:
    return Mutator(pki)


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


@pytest.fixture
def no_server(monkeypatch: pytest.MonkeyPatch) -> None:
    """Pass ``serve``'s port check, and make getting past every other check (just before
    serving) a failure, not a server: a refusal test then never starts one."""

    def reached() -> None:
        raise AssertionError("serve would have started")

    monkeypatch.setattr(workers, "check_port", lambda host, port: None)
    monkeypatch.setattr(server, "remove_stale_metrics_folders", reached)
