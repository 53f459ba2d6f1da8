"""Every fixed value ``fields.yaml`` gives (``choice:``, ``const:``, ``prefer:``) run
through the rules of each form version that has its element.

The factory draws one of the listed values per dossier, so a value the rules refuse (a
code missing from the reference table a rule looks it up in) makes only some seeds'
"valid" dossiers fail, and a sender-side tool such as ``fuzz`` then blames the gateway.
The smoke run's valid dossier of each form version is the base: the element is set (or
inserted where the XSD puts it) to each value in turn and the form checked as the gateway
checks it; the form alone, since its signature and envelope do not change the verdict.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from copy import deepcopy
from dataclasses import dataclass
from pathlib import Path

from lxml import etree

from harness.catalog import Catalog, FormVersion, validators_for
from harness.catalog.rule_lookup import find_assert
from harness.catalog.rule_problem import SCH_NS
from harness.catalog.xpath_scan import function_calls, literal, variables
from harness.dossiers._data import FIELDS_FILE, choice_values, load_yaml, split_source
from harness.dossiers.form_model import ElementSpec, form_model
from harness.errors import CatalogError, Finding
from harness.paths import fixtures_dir
from harness.xmlsafe import parse_xml
from harness.yamlfile import line_of

FormKey = tuple[str, str]
"""(form code, version): a form version whose valid document the smoke run built."""


@dataclass(frozen=True)
class Listed:
    """One value ``fields.yaml`` lists for an element: its section, line and kind."""

    element: str
    value: str
    kind: str
    line: int | None

    @property
    def where(self) -> str:
        """``<fields.yaml>:<line>``, as the other data errors name their place."""
        path = fixtures_dir() / FIELDS_FILE
        return f"{path}:{self.line}" if self.line else str(path)


@dataclass(frozen=True)
class RefusedValue:
    """A listed value the rules of ``version`` refuse (``finding``) or fail on (``error``)."""

    listed: Listed
    version: FormVersion
    finding: Finding | None = None
    error: CatalogError | None = None


def listed_values() -> dict[str, list[Listed]]:
    """Each element's fixed values, as the factory draws them: a ``const:`` or ``choice:``
    source, else its ``prefer:`` codes (a source wins over ``prefer:``)."""
    from harness.dossiers.factory import field_rules

    rules, doc = field_rules(), load_yaml(FIELDS_FILE)
    fields, prefer = doc.get("fields"), doc.get("prefer")
    found: dict[str, list[Listed]] = {}
    for name, source in rules.sources.items():
        kind, arg = split_source(source)
        values = [arg] if kind == "const" else choice_values(arg) if kind == "choice" else []
        line = line_of(fields, name)
        found.update({name: [Listed(name, v, kind, line) for v in values]} if values else {})
    for name, codes in rules.prefer.items():
        if name not in rules.sources:
            found[name] = [Listed(name, c, "prefer", line_of(prefer, name)) for c in codes]
    return found


def refused_values(catalog: Catalog, documents: Mapping[FormKey, bytes]) -> list[RefusedValue]:
    """Every listed value the rules of a form version refuse, tried in that version's
    valid document (``documents``: the smoke run's, one per form version)."""
    listed = listed_values()
    refused: list[RefusedValue] = []
    for (code, number), content in documents.items():
        form = catalog.forms.get(code)
        version = form.version(number) if form else None
        if version is not None:
            refused += _refused_in(catalog, version, parse_xml(content), listed)
    return refused


def _refused_in(
    catalog: Catalog,
    version: FormVersion,
    document: etree._Element,
    listed: dict[str, list[Listed]],
) -> list[RefusedValue]:
    """The listed values refused in one form version's valid ``document``."""
    validator = validators_for(catalog).form(version.form, version.version)
    if validator is None:
        return []
    refused = []
    for path, parent in complex_elements(form_model(version.xsd), ()):
        for child in parent.children or ():
            for item in listed.get(child.name, ()):
                tried = with_child(document, path, parent, child.name, item.value)
                if tried is None:
                    continue  # the factory left the parent out: nothing to set it in
                try:
                    findings = validator.validate(tried)
                except CatalogError as exc:  # a rule failing on the value: a 500
                    refused.append(RefusedValue(item, version, error=exc))
                    continue
                rule = next((f for f in findings if "rule" in f.context), None)
                if rule is not None:  # an XSD finding is value_refusals' (and may be ours)
                    refused.append(RefusedValue(item, version, finding=rule))
    return refused


def complex_elements(
    spec: ElementSpec, path: tuple[str, ...]
) -> Iterator[tuple[tuple[str, ...], ElementSpec]]:
    """Every complex element of the form, with its path of names below the root."""
    yield path, spec
    for child in spec.children or ():
        if child.is_complex:
            yield from complex_elements(child, (*path, child.name))


def with_child(
    document: etree._Element, path: tuple[str, ...], parent: ElementSpec, name: str, value: str
) -> etree._Element | None:
    """A copy of ``document`` whose first ``path`` element has its child ``name`` set to
    ``value``, inserted in the XSD's order if the factory left it out (None: no such parent)."""
    copy = deepcopy(document)
    node = copy.find("/".join(path)) if path else copy
    if node is None:
        return None
    target = node.find(name)
    if target is None:
        order = [c.name for c in parent.children or ()]
        later = set(order[order.index(name) + 1 :])
        target = etree.Element(name)
        following = next((c for c in node if c.tag in later), None)
        if following is None:
            node.append(target)
        else:
            following.addprevious(target)
    target.text = value
    return copy


def tables_read(rules: tuple[Path, ...], assert_id: str) -> list[str]:
    """The reference tables assert ``assert_id`` looks codes up in: ``fn:in-table('<table>',
    ...)`` in its test or in the lets of its rule and pattern the test names."""
    found = find_assert(rules, assert_id)
    return [] if found is None else _in_table_names(found[1])


def _in_table_names(check: etree._Element) -> list[str]:
    """Table names given literally to ``fn:in-table`` in ``check``'s test or its lets."""
    test = check.get("test", "")
    lets: dict[str, str] = {}
    for scope in (check.getparent(), *check.iterancestors()):
        for let in scope.findall(f"{{{SCH_NS}}}let") if scope is not None else ():
            lets.setdefault(let.get("name", ""), let.get("value", ""))
    expressions = [test, *(lets.get(name, "") for name in variables(test))]
    names: list[str] = []
    for expression in expressions:
        for call in function_calls(expression):
            table = literal(call.args[0]) if call.name == "in-table" and call.args else None
            if table is not None and table not in names:
                names.append(table)
    return names


__all__ = [
    "FormKey",
    "Listed",
    "RefusedValue",
    "complex_elements",
    "listed_values",
    "refused_values",
    "tables_read",
    "with_child",
]
