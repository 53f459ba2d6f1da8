"""A dossier for a period no served catalog version governs, refused ENV-009 for its form
version, says that the period precedes every version served: ``value=D02-TS-595.xml``
alone did not tell an operator who restarted on 2026.1 alone why 07/2024 files fail."""

from __future__ import annotations

from harness.catalog import load_catalog
from harness.dossiers.factory import DossierFactory
from harness.served_catalogs import ServedCatalogs, ServedCheck
from harness.signing import TestPKI


def test_env_009_before_every_served_version_names_the_oldest(pki: TestPKI) -> None:
    dossier = DossierFactory(load_catalog("2024.1"), pki).build("600", 1, period="07/2024")
    check = ServedCheck(ServedCatalogs(["2026.1"]), pki.trust_store())
    _catalog, result = check.check(dossier.envelope)
    [refused] = [f for f in result.findings if f.code == "ENV-009"]
    assert refused.context["period"] == "07/2024"
    assert refused.context["served_from"] == "01/2026 (catalog 2026.1)"


def test_a_period_a_served_version_governs_is_unchanged(pki: TestPKI) -> None:
    dossier = DossierFactory(load_catalog("2024.1"), pki).build("600", 1, period="07/2024")
    _catalog, result = ServedCheck(ServedCatalogs(), pki.trust_store()).check(dossier.envelope)
    assert result.accepted, result.findings
