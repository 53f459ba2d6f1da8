"""bhxh-harness: conformance and regression testbed for BHXH's electronic-transaction gateway.

The public API, in the order data flows: catalog → dossiers → signing → check → client →
reports. Everything else lives in submodules whose names start the same way and may change.
"""

__version__ = "0.1.0"

from harness.catalog import Catalog, latest_version, list_versions, load_catalog, validators_for
from harness.catalog.diff import CatalogDiff, diff_catalogs
from harness.client import Answer, IvanClient, Journal, RetryPolicy
from harness.conformance import CheckResult, DossierChecker
from harness.dossiers.corpus import CorpusEntry, generated_corpus, static_corpus
from harness.dossiers.defects import build_defective, load_defects
from harness.dossiers.factory import Dossier, DossierFactory
from harness.dossiers.provider import make_faker
from harness.envelope import EnvelopeInfo, build_envelope, read_envelope
from harness.errors import (
    CatalogError,
    ConfigError,
    ConformanceFinding,
    FactoryError,
    Finding,
    HarnessError,
    PKIError,
    SignatureInvalid,
    UsageError,
    ValidationFailed,
)
from harness.reporting import CaseResult, Outcome, ReportBundle, RunInfo, verify_bundle
from harness.signing import TestPKI, ensure_pki, sign, verify
from harness.xmlsafe import XMLRejected, parse_xml

__all__ = [
    "Answer",
    "CaseResult",
    "Catalog",
    "CatalogDiff",
    "CatalogError",
    "CheckResult",
    "ConfigError",
    "ConformanceFinding",
    "CorpusEntry",
    "Dossier",
    "DossierChecker",
    "DossierFactory",
    "EnvelopeInfo",
    "FactoryError",
    "Finding",
    "HarnessError",
    "IvanClient",
    "Journal",
    "Outcome",
    "PKIError",
    "ReportBundle",
    "RetryPolicy",
    "RunInfo",
    "SignatureInvalid",
    "TestPKI",
    "UsageError",
    "ValidationFailed",
    "XMLRejected",
    "__version__",
    "build_defective",
    "build_envelope",
    "diff_catalogs",
    "ensure_pki",
    "generated_corpus",
    "latest_version",
    "list_versions",
    "load_catalog",
    "load_defects",
    "make_faker",
    "parse_xml",
    "read_envelope",
    "sign",
    "static_corpus",
    "validators_for",
    "verify",
    "verify_bundle",
]
