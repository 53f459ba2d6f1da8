"""Valid dossiers as real software writes them: the quirks a gateway must keep accepting.

Half the valid cases of a run are drawn in one quirk: a form's Vietnamese names decomposed
(NFD, :func:`harness.fuzz._bytes.decomposed`, which must also carry RULE-101), and each
quirk ``regress`` replays, from ``fixtures/baselines/quirks.yaml`` (a GUID signature Id,
ISO dates...). They stay family ``valid``: a valid dossier in another spelling, which
``--family valid`` runs alone.
"""

from __future__ import annotations

from harness.fuzz._bytes import decomposed
from harness.fuzz._core import Draw, Mutation, MutationContext, Offer

QUIRK = "valid:quirk"
"""How a quirk's name begins: family ``valid``, then what was done."""


def quirks(ctx: MutationContext) -> list[Offer]:
    """The quirks that apply to ``ctx``'s dossier (kept in its memo: drawn per case)."""
    if "quirks" not in ctx.memo:
        nfd = decomposed(ctx, prefix=QUIRK)
        ctx.memo["quirks"] = ([nfd] if nfd is not None else []) + _declared()
    found: list[Offer] = ctx.memo["quirks"]
    return found


def _declared() -> list[Offer]:
    """One offer per quirk of ``quirks.yaml``, rebuilt through the factory's hooks as
    ``regress`` builds it (accepted; its warning is not required: a dossier may have no
    element the quirk changes)."""
    from harness.regression.corpus import load_quirks, quirk_tweaks  # the same data, one place

    def offer_for(name: str, spec: dict[str, object]) -> Offer:
        def offer(draw: Draw) -> Mutation:
            return Mutation(
                f"{QUIRK}:{name}",
                frozenset(),
                lambda c: c.build(quirk_tweaks(spec, c.spec.seed)),
            )

        return offer

    return [offer_for(name, spec) for name, spec in load_quirks().items()]


def draw_quirk(draw: Draw, ctx: MutationContext) -> Mutation | None:
    """A quirk of ``ctx``'s dossier for half its specs, else None (the dossier as built).

    Chosen by the spec's seed, not by a drawn boolean: hypothesis repeats a draw's choices
    within and across examples, so a boolean after another small draw came out False
    nearly always (1 quirk in 55 valid cases at 120) and a GUID quirk was rarely sent.
    Seeds shrink to 0, and seed 0 is the dossier as built: a failure that needs no quirk
    still shrinks to the plain valid dossier.
    """
    offers = quirks(ctx)
    if not offers:
        return None
    which = ctx.spec.seed % (2 * len(offers)) - len(offers)
    if which < 0:
        return None
    mutation: Mutation = offers[which](draw)
    return mutation


__all__ = ["QUIRK", "draw_quirk", "quirks"]
