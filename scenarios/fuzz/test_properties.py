"""The fuzz properties against a target, for every catalog version and mutation family.

Valid signed dossiers of every procedure must be accepted; a dossier with exactly one
fault must be rejected with that fault's code; nothing may crash, hang or answer 5xx;
an acknowledged dossier must be readable back. A failure is shrunk by hypothesis and the
minimal dossier is written to the evidence folder with a one-line replay command.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
from hypothesis import given, settings

from harness.catalog import list_versions, load_catalog
from harness.fuzz import (
    FAMILIES,
    EvidenceLog,
    Target,
    assert_case,
    fuzz_cases,
    hunt,
    mutated_dossiers,
)
from harness.signing import TestPKI

VERSIONS = list_versions()


@pytest.mark.parametrize("version", VERSIONS)
def test_valid_dossiers_are_accepted(
    version: str,
    pki: TestPKI,
    target_for: Callable[[str], Target],
    examples: dict[str, int],
    strict: bool,
) -> None:
    target, log = target_for(version), EvidenceLog(pki_dir=pki.directory)

    @settings(**examples)
    @given(case=fuzz_cases(load_catalog(version), families=(), pki=pki))
    def accepted(case):  # type: ignore[no-untyped-def]
        assert_case(target, case, strict=strict, record=log.record)

    hunt(accepted, log)


@pytest.mark.parametrize("family", list(FAMILIES))
@pytest.mark.parametrize("version", VERSIONS)
def test_mutants_are_answered_with_their_code(
    version: str,
    family: str,
    pki: TestPKI,
    target_for: Callable[[str], Target],
    examples: dict[str, int],
    strict: bool,
) -> None:
    target, log = target_for(version), EvidenceLog(pki_dir=pki.directory)

    @settings(**examples)
    @given(case=mutated_dossiers(load_catalog(version), families=[family], pki=pki))
    def answered(case):  # type: ignore[no-untyped-def]
        assert_case(target, case, strict=strict, record=log.record)

    hunt(answered, log)
