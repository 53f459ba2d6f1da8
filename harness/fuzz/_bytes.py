"""Encoding and hostile-XML mutations: faults that live in the bytes, not in the values.

Real files arrive with a BOM, in NFD (BHXH's own answers have been seen decomposed), in
Latin-1 or as broken UTF-8; attackers send DTDs, entity bombs and absurd nesting. The
gateway must accept the first two (names are read as NFC; a BOM carries no
meaning) and refuse the rest with a stable code before any parser expands, fetches or
recurses; bytes that are not well-formed XML at all (truncated, an unclosed tag, a stray
``&``, an encoding no parser knows) are refused too, never a 5xx. Most of these apply to
the signed envelope's bytes; the ``in-form`` variants put the same bytes inside an
embedded form, which the gateway parses too.
"""

from __future__ import annotations

import codecs
import re
import unicodedata
from collections.abc import Callable

from hypothesis import strategies as st
from lxml import etree

from harness.fuzz._content import set_text
from harness.fuzz._core import ENVELOPE, Draw, Mutation, MutationContext, Offer
from harness.fuzz._docs import nfc_compared

_DECLARATION = re.compile(rb"^<\?xml[^>]*\?>")
_INVALID_UTF8 = (b"\xff", b"\x80", b"\xc3\x28", b"\xc0\xaf", b"\xed\xa0\x80", b"\xf8\x88\x80\x80")
_EXTERNAL = ("file:///etc/passwd", "http://127.0.0.1:9/secret", "file:///c:/windows/win.ini")
_LATIN1_NOTE = "<!-- Sài Gòn, Hà Nội -->"
_ANY_4XX = frozenset({"ENV-001", "XML-001", "LIM-001", "LIM-002"})
_MALFORMED = frozenset({"XML-001"})
_UNKNOWN_ENCODING = b"encoding='X-NO-SUCH-ENCODING'"
LIBXML2_DEPTH = 255
"""Nesting (below the root) from which libxml2 itself refuses the document (XML-001)."""
DEEPEST = 1024
"""The deepest nesting drawn: well past libxml2's limit, still a small body."""

Bytes = Callable[[bytes], bytes]


def _split(data: bytes) -> tuple[bytes, bytes]:
    """(XML declaration, rest); the declaration is empty when there is none."""
    match = _DECLARATION.match(data)
    end = match.end() if match else 0
    return data[:end], data[end:]


def _before_end_tag(data: bytes, insert: bytes) -> bytes:
    at = data.rindex(b"</")
    return data[:at] + insert + data[at:]


def _root_name(data: bytes) -> bytes:
    return str(etree.QName(etree.fromstring(data)).localname).encode()


def doctype(subset: str, reference: str = "", padding: int = 0) -> Bytes:
    """A DOCTYPE after the declaration (optionally after a long comment), a reference inside."""

    def change(data: bytes) -> bytes:
        head, rest = _split(data)
        name = _root_name(data)
        pad = b"<!--" + b"x" * padding + b"-->\n" if padding else b""
        declared = b"\n" + pad + b"<!DOCTYPE " + name + b" " + subset.encode() + b">"
        return _before_end_tag(head + declared + rest, reference.encode())

    return change


def _laughs(depth: int) -> str:
    entities = ['<!ENTITY lol0 "lol">']
    entities += [f'<!ENTITY lol{i} "{f"&lol{i - 1};" * 10}">' for i in range(1, depth + 1)]
    return "[" + "".join(entities) + "]"


def _nest(depth: int) -> Bytes:
    return lambda data: _before_end_tag(data, b"<a>" * depth + b"</a>" * depth)


def _truncated(tag: int) -> Bytes:
    """Cut before the ``tag``-th tag after the root's start tag (the root stays unclosed;
    a cut between tags never splits a UTF-8 character, which would be XML-003 instead)."""

    def change(data: bytes) -> bytes:
        head, rest = _split(data)
        starts = [m.start() for m in re.finditer(rb"<", rest)][1:]
        return head + rest[: starts[min(tag, len(starts) - 1)]]

    return change


def _stray_ampersand(data: bytes) -> bytes:
    """A bare ``&`` in the first element's text: an entity reference that never ends."""
    at = data.index(b"</")
    return data[:at] + b" & " + data[at:]


def _unknown_encoding(data: bytes) -> bytes:
    """The declaration names an encoding no parser knows (XML-003, not a crash)."""
    head, rest = _split(data)
    if not head:
        head = b"<?xml version='1.0' encoding='UTF-8'?>"
    return re.sub(rb"encoding=['\"][^'\"]+['\"]", _UNKNOWN_ENCODING, head) + rest


def _depth(draw: Draw, least: int) -> int:
    """Nesting from ``least`` (the gateway's limit): below libxml2's own limit as often as
    past it, where the parser may answer XML-001 before the gateway counts levels."""
    below = st.integers(least, LIBXML2_DEPTH - 1) if least < LIBXML2_DEPTH else st.nothing()
    past = st.integers(max(least, LIBXML2_DEPTH), max(least, DEEPEST))
    return int(draw(below | past))


def _latin1(declared: bool) -> Bytes:
    def change(data: bytes) -> bytes:
        head, rest = _split(data)
        if declared:
            head = re.sub(rb"encoding=['\"][^'\"]+['\"]", b"encoding='ISO-8859-1'", head)
        text = (head + b"\n" + _LATIN1_NOTE.encode() + rest).decode("utf-8")
        return text.encode("latin-1", errors="xmlcharrefreplace")

    return change


def _utf16(data: bytes) -> bytes:
    head, rest = _split(data)
    head = re.sub(rb"encoding=['\"][^'\"]+['\"]", b"encoding='UTF-16'", head)
    return (head + rest).decode("utf-8").encode("utf-16")


def _insert(at: int, raw: bytes) -> Bytes:
    return lambda data: data[: min(at, len(data))] + raw + data[min(at, len(data)) :]


def _mutation(
    name: str, codes: frozenset[str], where: str, change: Bytes, value: object = None
) -> Mutation:
    """Apply ``change`` to the signed envelope, or to one form's signed bytes."""
    full = f"{name}:{where}" + ("" if value is None else f"={value}")
    if where == ENVELOPE:
        return Mutation(full, codes, lambda c: change(c.base.envelope))
    return Mutation(full, codes, lambda c: c.edit_signed_form(where, change))


def _nfd_targets(ctx: MutationContext) -> list[tuple[str, str, int, str]]:
    targets = []
    for doc in ctx.forms:
        names = nfc_compared(doc.rules)
        for path, texts in doc.present.items():
            fact = doc.elements.get(path)
            if fact is None or path.rsplit("/", 1)[-1] not in names:
                continue
            for index, text in enumerate(texts):
                nfd = unicodedata.normalize("NFD", text)
                if nfd != text and fact.accepts(nfd):
                    targets.append((doc.doc, path, index, nfd))
    return targets


def decomposed(ctx: MutationContext, prefix: str = "encoding") -> Offer | None:
    """The valid dossier with every Vietnamese name of one form written decomposed (NFD),
    as a file saved on macOS arrives; None when no form has such a name. Still valid:
    the gateway compares names after NFC and answers only the RULE-101 warning. Named
    ``<prefix>:nfd-form:<form>`` (``valid:quirk`` when drawn as a valid case)."""
    targets: dict[str, list[tuple[str, int, str]]] = {}
    for doc, path, index, text in _nfd_targets(ctx):
        targets.setdefault(doc, []).append((path, index, text))
    if not targets:
        return None

    def offer(draw: Draw) -> Mutation:
        doc = draw(st.sampled_from(sorted(targets)))
        changes = [set_text(path, index, text) for path, index, text in targets[doc]]

        def change(root: etree._Element) -> None:
            for one in changes:
                one(root)

        return Mutation(
            f"{prefix}:nfd-form:{doc}",
            frozenset(),
            lambda c: c.edit(doc, change),
            expected_warnings=frozenset({"RULE-101"}),
        )

    return offer


def encodings(ctx: MutationContext) -> Offer:
    """BOM and NFD (must be accepted), Latin-1, UTF-16 and broken UTF-8 (XML-003)."""
    nfd = _nfd_targets(ctx)
    forms = [d.doc for d in ctx.forms]
    rejected = frozenset({"XML-003"})
    kinds = ["bom", "latin1", "latin1-declared", "utf16", "invalid-utf8", "unknown-encoding"]
    kinds += ["nfd"] * bool(nfd)

    def offer(draw: Draw) -> Mutation:
        kind = draw(st.sampled_from(kinds))
        if kind == "nfd":
            doc, path, index, text = draw(st.sampled_from(nfd))
            change = set_text(path, index, text)
            return Mutation(
                f"encoding:nfd:{doc}:{path}[{index}]",
                frozenset(),
                lambda c: c.edit(doc, change),
                expected_warnings=frozenset({"RULE-101"}),
            )
        where = (
            draw(st.sampled_from([ENVELOPE, *forms]))
            if kind in ("bom", "invalid-utf8")
            else ENVELOPE
        )
        if kind == "bom":
            return _mutation("encoding:bom", frozenset(), where, lambda d: codecs.BOM_UTF8 + d)
        if kind == "invalid-utf8":
            raw = draw(st.sampled_from(_INVALID_UTF8))
            at = draw(st.integers(0, 20_000))
            value = f"{raw.hex()}@{at}"
            return _mutation("encoding:invalid-utf8", rejected, where, _insert(at, raw), value)
        if kind == "unknown-encoding":
            return _mutation("encoding:unknown-encoding", rejected, ENVELOPE, _unknown_encoding)
        recode: Bytes = _utf16 if kind == "utf16" else _latin1(kind == "latin1-declared")
        return _mutation(f"encoding:{kind}", rejected, ENVELOPE, recode)

    return offer


def hostile(ctx: MutationContext) -> Offer:
    """DTDs, entities (internal, external, parameter, exponential), nesting, huge attributes,
    and bytes that are not well-formed XML (XML-001)."""
    limits = ctx.settings.limits
    forms = [d.doc for d in ctx.forms]
    dtd = frozenset({"XML-002"})
    kinds = ["internal-entity", "billion-laughs", "xxe", "parameter-entity", "external-dtd"]
    kinds += ["doctype-after-padding", "deep-nesting", "huge-attribute"]
    kinds += ["truncated", "unclosed-tag", "stray-ampersand"]
    kinds += ["too-many-elements", "oversize"] if ctx.settings.expensive else []

    def offer(draw: Draw) -> Mutation:
        kind = draw(st.sampled_from(kinds))
        name, codes, value = f"hostile:{kind}", dtd, None
        where = ENVELOPE
        if kind not in ("huge-attribute", "too-many-elements", "oversize"):
            where = draw(st.sampled_from([ENVELOPE, *forms]))
        if kind == "internal-entity":
            change = doctype('[<!ENTITY fz "fuzz">]', "&fz;")
        elif kind == "billion-laughs":
            value = draw(st.integers(2, 9))
            change = doctype(_laughs(value), f"&lol{value};")
        elif kind == "xxe":
            value = draw(st.sampled_from(_EXTERNAL))
            change = doctype(f'[<!ENTITY fz SYSTEM "{value}">]', "&fz;")
        elif kind == "parameter-entity":
            change = doctype('[<!ENTITY % fz SYSTEM "http://127.0.0.1:9/x.dtd"> %fz;]')
        elif kind == "external-dtd":
            change = doctype('SYSTEM "http://127.0.0.1:9/hoso.dtd"')
        elif kind == "doctype-after-padding":
            value = draw(st.integers(0, 10_000))
            change = doctype('[<!ENTITY fz "fuzz">]', "&fz;", value)
        elif kind == "deep-nesting":  # libxml2 itself stops at 256 levels (XML-001)
            value = _depth(draw, limits.max_depth)
            codes = frozenset({"LIM-002"} | ({"XML-001"} if value >= LIBXML2_DEPTH else set()))
            change = _nest(value)
        elif kind == "truncated":
            value = draw(st.integers(0, 200))
            codes, change = _MALFORMED, _truncated(value)
        elif kind == "unclosed-tag":
            codes, change = _MALFORMED, lambda data: _before_end_tag(data, b"<fz>")
        elif kind == "stray-ampersand":
            codes, change = _MALFORMED, _stray_ampersand
        elif kind == "huge-attribute":
            value = draw(st.integers(64 * 1024, 1024 * 1024))
            codes, change = _ANY_4XX, _attribute(value)
        elif kind == "too-many-elements":
            value = limits.max_elements + 1
            codes, change = frozenset({"LIM-002"}), _many(value)
        else:
            value = limits.max_bytes + 1
            codes, change = frozenset({"LIM-001"}), _padded(value)
        return _mutation(name, codes, where, change, value)

    return offer


def _many(count: int) -> Bytes:
    insert = b"<a/>" * count
    return lambda data: _before_end_tag(data, insert)


def _padded(size: int) -> Bytes:
    return lambda data: data + b"<!--" + b"x" * size + b"-->"


def _attribute(size: int) -> Bytes:
    def change(data: bytes) -> bytes:
        name = _root_name(data)
        head, rest = _split(data)
        at = rest.index(b"<" + name) + len(name) + 1
        return head + rest[:at] + b' fz="' + b"A" * size + b'"' + rest[at:]

    return change


__all__ = ["doctype", "encodings", "hostile"]
