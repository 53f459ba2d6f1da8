"""Signature mutations: altered digests and values, wrong algorithms, wrapping, signers.

Each operation edits one ds:Signature (the envelope's, after signing, or one form's, after
that form is signed and before the envelope is built over it), so exactly one signature
is wrong. Where the envelope answers differently from a form, it is because the envelope's
schema runs before signatures are checked (a second signature in ``CKy_Dvi`` breaks its
``maxOccurs``), and the expected codes say so.
"""

from __future__ import annotations

import base64
import copy
from collections.abc import Callable
from dataclasses import dataclass

from hypothesis import strategies as st
from lxml import etree

from harness.dossiers.defects import load_defects
from harness.dossiers.factory import Tweaks
from harness.fuzz._core import DS, ENVELOPE, Draw, Mutation, MutationContext, Offer, serialize
from harness.fuzz._docs import DocFacts, find_all, local

_SHA1 = (f"{DS}rsa-sha1", f"{DS}sha1")
_EDITED_TEXT = ("Nội dung đã sửa", "Đã sửa sau khi ký")

Edit = Callable[[etree._Element, etree._Element, str], None]
"""(document root, its ds:Signature, a free-text path or "") -> None, in place."""


def _ds(element: etree._Element, path: str) -> etree._Element:
    found = element.find(path, {"ds": DS})
    assert found is not None, path
    return found


def _flip(text: str | None) -> str:
    raw = bytearray(base64.b64decode("".join((text or "").split())))
    raw[0] ^= 0xFF
    return base64.b64encode(bytes(raw)).decode("ascii")


def _alter_text(root: etree._Element, path: str) -> None:
    element = find_all(root, path)[0]
    element.text = next(t for t in _EDITED_TEXT if t != element.text)


def _digest(root: etree._Element, sig: etree._Element, path: str) -> None:
    value = _ds(sig, "ds:SignedInfo/ds:Reference/ds:DigestValue")
    value.text = _flip(value.text)


def _value(root: etree._Element, sig: etree._Element, path: str) -> None:
    value = _ds(sig, "ds:SignatureValue")
    value.text = _flip(value.text)


def _content(root: etree._Element, sig: etree._Element, path: str) -> None:
    _alter_text(root, path)


def _c14n(root: etree._Element, sig: etree._Element, path: str) -> None:
    _ds(sig, "ds:SignedInfo/ds:CanonicalizationMethod").set("Algorithm", "urn:fuzz:no-such-c14n")


def _sha1(root: etree._Element, sig: etree._Element, path: str) -> None:
    _ds(sig, "ds:SignedInfo/ds:SignatureMethod").set("Algorithm", _SHA1[0])
    _ds(sig, "ds:SignedInfo/ds:Reference/ds:DigestMethod").set("Algorithm", _SHA1[1])


def _reference(root: etree._Element, sig: etree._Element, path: str) -> None:
    _ds(sig, "ds:SignedInfo/ds:Reference").set("URI", f"#{sig.get('Id') or 'sigid'}")


def _transform(root: etree._Element, sig: etree._Element, path: str) -> None:
    for transform in sig.iterfind(
        "ds:SignedInfo/ds:Reference/ds:Transforms/ds:Transform", {"ds": DS}
    ):
        if transform.get("Algorithm") == f"{DS}enveloped-signature":
            parent = transform.getparent()
            assert parent is not None
            parent.remove(transform)


def _wrapped(root: etree._Element, sig: etree._Element, path: str) -> None:
    """Signature wrapping: the signed original hidden in ds:Object, the visible copy altered."""
    original = copy.deepcopy(root)
    for inner in list(original.iter(f"{{{DS}}}Signature")):
        holder = inner.getparent()
        assert holder is not None
        holder.remove(inner)
    etree.SubElement(sig, f"{{{DS}}}Object").append(original)
    _alter_text(root, path)


def _duplicated(root: etree._Element, sig: etree._Element, path: str) -> None:
    sig.addnext(copy.deepcopy(sig))


def _relocated(root: etree._Element, sig: etree._Element, path: str) -> None:
    root.append(sig)  # lxml moves it out of its parent


def _nested(root: etree._Element, sig: etree._Element, path: str) -> None:
    etree.SubElement(sig, f"{{{DS}}}Object").append(copy.deepcopy(sig))


def _no_certificate(root: etree._Element, sig: etree._Element, path: str) -> None:
    sig.remove(_ds(sig, "ds:KeyInfo"))


def _signing_time(root: etree._Element, sig: etree._Element, path: str) -> None:
    """SigningTime is not covered by the signature: claim one before the certificate."""
    for element in sig.iter():
        if isinstance(element.tag, str) and local(element) == "SigningTime":
            element.text = "2001-01-01T00:00:00Z"


@dataclass(frozen=True)
class SignatureOp:
    """One way to break a signature and what a form's and the envelope's answer must be."""

    name: str
    edit: Edit
    in_form: frozenset[str]
    in_envelope: frozenset[str]
    needs_text: bool = False


def _op(
    name: str, edit: Edit, form: str, env: str | None = None, text: bool = False
) -> SignatureOp:
    codes = frozenset(form.split())
    return SignatureOp(name, edit, codes, frozenset(env.split()) if env else codes, text)


OPS = (
    _op("digest-altered", _digest, "SIG-002 SIG-003"),
    _op("value-altered", _value, "SIG-003"),
    _op("content-altered", _content, "SIG-002", text=True),
    _op("c14n-unknown", _c14n, "SIG-007"),
    _op("sha1", _sha1, "SIG-007"),
    _op("reference-uri", _reference, "SIG-008"),
    _op("transform-dropped", _transform, "SIG-008"),
    _op("wrapped", _wrapped, "SIG-002 SIG-008", text=True),
    _op("duplicated", _duplicated, "SIG-008", "ENV-001"),
    _op("relocated", _relocated, "SIG-001", "ENV-001"),
    _op("nested", _nested, "SIG-008"),
    _op("certificate-removed", _no_certificate, "SIG-009"),
    _op("signing-time-before-certificate", _signing_time, "SIG-005"),
)


def _apply_op(op: SignatureOp, node: str, path: str) -> Callable[[etree._Element], None]:
    def change(root: etree._Element) -> None:
        holder = find_all(root, f"{local(root)}/{node}")[0]
        op.edit(root, _ds(holder, "ds:Signature"), path)

    return change


def _signers() -> list[tuple[str, frozenset[str]]]:
    """Credentials the named defects sign with, and the codes they cause."""
    found = {
        str(d.args["credential"]): frozenset(d.expect)
        for d in load_defects().values()
        if d.op in ("form-signer", "envelope-signer")
    }
    return sorted(found.items())


def signatures(ctx: MutationContext) -> Offer | None:
    """One signature broken: by an operation on the signed bytes, or signed by a bad signer."""
    docs = list(ctx.docs.values())
    signers = _signers()

    def free_text(doc: DocFacts) -> list[str]:
        return [f.path for f, _ in doc.targets() if f.free_text and f.accepts(_EDITED_TEXT[0])]

    def offer(draw: Draw) -> Mutation:
        doc = draw(st.sampled_from(docs))
        texts = free_text(doc)
        choices = [op for op in OPS if texts or not op.needs_text]
        kind = draw(st.sampled_from(["op"] * 3 + ["signer"] * bool(signers)))
        if kind == "signer":
            credential, codes = draw(st.sampled_from(signers))
            placement = "envelope" if doc.doc == ENVELOPE else "forms"
            tweaks = (
                Tweaks(envelope_signer=credential)
                if doc.doc == ENVELOPE
                else Tweaks(form_signer=credential)
            )
            return Mutation(
                f"signature:signer:{placement}={credential}", codes, lambda c: c.build(tweaks)
            )
        op = draw(st.sampled_from(choices))
        path = draw(st.sampled_from(texts)) if op.needs_text else ""
        change = _apply_op(op, doc.signature_node, path)
        where = f":{path}" if path else ""
        if doc.doc == ENVELOPE:
            return Mutation(
                f"signature:{op.name}:envelope{where}",
                op.in_envelope,
                lambda c: _post_hoc(c, change),
            )
        code = doc.doc
        return Mutation(
            f"signature:{op.name}:{code}{where}",
            op.in_form,
            lambda c: c.edit_signed_form(code, lambda data: _edit_bytes(data, change)),
        )

    return offer


def _post_hoc(ctx: MutationContext, change: Callable[[etree._Element], None]) -> bytes:
    root = ctx.envelope_root()
    change(root)
    return serialize(root)


def _edit_bytes(data: bytes, change: Callable[[etree._Element], None]) -> bytes:
    root = etree.fromstring(data)
    change(root)
    return serialize(root)


__all__ = ["OPS", "SignatureOp", "signatures"]
