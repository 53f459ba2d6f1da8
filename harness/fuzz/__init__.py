"""Property-based fuzzing of signed XML dossiers, driven by the catalog.

Strategies make valid signed dossiers for any procedure of any catalog version and
mutants that break exactly one thing; properties judge what a :class:`Target` answers;
:func:`run_fuzz` runs a campaign and writes each minimal failure as a fixture::

    from harness.catalog import load_catalog
    from harness.conformance import DossierChecker
    from harness.fuzz import CheckerTarget, run_fuzz
    from harness.signing import ensure_pki

    catalog, pki = load_catalog(), ensure_pki()
    target = CheckerTarget(DossierChecker(catalog, pki.trust_store()))
    report = run_fuzz(target, catalog, budget=500, seed=1)
    assert report.ok, report.failures
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from harness import lazy_exports

if TYPE_CHECKING:  # mypy sees the real names; at run time each is imported on first use
    from harness.fuzz._core import Mutation, MutationContext, MutationSettings
    from harness.fuzz.events import CaseExecuted, FailureMinimised, FuzzFinished, FuzzInterrupted
    from harness.fuzz.evidence import Evidence, EvidenceLog, found_dir, hunt, write_evidence
    from harness.fuzz.exchange import assert_case, observe
    from harness.fuzz.mutations import FAMILIES, context_for, mutations_for
    from harness.fuzz.observation import DEFAULT_TIMEOUT, Observation
    from harness.fuzz.outcome import FamilyCount, FuzzFailure, FuzzReport
    from harness.fuzz.pool import DossierPool, DossierSpec, pool_for
    from harness.fuzz.profiles import register_profiles
    from harness.fuzz.properties import CHECKS, PropertyFailed, failures
    from harness.fuzz.runner import run_fuzz
    from harness.fuzz.strategies import (
        FuzzCase,
        dossier_specs,
        fuzz_batches,
        fuzz_cases,
        mutated_dossiers,
        valid_dossiers,
    )
    from harness.fuzz.target import CheckerTarget, Retrieved, Submitted, Target
else:  # `import harness.fuzz.cli` (the CLI registering `fuzz`) must not load hypothesis
    __getattr__ = lazy_exports(
        __name__,
        {
            "harness.fuzz._core": ("Mutation", "MutationContext", "MutationSettings"),
            "harness.fuzz.events": (
                "CaseExecuted",
                "FailureMinimised",
                "FuzzFinished",
                "FuzzInterrupted",
            ),
            "harness.fuzz.evidence": (
                "Evidence",
                "EvidenceLog",
                "found_dir",
                "hunt",
                "write_evidence",
            ),
            "harness.fuzz.exchange": ("assert_case", "observe"),
            "harness.fuzz.mutations": ("FAMILIES", "context_for", "mutations_for"),
            "harness.fuzz.observation": ("DEFAULT_TIMEOUT", "Observation"),
            "harness.fuzz.outcome": ("FamilyCount", "FuzzFailure", "FuzzReport"),
            "harness.fuzz.pool": ("DossierPool", "DossierSpec", "pool_for"),
            "harness.fuzz.profiles": ("register_profiles",),
            "harness.fuzz.properties": ("CHECKS", "PropertyFailed", "failures"),
            "harness.fuzz.runner": ("run_fuzz",),
            "harness.fuzz.strategies": (
                "FuzzCase",
                "dossier_specs",
                "fuzz_batches",
                "fuzz_cases",
                "mutated_dossiers",
                "valid_dossiers",
            ),
            "harness.fuzz.target": ("CheckerTarget", "Retrieved", "Submitted", "Target"),
        },
    )


def __dir__() -> list[str]:
    """The public API, loaded or not (``dir`` would otherwise list only what was used)."""
    return sorted(__all__)


__all__ = [
    "CHECKS",
    "DEFAULT_TIMEOUT",
    "FAMILIES",
    "CaseExecuted",
    "CheckerTarget",
    "DossierPool",
    "DossierSpec",
    "Evidence",
    "EvidenceLog",
    "FailureMinimised",
    "FamilyCount",
    "FuzzCase",
    "FuzzFailure",
    "FuzzFinished",
    "FuzzInterrupted",
    "FuzzReport",
    "Mutation",
    "MutationContext",
    "MutationSettings",
    "Observation",
    "PropertyFailed",
    "Retrieved",
    "Submitted",
    "Target",
    "assert_case",
    "context_for",
    "dossier_specs",
    "failures",
    "found_dir",
    "fuzz_batches",
    "fuzz_cases",
    "hunt",
    "mutated_dossiers",
    "mutations_for",
    "observe",
    "pool_for",
    "register_profiles",
    "run_fuzz",
    "valid_dossiers",
    "write_evidence",
]
