"""What a mutation may touch: each document's schema facts and what one dossier holds.

Mutations are derived, never written per form: the XSD says which elements exist, how
often they must occur and which values their types admit (xmlschema's own validator
decides whether a probe value really violates the type), the Schematron rules say which
elements are looked up in reference tables and which names are compared in NFC, and the
built dossier says which elements are actually present to be broken.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

from lxml import etree
from xmlschema.validators import XsdAnyElement, XsdGroup

from harness.catalog.schema_walk import SimpleInfo, load_schema, simple_info
from harness.catalog.tables import table_index

SCH = {"sch": "http://purl.oclc.org/dsdl/schematron"}


@dataclass(frozen=True)
class ElementFact:
    """One element declaration at ``path``: occurrences and, if simple, its type."""

    path: str
    min_occurs: int
    max_occurs: int | None
    info: SimpleInfo | None
    xsd_type: Any = field(default=None, repr=False, compare=False)  # None when complex
    wildcard: bool = False  # content is an xs:any (a signature holder such as Cky)
    _verdicts: dict[str, bool] = field(default_factory=dict, repr=False, compare=False)

    @property
    def name(self) -> str:
        return self.path.rsplit("/", 1)[-1]

    @property
    def max_length(self) -> int | None:
        return None if self.info is None else self.info.facets.get("maxLength")

    @property
    def free_text(self) -> bool:
        """A string with only length facets: any short text is a valid replacement."""
        info = self.info
        return (
            info is not None
            and info.builtins[:1] == ("xs:string",)
            and not info.patterns
            and info.enumeration is None
            and "maxLength" in info.facets
        )

    def accepts(self, value: str) -> bool:
        """Whether the schema type admits ``value`` (xmlschema decides, not a copy of it)."""
        known = self._verdicts.get(value)
        if known is None:
            known = self._verdicts[value] = self.xsd_type is not None and bool(
                self.xsd_type.is_valid(value)
            )
        return known


def _particles(group: Any, low: int) -> list[tuple[Any, int]]:
    """Element particles with their effective minOccurs (choices make branches optional)."""
    low *= group.min_occurs
    if group.model == "choice" and len(group) > 1:
        low = 0
    found: list[tuple[Any, int]] = []
    for particle in group:
        if isinstance(particle, XsdGroup):
            found.extend(_particles(particle, low))
        else:
            found.append((particle, low * particle.min_occurs))
    return found


def _walk(element: Any, path: str, low: int, facts: dict[str, ElementFact]) -> None:
    xsd_type = element.type
    if xsd_type.is_simple() or xsd_type.has_simple_content():
        simple = xsd_type if xsd_type.is_simple() else xsd_type.content
        facts[path] = ElementFact(path, low, element.max_occurs, simple_info(simple), simple)
        return
    content = xsd_type.content if isinstance(xsd_type.content, XsdGroup) else None
    particles = [] if content is None else _particles(content, 1)
    wildcard = any(isinstance(p, XsdAnyElement) for p, _ in particles)
    facts[path] = ElementFact(path, low, element.max_occurs, None, None, wildcard)
    for particle, child_low in particles:
        if not isinstance(particle, XsdAnyElement) and particle.type is not None:
            _walk(particle, f"{path}/{particle.local_name}", child_low, facts)


@cache
def schema_facts(xsd: Path) -> Mapping[str, ElementFact]:
    """Every element path of the schema's single global element, in document order."""
    schema = load_schema(xsd)
    facts: dict[str, ElementFact] = {}
    for element in schema.elements.values():
        _walk(element, element.local_name, 1, facts)
    return facts


def local(element: etree._Element) -> str:
    return str(etree.QName(element).localname)


def find_all(root: etree._Element, path: str) -> list[etree._Element]:
    """Elements at a slash path such as ``D02-TS/NoiDung/LaoDong/HoTen``, in order.

    Only un-namespaced elements match, so nothing inside a ds:Signature is ever found.
    """
    steps = path.split("/")
    if root.tag != steps[0]:
        return []
    current = [root]
    for step in steps[1:]:
        current = [child for element in current for child in element.iterchildren(step)]
    return current


@dataclass(frozen=True)
class DocFacts:
    """One document of a built dossier: the envelope or one embedded form."""

    doc: str  # "envelope" or a form code
    xsd: Path
    schema_code: str  # what breaking its schema answers: ENV-001 or XSD-001
    signature_node: str
    rules: tuple[Path, ...]
    elements: Mapping[str, ElementFact]
    present: Mapping[str, tuple[str, ...]]  # path -> text of each occurrence

    def targets(self) -> list[tuple[ElementFact, int]]:
        """Present, declared elements outside the signature, with their occurrence count."""
        return [
            (self.elements[path], len(texts))
            for path, texts in self.present.items()
            if path in self.elements and not self.elements[path].wildcard
        ]


def presence(root: etree._Element) -> dict[str, tuple[str, ...]]:
    """Path to the texts of every un-namespaced element (signatures excluded), in order."""
    found: dict[str, list[str]] = {}

    def walk(element: etree._Element, path: str) -> None:
        found.setdefault(path, []).append(element.text or "")
        for child in element:
            tag = child.tag
            if isinstance(tag, str) and tag[0] != "{":
                walk(child, f"{path}/{tag}")

    if isinstance(root.tag, str) and root.tag[0] != "{":
        walk(root, str(root.tag))
    return {path: tuple(texts) for path, texts in found.items()}


# -- rules ---------------------------------------------------------------------------

_TABLE_LOOKUP = re.compile(
    r"fn:in-table\(\s*'([\w-]+)'\s*,\s*(?:string\(([\w-]+)\)|\$([\w-]+))\s*\)"
    r"|\$tables/tables/([\w-]+)/row\[@code\s*=\s*(?:string\(current\(\)/([\w-]+)\)|\$([\w-]+))\]"
)


@dataclass(frozen=True)
class CodeLookup:
    """A rule that looks an element's value up in a reference table, and its code."""

    element: str
    table: str
    code: str


def _rule_trees(rules: tuple[Path, ...]) -> list[etree._Element]:
    return [etree.parse(str(path)).getroot() for path in rules]


@cache
def code_lookups(rules: tuple[Path, ...]) -> tuple[CodeLookup, ...]:
    """Code-lookup asserts: which element, which table, which error code.

    Recognises ``fn:in-table('T', string(E))`` / ``fn:in-table('T', $v)`` and the raw
    ``$tables/tables/T/row[@code = ...]`` form.
    """
    found: list[CodeLookup] = []
    for tree in _rule_trees(rules):
        for rule in tree.iterfind(".//sch:rule", SCH):
            lets = {let.get("name"): let.get("value") for let in rule.iterfind("sch:let", SCH)}
            context = str(rule.get("context", ""))
            for check in rule.iterfind("sch:assert", SCH):
                match = _TABLE_LOOKUP.search(str(check.get("test", "")))
                role = check.get("role")
                if match is None or role is None:
                    continue
                table, element, variable = (
                    match.group(1, 2, 3) if match[1] is not None else match.group(4, 5, 6)
                )
                if element is None and lets.get(variable) == "string(.)" and "|" not in context:
                    element = context.rsplit("/", 1)[-1]
                if element:
                    found.append(CodeLookup(element, table, str(role)))
    return tuple(dict.fromkeys(found))


@cache
def nfc_compared(rules: tuple[Path, ...]) -> frozenset[str]:
    """Element names whose text the rules test with ``fn:is-nfc`` (compared after NFC)."""
    names: set[str] = set()
    for tree in _rule_trees(rules):
        for rule in tree.iterfind(".//sch:rule", SCH):
            tests = [str(a.get("test", "")) for a in rule.iterfind("sch:assert", SCH)]
            if any("fn:is-nfc(string(.))" in t for t in tests):
                steps = (s.strip() for s in str(rule.get("context", "")).split("|"))
                names.update(s for s in steps if re.fullmatch(r"[\w-]+", s))
    return frozenset(names)


@cache
def table_codes(table: str) -> frozenset[str]:
    """The ``code`` values of one reference table (``fixtures/reference``)."""
    return table_index().values(table)


__all__ = [
    "CodeLookup",
    "DocFacts",
    "ElementFact",
    "code_lookups",
    "find_all",
    "local",
    "nfc_compared",
    "presence",
    "schema_facts",
    "table_codes",
]
