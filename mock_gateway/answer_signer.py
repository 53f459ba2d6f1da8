"""The gateway's signature on its answers: TTCKY (who signs, when) and an enveloped
XMLDSig at ``XACNHAN_GDICH/TTCKY_BHXH``, with the TEST notice before the document.

Apart from :mod:`mock_gateway.messages`, which writes the answers, because signing is the
one step that holds a key and the one measured apart (``bench_pipeline``'s "receipt
signature").
"""

from __future__ import annotations

import copy
from datetime import datetime

from lxml import etree  # type: ignore[import-untyped, unused-ignore]

from harness.signing import Credential
from mock_gateway import messages
from mock_gateway.messages import (
    DATE_FORMAT,
    EMPTY,
    SIGNATURE_PARENT,
    TEST_NOTICE,
    Answer,
    sub_element,
)
from mock_gateway.signer import EnvelopedSigner, canonical_form, slots, utc_stamp

_DECLARATION = b"<?xml version='1.0' encoding='UTF-8'?>\n"
_GDICH, _TTCKY_BHXH = SIGNATURE_PARENT.split("/")
_END = f"</{_TTCKY_BHXH}>".encode("ascii")
_BUILT_TAIL = f"</{_GDICH}></BHXH>".encode("ascii")  # what follows TTCKY_BHXH in build's


def _signature_parent(root: etree._Element) -> etree._Element | None:
    """``root.find(SIGNATURE_PARENT)``, walked in C: ElementPath's Python walk took half
    of this step's 4 us on a fresh tree."""
    for gdich in root.iterchildren(_GDICH):
        for parent in gdich.iterchildren(_TTCKY_BHXH):
            return parent
    return None


class MessageSigner:
    """Signs answers with the gateway's certificate and serialises them with the TEST notice.

    An answer as :func:`build` makes it serialises to its own C14N form (but for CR), so
    it is signed as bytes: TTCKY and the Signature are spliced into one serialisation and
    no tree is touched; the tree path, for any other document, gives the same bytes
    (``tests/gateway/test_answer_bytes.py``). In ``bench_pipeline`` a receipt's
    signature costs 40 us besides RSA, not 120 with every element built on the tree.
    """

    def __init__(self, credential: Credential) -> None:
        self.credential = credential
        cert = credential.certificate
        self.subject = cert.subject.rfc4514_string()
        self.serial = format(cert.serial_number, "X")
        self._signer = EnvelopedSigner(credential)
        # TTCKY, built once: the tree path appends a copy, the bytes path its serialisation.
        self._ttcky = etree.Element("TTCKY")
        self._ttcky.text = ""
        sub_element(self._ttcky, "SUBJECT", self.subject)
        sub_element(self._ttcky, "SERIAL", self.serial)
        self._time_at = self._ttcky.index(sub_element(self._ttcky, "TIME", "@TIME@"))
        self._ttcky_bytes = slots(etree.tostring(self._ttcky, encoding="UTF-8"), "@TIME@")
        self._notice = etree.tostring(etree.Comment(TEST_NOTICE), encoding="UTF-8")

    def sign(self, root: etree._Element, now: datetime) -> bytes:
        """The answer ``root`` with TTCKY (who signs, when) and a signature, as UTF-8."""
        when = utc_stamp(now)
        if root.getparent() is None:  # the whole document: a DOCTYPE, comment or PI shows
            signed = self._splice(etree.tostring(root.getroottree(), encoding="UTF-8"), when)
            if signed is not None:
                return signed
        return self._sign_tree(root, when)

    def sign_answer(self, answer: Answer, date_format: str = DATE_FORMAT) -> bytes:
        """``sign(build(answer, date_format), answer.now)``'s bytes without the tree:
        build's text, ``""`` for :data:`EMPTY`, is its tree's serialisation (receipt
        build and signature, RSA aside, in ``bench_pipeline``: ~130 -> ~95 us)."""
        # looked up on the module, so bench_pipeline's "receipt XML" stage can time it
        document = messages.document_text(answer, date_format)
        when = utc_stamp(answer.now)
        signed = self._splice(document.replace(EMPTY, "").encode("utf-8"), when)
        return (
            signed
            if signed is not None
            else self._sign_tree(messages.build(answer, date_format), when)
        )

    def _splice(self, unsigned: bytes, when: str) -> bytes | None:
        """``unsigned`` (as build makes it, in C14N form) signed, else None: the tree's."""
        head, end, tail = unsigned.partition(_END)
        if tail != _BUILT_TAIL:
            return None
        before, after = self._ttcky_bytes
        ttcky = b"".join((before, when.encode("ascii"), after))
        # Canonical, the document shows every element's end tag: this TTCKY_BHXH is the
        # only one, the last child of the last XACNHAN_GDICH, as build makes it.
        canonical = canonical_form(b"".join((head, ttcky, end, tail)))
        if canonical is None:
            return None
        signature = self._signer.signature(canonical, when)
        return b"".join((_DECLARATION, self._notice, head, ttcky, signature, end, tail))

    def _sign_tree(self, root: etree._Element, when: str) -> bytes:
        """Sign ``root`` in place and serialise the tree: for documents not made by build."""
        parent = _signature_parent(root)
        if parent is None:
            raise ValueError(f"answer has no {SIGNATURE_PARENT}")
        ttcky = copy.deepcopy(self._ttcky)
        ttcky[self._time_at].text = when
        parent.append(ttcky)
        self._signer.sign(root, parent, when)
        root.addprevious(etree.Comment(TEST_NOTICE))
        data: bytes = etree.tostring(root.getroottree(), xml_declaration=True, encoding="UTF-8")
        return data


__all__ = ["MessageSigner"]
