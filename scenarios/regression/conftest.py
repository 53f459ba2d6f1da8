"""Configuration of the regression suite: the baseline, the candidate, the expectations.

Run: ``pytest scenarios/regression``. Environment:

- ``BHXH_REGRESS_BASELINE``: a baseline under ``fixtures/baselines`` (``bhxh-harness record``);
  unset, a reference baseline is recorded first from the unmodified in-process gateway
  (catalog ``BHXH_REGRESS_CATALOG``, default the latest, seed 0).
- ``BHXH_REGRESS_GATEWAY``: ``inproc`` (default) or a URL, with ``BHXH_REGRESS_TOKEN``,
  ``BHXH_REGRESS_ADMIN_TOKEN`` (optional: fast-forward the clock) and
  ``BHXH_REGRESS_INSECURE=1`` or ``BHXH_REGRESS_CA_BUNDLE`` for TLS.
- ``BHXH_REGRESS_RELEASE``: with ``inproc``, simulate a faulty release (fixtures/releases).
- ``BHXH_REGRESS_EXPECTATIONS``: a YAML of intended changes.
- ``BHXH_REGRESS_REPORT``: where the report bundle goes (default ``reports/``).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

from harness.catalog import latest_version
from harness.regression import RegressionResult, record, regress, report_bundle
from harness.signing import TestPKI, ensure_pki


def _target() -> dict[str, Any]:
    ca_bundle = os.environ.get("BHXH_REGRESS_CA_BUNDLE")
    insecure = os.environ.get("BHXH_REGRESS_INSECURE", "") in ("1", "true", "yes")
    return {
        "gateway": os.environ.get("BHXH_REGRESS_GATEWAY", "inproc"),
        "token": os.environ.get("BHXH_REGRESS_TOKEN"),
        "admin_token": os.environ.get("BHXH_REGRESS_ADMIN_TOKEN"),
        "verify_tls": False if insecure else (ca_bundle or True),
        "release": os.environ.get("BHXH_REGRESS_RELEASE") or None,
    }


@pytest.fixture(scope="session")
def pki() -> TestPKI:
    return ensure_pki()


@pytest.fixture(scope="session")
def regression(pki: TestPKI, tmp_path_factory: pytest.TempPathFactory) -> RegressionResult:
    """The one replay of the session; the tests below only read it."""
    name = os.environ.get("BHXH_REGRESS_BASELINE")
    root: Path | None = None
    if not name:
        root, name = tmp_path_factory.mktemp("baselines"), "reference"
        catalog = os.environ.get("BHXH_REGRESS_CATALOG") or latest_version()
        record(gateway="inproc", catalog=catalog, name=name, root=root, pki=pki)
    expectations = os.environ.get("BHXH_REGRESS_EXPECTATIONS")
    result = regress(
        baseline=name, root=root, pki=pki,
        expectations=Path(expectations) if expectations else None, **_target(),
    )  # fmt: skip
    out = os.environ.get("BHXH_REGRESS_REPORT")
    report_bundle(result, Path(out) if out else None).write()
    return result
