"""Hardened XML parsing: no DTD, no entities, no network, bounded depth and size.

Every byte that reaches the gateway, and every file the suites read back, goes through
:func:`parse_xml`, so billion-laughs, XXE and deeply nested bombs fail the same way
everywhere with a stable error code.
"""

from __future__ import annotations

import codecs
import re
from dataclasses import dataclass
from functools import lru_cache

from lxml import etree

from harness.error_codes import finding
from harness.errors import Finding


class XMLRejected(ValueError):
    """The bytes cannot be accepted as XML; ``finding`` says why with a stable code."""

    def __init__(self, finding: Finding) -> None:
        self.finding = finding
        super().__init__(str(finding))


@dataclass(frozen=True)
class XMLLimits:
    """Bounds a parsed document must stay within (the gateway's defaults)."""

    max_bytes: int = 20 * 1024 * 1024
    max_depth: int = 64
    max_elements: int = 200_000
    max_attributes_per_element: int = 256
    """A BHXH envelope or form element carries at most a handful of attributes (XMLDSig's
    ``Algorithm``, ``URI``, ``Id``); 256 is far above any real one, and keeps every
    per-element step (schema checks, one finding per unexpected attribute) small."""
    max_attributes: int = 200_000
    """As many as elements at their cap: a signed dossier has about one attribute per ten
    elements, so only a hostile body comes near, and what it costs stays bounded."""


DEFAULT_LIMITS = XMLLimits()


HUGE_TEXT = etree.LIBXML_VERSION >= (2, 12)
"""Whether text nodes may exceed libxml2's 10,000,000 bytes (``huge_tree``).

A big employer's form, base64 in one ``NoiDungFile``, passes 10 MB well under the body
limit. ``huge_tree`` lifts libxml2's length limits (text, names, dictionary), its
entity-amplification check and its 256-level depth limit. None of those is our defence:
:func:`parse_xml` caps the body before parsing, refuses any DTD or entity declaration
(and the parser resolves no entity and touches no network), and :func:`_check_shape`
bounds depth and element count itself. With libxml2 2.12 and later (lxml 5.2's wheels
bundle 2.12; checked with 2.14) huge mode still stops at 2048 levels while parsing; the
2.9 series had no depth limit in that mode, so older versions keep the 10 MB text limit
(there a well-formed body with a longer text node is still XML-001).
"""


def _parser() -> etree.XMLParser:
    return etree.XMLParser(
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        dtd_validation=False,
        huge_tree=HUGE_TEXT,
        remove_blank_text=False,
    )


_PARSER = _parser()
_EXCESSIVE_DEPTH = "Excessive depth in document"
"""How libxml2 refuses nesting beyond its own cap while parsing (a well-formed document:
the answer is LIM-002, too deep, not XML-001, not well-formed)."""
LIBXML2_MAX_DEPTH = 2048 if HUGE_TEXT else 256


def strip_bom(data: bytes) -> bytes:
    """Real files often start with a UTF-8 BOM; it carries no meaning, so drop it."""
    return data[len(codecs.BOM_UTF8) :] if data.startswith(codecs.BOM_UTF8) else data


_DECLARED_ENCODING = re.compile(rb"""<\?xml\s[^?>]*?encoding\s*=\s*(["'])([A-Za-z0-9._-]+)\1""")


def parse_xml(data: bytes, limits: XMLLimits = DEFAULT_LIMITS) -> etree._Element:
    """Parse UTF-8 XML bytes safely, or raise :class:`XMLRejected` with its code."""
    if len(data) > limits.max_bytes:
        raise XMLRejected(finding("LIM-001", "/", size=str(len(data))))
    data = strip_bom(data)
    try:
        data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise XMLRejected(finding("XML-003", "/", offset=str(exc.start))) from None
    head = data[:4096]
    declared = _DECLARED_ENCODING.match(head)
    if declared and declared.group(2).decode("ascii").lower() not in ("utf-8", "utf8"):
        # libxml2 would decode by the declaration: garbled text, then a misleading
        # XML-001 or a broken signature digest instead of the real problem
        name = declared.group(2).decode("ascii")
        raise XMLRejected(finding("XML-003", "/", declared_encoding=name))
    # a body without "!" (most: base64 and UTF-8 text have none) holds neither: one
    # memchr instead of two substring searches (0.3 us for 8 KB instead of 4)
    if b"!" in data and (b"<!DOCTYPE" in head or b"<!ENTITY" in data):
        raise XMLRejected(finding("XML-002", "/"))
    try:
        root = etree.fromstring(data, _PARSER)
    except etree.XMLSyntaxError as exc:
        if _EXCESSIVE_DEPTH in str(exc.msg):  # libxml2's own cap, far below ours in depth
            raise XMLRejected(finding("LIM-002", "/", depth=f"> {LIBXML2_MAX_DEPTH}")) from None
        raise XMLRejected(
            finding("XML-001", "/", detail=str(exc.msg), line=str(exc.lineno))
        ) from None
    if root is None:
        raise XMLRejected(finding("XML-001", "/", detail="empty document"))
    if root.getroottree().docinfo.internalDTD is not None:
        raise XMLRejected(finding("XML-002", "/"))
    _check_shape(root, limits, len(data))
    return root


def _check_shape(root: etree._Element, limits: XMLLimits, size: int) -> None:
    """Reject documents deeper or larger than the limits (libxml2 alone allows 256 levels,
    2048 in huge mode), or with more attributes than the limits.

    Every check is an XPath evaluation, so the walk happens in C: this runs on every
    document the gateway parses, and a Python-level walk cost more than the parse.
    Elements are counted only when the ``size`` bytes parsed could hold too many: each
    takes 4 bytes at least (``<a/>``) and no entity can expand (:func:`parse_xml` refuses
    DTDs), so a body under 800 KB skips that walk. Depth and the attributes in all are
    read by one evaluation (:func:`_shape`). Measured in the gateway: 29 us a dossier's
    two parses spent here, 13 so.
    """
    if size // 4 > limits.max_elements:
        count = int(_COUNT_ELEMENTS(root))
        if count > limits.max_elements:
            raise XMLRejected(finding("LIM-002", "/", elements=str(count)))
    shape = int(_shape(limits.max_depth)(root))
    if shape % 2:
        too_deep = _below_depth(limits.max_depth)(root)
        path = root.getroottree().getpath(too_deep[0])
        raise XMLRejected(finding("LIM-002", path, depth=str(limits.max_depth + 1)))
    _check_attributes(root, limits, shape // 2)


def _check_attributes(root: etree._Element, limits: XMLLimits, total: int) -> None:
    """Refuse an element with too many attributes, or too many in all (``total``): lxml
    reads an element's attributes in quadratic time, and each unexpected one is a finding.
    A document with no more attributes in all than one element may carry (every real
    dossier) needs no search for a crowded element."""
    crowded = (
        _crowded(limits.max_attributes_per_element)(root)
        if total > limits.max_attributes_per_element
        else []
    )
    if crowded:
        path = root.getroottree().getpath(crowded[0])
        count = str(len(_ATTRIBUTES(crowded[0])))
        limit = str(limits.max_attributes_per_element)
        raise XMLRejected(finding("LIM-002", path, attributes=count, limit=limit))
    if total > limits.max_attributes:
        limit = str(limits.max_attributes)
        raise XMLRejected(finding("LIM-002", "/", attributes=str(total), limit=limit))


def _xpath(expression: str) -> etree.XPath:
    """``expression`` compiled without EXSLT's regular expressions, which lxml would
    otherwise register again on every evaluation (none of ours uses them)."""
    return etree.XPath(expression, regexp=False)


_COUNT_ELEMENTS = _xpath("count(descendant-or-self::*)")
_ATTRIBUTES = _xpath("@*")


@lru_cache(maxsize=8)
def _crowded(max_attributes: int) -> etree.XPath:
    """Elements with more than ``max_attributes`` attributes, first in document order."""
    return _xpath(f"descendant-or-self::*[count(@*) > {int(max_attributes)}][1]")


@lru_cache(maxsize=8)
def _below_depth(max_depth: int) -> etree.XPath:
    """Elements deeper than ``max_depth`` (the root is at depth 1), first in document order."""
    return _xpath(_deeper_than(max_depth))


def _deeper_than(max_depth: int) -> str:
    return "/".join(["*"] * max_depth) if max_depth > 0 else "self::*"


@lru_cache(maxsize=8)
def _shape(max_depth: int) -> etree.XPath:
    """Twice the attributes in all, plus one if an element lies deeper than ``max_depth``:
    both walks in one evaluation (each evaluation has its own cost, 3-6 us in the gateway)."""
    deeper = _deeper_than(max_depth)
    return _xpath(f"2 * count(descendant-or-self::*/@*) + number(boolean({deeper}))")
