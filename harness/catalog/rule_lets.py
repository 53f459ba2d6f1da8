"""Which variables an XPath attribute of a Schematron file may use, by where its
``sch:let`` declarations stand.

lxml compiles an undeclared ``$name`` and the rule fails only when a dossier reaches it;
the scoping is subtle enough (a rule's lets count from where they stand, abstract patterns
take parameters) to be its own module.
"""

from __future__ import annotations

from collections.abc import Mapping

from lxml import etree

from harness.catalog.rule_problem import SCH_NS

PROVIDED_VARIABLES = frozenset({"tables"})
"""Variables the validator declares in every rule file (``validation._bind_tables``)."""


def _lets(parent: etree._Element | None) -> set[str]:
    """The names of ``parent``'s own ``sch:let`` children."""
    if parent is None:
        return set()
    return {str(let.get("name")) for let in parent.iterchildren(f"{{{SCH_NS}}}let")}


def in_scope(node: etree._Element, every_let: Mapping[str, object]) -> set[str]:
    """The variables an XPath attribute of ``node`` may use: the validator's, the schema's
    lets, its pattern's lets and the lets of its rule that stand before it.

    Outside any pattern (diagnostics, phases) the rule is not known: every let counts.
    """
    chain = [node, *node.iterancestors()]
    local = {id(n): etree.QName(n).localname for n in chain}
    rule = next((n for n in chain if local[id(n)] == "rule"), None)
    pattern = next((n for n in chain if local[id(n)] == "pattern"), None)
    scope = set(PROVIDED_VARIABLES) | _lets(chain[-1])
    if pattern is None:
        return scope if node.getparent() is chain[-1] else scope | set(every_let)
    scope |= _lets(pattern)
    if pattern.get("abstract") == "true" or (rule is not None and rule.get("abstract")):
        params = {str(p.get("name")) for p in chain[-1].iter(f"{{{SCH_NS}}}param")}
        return scope | params | set(every_let)  # bound where the pattern or rule is used
    if rule is None or node is rule:
        return scope
    top = chain[chain.index(rule) - 1]  # the rule's child holding node
    for let in rule.iterchildren(f"{{{SCH_NS}}}let"):
        if let is top:
            break
        scope.add(str(let.get("name")))
    return scope


__all__ = ["PROVIDED_VARIABLES", "in_scope"]
