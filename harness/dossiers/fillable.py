"""Whether the dossier factory can fill every form version of a catalog.

``fixtures/reference/fields.yaml`` says where each element's value comes from; an element
the factory would write without a source fails every ``dossier build``, so ``catalog check``
names the form, version and element instead. This is about generating dossiers, not
accepting them: the gateway never needs it, so catalog loading does not run it.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from harness.catalog.loader import check_signature_nodes
from harness.catalog.model import Catalog, FormVersion
from harness.catalog.xsd_names import read_elements
from harness.dossiers._data import FIELDS_FILE, load_yaml, split_source
from harness.dossiers.choice_rules import Listed, listed_values
from harness.dossiers.factory import FieldRules, field_rules
from harness.dossiers.form_model import ElementSpec, form_model
from harness.dossiers.on_disk import OnDisk, folders, on_disk
from harness.errors import CatalogError
from harness.paths import fixtures_dir
from harness.suggestions import did_you_mean
from harness.yamlfile import line_of

_SOURCE_KINDS = ("const", "digits", "choice", "person", "unit", "dossier", "row", "faker")


@dataclass(frozen=True)
class Unfilled:
    """An element the factory would write but has no value for."""

    form: str
    version: str
    path: str
    problem: str

    def __str__(self) -> str:
        return f"form {self.form} version {self.version}: element {self.path}: {self.problem}"


def _walk(
    spec: ElementSpec, path: str, rules: FieldRules, version: FormVersion, out: list[Unfilled]
) -> None:
    """Follow the factory's choices: required children, and optional ones it may fill."""
    for child in spec.children or ():
        if child.min_occurs == 0 and rules.optional.get(child.name, 0.0) <= 0:
            continue  # the factory never writes it
        where = f"{path}/{child.name}"
        if child.is_complex:
            _walk(child, where, rules, version, out)
            continue
        source = rules.sources.get(child.name)
        if source is None:
            choices = rules.prefer.get(child.name, ()) or child.enumeration
            if not any(not child.enumeration or c in child.enumeration for c in choices):
                out.append(Unfilled(version.form, version.version, where, "no value source"))
        elif split_source(source)[0] not in _SOURCE_KINDS:
            problem = f"unknown value source {source!r}"
            out.append(Unfilled(version.form, version.version, where, problem))


def unfilled_elements(catalog: Catalog) -> list[Unfilled]:
    """Every element of every form version the factory would fill without a value source."""
    rules = field_rules()
    found: list[Unfilled] = []
    for form in catalog.forms.values():
        for version in form.versions:
            root = form_model(version.xsd)
            _walk(root, root.name, rules, version, found)
    return found


def _named(doc: Any) -> Iterator[tuple[str, str, Any]]:
    """(section, element name, the section's mapping) for each name fields.yaml lists."""
    for section in ("fields", "optional", "prefer"):
        listed = doc.get(section) if isinstance(doc, dict) else None
        for name in listed if isinstance(listed, dict) else ():
            yield section, str(name), listed


def check_field_names(catalog: Catalog) -> list[str]:
    """Refuse a name under fields:, optional: or prefer: that no XSD of any catalog version
    declares: the factory looks names up, so a misspelt one (``LyDoGopp``) is ignored and
    its element filled otherwise, or left out, without a word. Returns the warnings (names
    left unjudged because a version that does not load may declare them)."""
    xsds = (p for folder in folders(catalog) for p in sorted(folder.rglob("*.xsd")))
    known, complete = read_elements(xsds)
    unknown = [(s, n, m) for s, n, m in _named(load_yaml(FIELDS_FILE)) if n not in known]
    if not unknown:
        return []
    unjudged = None if complete else _unjudged(catalog, [n for _s, n, _m in unknown])
    if unjudged is not None:
        return [unjudged]
    section, name, listed = unknown[0]
    others = "".join(
        f"\n  line {line_of(m, n)}: {s}: {n!r} {did_you_mean(n, known)}".rstrip()
        for s, n, m in unknown[1:]
    )
    more = f"\n{len(unknown) - 1} more name(s) no XSD declares:{others}" if others else ""
    raise CatalogError(
        f"{section}: {name!r} names no element of any catalog version's XSD, so the factory "
        f"ignores it{more}",
        path=str(fixtures_dir() / FIELDS_FILE),
        line=line_of(listed, name),
        hint=f"{did_you_mean(name, known)}element names are case-sensitive; remove the "
        "entry if its element is gone from every version",
    )


def _unjudged(catalog: Catalog, names: list[str]) -> str | None:
    """The warning when an XSD of a version that does not load cannot be read: it may
    declare ``names``, so they are not refused (nor their entries called dead)."""
    versions = on_disk(catalog)
    unreadable = tuple(b for b in versions.broken if not b.complete)
    if not unreadable:
        return None  # an unreadable file no version uses declares nothing
    unique = list(dict.fromkeys(names))  # a name listed in two sections is said once
    them = "them" if len(unique) > 1 else "it"
    return (
        f"{fixtures_dir() / FIELDS_FILE}: {', '.join(unique)}: no XSD of a catalog version "
        f"that loads declares {them}, so {them} {'are' if len(unique) > 1 else 'is'} not judged — "
        f"{OnDisk(versions.loaded, unreadable).fix_first()}"
    )


@dataclass(frozen=True)
class RefusedValue:
    """A ``const:`` or ``choice:`` value of ``fields.yaml`` that is not of its element's
    XSD type at all (not an integer, say)."""

    listed: Listed
    version: FormVersion
    reason: str
    hint: str

    def __str__(self) -> str:
        return (
            f"form {self.version.form} version {self.version.version}: fields.yaml gives "
            f"{self.listed.element} the value {self.listed.value!r}, which "
            f"{self.version.xsd.name} refuses: {self.reason} (line {self.listed.line})"
        )


def _fixed_values_typed(catalog: Catalog) -> Iterator[tuple[Listed, FormVersion, Any]]:
    """Each ``const:``/``choice:`` value with each form version and simple XSD type of an
    element of its name (the factory draws it wherever that name is declared)."""
    from xmlschema.validators import XsdElement

    from harness.catalog.schema_walk import load_schema

    listed = {
        name: [v for v in values if v.kind in ("const", "choice")]
        for name, values in listed_values().items()
    }
    for form in catalog.forms.values():
        for version in form.versions:
            for element in load_schema(version.xsd).iter_components(XsdElement):
                if not isinstance(element, XsdElement) or not element.type.is_simple():
                    continue
                for value in listed.get(str(element.local_name), []):
                    yield value, version, element.type


def refused_values(catalog: Catalog) -> list[RefusedValue]:
    """Every fixed value the factory draws for an element that is not of the element's
    XSD type: said with its line and the type, where xmlschema says Python's ``int()``."""
    refused = [
        _refused(value, version, xsd_type)
        for value, version, xsd_type in _fixed_values_typed(catalog)
        if _not_of_its_type(xsd_type, value.value)
    ]
    return list({(r.listed, r.version.form, r.reason): r for r in refused}.values())


@dataclass(frozen=True)
class FacetBreak:
    """A fixed value of its element's type that breaks a facet of it (a pattern, a range,
    a length): said in the XSD's terms, with its ``fields.yaml`` line."""

    listed: Listed
    version: FormVersion
    reason: str


def facet_breaks(catalog: Catalog) -> list[FacetBreak]:
    """Every fixed value that is of its element's type but breaks one of its facets: a
    dossier gets it only when the seed draws it, so the dossiers alone would miss most."""
    found = []
    for value, version, xsd_type in _fixed_values_typed(catalog):
        if _not_of_its_type(xsd_type, value.value):
            continue  # refused at load, with its own words (:func:`check_fixed_values`)
        error = next(iter(xsd_type.iter_errors(value.value)), None)
        if error is not None:
            found.append(FacetBreak(value, version, facet_reason(error, value.value)))
    return found


def facet_reason(error: Any, value: str) -> str:
    """Why xmlschema refused ``value``, in the XSD's words (xmlschema's own wording reads
    "has to be less than or equal than")."""
    facet = getattr(error, "validator", None)
    kind = type(facet).__name__.removeprefix("Xsd").removesuffix("Facets").removesuffix("Facet")
    limit = getattr(facet, "value", None)
    if kind == "Pattern":
        patterns = " or ".join(str(p) for p in getattr(facet, "regexps", []) or [])
        return f"it does not match the pattern {patterns}" if patterns else "it breaks a pattern"
    if kind == "Enumeration":
        allowed = ", ".join(str(v) for v in getattr(facet, "enumeration", []) or [])
        return f"it is not one of the listed values ({allowed})"
    said = _FACET_WORDS.get(kind)
    if said is not None and limit is not None:
        return said.format(limit=limit, length=len(value))
    return str(getattr(error, "reason", None) or str(error).splitlines()[0])


_FACET_WORDS = {
    "MaxInclusive": "it is above the maximum {limit}",
    "MaxExclusive": "it is not below {limit}",
    "MinInclusive": "it is below the minimum {limit}",
    "MinExclusive": "it is not above {limit}",
    "MaxLength": "it is {length} characters long, more than the {limit} allowed",
    "MinLength": "it is {length} characters long, fewer than the {limit} required",
    "Length": "it is {length} characters long, not the {limit} required",
    "TotalDigits": "it has more digits than the {limit} allowed",
    "FractionDigits": "it has more digits after the decimal point than the {limit} allowed",
}
"""How a facet an XSD value breaks is said, by the facet's kind ({limit}: its value)."""


def _not_of_its_type(xsd_type: Any, value: str) -> bool:
    """Whether ``value`` is not even of the built-in type ``xsd_type`` restricts (``12
    tháng`` for an integer); a facet it breaks (a pattern, a range) is a
    :class:`FacetBreak`, which ``catalog check`` reports."""
    errors = xsd_type.iter_errors(value)
    return any(type(e).__name__ == "XMLSchemaDecodeError" for e in errors)


def _refused(listed: Listed, version: FormVersion, xsd_type: Any) -> RefusedValue:
    """Said in the XSD's terms: xmlschema's decoding error quotes Python's ``int()``."""
    builtin = _builtin(xsd_type)
    name = f"xs:{str(getattr(builtin, 'name', '')).rsplit('}', 1)[-1] or 'anySimpleType'}"
    what = _KINDS.get(getattr(builtin, "python_type", str), f"a valid {name} value")
    element, xsd = listed.element, version.xsd.name
    if what == _KINDS[int]:
        how = (
            f"write {element}'s values as whole numbers, digits only (no unit, space or "
            'decimal point), e.g. choice:["12", "24"]'
        )
    else:
        how = f"write {element}'s values as {what}"
    return RefusedValue(
        listed,
        version,
        f"it is not {what}, which {element} is ({name})",
        f"{how}, or change its type in {xsd}",
    )


_KINDS: dict[object, str] = {
    int: "an integer",
    Decimal: "a decimal number",
    float: "a number",
    bool: "true, false, 1 or 0",
}
"""How a value of an XSD built-in type is said, by the Python type xmlschema decodes it to."""


def _builtin(xsd_type: Any) -> Any:
    """The XSD built-in type ``xsd_type`` restricts (itself if built in), or None."""
    current = xsd_type
    while current is not None:
        if str(getattr(current, "name", "")).startswith("{http://www.w3.org/2001/XMLSchema}"):
            return current
        current = getattr(current, "base_type", None)
    return None


def check_fixed_values(catalog: Catalog) -> None:
    """Raise :class:`CatalogError` at the ``fields.yaml`` line of the first fixed value not
    of its element's type, listing every other one."""
    refused = refused_values(catalog)
    if not refused:
        return
    listed = "\n".join(f"  {r}" for r in refused)
    raise CatalogError(
        f"fields.yaml gives {len(refused)} value(s) not of their element's XSD type, so "
        f"dossiers drawing them would be refused (XSD-001):\n{listed}",
        path=str(fixtures_dir() / FIELDS_FILE),
        line=refused[0].listed.line,
        hint=refused[0].hint,
    )


def check_fillable(catalog: Catalog) -> list[str]:
    """Raise :class:`CatalogError` naming every element ``dossier build`` could not fill,
    a name ``fields.yaml`` lists that no XSD declares (:func:`check_field_names`), a fixed
    value not of its element's type (:func:`check_fixed_values`), or a ``signature_node`` naming no
    element of its XSDs (the factory signs there: :func:`check_signature_nodes`); returns
    the warnings, which do not fail the check."""
    check_signature_nodes(catalog)
    warnings = check_field_names(catalog)
    missing = unfilled_elements(catalog)
    if not missing:
        check_fixed_values(catalog)
        return warnings
    listed = "\n".join(f"  {m}" for m in missing)
    kinds = ", ".join(_SOURCE_KINDS)
    raise CatalogError(
        f"catalog {catalog.version}: the dossier factory cannot fill "
        f"{len(missing)} element(s):\n{listed}",
        path=str(fixtures_dir() / "reference" / "fields.yaml"),
        hint=f"give each a source under fields: ({kinds}; see the file's header), "
        "list its codes under prefer:, or give it an enumeration in the XSD",
    )
