"""Configuration of the fuzz suite: profiles, the target under test, the evidence folder.

Run: ``pytest scenarios/fuzz`` (``HYPOTHESIS_PROFILE=nightly`` for a long run).
Environment: ``BHXH_FUZZ_EXAMPLES`` caps examples per property; ``BHXH_FUZZ_FOUND``
is where minimal failing dossiers are written (default ``fixtures/dossiers/found``);
``BHXH_FUZZ_LENIENT=1`` accepts extra codes beside an expected one (gateways that
report cascades); ``BHXH_HARNESS_PKI`` selects the test PKI the dossiers are signed with.
"""

from __future__ import annotations

import os
from collections.abc import Callable

import pytest

from harness.catalog import load_catalog
from harness.conformance import DossierChecker
from harness.fuzz import CheckerTarget, Target, register_profiles
from harness.signing import TestPKI, ensure_pki

register_profiles()


@pytest.fixture(scope="session")
def examples() -> dict[str, int]:
    """Hypothesis ``settings`` keywords: ``BHXH_FUZZ_EXAMPLES`` over the profile's."""
    env = os.environ.get("BHXH_FUZZ_EXAMPLES")
    return {"max_examples": int(env)} if env else {}


@pytest.fixture(scope="session")
def strict() -> bool:
    """Whether a rejection may only carry the expected codes (see harness.fuzz.properties)."""
    return os.environ.get("BHXH_FUZZ_LENIENT", "") not in ("1", "true", "yes")


@pytest.fixture(scope="session")
def pki() -> TestPKI:
    return ensure_pki()


@pytest.fixture(scope="session")
def target_for(pki: TestPKI) -> Callable[[str], Target]:
    """The system under test for one catalog version: today the gateway's own check.

    A gateway-backed target (in-process or URL) plugs in here once one implements
    :class:`harness.fuzz.Target`; the properties do not change.
    """
    checkers: dict[str, DossierChecker] = {}

    def make(version: str) -> Target:
        if version not in checkers:
            checkers[version] = DossierChecker(load_catalog(version), pki.trust_store())
        return CheckerTarget(checkers[version])

    return make
