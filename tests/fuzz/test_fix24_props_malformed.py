"""Bytes that are not well-formed XML, and nesting past libxml2's own limit, are drawn and
answered with their code (a gateway answering 500 to them is found)."""

from __future__ import annotations

from collections.abc import Callable

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from harness.catalog import Catalog
from harness.fuzz import CheckerTarget, DossierSpec, Mutation, context_for, pool_for
from harness.fuzz._bytes import LIBXML2_DEPTH, encodings, hostile
from harness.fuzz.exchange import observe
from harness.fuzz.properties import failures
from harness.fuzz.strategies import FuzzCase
from harness.signing import TestPKI

MALFORMED = ("truncated", "unclosed-tag", "stray-ampersand")


def _drawn(family: Callable[..., object], catalog: Catalog, pki: TestPKI) -> list[Mutation]:
    """A few hundred draws of one family over one dossier (drawn only: cheap)."""
    spec = DossierSpec(catalog.version, "600", 0, catalog.effective_from, 1, False)
    offer = family(context_for(pool_for(catalog, pki), spec))
    seen: list[Mutation] = []

    @settings(max_examples=400, database=None, suppress_health_check=list(HealthCheck))
    @given(data=st.data())
    def draw(data: st.DataObject) -> None:
        seen.append(offer(data.draw))  # type: ignore[operator]

    draw()
    return seen


def test_hostile_draws_malformed_xml_and_nesting_past_the_parser_limit(
    catalog: Catalog, pki: TestPKI
) -> None:
    drawn = _drawn(hostile, catalog, pki)
    kinds = {m.name.split(":")[1] for m in drawn}
    assert set(MALFORMED) <= kinds
    depths = [int(m.name.rsplit("=", 1)[1]) for m in drawn if ":deep-nesting:" in m.name]
    assert max(depths) > LIBXML2_DEPTH and min(depths) < LIBXML2_DEPTH
    for m in drawn:
        if m.name.split(":")[1] in MALFORMED:
            assert m.expected_codes == {"XML-001"}


def test_encoding_draws_an_unknown_encoding_declaration(catalog: Catalog, pki: TestPKI) -> None:
    names = {m.name for m in _drawn(encodings, catalog, pki)}
    assert "encoding:unknown-encoding:envelope" in names


def test_malformed_mutants_are_answered_with_their_code(
    catalog: Catalog, pki: TestPKI, target_for: Callable[[str], CheckerTarget]
) -> None:
    """Each new mutant, in the envelope and in a form, is refused with exactly its code."""
    spec = DossierSpec(catalog.version, "600", 0, catalog.effective_from, 1, False)
    ctx = context_for(pool_for(catalog, pki), spec)
    wanted = set(MALFORMED) | {"unknown-encoding", "deep-nesting"}
    tried: set[tuple[str, str]] = set()
    for m in _drawn(hostile, catalog, pki) + _drawn(encodings, catalog, pki):
        kind = m.name.split(":")[1]
        deep = kind == "deep-nesting" and int(m.name.rsplit("=", 1)[1]) > LIBXML2_DEPTH
        if kind not in wanted or (kind == "deep-nesting" and not deep):
            continue
        where = m.name.split(":")[2].split("=")[0]
        if (kind, where) in tried:
            continue
        tried.add((kind, where))
        case = FuzzCase(spec, m, m.apply(ctx))
        assert failures(observe(target_for(catalog.version), case)) == [], m.name
    assert {k for k, _ in tried} == wanted
