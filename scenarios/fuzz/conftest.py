"""Configuration of the fuzz suite: profiles, the target under test, the evidence folder.

Run: ``pytest scenarios/fuzz`` (``HYPOTHESIS_PROFILE=nightly`` for a long run).
Environment: ``BHXH_FUZZ_EXAMPLES`` caps examples per property; ``BHXH_FUZZ_FOUND``
is where minimal failing dossiers are written (default ``fixtures/dossiers/found``);
``BHXH_FUZZ_LENIENT=1`` accepts extra codes beside an expected one (gateways that
report cascades); ``BHXH_HARNESS_PKI`` selects the test PKI the dossiers are signed with.
``BHXH_FUZZ_GATEWAY`` picks the system under test: ``inproc`` (default: the mock gateway's
core, no socket), ``checker`` (the dossier check alone) or a URL, with ``BHXH_FUZZ_TOKEN``
as the I-VAN's bearer token.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator

import pytest

from harness.catalog import load_catalog
from harness.conformance import DossierChecker
from harness.fuzz import CheckerTarget, Target, register_profiles
from harness.fuzz.http_target import HttpTarget, http_target
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
def target_for(pki: TestPKI) -> Iterator[Callable[[str], Target]]:
    """The system under test for one catalog version (see ``BHXH_FUZZ_GATEWAY``)."""
    choice = os.environ.get("BHXH_FUZZ_GATEWAY", "inproc")
    if choice == "checker":
        checkers: dict[str, DossierChecker] = {}

        def make(version: str) -> Target:
            if version not in checkers:
                checkers[version] = DossierChecker(load_catalog(version), pki.trust_store())
            return CheckerTarget(checkers[version])

        yield make
        return
    if choice != "inproc":
        token = os.environ.get("BHXH_FUZZ_TOKEN", "")
        if not token:
            pytest.exit("BHXH_FUZZ_GATEWAY is a URL: set BHXH_FUZZ_TOKEN to the I-VAN token", 2)
        remote = http_target(choice, token)
        yield lambda _version: remote
        return
    from mock_gateway.testing import InProcessGateway
    from mock_gateway.transport import DEFAULT_BASE_URL

    with InProcessGateway(pki=pki) as gateway:
        local = HttpTarget(gateway.session(DEFAULT_BASE_URL), DEFAULT_BASE_URL, name="inproc")
        yield lambda _version: local
