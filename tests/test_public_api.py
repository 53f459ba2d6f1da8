"""The facade is the public surface: exactly these names, each importable, none private."""

from __future__ import annotations

import harness

EXPECTED = {
    "Answer", "CaseResult", "Catalog", "CatalogDiff", "CatalogError", "CheckResult",
    "ConfigError", "ConformanceFinding", "CorpusEntry", "Dossier", "DossierChecker",
    "DossierFactory", "EnvelopeInfo", "FactoryError", "Finding", "HarnessError", "IvanClient",
    "Journal", "Outcome", "PKIError", "ReportBundle", "RetryPolicy", "RunInfo",
    "SignatureInvalid", "TestPKI", "UsageError", "ValidationFailed", "XMLRejected",
    "__version__", "build_defective", "build_envelope", "diff_catalogs", "ensure_pki",
    "generated_corpus", "latest_version", "list_versions", "load_catalog", "load_defects",
    "make_faker", "parse_xml", "read_envelope", "sign", "static_corpus", "validators_for",
    "verify", "verify_bundle",
}  # fmt: skip


def test_all_is_exactly_the_public_surface() -> None:
    assert set(harness.__all__) == EXPECTED
    assert all(hasattr(harness, name) for name in harness.__all__)


def test_user_errors_share_one_root() -> None:
    for name in ("CatalogError", "ConfigError", "FactoryError", "PKIError"):
        assert issubclass(getattr(harness, name), harness.UsageError)
    assert issubclass(harness.SignatureInvalid, harness.ConformanceFinding)
    assert issubclass(harness.UsageError, harness.HarnessError)
