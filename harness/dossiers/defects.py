"""Named defects from ``fixtures/dossiers/defects.yaml``, applied through factory hooks.

Each defect breaks exactly one thing and names the code the gateway must answer, so an
invalid dossier is as reproducible as a valid one: ``(catalog, procedure, seed, defect)``.
This module is the registry: it reads the file, looks a defect up and turns it into factory
hooks; what an entry may say (:mod:`.defect_kinds`), where it lands (:mod:`.defect_targets`)
and the generic edits (:mod:`.defect_mutations`) are their own modules.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Sequence
from dataclasses import replace
from functools import cache
from typing import Any

from harness.catalog import Catalog
from harness.catalog.xsd_names import declared_elements
from harness.dossiers.defect_codes import defects_file
from harness.dossiers.defect_kinds import CCCD_HOLDER, Defect, checked_defect
from harness.dossiers.defect_mutations import (
    bad_base64,
    content_change,
    edit_first,
    envelope_delta,
    envelope_set,
    month_before,
    tamper_form,
    unsign,
)
from harness.dossiers.defect_targets import (
    applies_anywhere,
    applies_in,
    content_target,
    foreign_form,
    unused_reason,
    why_not_applies,
)
from harness.dossiers.factory import Dossier, DossierFactory, Tweaks
from harness.errors import CatalogError, FactoryError
from harness.suggestions import did_you_mean
from harness.yamlfile import line_of, load_yaml


@cache
def load_defects() -> dict[str, Defect]:
    """Every defect in the corpus file, each checked for a known op, exactly the keys that
    op takes and declared codes, so a misspelt key is refused here, not met as a crash
    when the defect is built."""
    path = defects_file()
    doc = load_yaml(path)
    if not isinstance(doc, dict) or not doc:
        raise CatalogError(
            "a defects file maps each defect's name to {op: ..., expect: [CODE, ...]}",
            path=str(path),
            line=line_of(doc),
            hint="see the comment at the top of the shipped fixtures/dossiers/defects.yaml",
        )
    return {str(name): checked_defect(str(name), node, doc, path) for name, node in doc.items()}


def defect(name: str) -> Defect:
    defects = load_defects()
    if name not in defects:
        raise FactoryError(
            f"unknown defect {name!r}",
            hint=f"{did_you_mean(name, defects)}known defects: {', '.join(defects)} "
            "(bhxh-harness dossier defects lists them)",
        )
    return defects[name]


def applies(factory: DossierFactory, procedure_code: str, name: str) -> bool:
    """Whether the defect can be built for this procedure (its elements or forms exist)."""
    return applies_in(factory.catalog, factory.procedure(procedure_code), defect(name))


def unused_defects(catalogs: Sequence[Catalog], skip: Collection[str] = ()) -> list[CatalogError]:
    """One error per defect (but those named in ``skip``) that applies to no procedure of
    any of ``catalogs`` (every version on disk): ``catalog check`` builds a defect only
    where it applies, so one whose elements name nothing (``QuocGiaDenn``) would pass
    unbuilt, checking nothing. A defect only an older version's forms still allow applies,
    so it is kept."""
    path = defects_file()
    doc = load_yaml(path)
    declared = declared_elements(p for c in catalogs for p in sorted(c.root.rglob("*.xsd")))
    versions = ", ".join(dict.fromkeys(c.version for c in catalogs))
    errors = []
    for name, d in load_defects().items():
        if name in skip or applies_anywhere(catalogs, d):
            continue
        node = doc.get(name) if isinstance(doc, dict) else None
        why, hint = unused_reason(d, declared)
        errors.append(
            CatalogError(
                f"defect {name} applies to no procedure of any catalog version "
                f"({versions}): {why}, so `catalog check` never builds it",
                path=str(path),
                line=line_of(node, "elements" if d.elements else "op") or line_of(doc, name),
                hint=hint,
            )
        )
    return errors


def tweaks_for(factory: DossierFactory, procedure_code: str, name: str) -> Tweaks:
    """The factory hooks that produce defect ``name`` for this procedure."""
    procedure = factory.procedure(procedure_code)
    d = defect(name)
    if not applies(factory, procedure_code, name):
        raise FactoryError(
            f"defect {name!r} does not apply to procedure {procedure_code}: "
            f"{why_not_applies(factory.catalog, procedure, d)}",
            hint="`bhxh-harness dossier defects` lists the defects and the codes they cause",
        )
    first_form = procedure.required_forms[0]
    if d.elements:
        target = content_target(factory.catalog, procedure, d)
        assert target is not None
        form, element = target
        if d.op == CCCD_HOLDER:
            return Tweaks(cccd_holder=(form, str(d.args["value"])))
        if d.op == "tamper-form":
            tamper = tamper_form(element, str(d.args["value"]))
            return Tweaks(signed_form_hook=lambda c, b: tamper(b) if c == form else b)
        edit = edit_first(element, content_change(d))
        return Tweaks(form_hook=lambda c, r: edit(r) if c == form else r)
    simple: dict[str, Callable[[], Tweaks]] = {
        "unsign-form": lambda: Tweaks(
            signed_form_hook=lambda c, b: unsign(b) if c == first_form else b
        ),
        "unsign-envelope": lambda: Tweaks(unsigned_envelope=True),
        "form-algorithm": lambda: Tweaks(algorithm=str(d.args["algorithm"])),
        "form-signer": lambda: Tweaks(form_signer=str(d.args["credential"])),
        "envelope-signer": lambda: Tweaks(envelope_signer=str(d.args["credential"])),
        "envelope-delta": lambda: Tweaks(
            envelope_hook=envelope_delta(str(d.args["path"]), int(d.args["delta"]))
        ),
        "envelope-set": lambda: Tweaks(
            envelope_hook=envelope_set(str(d.args["path"]), str(d.args["value"]))
        ),
        "bad-base64": lambda: Tweaks(envelope_hook=bad_base64),
        "period-before-in-force": lambda: Tweaks(
            envelope_hook=envelope_set(
                "NoiDung/ThongTinHoSo/KyKeKhai", month_before(procedure.in_force_from)
            )
        ),
        "skip-required-form": lambda: Tweaks(skip_forms=(first_form,)),
        "add-foreign-form": lambda: Tweaks(
            extra_forms=(str(foreign_form(factory.catalog, procedure)),)
        ),
    }
    return simple[d.op]()


def build_defective(
    factory: DossierFactory, procedure: str, name: str, seed: int = 0, **options: Any
) -> Dossier:
    """A dossier with exactly defect ``name``; ``expected_codes`` says what must come back
    (``result_codes``: what its 03/TB-TS must list, for a defect only BHXH's processing finds)."""
    tweaks = tweaks_for(factory, procedure, name)
    if tweaks.skip_forms:
        options.setdefault("optional_forms", False)
    dossier = factory.build(procedure, seed, tweaks=tweaks, **options)
    d = defect(name)
    return replace(dossier, defect=name, expected_codes=d.expect, result_codes=d.result)


__all__ = [
    "applies",
    "build_defective",
    "defect",
    "load_defects",
    "tweaks_for",
    "unused_defects",
]
