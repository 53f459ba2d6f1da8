"""``catalog check``'s run of the named defects (``fixtures/dossiers/defects.yaml``): each
one that applies to a procedure is built and must get the codes it expects, and a defect
no catalog version on disk can build is refused (it would never be checked)."""

from __future__ import annotations

from collections.abc import Collection
from typing import TYPE_CHECKING

from harness.catalog import Catalog
from harness.dossiers.defect_codes import defects_file
from harness.dossiers.refusal import (
    DEFECT,
    DEFECTS_FILE,
    UNJUDGED,
    UNUSED,
    Refusal,
    failed,
    said,
    unbuilt,
)
from harness.errors import UsageError

if TYPE_CHECKING:  # the factory (Faker, ~90 ms) is imported when dossiers are built
    from harness.conformance import DossierChecker
    from harness.dossiers.factory import DossierFactory
    from harness.dossiers.on_disk import Broken, OnDisk


def defect_refusals(
    factory: DossierFactory, checker: DossierChecker, *, skip: Collection[str] = ()
) -> list[Refusal]:
    """Every named defect that applies to a procedure, built once (seed 0) and checked: a
    rule failing when run, or the defect's codes missing from the findings, refuses. A
    rule branch only a defective dossier reaches (an under-18 ``or`` side) runs only here."""
    from harness.dossiers.defects import load_defects

    try:
        names = list(load_defects())
    except UsageError as exc:  # defects.yaml itself: malformed, or an undeclared code
        return [Refusal("", "", *said(exc), DEFECTS_FILE)]
    refusals = unused_refusals(factory.catalog)
    for code in factory.catalog.procedures:
        for name in names if code not in skip else ():
            refusals += _defect_one(factory, checker, code, name)
    return refusals


def _defect_one(
    factory: DossierFactory, checker: DossierChecker, procedure: str, name: str
) -> list[Refusal]:
    """The refusal of defect ``name`` of ``procedure``, if its check fails or misses its codes."""
    from harness.dossiers.defect_codes import defect_place
    from harness.dossiers.defects import applies, build_defective

    where = f"defect {name}"
    try:
        if not applies(factory, procedure, name):
            return []
        dossier = build_defective(factory, procedure, name, 0)
    except Exception as exc:  # any failure to build is the factory's
        return [unbuilt(procedure, where, exc, kind=DEFECT)]
    try:
        result = checker.check(dossier.envelope)
    except Exception as exc:  # the gateway would answer such a dossier 500
        return [failed(procedure, where, exc)]
    listed = {f.code for f in result.defects}
    missing = [c for c in dossier.expected_codes if c not in result.codes]
    missing += [c for c in dossier.result_codes if c not in listed or not result.accepted]
    if not missing:
        return []
    got = ", ".join(result.codes) or "nothing (accepted)"
    expects = ", ".join(dossier.expected_codes)
    if dossier.result_codes:
        expects = f"acceptance with result defect(s) {', '.join(dossier.result_codes)}"
        got = (
            f"accepted with {', '.join(sorted(listed)) or 'no result defect'}"
            if result.accepted
            else f"refused with {got}"
        )
    return [
        Refusal(
            procedure,
            where,
            f"expects {expects}, got {got}",
            f"fix defect {name}'s expect: at {defect_place(name)}, or the rule that "
            f"should raise {', '.join(missing)}",
            DEFECT,
        )
    ]


def unused_refusals(catalog: Catalog) -> list[Refusal]:
    """A defect that applies to no procedure of any catalog version on disk (this one's
    folder and the project's): it would never be built, so never checked. One a version
    that does not load could build is not judged (a warning says to fix that version)."""
    from harness.dossiers.defects import unused_defects
    from harness.dossiers.on_disk import on_disk

    versions = on_disk(catalog)
    unjudged = _unjudged_defects(versions)
    refusals = [
        Refusal("", "", *said(e), UNUSED) for e in unused_defects(versions.loaded, unjudged)
    ]
    if unjudged:
        plural = len(unjudged) > 1
        problem = (
            f"{defects_file()}: {', '.join(unjudged)} "
            f"appl{'y' if plural else 'ies'} to no procedure of a catalog version that loads, "
            f"so {'they are' if plural else 'it is'} neither built nor judged"
        )
        refusals.append(Refusal("", "", problem, versions.fix_first(), UNJUDGED))
    return refusals


def _unjudged_defects(versions: OnDisk) -> list[str]:
    """The defects no version that loads builds but a broken one might: one of their
    elements among its XSDs' names (all of them if an XSD of it cannot be read)."""
    from harness.dossiers.defect_targets import applies_anywhere
    from harness.dossiers.defects import load_defects

    def could(broken: Broken, elements: tuple[str, ...], needs: tuple[str, ...]) -> bool:
        named = broken.names
        if not broken.complete or not elements:
            return True
        return any(e in named for e in elements) and all(n in named for n in needs)

    return [
        name
        for name, d in load_defects().items()
        if versions.broken
        and not applies_anywhere(versions.loaded, d)
        and any(could(b, d.elements, d.needs) for b in versions.broken)
    ]


__all__ = ["defect_refusals", "unused_refusals"]
