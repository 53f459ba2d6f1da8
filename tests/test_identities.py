"""One definition of the test identities, and one check of an I-VAN code the user typed.

The default I-VAN's code, name and token were written out in five modules, and the
"name the I-VAN, then check the envelope schema can carry it" step in five more.
"""

from __future__ import annotations

import pytest

from harness.certification.gateway import DEFAULT_ADMIN_TOKEN, DEFAULT_IDENTITY
from harness.conformance import factory_for_ivan
from harness.dossiers.factory import DossierFactory
from harness.errors import UsageError
from harness.identities import ADMIN_TOKEN, DEFAULT_IVAN_CODE, ivan_name, token_of
from harness.load.gateway import well_known_tokens
from harness.signing import TestPKI
from mock_gateway.config import GatewayConfig


def test_the_suites_and_the_gateway_agree_on_the_defaults() -> None:
    config = GatewayConfig()
    assert config.ivan_tokens[DEFAULT_IVAN_CODE] == token_of(DEFAULT_IVAN_CODE)
    assert config.admin_token == ADMIN_TOKEN == DEFAULT_ADMIN_TOKEN
    assert (DEFAULT_IVAN_CODE, ivan_name(DEFAULT_IVAN_CODE), token_of("IVAN01")) == DEFAULT_IDENTITY
    assert well_known_tokens(2) == dict(config.ivan_tokens)


def test_a_factory_names_another_ivan_by_its_code(pki: TestPKI) -> None:
    factory = DossierFactory.for_version(None, pki)
    assert factory.ivan == (DEFAULT_IVAN_CODE, ivan_name(DEFAULT_IVAN_CODE))
    other = factory.for_ivan("IVAN07")
    assert other.ivan == ("IVAN07", "I-VAN THỬ NGHIỆM IVAN07")
    assert (
        b"<MaIVAN>IVAN07</MaIVAN>"
        in other.build(next(iter(factory.catalog.procedures)), 0).envelope
    )


def test_a_typed_code_is_checked_against_the_envelope_schema(pki: TestPKI) -> None:
    factory = DossierFactory.for_version(None, pki)
    trust = pki.trust_store()
    assert factory_for_ivan(factory, DEFAULT_IVAN_CODE, trust) is factory
    assert factory_for_ivan(factory, "IVAN02", trust).ivan[0] == "IVAN02"
    with pytest.raises(UsageError, match=r"--ivan ivan 2: no envelope of catalog .* I-VAN ivan 2"):
        factory_for_ivan(factory, "ivan 2", trust)
    with pytest.raises(UsageError, match=r"^--ivan-token x=\.\.\.: "):
        factory_for_ivan(factory, "x", trust, what="--ivan-token x=...")
