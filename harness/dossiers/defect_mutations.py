"""The generic edits a named defect makes, as factory hooks: on a form's elements before
signing, on a signed form's bytes, or on the envelope.

Which elements they touch is data (``defects.yaml``); these only know how to break them.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from lxml import etree

from harness.dossiers.defect_kinds import COPY_FROM, Defect
from harness.dossiers.text import parse_period
from harness.errors import FactoryError

DS_NS = "http://www.w3.org/2000/09/xmldsig#"
_CCCD_SEX_FLIP = {"0": "1", "1": "0", "2": "3", "3": "2"}


def _first(root: etree._Element, tag: str) -> etree._Element:
    node = next(root.iter(tag), None)
    if node is None:
        raise FactoryError(f"element {tag} not in the generated form")
    return node


def edit_first(
    element: str, change: Callable[[etree._Element], None]
) -> Callable[[etree._Element], etree._Element]:
    def apply(root: etree._Element) -> etree._Element:
        change(_first(root, element))
        return root

    return apply


def content_change(d: Defect) -> Callable[[etree._Element], None]:
    value = str(d.args.get("value", ""))

    def set_text(node: etree._Element) -> None:
        node.text = value

    def set_date(node: etree._Element) -> None:
        year = re.findall(r"\d{4}", node.text or "") or ["1990"]
        node.text = value.replace("{year}", year[0])

    def flip(node: etree._Element) -> None:
        text = node.text or ""
        if len(text) < 4:  # the 4th digit of a 12-digit CCCD gives the century and sex
            raise FactoryError(
                f"defect {d.name}: {node.tag} holds {text!r}, not a 12-digit CCCD",
                hint=f"point {d.name} in fixtures/dossiers/defects.yaml at an element "
                "holding a CCCD number",
            )
        node.text = text[:3] + _CCCD_SEX_FLIP.get(text[3], "0") + text[4:]

    def remove(node: etree._Element) -> None:
        parent = node.getparent()
        assert parent is not None
        parent.remove(node)

    def insert_after(node: etree._Element) -> None:
        extra = etree.Element(str(d.args["tag"]))
        extra.text = "x"
        node.addnext(extra)

    def copy(node: etree._Element) -> None:
        node.text = _copied(d, node)

    ops = {"set": set_text, "set-date": set_date, "flip-cccd-sex": flip, "remove": remove}
    ops.update({"insert-after": insert_after, COPY_FROM: copy})
    return ops[d.op]


def _copied(d: Defect, node: etree._Element) -> str:
    """The text of ``d``'s ``from:`` element nearest ``node``: below its parent, else below
    each ancestor in turn (the same row's element before the form header's)."""
    source = str(d.source)
    for ancestor in node.iterancestors():
        found = ancestor.find(source)
        if found is not None and found is not node:
            return found.text or ""
    raise FactoryError(
        f"defect {d.name}: no element {source} to copy into {node.tag}",
        hint=f"fix from: of {d.name} in fixtures/dossiers/defects.yaml: a path of element "
        f"names below {node.tag}'s parent or one of its ancestors",
    )


def tamper_form(element: str, value: str) -> Callable[[bytes], bytes]:
    def apply(content: bytes) -> bytes:
        root = etree.fromstring(content)
        _first(root, element).text = value
        return bytes(etree.tostring(root, xml_declaration=True, encoding="UTF-8"))

    return apply


def unsign(content: bytes) -> bytes:
    root = etree.fromstring(content)
    for sig in list(root.iter(f"{{{DS_NS}}}Signature")):
        parent = sig.getparent()
        assert parent is not None
        parent.remove(sig)
    return bytes(etree.tostring(root, xml_declaration=True, encoding="UTF-8"))


def envelope_delta(path: str, delta: int) -> Callable[[etree._Element], etree._Element]:
    def apply(root: etree._Element) -> etree._Element:
        node = root.find(path)
        assert node is not None and node.text is not None
        node.text = str(int(node.text) + delta)
        return root

    return apply


def envelope_set(path: str, value: str) -> Callable[[etree._Element], etree._Element]:
    def apply(root: etree._Element) -> etree._Element:
        node = root.find(path)
        assert node is not None
        node.text = value
        return root

    return apply


def bad_base64(root: etree._Element) -> etree._Element:
    content = root.find("NoiDung/ThongTinHoSo/ToKhais/FileToKhai/NoiDungFile")
    length = root.find("NoiDung/ThongTinHoSo/ToKhais/FileToKhai/DoDaiFile")
    assert content is not None and length is not None
    content.text = "!!" + (content.text or "")[2:]
    length.text = str(len(content.text))
    return root


def month_before(period: str) -> str:
    return str(parse_period(period).shifted(-1))


__all__ = [
    "bad_base64",
    "content_change",
    "edit_first",
    "envelope_delta",
    "envelope_set",
    "month_before",
    "tamper_form",
    "unsign",
]
