"""Every rule message run once on the valid dossiers' documents, noting which
``agrees_with_forms`` paths (catalog.yaml) they hold: a path none holds is a typo that
would switch the envelope-form agreement check (ENV-011) off silently."""

from __future__ import annotations

from collections.abc import Collection
from typing import TYPE_CHECKING

from harness.catalog import Catalog, validators_for
from harness.dossiers.refusal import AGREE, Refusal
from harness.xmlsafe import parse_xml

if TYPE_CHECKING:  # the factory (Faker, ~90 ms) is imported when dossiers are built
    from harness.dossiers.factory import Dossier

ENVELOPE = "Hoso"
"""The envelope's key among the document types whose messages ran."""


def run_messages(catalog: Catalog, dossier: Dossier, done: set[str]) -> None:
    """Run every rule message once per document type, on this valid dossier's documents;
    note in ``done`` which ``agrees_with_forms`` paths they hold."""
    validators = validators_for(catalog)
    pairs = catalog.envelope.agrees_with_forms
    envelope = parse_xml(dossier.envelope)
    if ENVELOPE not in done:
        validators.envelope.run_every_message(envelope)
        done.add(ENVELOPE)
    done.update(f"{ENVELOPE}:{e}" for e, _f in pairs if envelope.find(e) is not None)
    for built in dossier.forms:
        name = built.form.file_name
        form = parse_xml(built.content)
        validator = validators.form(built.form.form, built.form.version)
        if name not in done and validator is not None:
            validator.run_every_message(form)
            done.add(name)
        done.update(f"form:{f}" for _e, f in pairs if form.find(f) is not None)


def agreement_refusals(catalog: Catalog, seen: Collection[str]) -> list[Refusal]:
    """An ``agrees_with_forms`` path no valid dossier holds: a typo that would switch the
    check off silently (ENV-011 never raised)."""
    refusals = []
    for envelope_path, form_path in catalog.envelope.agrees_with_forms:
        for side, path in ((ENVELOPE, envelope_path), ("form", form_path)):
            if f"{side}:{path}" not in seen:
                where = "envelopes" if side == ENVELOPE else "forms"
                refusals.append(
                    Refusal(
                        "",
                        "catalog.yaml",
                        f"agrees_with_forms: {path!r} is in none of the valid dossiers' {where}",
                        "write the path of element names below the root, as the XSD has it",
                        kind=AGREE,
                    )
                )
    return refusals


__all__ = ["ENVELOPE", "agreement_refusals", "run_messages"]
