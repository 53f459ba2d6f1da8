"""An XSD and every file it includes or imports, read as Unicode NFC.

Documents are measured as NFC (:mod:`harness.catalog.validation`), so an enumeration,
pattern or fixed value an editor saved decomposed (NFD) would refuse the text a sender
types. Both XSD readers (lxml compiling the gateway's schema, xmlschema walking it for the
factory, the diff and the fuzzers) read through here, so both see the same composed text.
"""

from __future__ import annotations

import email.message
import io
import unicodedata
import urllib.error
import urllib.parse
import urllib.request
import urllib.response
from pathlib import Path
from typing import TYPE_CHECKING, Any

from lxml import etree

if TYPE_CHECKING:
    from urllib.request import OpenerDirector


def nfc_bytes(path: Path) -> bytes:
    """The file's bytes with its text composed; a file not in UTF-8 is left as it is
    (its own encoding declaration still applies). Lines keep their numbers."""
    data = path.read_bytes()
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return data
    if unicodedata.is_normalized("NFC", text):
        return data
    return unicodedata.normalize("NFC", text).encode("utf-8")


class _Resolver(etree.Resolver):  # type: ignore[misc]  # lxml-stubs lacks it
    """Serves every local include or import composed, as :func:`nfc_bytes` reads it."""

    def resolve(self, system_url: str, public_id: str, context: Any) -> Any:
        path = _local(system_url)
        if path is None or not path.is_file():
            return None  # libxml2's own handling and message (no network: see the parser)
        return self.resolve_string(nfc_bytes(path), context, base_url=str(path))


def _local(url: str) -> Path | None:
    if url.startswith("file:"):
        return Path(urllib.request.url2pathname(urllib.parse.urlparse(url).path))
    return None if "://" in url else Path(url)


def parse_xsd(path: Path) -> etree._ElementTree:
    """The XSD at ``path`` parsed composed, its includes resolved the same way by lxml."""
    parser = etree.XMLParser(resolve_entities=False, no_network=True)
    parser.resolvers.add(_Resolver())
    return etree.parse(io.BytesIO(nfc_bytes(path)), parser, base_url=str(path))


class _NFCFileHandler(urllib.request.FileHandler):
    """urllib's ``file:`` handler, answering with :func:`nfc_bytes` (xmlschema opens
    a schema and each include through an opener)."""

    def open_local_file(self, req: urllib.request.Request) -> Any:
        path = Path(urllib.request.url2pathname(req.selector))
        try:
            body = io.BytesIO(nfc_bytes(path))
        except OSError as exc:  # as urllib's own handler says it
            raise urllib.error.URLError(exc) from exc
        return urllib.response.addinfourl(body, email.message.Message(), req.full_url)


def nfc_opener() -> OpenerDirector:
    """An opener for ``xmlschema.XMLSchema(..., opener=)`` reading local files composed."""
    return urllib.request.build_opener(_NFCFileHandler())
