"""The catalog: procedures, forms, schemas and rules, versioned as data in ``fixtures/catalog``.

Everything a suite knows about a procedure comes from here, never from Python.
"""

from harness.catalog.loader import (
    catalogs_dir,
    in_effect_order,
    latest_version,
    list_versions,
    load_catalog,
)
from harness.catalog.model import Catalog, Envelope, Form, FormVersion, Procedure, period_key
from harness.catalog.validation import CatalogValidators, DocumentValidator, validators_for

__all__ = [
    "Catalog",
    "CatalogValidators",
    "DocumentValidator",
    "Envelope",
    "Form",
    "FormVersion",
    "Procedure",
    "catalogs_dir",
    "in_effect_order",
    "latest_version",
    "list_versions",
    "load_catalog",
    "period_key",
    "validators_for",
]
