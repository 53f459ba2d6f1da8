"""Mutation strategies: break exactly one thing in a valid signed dossier, know the answer.

Families, each derived from the catalog or from the named defects, never from a list of
forms written here::

    facet            a value the XSD type rejects (enumeration, pattern, length, bounds)
    missing-element  a required element removed
    unknown-element  an undeclared element or attribute, a non-repeating one repeated
    table-code       a code the type admits that the rules' reference table does not list
    wage             a wage below the regional minimum or above the cap for the period
    date             a calendar date that does not exist
    envelope         SoLuongFile, DoDaiFile, base64, unknown form version or procedure
    signature        digest, value, algorithms, coverage, wrapping, certificates, signers
    encoding         BOM and NFD (accepted), Latin-1, UTF-16, broken UTF-8 (XML-003)
    hostile          DTDs, entities, XXE, deep nesting, huge attributes (and size limits)
    defect           every named defect of fixtures/dossiers/defects.yaml that applies

A drawn family is uniform, then the family draws its target and values, so rare
families are exercised as often as the large ones and shrinking moves toward the first
target of the first family.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterable

from hypothesis import strategies as st

from harness.errors import UsageError
from harness.fuzz import _bytes, _content, _signature
from harness.fuzz._core import (
    DEFAULT_SETTINGS,
    ENVELOPE,
    Family,
    Mutation,
    MutationContext,
    MutationSettings,
    Offer,
)
from harness.fuzz.pool import DossierPool, DossierSpec

FAMILIES: dict[str, Family] = {
    "facet": _content.facets,
    "missing-element": _content.missing_element,
    "unknown-element": _content.unknown_element,
    "table-code": _content.table_codes,
    "wage": _content.wages,
    "date": _content.dates,
    "envelope": _content.envelope,
    "signature": _signature.signatures,
    "encoding": _bytes.encodings,
    "hostile": _bytes.hostile,
    "defect": _content.defects,
}


def check_families(families: Iterable[str] | None) -> tuple[str, ...]:
    """The family names to use, in registry order; unknown names fail early."""
    if families is None:
        return tuple(FAMILIES)
    chosen = tuple(families)
    unknown = [f for f in chosen if f not in FAMILIES]
    if unknown or not chosen:
        raise UsageError(
            f"--family {', '.join(unknown) or '(none given)'}: not a mutation family",
            hint=f"choose among {', '.join(FAMILIES)}",
        )
    return tuple(f for f in FAMILIES if f in chosen)


_CONTEXTS: OrderedDict[tuple[int, DossierSpec, MutationSettings], MutationContext] = OrderedDict()


def context_for(
    pool: DossierPool, spec: DossierSpec, settings: MutationSettings = DEFAULT_SETTINGS
) -> MutationContext:
    """The mutation context of ``spec``; kept (LRU) because building one parses the dossier."""
    key = (id(pool), spec, settings)
    ctx = _CONTEXTS.get(key)
    if ctx is None or ctx.pool is not pool:
        ctx = _CONTEXTS[key] = MutationContext(pool, spec, settings)
        while len(_CONTEXTS) > 512:
            _CONTEXTS.popitem(last=False)
    else:
        _CONTEXTS.move_to_end(key)
    return ctx


def offers(ctx: MutationContext, families: tuple[str, ...]) -> list[tuple[str, Offer]]:
    """The families that have something to break in this dossier, with their offers."""
    key = ("offers", families)
    if key not in ctx.memo:
        made = [(name, FAMILIES[name](ctx)) for name in families]
        ctx.memo[key] = [(name, offer) for name, offer in made if offer is not None]
    result: list[tuple[str, Offer]] = ctx.memo[key]
    return result


def mutations_for(
    ctx: MutationContext, families: Iterable[str] | None = None
) -> st.SearchStrategy[Mutation]:
    """One mutation of the context's dossier, from a uniformly drawn applicable family."""
    chosen = check_families(families)

    @st.composite
    def draw_one(draw: st.DrawFn) -> Mutation:
        available = offers(ctx, chosen)
        if not available:
            raise UsageError(f"no family of {chosen!r} applies to {ctx.spec}")
        _name, offer = draw(st.sampled_from(available))
        mutation: Mutation = offer(draw)
        return mutation

    return draw_one()


__all__ = [
    "ENVELOPE",
    "FAMILIES",
    "Mutation",
    "MutationContext",
    "MutationSettings",
    "check_families",
    "context_for",
    "mutations_for",
    "offers",
]
