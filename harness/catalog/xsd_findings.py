"""What a document the XSD refused is told, and the one retry it gets.

libxml2's schema messages are turned into findings (with every alternative pattern of a
type named, not only the last), and a document refused only because its text is NFD is
validated again composed: a length limit counts characters as NFC does.
"""

from __future__ import annotations

import re
import unicodedata
from copy import deepcopy
from functools import cache
from pathlib import Path

from lxml import etree

from harness.catalog.xsd_vietnamese import vietnamese
from harness.error_codes import describe
from harness.errors import Finding


def xsd_findings(schema: etree.XMLSchema, code: str, xsd: Path) -> list[Finding]:
    text = describe(code)
    findings = []
    for entry in schema.error_log:
        message = _all_patterns(entry.message, entry.path or "", xsd)
        findings.append(
            Finding(
                code=code,
                xpath=entry.path or "/",
                message_vi=f"{text.vi}: {vietnamese(message)}",
                message_en=f"{text.en}: {message}",
                context={"line": str(entry.line)},
            )
        )
    return findings


_ONE_PATTERN = re.compile(r"(The value '.*' )is not accepted by the pattern '.*'\.", re.S)


def _all_patterns(message: str, path: str, xsd: Path) -> str:
    """libxml2 names only the last of a type's alternative patterns ("dd/MM/yyyy or
    yyyy-MM-dd"), which tells a sender the other spelling is wrong too; name them all."""
    found = _ONE_PATTERN.search(message)
    if found is None:
        return message
    choices = _pattern_choices(xsd).get(re.sub(r"\[\d+\]", "", path).lstrip("/"))
    if not choices:
        return message
    listed = " | ".join(f"'{c}'" for c in choices)
    return message[: found.start()] + f"{found.group(1)}matches none of the patterns {listed}."


@cache
def _pattern_choices(xsd: Path) -> dict[str, tuple[str, ...]]:
    """Element path -> its alternative patterns, where its type has several (read on the
    first such error only: xmlschema stays off the path of valid documents)."""
    from harness.catalog.schema_walk import snapshot

    choices: dict[str, tuple[str, ...]] = {}
    for path, node in snapshot(xsd).items():
        for step in node.simple.patterns if node.simple else ():
            if len(step) > 1:
                choices[path] = tuple(sorted(step))
    return choices


def composed(doc: etree._Element | etree._ElementTree) -> etree._Element | None:
    """A copy of ``doc`` with its text in NFC, or None if it already is.

    NFD text is tolerated (RULE-101 warns), so a length limit counts characters as NFC
    does: "Nguyễn" is 6 code points in NFC and 9 in NFD. Only a document the schema
    refused pays for the copy.
    """
    root = doc.getroot() if isinstance(doc, etree._ElementTree) else doc
    if all(
        unicodedata.is_normalized("NFC", text)
        for node in root.iter()
        for text in (node.text, node.tail, *_attribute_values(node))
        if text
    ):
        return None
    copy = deepcopy(root)
    for node in copy.iter():
        if node.text:
            node.text = unicodedata.normalize("NFC", node.text)
        if node.tail:
            node.tail = unicodedata.normalize("NFC", node.tail)
        if isinstance(node.tag, str):  # an element, not a comment
            for name, value in node.attrib.items():
                node.set(name, unicodedata.normalize("NFC", value))
    return copy


def _attribute_values(node: etree._Element) -> list[str]:
    """The attribute values of ``node`` read by XPath, in linear time (lxml's
    ``attrib.values()`` takes time quadratic in the number of attributes)."""
    return [str(value) for value in _ATTRIBUTES(node)] if isinstance(node.tag, str) else []


_ATTRIBUTES = etree.XPath("@*")


__all__ = ["composed", "xsd_findings"]
