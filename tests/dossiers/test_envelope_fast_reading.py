"""The gateway's fast envelope readers answer exactly what ``find``/``findtext`` answered.

``read_envelope``, ``find_path`` (ENV-011's lookups) and ``EmbeddedFile.decode`` replaced
Python path lookups and a whitespace scan with ``iterchildren``, one XPath and a strict
decode first; each is compared here with the code it replaced, on odd envelopes too
(sections split over two ``NoiDung``, namespaced look-alikes, comments, wrapped base64).
"""

from __future__ import annotations

import base64
import binascii
import itertools

import pytest
from lxml import etree

from harness.catalog import load_catalog
from harness.conformance import find_path
from harness.dossiers.factory import DossierFactory
from harness.envelope import EmbeddedFile, EnvelopeInfo, Unit, read_envelope
from harness.signing import TestPKI


def _reference_texts(node: etree._Element) -> dict[str, str]:
    texts: dict[str, str] = {}
    for child in node:
        if isinstance(child.tag, str) and child.tag not in texts:
            texts[child.tag] = (child.text or "").strip()
    return texts


def _reference_read_envelope(hoso: etree._Element) -> EnvelopeInfo:
    """``read_envelope`` as it was, by ``find`` and ``findtext``."""
    absent = etree.Element("absent")

    def child(path: str) -> etree._Element:
        found = hoso.find(path)
        return found if found is not None else absent

    unit = _reference_texts(child("NoiDung/ThongTinDonVi"))
    ivan = _reference_texts(child("NoiDung/ThongTinIVAN"))
    dossier_node = child("NoiDung/ThongTinHoSo")
    dossier = _reference_texts(dossier_node)
    files = []
    for node in dossier_node.iterfind("ToKhais/FileToKhai"):
        file = _reference_texts(node)
        length = file.get("DoDaiFile", "")
        files.append(
            EmbeddedFile(
                ma_to_khai=file.get("MaToKhai", ""),
                mo_ta=file.get("MoTaToKhai", ""),
                ten_file=file.get("TenFile", ""),
                noi_dung=node.findtext("NoiDungFile") or "",
                loai_file=file.get("LoaiFile", ""),
                do_dai=int(length) if length.isascii() and length.isdigit() else None,
            )
        )
    return EnvelopeInfo(
        ma_ivan=ivan.get("MaIVAN", ""),
        ten_ivan=ivan.get("TenIVAN", ""),
        unit=Unit(
            ten=unit.get("TenDoiTuong", ""),
            ma_don_vi=unit.get("MaSoBHXH", ""),
            ma_so_thue=unit.get("MaSoThue", ""),
            nguoi_ky=unit.get("NguoiKy", ""),
            dien_thoai=unit.get("DienThoai", ""),
            co_quan=unit.get("CoQuanQuanLy", ""),
            loai=unit.get("LoaiDoiTuong", ""),
        ),
        ma_thu_tuc=dossier.get("MaThuTuc", ""),
        ten_thu_tuc=dossier.get("TenThuTuc", ""),
        ky_ke_khai=dossier.get("KyKeKhai", ""),
        ngay_lap=dossier.get("NgayLap", ""),
        so_luong_file=dossier.get("SoLuongFile", ""),
        files=tuple(files),
    )


ODD_ENVELOPES = [
    "<Hoso/>",
    "<Hoso><NoiDung/></Hoso>",
    # the first NoiDung lacks a section a later one has: find reads the later one's
    "<Hoso><NoiDung><ThongTinIVAN><MaIVAN>A</MaIVAN></ThongTinIVAN></NoiDung>"
    "<NoiDung><ThongTinIVAN><MaIVAN>B</MaIVAN></ThongTinIVAN>"
    "<ThongTinDonVi><TenDoiTuong> Cty  B </TenDoiTuong></ThongTinDonVi></NoiDung></Hoso>",
    # namespaced look-alikes, comments, PIs and text before the fields
    '<Hoso xmlns:x="urn:x"><!--c--><x:NoiDung><ThongTinIVAN><MaIVAN>X</MaIVAN>'
    "</ThongTinIVAN></x:NoiDung><NoiDung>text<?pi?><x:ThongTinDonVi><TenDoiTuong>X"
    "</TenDoiTuong></x:ThongTinDonVi><ThongTinDonVi><!--c--><TenDoiTuong>Nguyê\u0303n"
    "</TenDoiTuong><x:MaSoBHXH>X</x:MaSoBHXH><MaSoBHXH><!--c-->late</MaSoBHXH>"
    "<MaSoBHXH>second</MaSoBHXH></ThongTinDonVi></NoiDung></Hoso>",
    # files in two ToKhais, a wrapped payload with a comment inside, odd lengths
    "<Hoso><NoiDung><ThongTinHoSo><MaThuTuc> 600 </MaThuTuc><ToKhais><FileToKhai>"
    "<MaToKhai>A</MaToKhai><DoDaiFile> 12 </DoDaiFile><NoiDungFile>\n QUJD\n RA==<!--x-->"
    "QQ==</NoiDungFile><NoiDungFile>second</NoiDungFile></FileToKhai><FileToKhai>"
    "<DoDaiFile>١٢</DoDaiFile></FileToKhai></ToKhais><ToKhais><FileToKhai><TenFile>B.xml"
    "</TenFile><DoDaiFile>-3</DoDaiFile><NoiDungFile/></FileToKhai></ToKhais>"
    "<x:ToKhais xmlns:x='urn:x'><FileToKhai/></x:ToKhais></ThongTinHoSo></NoiDung></Hoso>",
]


@pytest.mark.parametrize("xml", ODD_ENVELOPES)
def test_read_envelope_answers_as_find_did(xml: str) -> None:
    hoso = etree.fromstring(xml)
    assert read_envelope(hoso) == _reference_read_envelope(hoso)


def test_a_built_dossier_reads_as_before(pki: TestPKI) -> None:
    factory = DossierFactory(load_catalog("2024.1"), pki)
    for procedure in list(factory.catalog.procedures)[:3]:
        hoso = etree.fromstring(factory.build(procedure, 0).envelope)
        assert read_envelope(hoso) == _reference_read_envelope(hoso)


TREE = etree.fromstring(
    '<r xmlns:x="urn:x"><a><b/></a><a><b><c>1</c></b><b><c>2</c></b></a><x:a><b><c>ns</c>'
    "</b></x:a><a.b><c-d>3</c-d></a.b><a><!--c--><b><c>4</c></b></a></r>"
)
PATHS = [
    "a",
    "a/b",
    "a/b/c",
    "a/c",
    "a.b/c-d",
    "b",
    "zz/b",
    "a/b[2]/c",  # not a path of names: find itself answers
    "*/b/c",
    ".//c",
    "a/b/c/",
]


@pytest.mark.parametrize("path", PATHS)
def test_find_path_finds_what_find_finds(path: str) -> None:
    found, wanted = find_path(TREE, path), TREE.find(path)
    assert found is wanted  # one proxy per live element: the same element, or both None
    if wanted is not None:
        assert TREE.getroottree().getpath(found) == TREE.getroottree().getpath(wanted)


def test_a_name_xpath_cannot_read_is_still_found_as_find_does() -> None:
    assert find_path(TREE, "a²") is None and TREE.find("a²") is None


def _reference_decode(noi_dung: str) -> bytes:
    return base64.b64decode("".join(noi_dung.split()), validate=True)


def _outcome(decode: object, text: str) -> tuple[str, object]:
    try:
        return "ok", decode(text)  # type: ignore[operator]
    except (binascii.Error, ValueError) as exc:
        return "error", type(exc)


def test_decode_answers_and_fails_as_before() -> None:
    pieces = ["Q", "U", "J", "D", "=", " ", "\n", "+", "/", "\u00a0", "é"]
    texts = ["".join(p) for n in range(7) for p in itertools.product(pieces[:7], repeat=n)]
    texts += [" QUJD ", "QUJD\r\nRA==", "QUJDRA==\u00a0", "QUJ\u00e9", "QQ==QQ==", "=QUJD"]
    texts += ["".join(p) for p in itertools.product(pieces, repeat=3)]
    for text in texts:
        assert _outcome(_decode, text) == _outcome(_reference_decode, text), repr(text)


def _decode(text: str) -> bytes:
    return EmbeddedFile("A", "", "a.xml", text).decode()
