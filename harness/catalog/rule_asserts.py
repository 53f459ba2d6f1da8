"""A rule file's asserts as the catalog diff compares them, and which part of a rule
reaches a form's documents.

A context shared by forms lists elements of other forms (``NgaySinh | NgayVaoLam``):
adding or removing an alternative naming an element a form's XSD does not declare
changes nothing for that form's senders, since it selects nothing in their documents.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from lxml import etree

from harness.catalog.rule_roles import DEFAULT_ROLE
from harness.catalog.xpath_scan import alternatives, element_names
from harness.errors import CatalogError

_SCH = ("http://purl.oclc.org/dsdl/schematron", "http://www.ascc.net/xml/schematron")
_PREDICATE = re.compile(r"\[[^\[\]]*\]")


@dataclass(frozen=True)
class Rule:
    """One Schematron assert with everything that decides whether it fires."""

    context: str
    test: str
    variables: Mapping[str, str]
    role: str
    message: str


def reach(expression: str, declared: frozenset[str]) -> frozenset[str]:
    """The alternatives of ``expression``'s union that may select something in a document
    declaring only ``declared``: a location path (no function call outside predicates)
    naming an undeclared element selects nothing, so it is left out."""
    kept = set()
    for alternative in alternatives(expression):
        path = _without_predicates(alternative)
        names = element_names(path)
        if "(" in path or all(name in declared for name in names):
            kept.add(" ".join(alternative.split()))
    return frozenset(kept)


def unreached(old: str, new: str, declared: frozenset[str] | None) -> list[str]:
    """The alternatives ``old`` and ``new`` differ by when those are all out of reach of
    ``declared`` (None: the XSD allows any element); else an empty list."""
    if declared is None or old == new or reach(old, declared) != reach(new, declared):
        return []
    was, now = ({" ".join(a.split()) for a in alternatives(e)} for e in (old, new))
    return sorted({n for a in was ^ now for n in element_names(a) if n not in declared})


def _without_predicates(text: str) -> str:
    """``text`` with its ``[...]`` predicates removed, innermost first."""
    while True:
        stripped = _PREDICATE.sub("", text)
        if stripped == text:
            return text
        text = stripped


def _sch(element: etree._Element, name: str) -> list[etree._Element]:
    return [child for ns in _SCH for child in element.findall(f"{{{ns}}}{name}")]


def _squash(text: str | None) -> str:
    return " ".join((text or "").split())


def _message(element: etree._Element) -> str:
    """Text of an assert or diagnostic with each ``value-of`` shown as ``{select}``."""
    parts = [element.text or ""]
    for child in element:
        select = child.get("select")
        parts += [_message(child) if select is None else f"{{{select}}}", child.tail or ""]
    return _squash("".join(parts))


def _lets(element: etree._Element) -> dict[str, str]:
    return {str(let.get("name")): _squash(let.get("value")) for let in _sch(element, "let")}


def read_rules(path: Path) -> dict[str, Rule]:
    """Every assert of one rule file keyed by ``@id`` (or by its context and test).

    Only asserts: the validator turns failed asserts into findings and ignores reports.
    """
    parser = etree.XMLParser(resolve_entities=False, no_network=True)
    try:
        root = etree.parse(str(path), parser).getroot()
    except (OSError, etree.XMLSyntaxError) as exc:
        raise CatalogError(f"cannot read rules for the diff: {exc}", path=str(path)) from exc
    diagnostics = {
        d.get("id"): _message(d)
        for block in _sch(root, "diagnostics")
        for d in _sch(block, "diagnostic")
    }
    rules: dict[str, Rule] = {}
    for pattern in _sch(root, "pattern"):
        for rule in _sch(pattern, "rule"):
            variables = {**_lets(root), **_lets(pattern), **_lets(rule)}
            context = _squash(rule.get("context"))
            for assertion in _sch(rule, "assert"):
                test = _squash(assertion.get("test"))
                refs = (assertion.get("diagnostics") or "").split()
                texts = [_message(assertion), *(diagnostics.get(r, "") for r in refs)]
                role = assertion.get("role") or DEFAULT_ROLE
                key = assertion.get("id") or f"{context} :: {test}"
                rules[key] = Rule(context, test, variables, role, " / ".join(texts))
    return rules


__all__ = ["Rule", "reach", "read_rules", "unreached"]
