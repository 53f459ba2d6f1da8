"""Every mutation family breaks exactly one thing and names the code the checker answers."""

from __future__ import annotations

import unicodedata
from collections.abc import Callable
from pathlib import Path

import pytest
from hypothesis import given, settings

from harness.catalog import Catalog, load_catalog
from harness.errors import UsageError
from harness.fuzz import (
    FAMILIES,
    CheckerTarget,
    DossierSpec,
    EvidenceLog,
    Mutation,
    MutationSettings,
    assert_case,
    context_for,
    hunt,
    mutated_dossiers,
    mutations_for,
    pool_for,
    run_fuzz,
)
from harness.fuzz._content import probes
from harness.fuzz._docs import schema_facts
from harness.fuzz.mutations import check_families, offers
from harness.signing import TestPKI
from tests.fuzz.conftest import VERSIONS

CASES = [(v, f) for v in VERSIONS for f in FAMILIES]


@pytest.mark.parametrize(("version", "family"), CASES)
def test_each_family_is_answered_with_its_code(
    version: str,
    family: str,
    pki: TestPKI,
    target_for: Callable[[str], CheckerTarget],
    found: Path,
) -> None:
    catalog, target = load_catalog(version), target_for(version)
    log = EvidenceLog(found, pki_dir=pki.directory)
    seen: set[str] = set()

    @settings(max_examples=8)
    @given(case=mutated_dossiers(catalog, families=[family], pki=pki))
    def answered(case):  # type: ignore[no-untyped-def]
        assert case.family == family
        seen.add(case.spec.procedure)
        assert_case(target, case, record=log.record)

    hunt(answered, log)
    assert seen


def test_every_family_applies_somewhere(catalog: Catalog, pki: TestPKI) -> None:
    pool = pool_for(catalog, pki)
    applicable: set[str] = set()
    for code in catalog.procedures:
        spec = DossierSpec(catalog.version, code, 1, catalog.effective_from, 2, True)
        applicable |= {name for name, _ in offers(context_for(pool, spec), tuple(FAMILIES))}
    assert applicable == set(FAMILIES)


def test_probes_are_values_the_type_rejects(catalog: Catalog) -> None:
    xsds = [catalog.envelope.xsd] + [v.xsd for f in catalog.forms.values() for v in f.versions]
    kinds: set[str] = set()
    for xsd in xsds:
        for path, fact in schema_facts(xsd).items():
            for kind, value in probes(xsd, path):
                assert not fact.accepts(value), (path, kind, value)
                kinds.add(kind)
    assert kinds >= {"enumeration", "pattern", "max-length", "bound", "digits", "type"}


def _draw(ctx_spec: DossierSpec, pki: TestPKI, catalog: Catalog, prefix: str) -> list[Mutation]:
    """Every mutation of one family whose name starts with ``prefix``, over many draws."""
    ctx = context_for(pool_for(catalog, pki), ctx_spec)
    drawn: list[Mutation] = []
    family = prefix.split(":", 1)[0]

    @settings(max_examples=60, database=None)
    @given(m=mutations_for(ctx, [family]))
    def collect(m):  # type: ignore[no-untyped-def]
        if m.name.startswith(prefix):
            drawn.append(m)

    collect()
    return drawn


def test_nfd_names_must_be_accepted_with_a_warning(
    catalog: Catalog, pki: TestPKI, target_for: Callable[[str], CheckerTarget]
) -> None:
    spec = DossierSpec(catalog.version, "607", 3, catalog.effective_from, 1, False)
    nfd = _draw(spec, pki, catalog, "encoding:nfd")
    assert nfd, "no NFD mutation drawn"
    mutation = nfd[0]
    assert mutation.must_accept and mutation.expected_warnings == {"RULE-101"}
    body = mutation.apply(context_for(pool_for(catalog, pki), spec))
    assert not unicodedata.is_normalized("NFC", body.decode("utf-8")) or b"NoiDungFile" in body
    answer = target_for(catalog.version).submit(body, "nfd")
    assert answer.status == 202 and "RULE-101" in answer.codes


def test_bom_is_accepted(
    catalog: Catalog, pki: TestPKI, target_for: Callable[[str], CheckerTarget]
) -> None:
    spec = DossierSpec(catalog.version, "600", 3, catalog.effective_from, 1, True)
    ctx = context_for(pool_for(catalog, pki), spec)
    boms = _draw(spec, pki, catalog, "encoding:bom")
    assert {m.name.rsplit(":", 1)[-1] for m in boms} > {"envelope"}  # in forms too
    for mutation in boms:
        answer = target_for(catalog.version).submit(mutation.apply(ctx), mutation.name)
        assert answer.status == 202


def test_unknown_family_is_refused_with_the_known_ones() -> None:
    with pytest.raises(UsageError, match="choose among facet"):
        check_families(["facets"])
    assert check_families(None) == tuple(FAMILIES)


def test_expensive_limit_mutations_are_opt_in_and_answered(
    catalog: Catalog, pki: TestPKI, target_for: Callable[[str], CheckerTarget], found: Path
) -> None:
    heavy = MutationSettings(expensive=True)
    report = run_fuzz(
        target_for(catalog.version),
        catalog,
        budget=40,
        seed=3,
        families=["hostile"],
        pki=pki,
        found=found,
        mutation_settings=heavy,
        valid=False,
    )
    assert report.ok, report.failures
    kinds = {k.split(":")[1] for k in report.mutations}
    assert {"too-many-elements", "oversize"} <= kinds
    light = run_fuzz(
        target_for(catalog.version),
        catalog,
        budget=40,
        seed=3,
        families=["hostile"],
        pki=pki,
        found=found,
        valid=False,
    )
    assert not {"too-many-elements", "oversize"} & {k.split(":")[1] for k in light.mutations}
