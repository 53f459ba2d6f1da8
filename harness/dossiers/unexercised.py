"""What a catalog version adds that nothing exercises: ``catalog check``'s warnings.

Both pass every check silently, yet leave a new version untested where it is new:

* an element a form version adds (to the previous version of the form) that the dossier
  factory never writes, optional with no ``optional:`` probability in ``fields.yaml``:
  no valid dossier carries it, so its type and rules are never run;
* a date element the XSD lets an impossible date through (``30/02/2027``: the catalog's
  date patterns allow any day 01-31) and no rule checks it is a real date, as the
  real-date rule does for the names it lists.

They only warn: the version is valid as it is, but its author most likely forgot a line.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from lxml import etree

from harness.catalog import Catalog, FormVersion, load_catalog, validators_for
from harness.catalog.loader import version_names
from harness.catalog.rule_problem import SCH_NS
from harness.dossiers._data import FIELDS_FILE
from harness.dossiers.choice_rules import FormKey, complex_elements, with_child
from harness.dossiers.factory import FieldRules, field_rules
from harness.dossiers.form_model import ElementSpec, form_model
from harness.errors import Finding, UsageError
from harness.paths import fixtures_dir

if TYPE_CHECKING:
    from harness.dossiers.defect_kinds import Defect
from harness.xmlsafe import parse_xml

_IMPOSSIBLE = ("30/02/{year}", "{year}-02-30")
"""An impossible date in each shape the catalog's date types take."""
_POSSIBLE = ("28/02/{year}", "{year}-02-28")
"""The same shapes, a real date: what the element's rules say of any date."""
_MISPLACED = ("3/002/{year}", "{year}0-2-30")
"""The impossible date's characters with a separator moved: a date pattern fixes where
its separators go, while a code's (``[0-9A-Z/\\-]{1,30}``, a contract number) takes both."""
_YEAR = re.compile(r"(19|20)\d\d")
_REAL_DATE_FUNCTION = "valid-date("
"""How a rule checks a real date (the Schematron function the catalog's rules call)."""
_DATE_DEFECT_OP = "set-date"
"""The defect op that sets an impossible date (``defects.yaml``)."""


@dataclass(frozen=True)
class Unwritten:
    """An element ``version`` adds that the factory never writes (``path``: from the
    form's root; ``added``: the new element paths at or below it)."""

    version: FormVersion
    path: str
    added: tuple[str, ...]
    before: str
    hint: str

    def __str__(self) -> str:
        below = [a for a in self.added if a != self.path]
        new = f" (holding new {', '.join(below)})" if below else ""
        return (
            f"form {self.version.form} version {self.version.version} adds {self.path}{new} "
            f"({self.before}), which the dossier factory never writes (optional, and "
            "fields.yaml gives it no optional: probability), so no valid dossier exercises it"
        )


def unwritten_elements(catalog: Catalog) -> list[Unwritten]:
    """Every element a form version of ``catalog`` adds that no valid dossier carries; a
    form of the first catalog version on disk has nothing to compare with."""
    rules = field_rules()
    found: list[Unwritten] = []
    for form in catalog.forms.values():
        for index, version in enumerate(form.versions):
            before = _before(catalog, form.code, index)
            if before is None:
                continue
            known, said = before
            root = form_model(version.xsd)
            for path, skipped in _skipped(root, root.name, rules):
                added = tuple(p for p in _paths(skipped, path) if p not in known)
                if added:
                    hint = _write_hint(skipped, rules)
                    found.append(Unwritten(version, path, added, said, hint))
    return found


def _before(catalog: Catalog, code: str, index: int) -> tuple[frozenset[str], str] | None:
    """The element paths of the version before ``catalog``'s ``index``-th of form ``code``
    (its previous version there, else its current one in the catalog version before), and
    how that is said; no paths for a form new in ``catalog``; None: nothing to compare."""
    form = catalog.forms[code]
    if index:
        earlier = form.versions[index - 1]
        return _all_paths(earlier), f"not in version {earlier.version}"
    previous = previous_catalog(catalog)
    if previous is None:
        return None
    old = previous.forms.get(code)
    if old is None:
        return frozenset(), f"form {code} is new in catalog {catalog.version}"
    return _all_paths(
        old.current
    ), f"not in catalog {previous.version}'s version {old.current.version}"


def previous_catalog(catalog: Catalog) -> Catalog | None:
    """The catalog version just before ``catalog`` beside it, if there is one that loads
    (one that does not is refused by its own check)."""
    base = catalog.root.parent
    names = version_names(base)
    at = names.index(catalog.version) if catalog.version in names else 0
    if at == 0:
        return None
    try:
        return load_catalog(names[at - 1], root=base)
    except UsageError:
        return None


def _all_paths(version: FormVersion) -> frozenset[str]:
    root = form_model(version.xsd)
    return frozenset(_paths(root, root.name))


def _paths(spec: ElementSpec, path: str) -> Iterator[str]:
    """``path`` and the path of every element below it."""
    yield path
    for child in spec.children or ():
        yield from _paths(child, f"{path}/{child.name}")


def _skipped(spec: ElementSpec, path: str, rules: FieldRules) -> Iterator[tuple[str, ElementSpec]]:
    """Every element the factory leaves out (optional, no ``optional:`` probability), as
    its walk does (:func:`harness.dossiers.fillable.unfilled_elements`)."""
    for child in spec.children or ():
        where = f"{path}/{child.name}"
        if child.min_occurs == 0 and rules.optional.get(child.name, 0.0) <= 0:
            yield where, child
        elif child.is_complex:
            yield from _skipped(child, where, rules)


def _write_hint(spec: ElementSpec, rules: FieldRules) -> str:
    """What to add to ``fields.yaml`` for the factory to write ``spec`` in some dossiers."""
    name, file = spec.name, fixtures_dir() / FIELDS_FILE
    source = spec.is_complex or name in rules.sources or name in rules.prefer
    needs = "" if source or spec.enumeration else "a value source under fields: and "
    return (
        f"give {name} {needs}a probability under optional: (e.g. `{name}: 0.5`) in {file}, "
        "so some valid dossiers carry it"
    )


@dataclass(frozen=True)
class Undated:
    """A date element of ``version`` that takes an impossible date without a finding."""

    version: FormVersion
    path: str
    value: str
    hint: str

    def __str__(self) -> str:
        name = self.path.rsplit("/", 1)[-1]
        return (
            f"form {self.version.form} version {self.version.version}: {name} ({self.path}) "
            f"takes the impossible date {self.value!r} without a finding: no rule checks it is "
            "a real date"
        )


def undated_elements(catalog: Catalog, documents: Mapping[FormKey, bytes]) -> list[Undated]:
    """Every element whose XSD lets an impossible date through and whose rules say nothing
    of it, tried in each form version's valid document (``documents``: the smoke run's)."""
    found: dict[tuple[str, str, str], Undated] = {}
    for (code, number), content in documents.items():
        form = catalog.forms.get(code)
        version = form.version(number) if form else None
        if version is not None:
            for undated in _undated_in(catalog, version, parse_xml(content)):
                name = undated.path.rsplit("/", 1)[-1]
                found.setdefault((code, number, name), undated)
    return list(found.values())


def _undated_in(
    catalog: Catalog, version: FormVersion, document: etree._Element
) -> Iterator[Undated]:
    """The date elements of one form version the rules let an impossible date through."""
    validator = validators_for(catalog).form(version.form, version.version)
    if validator is None:
        return
    root = form_model(version.xsd)
    for path, parent in complex_elements(root, ()):
        for child in parent.children or ():
            shape = None if child.is_complex else _date_shape(child.patterns)
            if shape is None:
                continue
            year = _year(document, path, child.name)
            good = with_child(
                document, path, parent, child.name, _POSSIBLE[shape].format(year=year)
            )
            bad_value = _IMPOSSIBLE[shape].format(year=year)
            bad = with_child(document, path, parent, child.name, bad_value)
            if good is None or bad is None:
                continue  # the factory left the parent out: nothing to set it in
            try:
                said = _findings(validator.validate(good))
                if _findings(validator.validate(bad)) <= said:
                    where = "/".join((root.name, *path, child.name))
                    yield Undated(version, where, bad_value, _date_hint(version, child.name))
            except UsageError:
                continue  # a rule failing when run is the smoke run's to report


def _date_shape(patterns: tuple[str, ...]) -> int | None:
    """Which shape of :data:`_IMPOSSIBLE` the patterns accept (None: not a date element,
    as a code that merely takes the text is not, or one the XSD itself keeps real)."""
    if not patterns:
        return None
    for shape, text in enumerate(_IMPOSSIBLE):
        value, misplaced = text.format(year=2024), _MISPLACED[shape].format(year=2024)
        accepts = any(_matches(p, value) for p in patterns)
        if accepts and not any(_matches(p, misplaced) for p in patterns):
            return shape
    return None


def _matches(pattern: str, value: str) -> bool:
    try:
        return re.fullmatch(pattern, value) is not None
    except re.error:  # an XSD-only construct: not a pattern this check can read
        return False


def _year(document: etree._Element, path: tuple[str, ...], name: str) -> str:
    """The year of the element's valid value (another year could be out of a rule's range)."""
    node = document.find("/".join((*path, name)))
    found = _YEAR.search(node.text or "") if node is not None else None
    return found.group(0) if found else "2024"


def _findings(findings: list[Finding]) -> frozenset[tuple[str, str]]:
    """What the findings say, to compare an impossible date's with a real one's."""
    return frozenset((f.code, f.xpath) for f in findings)


def _date_hint(version: FormVersion, name: str) -> str:
    """Where a real-date check is added: the rules calling ``valid-date`` on the element
    they are about, and the defects setting an impossible date (what `catalog check`
    builds to prove the rule fires). A defect sets the first of its ``elements:`` a form
    has, so one already setting another element of this form needs a sibling instead
    (reordering it would change what recorded baselines hold)."""
    rules = _real_date_rules(version)
    if not rules:
        return (
            f"add a rule to the rules of form {version.form} version {version.version} "
            f"asserting fn:valid-date(string(.)) on {name}, and a defect with op: "
            f"{_DATE_DEFECT_OP} naming it to fixtures/dossiers/defects.yaml"
        )
    where = [f"the context of the real-date rule at {at}" for at in rules]
    names = {path.rsplit("/", 1)[-1] for path in _all_paths(version)}
    siblings = []
    for defect, at in _date_defects():
        taken = next((e for e in defect.elements if e in names), None)
        if taken is None:
            where.append(f"elements: of defect {defect.name} at {at}")
            continue
        value = defect.args.get("value", "30/02/{year}")
        entry = (
            f"impossible-{name.lower()}: {{expect: [{', '.join(defect.expect)}], op: "
            f'{_DATE_DEFECT_OP}, elements: [{name}], value: "{value}"}}'
        )
        siblings.append(
            f"add `{entry}` to {at.rsplit(':', 1)[0]} (defect {defect.name} at {at} sets "
            f"{taken} in this form: a defect sets only the first of its elements: a form has)"
        )
    return "; ".join([f"add {name} to {' and to '.join(where)}", *siblings])


def _real_date_rules(version: FormVersion) -> list[str]:
    """``<file>:<line> (pattern <id>)`` of each rule of ``version`` whose assert checks its
    context is a real date."""
    found = []
    for path in version.rules:
        try:
            root = etree.parse(str(path), etree.XMLParser(resolve_entities=False)).getroot()
        except (OSError, etree.XMLSyntaxError):
            continue
        for check in root.iter(f"{{{SCH_NS}}}assert"):
            test = check.get("test", "").replace(" ", "")
            rule = check.getparent()
            if f"{_REAL_DATE_FUNCTION}string(.))" in test and rule is not None:
                pattern = rule.getparent()
                named = pattern.get("id") if pattern is not None else None
                found.append(_place(path, rule.sourceline, named))
    return list(dict.fromkeys(found))


def _place(path: Path, line: int | None, pattern: str | None) -> str:
    at = f"{path}:{line}" if line else str(path)
    return f"{at} (pattern {pattern})" if pattern else at


def _date_defects() -> list[tuple[Defect, str]]:
    """Each defect setting an impossible date, with its ``<defects.yaml>:<line>``."""
    from harness.dossiers.defect_codes import defect_place
    from harness.dossiers.defects import load_defects

    return [(d, defect_place(d.name)) for d in load_defects().values() if d.op == _DATE_DEFECT_OP]


__all__ = ["Undated", "Unwritten", "previous_catalog", "undated_elements", "unwritten_elements"]
