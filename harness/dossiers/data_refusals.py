"""What ``catalog check`` judges of the catalog's data beside its valid dossiers: values of
``fields.yaml`` the XSDs or the rules refuse (a dossier gets one only when a seed draws
it), forms no procedure takes, and the warnings of what a version adds that no check
exercises."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

from harness.catalog import Catalog, FormVersion
from harness.dossiers.finding_fixes import rule_named
from harness.dossiers.refusal import (
    CHOICE,
    ORPHAN,
    UNDATED,
    UNEXERCISED,
    UNTESTED,
    VALUE,
    Refusal,
    said,
)
from harness.errors import Finding
from harness.yamlfile import line_of, load_yaml

if TYPE_CHECKING:
    from harness.dossiers.choice_rules import FormKey


def value_refusals(catalog: Catalog) -> list[Refusal]:
    """Every ``const:`` and ``choice:`` value of ``fields.yaml`` that breaks a facet of an
    element of that name (a value not of its type at all is refused at load): a dossier
    gets it only when the seed draws it, so the dossiers alone would miss most of them."""
    from harness.dossiers.fillable import facet_breaks

    return [
        Refusal(
            "",
            f"form {found.version.form} version {found.version.version}",
            f"{found.listed.where}: {found.listed.element}: {found.listed.kind} value "
            f"{found.listed.value!r}, which {found.version.xsd.name} refuses: {found.reason}",
            f"fix {found.listed.element}'s source in fixtures/reference/fields.yaml or its "
            "type in the XSD",
            VALUE,
        )
        for found in facet_breaks(catalog)
    ]


def orphan_refusals(catalog: Catalog) -> list[Refusal]:
    """A form no procedure requires or allows: no dossier may carry it (the gateway
    refuses it as foreign to the procedure), and no smoke dossier runs its XSD or rules,
    so it is dead data, most often a form a procedure's list forgot."""
    used = {code for procedure in catalog.procedures.values() for code in procedure.forms}
    path = catalog.root / "catalog.yaml"
    doc = load_yaml(path)
    forms = doc.get("forms") if isinstance(doc, dict) else None
    procedures = ", ".join(catalog.procedures)
    return [
        Refusal(
            "",
            "",
            f"{path}:{line_of(forms, code) or line_of(doc, 'forms')}: form {code} is neither "
            f"required nor allowed by any procedure ({procedures}), so no dossier may carry "
            "it and nothing checks its XSD or rules",
            f"add {code} to the required_forms or optional_forms of the procedure(s) that "
            "take it, or remove it from forms: (an older catalog version keeps it for its "
            "own periods)",
            ORPHAN,
        )
        for code in catalog.forms
        if code not in used
    ]


def choice_refusals(catalog: Catalog, passed: Mapping[FormKey, bytes]) -> list[Refusal]:
    """Every fixed value of ``fields.yaml`` (``choice:``, ``const:``, ``prefer:``) the rules
    refuse in a form version's accepted smoke document (``passed``): a seed that draws it
    gives a "valid" dossier the gateway refuses."""
    from harness.dossiers.choice_rules import refused_values

    refusals = []
    for refused in refused_values(catalog, passed):
        version, listed = refused.version, refused.listed
        where = f"form {version.form} version {version.version}"
        value_said = f"{listed.where}: {listed.element}: {listed.kind} value {listed.value!r}"
        if refused.error is not None:
            problem, hint = said(refused.error)
            problem = f"{value_said} makes a rule fail when run: {problem}"
            refusals.append(Refusal("", where, problem, hint, CHOICE, gateway=True))
            continue
        found = refused.finding
        assert found is not None
        rule = rule_named(catalog, version, found.context.get("rule", ""))
        refusals.append(
            Refusal(
                "",
                where,
                f"{value_said} is refused by the rules: {found.code}{rule} {found.message_en}",
                _choice_fix(version, listed.element, listed.value, found),
                CHOICE,
            )
        )
    return refusals


def unexercised_warnings(catalog: Catalog, passed: Mapping[FormKey, bytes]) -> list[Refusal]:
    """Warnings of what the version adds that no check exercises: an element the factory
    never writes, a date element no rule checks is a real date (:mod:`.unexercised`), a
    rule code no defect expects (:mod:`.defect_codes`)."""
    from harness.dossiers.defect_codes import untested_codes
    from harness.dossiers.unexercised import (
        previous_catalog,
        undated_elements,
        unwritten_elements,
    )

    warnings = [Refusal("", "", str(u), u.hint, UNEXERCISED) for u in unwritten_elements(catalog)]
    warnings += [
        Refusal("", "", str(u), u.hint, UNDATED) for u in undated_elements(catalog, passed)
    ]
    untested = untested_codes(catalog, previous_catalog(catalog))
    if untested is not None:
        warnings.append(Refusal("", "", str(untested), untested.hint, UNTESTED))
    return warnings


def _choice_fix(version: FormVersion, element: str, value: str, found: Finding) -> str:
    """What to change for a listed value a rule refuses: the table it looks codes up in,
    or the list of values."""
    from harness.catalog.tables import table_file
    from harness.dossiers.choice_rules import tables_read

    tables = tables_read(version.rules, found.context.get("rule", ""))
    files = [(t, table_file(t)) for t in tables]
    add = "".join(
        f'add a row {{code: "{value}", ...}} to table {t!r} in fixtures/reference/{f.name}, or '
        for t, f in files
        if f is not None
    )
    return (
        f"{add}remove {value!r} from {element}'s values in fixtures/reference/fields.yaml, or "
        "fix the rule: the factory draws every listed value, so some seeds' valid dossiers "
        "would be refused"
    )


__all__ = ["choice_refusals", "orphan_refusals", "unexercised_warnings", "value_refusals"]
