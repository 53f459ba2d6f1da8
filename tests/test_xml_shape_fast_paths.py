"""parse_xml's shortcuts refuse exactly what its full checks refused, with the same finding.

Elements are counted only when the body could hold too many (4 bytes each at least), depth
and the attributes in all are read by one XPath, and a body without ``!`` skips the
DOCTYPE/ENTITY search. Each limit is compared here with a plain walk of the tree, at its
edge, with small limits so that every shape is cheap to build.
"""

from __future__ import annotations

import codecs

import pytest
from lxml import etree

from harness.xmlsafe import XMLLimits, XMLRejected, parse_xml


def _expected(data: bytes, limits: XMLLimits) -> tuple[str, str, dict[str, str]] | None:
    """What the checks refuse ``data`` with, in their order, found by walking the tree."""
    root = etree.fromstring(data)
    elements = [e for e in root.iter() if isinstance(e.tag, str)]
    if len(elements) > limits.max_elements:
        return "LIM-002", "/", {"elements": str(len(elements))}
    tree = root.getroottree()
    for element in elements:  # document order
        depth = len(list(element.iterancestors())) + 1
        if depth > limits.max_depth:
            return "LIM-002", tree.getpath(element), {"depth": str(limits.max_depth + 1)}
    total = sum(len(e.attrib) for e in elements)
    limit = limits.max_attributes_per_element
    for element in elements:
        if len(element.attrib) > limit:
            counted = {"attributes": str(len(element.attrib)), "limit": str(limit)}
            return "LIM-002", tree.getpath(element), counted
    if total > limits.max_attributes:
        counted = {"attributes": str(total), "limit": str(limits.max_attributes)}
        return "LIM-002", "/", counted
    return None


def _refusal(data: bytes, limits: XMLLimits) -> tuple[str, str, dict[str, str]] | None:
    try:
        parse_xml(data, limits)
    except XMLRejected as exc:
        return exc.finding.code, exc.finding.xpath, dict(exc.finding.context)
    return None


def _shapes() -> list[bytes]:
    shapes = [b"<r/>", b"<r></r>", b"<r><a/></r>"]
    for n in range(1, 12):
        shapes.append(b"<r>" + b"<a/>" * n + b"</r>")  # the fewest bytes for n + 1 elements
        shapes.append(b"<r>" + b"<a>" * n + b"</a>" * n + b"</r>")  # n + 1 levels
        shapes.append(b"<r" + b"".join(b' a%d=""' % i for i in range(n)) + b"/>")
        shapes.append(b"<r>" + b'<a x="" y=""/>' * n + b"<b><c z=''/></b></r>")
        shapes.append(b"<r><a><b/><b><c k='1'/></b></a>" + b"<d/>" * n + b"</r>")
    return shapes


LIMITS = [
    XMLLimits(max_elements=m, max_depth=d, max_attributes_per_element=p, max_attributes=t)
    for m in (0, 1, 2, 3, 5, 8, 12)
    for d in (0, 1, 2, 4)
    for p, t in ((0, 0), (1, 3), (2, 100), (100, 4))
]


@pytest.mark.parametrize("data", _shapes())
def test_each_limit_refuses_as_a_walk_of_the_tree_says(data: bytes) -> None:
    for limits in LIMITS:
        assert _refusal(data, limits) == _expected(data, limits), (data, limits)


def test_a_body_at_the_element_bound_is_counted() -> None:
    """``n`` elements fit in ``4n + 3`` bytes, never fewer: one more element than allowed is
    always counted and refused, whatever else the body holds."""
    for allowed in range(0, 40):
        over = b"<r>" + b"<a/>" * allowed + b"</r>"  # allowed + 1 elements
        limits = XMLLimits(max_elements=allowed)
        assert len(over) == 4 * (allowed + 1) + 3
        assert _refusal(over, limits) == ("LIM-002", "/", {"elements": str(allowed + 1)})
        assert _refusal(over, XMLLimits(max_elements=allowed + 1)) is None
        with_bom = codecs.BOM_UTF8 + over
        assert _refusal(with_bom, limits) == ("LIM-002", "/", {"elements": str(allowed + 1)})


@pytest.mark.parametrize(
    "data",
    [
        b'<!DOCTYPE r [<!ENTITY x "y">]><r>&x;</r>',
        b"<r/><!--" + b"!" * 10 + b"-->",
        b"<r><![CDATA[<!ENTITY]]></r>",
        b"<r>a!b</r>",
        b"<?xml version='1.0'?>\n<!-- ! -->" + b" " * 5000 + b'<!DOCTYPE r SYSTEM "x"><r/>',
    ],
)
def test_declarations_are_refused_as_before(data: bytes) -> None:
    """A DOCTYPE in the first 4 KB or an ENTITY anywhere is XML-002; a body with "!" but
    neither parses; one with a later DOCTYPE is refused by libxml2's own record of it."""
    declares = b"<!DOCTYPE" in data[:4096] or b"<!ENTITY" in data
    later_doctype = b"<!DOCTYPE" in data
    outcome = _refusal(data, XMLLimits())
    if declares or later_doctype:
        assert outcome is not None and outcome[0] == "XML-002"
    else:
        assert outcome is None
