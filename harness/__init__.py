"""bhxh-harness: conformance and regression testbed for BHXH's electronic-transaction gateway.

The public API, in the order data flows: catalog → dossiers → signing → check → client →
reports. Everything else lives in submodules whose names start the same way and may change.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable, Mapping
from types import ModuleType
from typing import TYPE_CHECKING

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

__version__ = "0.1.0"


def lazy_exports(package: str, homes: Mapping[str, tuple[str, ...]]) -> Callable[[str], object]:
    """A module ``__getattr__`` (PEP 562) importing each name from its home module on first
    use: importing a facade must not load xmlschema, signxml... for a ``--help``.

    An exported name that is also a submodule's (``harness.regression.replay``, the
    function and the module) stays the export: importing the submodule binds it on the
    package, which would otherwise hide the export from the lazy look-up.
    """
    home_of = {name: home for home, names in homes.items() for name in names}

    class _Package(ModuleType):
        def __setattr__(self, name: str, value: object) -> None:
            if not (isinstance(value, ModuleType) and name in home_of):
                super().__setattr__(name, value)

        def __dir__(self) -> list[str]:  # help(), tab completion, "Did you mean"
            return sorted({*super().__dir__(), *home_of})

    sys.modules[package].__class__ = _Package

    def __getattr__(name: str) -> object:
        if name not in home_of:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(home_of[name]), name)
        setattr(sys.modules[package], name, value)  # later look-ups skip this function
        return value

    return __getattr__


if TYPE_CHECKING:  # mypy sees the real names; at run time each is imported on first use
    from harness.catalog import Catalog, latest_version, list_versions, load_catalog, validators_for
    from harness.catalog.diff import CatalogDiff, diff_catalogs
    from harness.client import Answer, IvanClient, Journal, RetryPolicy
    from harness.conformance import CheckResult, DossierChecker
    from harness.dossiers.corpus import CorpusEntry, generated_corpus, static_corpus
    from harness.dossiers.defects import build_defective, load_defects
    from harness.dossiers.factory import Dossier, DossierFactory
    from harness.dossiers.provider import make_faker
    from harness.envelope import EnvelopeInfo, build_envelope, read_envelope
    from harness.reporting import CaseResult, Outcome, ReportBundle, RunInfo, verify_bundle
    from harness.signing import TestPKI, ensure_pki, sign, verify
    from harness.xmlsafe import XMLRejected, parse_xml
else:
    __getattr__ = lazy_exports(
        __name__,
        {
            "harness.catalog": (
                "Catalog",
                "latest_version",
                "list_versions",
                "load_catalog",
                "validators_for",
            ),
            "harness.catalog.diff": ("CatalogDiff", "diff_catalogs"),
            "harness.client": ("Answer", "IvanClient", "Journal", "RetryPolicy"),
            "harness.conformance": ("CheckResult", "DossierChecker"),
            "harness.dossiers.corpus": ("CorpusEntry", "generated_corpus", "static_corpus"),
            "harness.dossiers.defects": ("build_defective", "load_defects"),
            "harness.dossiers.factory": ("Dossier", "DossierFactory"),
            "harness.dossiers.provider": ("make_faker",),
            "harness.envelope": ("EnvelopeInfo", "build_envelope", "read_envelope"),
            "harness.reporting": (
                "CaseResult",
                "Outcome",
                "ReportBundle",
                "RunInfo",
                "verify_bundle",
            ),
            "harness.signing": ("TestPKI", "ensure_pki", "sign", "verify"),
            "harness.xmlsafe": ("XMLRejected", "parse_xml"),
        },
    )

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
