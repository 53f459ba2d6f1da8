"""Which XPath attribute of a rule file does not compile, with its line.

Catalog loading calls it when lxml refuses a rule file, since lxml's error names neither
the line nor the assert.
"""

from __future__ import annotations

from pathlib import Path

from lxml import etree

from harness.catalog.rule_problem import SCH_NS, XPATH_ATTRIBUTES, Problem, where_of


def xpath_syntax_error(path: Path, root: etree._Element) -> Problem | None:
    """The first XPath attribute of a rule file that does not compile, with its line.

    lxml's XSLT error names the expression but neither line nor assert; compiling each
    attribute on its own (with the file's ``sch:ns`` prefixes) finds them.
    """
    namespaces = {
        str(ns.get("prefix")): str(ns.get("uri"))
        for ns in root.iter(f"{{{SCH_NS}}}ns")
        if ns.get("prefix") and ns.get("uri")
    }
    for node in root.iter(f"{{{SCH_NS}}}*"):
        for attribute in XPATH_ATTRIBUTES:
            expression = node.get(attribute)
            if expression is None:
                continue
            try:
                etree.XPath(expression, namespaces=namespaces)
            except etree.XPathError as exc:
                return Problem(
                    path,
                    node.sourceline,
                    where_of(node),
                    f"{attribute} expression {expression!r} does not compile: {exc}",
                    "fix the XPath 1.0 syntax (brackets, quotes, operators)",
                )
    return None


__all__ = ["xpath_syntax_error"]
