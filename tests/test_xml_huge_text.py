"""A text node over libxml2's 10 MB is accepted up to the body limit; every bomb still fails.

A well-formed 10.1 MB envelope (a big employer's D02-TS, base64 in one ``NoiDungFile``)
was refused as XML-001 "Text node too long, try XML_PARSE_HUGE", though the body limit is
20 MiB. ``huge_tree`` is now on; these tests prove the defences that do not depend on
libxml2's own limits still hold, each with its code.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from lxml import etree

from harness.catalog import load_catalog
from harness.dossiers.factory import DossierFactory
from harness.signing import TestPKI
from harness.xmlsafe import DEFAULT_LIMITS, HUGE_TEXT, XMLRejected, parse_xml
from mock_gateway.testing import Answer, InProcessGateway
from tests.gateway.conftest import Mutator, ValidDossiers
from tests.gateway.test_hostile import LAUGHS, XXE

needs_huge = pytest.mark.skipif(not HUGE_TEXT, reason="libxml2 < 2.12 keeps its 10 MB limit")
TWELVE_MB = 12 * 1000 * 1000


def _code(data: bytes) -> str:
    with pytest.raises(XMLRejected) as caught:
        parse_xml(data)
    return caught.value.finding.code


@needs_huge
def test_a_twelve_megabyte_text_node_is_accepted() -> None:
    root = parse_xml(b"<Hoso><NoiDungFile>" + b"QUJD" * (TWELVE_MB // 4) + b"</NoiDungFile></Hoso>")
    assert len(root.findtext("NoiDungFile") or "") == TWELVE_MB


@needs_huge
def test_a_twelve_megabyte_comment_and_attribute_are_accepted() -> None:
    parse_xml(b"<Hoso><!--" + b"x" * TWELVE_MB + b"--></Hoso>")
    parse_xml(b'<Hoso a="' + b"x" * TWELVE_MB + b'"/>')


@pytest.mark.parametrize(
    ("data", "code"),
    [
        (LAUGHS, "XML-002"),
        (XXE, "XML-002"),
        (b"<!--" + b" " * 5000 + b'--><!DOCTYPE H [<!ENTITY x "y">]><H>&x;</H>', "XML-002"),
        (b'<!--pad--><!DOCTYPE H SYSTEM "http://127.0.0.1:9/h.dtd"><H/>', "XML-002"),
        (b"<H>" + b"<a>" * 65 + b"</a>" * 65 + b"</H>", "LIM-002"),
        (b"<H>" + b"<a>" * 1000 + b"</a>" * 1000 + b"</H>", "LIM-002"),
        (b"<H>" + b"<a/>" * (DEFAULT_LIMITS.max_elements + 1) + b"</H>", "LIM-002"),
        (b"<H>" + b"<a>" * 100_000 + b"</a>" * 100_000 + b"</H>", "LIM-002"),  # libxml2's cap
    ],
    ids=[
        "billion-laughs",
        "xxe",
        "entity-after-padding",
        "external-dtd",
        "deep-65",
        "deep-1000",
        "too-many-elements",
        "deep-100000",
    ],
)
def test_bombs_keep_their_codes(data: bytes, code: str) -> None:
    assert _code(data) == code


def test_nesting_beyond_what_libxml2_parses_is_still_refused() -> None:
    """Seven million levels fit in 20 MiB: libxml2 stops them (2048 in huge mode)."""
    depth = 7_000_000
    assert _code(b"<a>" * depth + b"</a>" * depth)[:4] in {"XML-", "LIM-"}


@pytest.mark.parametrize("shape", ["text", "comment"])
def test_a_body_one_byte_over_the_limit_is_lim_001(shape: str) -> None:
    head, tail = (b"<H>", b"</H>") if shape == "text" else (b"<H><!--", b"--></H>")
    data = head + b"A" * (DEFAULT_LIMITS.max_bytes + 1 - len(head) - len(tail)) + tail
    assert len(data) == DEFAULT_LIMITS.max_bytes + 1
    assert _code(data) == "LIM-001"


@pytest.fixture
def huge_signer(monkeypatch: pytest.MonkeyPatch) -> None:
    """signxml re-parses what it signs with a parser of its own, without huge_tree."""
    from signxml.processor import XMLProcessor

    parser = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=True)
    monkeypatch.setattr(XMLProcessor, "_default_parser", parser)


@pytest.fixture
def gw(pki: TestPKI) -> Iterator[InProcessGateway]:
    with InProcessGateway(pki=pki) as gateway:
        yield gateway


@needs_huge
@pytest.mark.usefixtures("huge_signer")
def test_the_gateway_accepts_a_form_whose_base64_passes_ten_megabytes(
    gw: InProcessGateway, pki: TestPKI
) -> None:
    valid = ValidDossiers(DossierFactory(load_catalog("2024.1"), pki), pki)

    def big(form: bytes) -> bytes:  # 7.6 MB: a comment before the form's end tag
        end = form.rindex(b"</")
        return form[:end] + b"<!--" + b"x" * 7_600_000 + b"-->" + form[end:]

    envelope = Mutator(pki).form(valid().envelope, big)
    assert len(envelope) > 10_000_000
    answer = gw.submit(envelope)
    assert answer.status == 202, Answer.parse(answer).findings()
