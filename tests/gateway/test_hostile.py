"""Hostile and broken input: each gets its 4xx code, and the store is left exactly as it was."""

from __future__ import annotations

import base64
from collections.abc import Callable
from typing import Any

import pytest

from harness.dossiers.factory import Dossier
from mock_gateway.testing import Answer, InProcessGateway

XXE = b"""<?xml version="1.0"?>
<!DOCTYPE Hoso [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
<Hoso><NoiDung>&xxe;</NoiDung></Hoso>"""

LAUGHS = (
    b'<?xml version="1.0"?>\n<!DOCTYPE lolz [<!ENTITY lol "lol">'
    + b"".join(
        f'<!ENTITY lol{i} "{f"&lol{i - 1};" * 10 if i > 1 else "&lol;" * 10}">'.encode()
        for i in range(1, 10)
    )
    + b"]>\n<Hoso>&lol9;</Hoso>"
)

ENTITY_WITHOUT_DOCTYPE_HEAD = b"<Hoso>" + b" " * 5000 + b"<!ENTITY x 'y'></Hoso>"
DEEP = b"<Hoso>" + b"<a>" * 200 + b"</a>" * 200 + b"</Hoso>"
INVALID_UTF8 = b"<?xml version='1.0' encoding='UTF-8'?><Hoso>Ti\xe1\xba</Hoso>"
LATIN1 = "<Hoso><NoiDung>Nguyễn</NoiDung></Hoso>".encode("utf-16")
# valid UTF-8 bytes under a declaration libxml2 would obey: garbled text, then a misleading
# XML-001 or SIG-002 (windows-1258 is the Vietnamese Windows code page)
DECLARED_1258 = '<?xml version="1.0" encoding="windows-1258"?><Hoso>Nguyễn</Hoso>'.encode()
DECLARED_LATIN1 = "<?xml version='1.0' encoding='ISO-8859-1'?><Hoso>Nguyễn</Hoso>".encode()


def state(gw: InProcessGateway) -> dict[str, int]:
    counts = gw.gateway.store.counts()
    return {t: counts[t] for t in ("dossiers", "messages", "idempotency")}


@pytest.mark.parametrize(
    ("body", "code"),
    [
        (XXE, "XML-002"),
        (LAUGHS, "XML-002"),
        (ENTITY_WITHOUT_DOCTYPE_HEAD, "XML-002"),
        (DEEP, "LIM-002"),
        (INVALID_UTF8, "XML-003"),
        (LATIN1, "XML-003"),
        (DECLARED_1258, "XML-003"),
        (DECLARED_LATIN1, "XML-003"),
        (b"", "XML-001"),
        (b"\xef\xbb\xbf", "XML-001"),
        (b"not xml at all", "XML-001"),
        (b"<Other/>", "ENV-001"),
    ],
    ids=[
        "xxe",
        "billion-laughs",
        "entity-late",
        "deep-nesting",
        "invalid-utf8",
        "utf16",
        "declares-windows-1258",
        "declares-latin1",
        "empty",
        "bom-only",
        "text",
        "wrong-root",
    ],
)
def test_hostile_bodies(body: bytes, code: str, gw: InProcessGateway) -> None:
    before = state(gw)
    response = gw.submit(body)
    assert 400 <= response.status < 500
    assert Answer.parse(response).ma_loi == code
    assert state(gw) == before


def test_truncated_dossier(gw: InProcessGateway, valid: Callable[..., Dossier]) -> None:
    envelope = valid().envelope
    response = gw.submit(envelope[: len(envelope) // 2])
    assert (response.status, Answer.parse(response).ma_loi) == (400, "XML-001")
    assert state(gw)["dossiers"] == 0


def test_bom_is_tolerated(gw: InProcessGateway, valid: Callable[..., Dossier]) -> None:
    assert gw.submit(b"\xef\xbb\xbf" + valid().envelope).status == 202


def test_fifty_megabytes_is_413(gw: InProcessGateway) -> None:
    body = b"<Hoso>" + b"A" * (50 * 1024 * 1024) + b"</Hoso>"
    response = gw.submit(body)
    assert (response.status, Answer.parse(response).ma_loi) == (413, "LIM-001")
    assert state(gw)["dossiers"] == 0


def test_oversize_reported_by_the_front_end(gw: InProcessGateway) -> None:
    """The ASGI app stops reading at the cap and passes only the size it saw."""
    from mock_gateway.exchange import GatewayRequest

    request = GatewayRequest(
        "POST",
        "/api/v1/dossiers",
        {"Authorization": f"Bearer {gw.token()}", "X-Message-Id": "big"},
        body=b"",
        body_size=60 * 1024 * 1024,
    )
    assert gw.gateway.handle(request).status == 413


@pytest.mark.parametrize(
    ("content", "code"),
    [(XXE, "XML-002"), (DEEP, "LIM-002"), (b"<D02-TS>", "XML-001"), (INVALID_UTF8, "XML-003")],
    ids=["xxe", "deep", "truncated", "utf8"],
)
def test_hostile_embedded_form(
    content: bytes, code: str, gw: InProcessGateway, valid: Callable[..., Dossier], mutate: Any
) -> None:
    """A validly signed envelope carrying a hostile form is refused with the form named."""
    envelope = mutate.form(valid().envelope, lambda _old: content)
    response = gw.submit(envelope)
    rejection = Answer.parse(response)
    assert rejection.ma_loi == code
    assert rejection.findings()[0]["XPATH"].endswith("FileToKhai[1]/NoiDungFile")
    assert state(gw)["dossiers"] == 0


def test_signature_wrapping_is_refused(
    gw: InProcessGateway, valid: Callable[..., Dossier], mutate: Any
) -> None:
    """The signed NoiDung moved into a ds:Object, a forged one in its place: SIG-002."""
    import copy

    from lxml import etree

    ds = "http://www.w3.org/2000/09/xmldsig#"
    root = mutate.root(valid().envelope)
    original = root.find("NoiDung")
    forged = copy.deepcopy(original)
    forged.find("ThongTinDonVi/TenDoiTuong").text = "CÔNG TY GIẢ MẠO"
    signature = root.find(f"CKy_Dvi/{{{ds}}}Signature")
    holder = etree.SubElement(signature, f"{{{ds}}}Object")
    root.replace(original, forged)
    holder.append(original)
    response = gw.submit(etree.tostring(root))
    assert Answer.parse(response).ma_loi in {"SIG-002", "SIG-009"}
    assert 400 <= response.status < 500
    assert state(gw)["dossiers"] == 0


def test_control_characters_in_path_and_headers_stay_4xx(gw: InProcessGateway) -> None:
    response = gw.request("GET", "/api/\x01\x00x")
    assert response.status == 404
    Answer.parse(response)  # still well-formed XML
    bad_type = gw.request(
        "POST",
        "/api/v1/dossiers",
        headers={"Content-Type": "text/\x07plain", "X-Message-Id": "m"},
        body=b"<Hoso/>",
    )
    assert bad_type.status == 415
    odd_id = gw.request(
        "POST",
        "/api/v1/dossiers",
        headers={"Content-Type": "application/xml", "X-Message-Id": "m\x00"},
        body=b"<Hoso/>",
    )
    assert (odd_id.status, Answer.parse(odd_id).ma_loi) == (400, "REQ-002")


def test_base64_garbage_inside_file(
    gw: InProcessGateway, valid: Callable[..., Dossier], mutate: Any
) -> None:
    def garble(root: Any) -> None:
        node = root.find("NoiDung/ThongTinHoSo/ToKhais/FileToKhai")
        node.find("NoiDungFile").text = base64.b64encode(b"x").decode()[:-1] + "*"
        node.find("DoDaiFile").text = str(len(node.find("NoiDungFile").text))

    response = gw.submit(mutate.envelope(valid().envelope, garble))
    assert Answer.parse(response).ma_loi == "ENV-008"
