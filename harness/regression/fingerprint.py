"""What a corpus dossier says, as a digest that does not depend on who signed it.

A baseline stores only the corpus recipe, and ``regress`` rebuilds the corpus from today's
fixtures. If ``fields.yaml``, a reference table, a defect or the catalog version's files
changed since the recording, the rebuilt dossiers differ and every difference would be
blamed on the gateway. The baseline therefore keeps a digest per dossier of its content
with every signature removed (each machine has its own test PKI, so signatures, embedded
certificates and the lengths they give ``DoDaiFile`` differ between machines while the
data does not), and ``regress`` names the dossiers that were built differently.
"""

from __future__ import annotations

import base64
import binascii
import copy
import hashlib
from collections.abc import Iterable

from lxml import etree

from harness.dossiers.corpus import CorpusEntry
from harness.signing._structure import DS
from harness.xmlsafe import XMLRejected, parse_xml

_SIGNATURE = f"{{{DS}}}Signature"
_EMBEDDED = "NoiDungFile"  # DOMAIN.md: each form travels base64-encoded in the envelope
_LENGTH = "DoDaiFile"  # the length of that base64 text, which grows with the certificate
DIGEST_CHARS = 16  # 64 bits: enough to tell a few hundred dossiers' contents apart


def content_digest(body: bytes) -> str:
    """Digest of ``body`` without signatures (a file that does not parse: of its bytes)."""
    try:
        root = parse_xml(body)
    except XMLRejected:
        return hashlib.sha256(body).hexdigest()[:DIGEST_CHARS]
    return hashlib.sha256(_unsigned(root)).hexdigest()[:DIGEST_CHARS]


def corpus_digests(corpus: Iterable[CorpusEntry]) -> dict[str, str]:
    """Dossier name -> :func:`content_digest`, for a baseline's ``meta.json``."""
    return {entry.name: content_digest(entry.body) for entry in corpus}


def rebuilt_differently(recorded: dict[str, str], corpus: Iterable[CorpusEntry]) -> list[str]:
    """Names of the dossiers whose content differs from the one the baseline recorded."""
    return sorted(
        entry.name
        for entry in corpus
        if entry.name in recorded and recorded[entry.name] != content_digest(entry.body)
    )


def _unsigned(root: etree._Element) -> bytes:
    """Canonical bytes of ``root`` with signatures removed, embedded forms by digest."""
    document = copy.deepcopy(root)
    for signature in list(document.iter(_SIGNATURE)):
        signature.getparent().remove(signature)
    for node in document.iter(_EMBEDDED, _LENGTH):
        if node.tag == _LENGTH:
            node.text = ""
        elif node.text:
            node.text = _embedded_digest(node.text)
    canonical: bytes = etree.tostring(document, method="c14n")
    return canonical


def _embedded_digest(text: str) -> str:
    try:
        return content_digest(base64.b64decode("".join(text.split()), validate=True))
    except (binascii.Error, ValueError):  # a broken-on-purpose form: its bytes hold the
        return "not base64"  # signature of this machine's PKI, so they cannot be compared


__all__ = ["content_digest", "corpus_digests", "rebuilt_differently"]
