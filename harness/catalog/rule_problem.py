"""A mistake found in a Schematron rule file, and where it is: the file, line and nearest
assert, rule or pattern id.

Every rule-file check (load-time checks, locating a compile error) reports this shape,
so it sits below them all with the Schematron namespace and the attributes holding XPath.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from lxml import etree

SCH_NS = "http://purl.oclc.org/dsdl/schematron"
XPATH_ATTRIBUTES = ("context", "test", "value", "select", "path", "subject")
"""Attributes of Schematron elements that hold XPath (``rule/@context``, ``assert/@test``,
``let/@value``, ``value-of/@select``, ``name/@path``, ``assert/@subject``)."""


@dataclass(frozen=True)
class Problem:
    """One mistake in a rule file, where it is, and what to do about it."""

    path: Path
    line: int | None
    where: str
    message: str
    hint: str

    def __str__(self) -> str:
        at = f"{self.path}:{self.line}" if self.line else str(self.path)
        return f"{at}: {self.where}: {self.message}"


def where_of(node: etree._Element) -> str:
    """The nearest assert, report or diagnostic id, else the rule's context and pattern id."""
    current: etree._Element | None = node
    rule: etree._Element | None = None
    pattern: etree._Element | None = None
    while current is not None:
        local = etree.QName(current).localname
        if local in ("assert", "report", "diagnostic"):
            node_id = current.get("id")
            return f"{local} {node_id!r}" if node_id else f"{local} (no id)"
        if local == "rule" and rule is None:
            rule = current
        if local == "pattern" and pattern is None:
            pattern = current
        current = current.getparent()
    let = f"let ${node.get('name')} in " if etree.QName(node).localname == "let" else ""
    if rule is not None:
        inside = f" in pattern {pattern.get('id')!r}" if pattern is not None else ""
        return f"{let}rule {rule.get('context')!r}{inside}"
    if pattern is not None:
        return f"pattern {pattern.get('id')!r}"
    return f"<{etree.QName(node).localname}>"


__all__ = ["SCH_NS", "XPATH_ATTRIBUTES", "Problem", "where_of"]
