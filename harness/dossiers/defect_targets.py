"""Where in a catalog a named defect lands: the form and element it changes, whether it
applies to a procedure, and why not, in the catalog's terms.

Kept apart from the registry and the mutations: it reads only forms and their rules.
"""

from __future__ import annotations

from collections.abc import Sequence

from harness.catalog import Catalog, FormVersion, Procedure
from harness.catalog.rule_roles import can_raise, rule_codes
from harness.dossiers.defect_kinds import Defect
from harness.dossiers.form_model import ElementSpec, form_model
from harness.suggestions import did_you_mean


def _has_element(spec: ElementSpec, name: str) -> bool:
    return spec.name == name or any(_has_element(c, name) for c in spec.children or ())


def content_target(catalog: Catalog, procedure: Procedure, d: Defect) -> tuple[str, str] | None:
    """The (form, element) a content defect touches: first required form holding one,
    among the forms whose rules can raise the code the defect expects."""
    for element in d.elements:
        for code in procedure.required_forms:
            current = catalog.forms[code].current
            model = form_model(current.xsd)
            holds = all(_has_element(model, name) for name in (element, *d.needs))
            if holds and _causes(d, current):
                return code, element
    return None


def _causes(d: Defect, version: FormVersion) -> bool:
    """Whether a form of ``version`` can answer ``d``'s codes: its intake rules the codes
    that refuse, its result rules (BHXH's processing) the ``RES-*`` ones."""
    return can_raise(d.expect, version.rules) and set(d.result) <= rule_codes(version.result_rules)


def why_not_applies(catalog: Catalog, procedure: Procedure, d: Defect) -> str:
    """Why :func:`.defects.applies` said no, in the catalog's terms, so whoever wrote the data
    knows whether a form lacks the element or its rules lack the code."""
    if d.op == "add-foreign-form":
        return "every form of the catalog is one of its forms"
    wanted = "/".join(d.elements)
    forms = catalog.forms
    holding = [
        code
        for code in procedure.required_forms
        if any(
            all(_has_element(form_model(forms[code].current.xsd), n) for n in (e, *d.needs))
            for e in d.elements
        )
    ]
    if not holding:
        copied = f" beside {', '.join(d.needs)}, the element it copies" if d.needs else ""
        return f"none of its required forms has {wanted}{copied}, the element(s) the defect changes"
    rules = "result rule (result_rules in catalog.yaml)" if d.result else "rule"
    return (
        f"{', '.join(holding)} {'has' if len(holding) == 1 else 'have'} {wanted}, but no "
        f"{rules} of {'it' if len(holding) == 1 else 'them'} raises {', '.join(d.codes)}, the "
        "code the defect must cause"
    )


def foreign_form(catalog: Catalog, procedure: Procedure) -> str | None:
    return next((c for c in catalog.forms if c not in procedure.forms), None)


def applies_in(catalog: Catalog, procedure: Procedure, d: Defect) -> bool:
    """Whether ``d`` can be built for ``procedure`` of ``catalog`` (its elements or forms exist)."""
    if d.elements:
        return content_target(catalog, procedure, d) is not None
    if d.op == "add-foreign-form":
        return foreign_form(catalog, procedure) is not None
    return True


def applies_anywhere(catalogs: Sequence[Catalog], d: Defect) -> bool:
    """Whether ``d`` applies to some procedure of one of ``catalogs``."""
    return any(applies_in(c, p, d) for c in catalogs for p in c.procedures.values())


def unused_reason(d: Defect, declared: frozenset[str]) -> tuple[str, str]:
    """Why defect ``d`` applies nowhere, and how to fix it."""
    unknown = [e for e in (*d.elements, *d.needs) if e not in declared]
    if unknown:
        names = ", ".join(unknown)
        return (
            f"no XSD declares {names}",
            f"{did_you_mean(unknown[0], declared)}name in elements: an element of a form a "
            "procedure requires (names are case-sensitive), or remove the defect",
        )
    if d.op == "add-foreign-form":
        return (
            "every procedure takes every form",
            "remove the defect, or keep a form some procedure does not take",
        )
    return (
        f"no form a procedure requires has {'/'.join(d.elements)} and "
        f"{'result rules' if d.result else 'rules'} raising {', '.join(d.codes)}",
        "point elements: at an element of a required form whose rules raise the code, or fix "
        "expect:; a form a procedure only allows (optional_forms) is not used for defects",
    )


__all__ = [
    "applies_anywhere",
    "applies_in",
    "content_target",
    "foreign_form",
    "unused_reason",
    "why_not_applies",
]
