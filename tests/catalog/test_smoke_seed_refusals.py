"""How the smoke run names the seed of a dossier only some seeds break: a finding says
"valid dossier of seed N", and an exception's text is led by "seed N:" and otherwise left
as raised (it was searched for "valid dossier" and rewritten there)."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any, cast

import pytest

from harness import error_codes
from harness.catalog import Catalog, load_catalog
from harness.dossiers.refusal import BUILD, FAILS, FIX_DATA, REFUSED
from harness.dossiers.smoke import Built, _smoke_seed, build_command, seed_hint

SEED = 3


class _Factory:
    """Builds an envelope, or raises ``fails`` (at any seed)."""

    def __init__(self, fails: Exception | None = None) -> None:
        self.fails = fails

    def build(self, *_args: Any, **_kw: Any) -> SimpleNamespace:
        if self.fails is not None:
            raise self.fails
        return SimpleNamespace(envelope=b"<Hoso/>")


class _Checker:
    """Finds ``found``, or raises ``fails``."""

    def __init__(self, found: list[Any] | None = None, fails: Exception | None = None) -> None:
        self.found, self.fails = found or [], fails

    def check(self, _envelope: bytes) -> SimpleNamespace:
        if self.fails is not None:
            raise self.fails
        return SimpleNamespace(findings=self.found)


@pytest.fixture(scope="module")
def catalog() -> Catalog:
    return load_catalog("2026.1")


def _run(catalog: Catalog, factory: _Factory, checker: _Checker) -> list[Any]:
    return _smoke_seed(catalog, cast(Any, factory), cast(Any, checker), Built("600"), SEED)


def _hint(catalog: Catalog) -> str:
    return seed_hint(SEED, build_command(catalog, Built("600"), SEED))


def test_a_finding_names_the_seed_of_the_valid_dossier(catalog: Catalog) -> None:
    found = error_codes.finding("RULE-106", "D02-TS-595.xml:/D02-TS/NoiDung/LaoDong[1]/TuThang")
    [refusal] = _run(catalog, _Factory(), _Checker([found, found]))
    assert refusal.kind == REFUSED
    assert refusal.problem.startswith(f"the factory's valid dossier of seed {SEED} is refused: ")
    assert refusal.hint.endswith(f"; {_hint(catalog)}")


def test_a_dossier_a_seed_cannot_build_is_led_by_its_seed(catalog: Catalog) -> None:
    [refusal] = _run(catalog, _Factory(ValueError("no worker drawn")), _Checker())
    assert (refusal.kind, refusal.problem) == (
        BUILD,
        f"seed {SEED}: cannot build it: ValueError: no worker drawn",
    )
    assert refusal.hint == f"{FIX_DATA}; {_hint(catalog)}"


def test_a_check_that_fails_at_a_seed_is_led_by_its_seed(catalog: Catalog) -> None:
    [refusal] = _run(catalog, _Factory(), _Checker(fails=RuntimeError("rule x fails")))
    assert (refusal.kind, refusal.gateway) == (FAILS, True)
    assert refusal.problem == f"seed {SEED}: RuntimeError: rule x fails"
    assert refusal.hint == f"{FIX_DATA}; {_hint(catalog)}"


def test_an_exception_saying_valid_dossier_is_not_rewritten(catalog: Catalog) -> None:
    """Its "invalid dossier" read "invalid dossier of seed 3", as if the seed were its own."""
    fails = RuntimeError("the rule found an invalid dossier")
    [refusal] = _run(catalog, _Factory(), _Checker(fails=fails))
    assert refusal.problem == f"seed {SEED}: RuntimeError: the rule found an invalid dossier"
