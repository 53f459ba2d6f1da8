"""Build and read the ``Hoso`` envelope an I-VAN sends (DOMAIN.md, "The dossier envelope").

The envelope carries each signed form base64-encoded, byte for byte, so building never
re-serialises a form and reading hands back exactly the bytes the employer signed.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Sequence
from dataclasses import dataclass, field

from lxml import etree


@dataclass(frozen=True)
class Unit:
    """The employer unit (đơn vị) as the envelope names it."""

    ten: str
    ma_don_vi: str
    ma_so_thue: str
    nguoi_ky: str
    dien_thoai: str
    co_quan: str
    loai: str = "1"


@dataclass(frozen=True)
class EmbeddedFile:
    """One ``FileToKhai``: a form (or attachment) and its declared length."""

    ma_to_khai: str
    mo_ta: str
    ten_file: str
    noi_dung: str
    loai_file: str = "xml"
    do_dai: int | None = None

    @classmethod
    def from_bytes(cls, ma_to_khai: str, mo_ta: str, ten_file: str, content: bytes) -> EmbeddedFile:
        encoded = base64.b64encode(content).decode("ascii")
        return cls(ma_to_khai, mo_ta, ten_file, encoded, ten_file.rsplit(".", 1)[-1], len(encoded))

    def decode(self) -> bytes:
        """The embedded bytes; :class:`binascii.Error` when NoiDungFile is not base64."""
        try:  # unbroken base64 (most senders): no scan for line breaks first (2 us a form)
            return binascii.a2b_base64(self.noi_dung, strict_mode=True)
        except (binascii.Error, ValueError):  # whitespace, or no base64: the full answer
            return base64.b64decode("".join(self.noi_dung.split()), validate=True)


@dataclass(frozen=True)
class EnvelopeInfo:
    """What an envelope says, as plain values (read back by the gateway and the suites)."""

    ma_ivan: str
    ten_ivan: str
    unit: Unit
    ma_thu_tuc: str
    ten_thu_tuc: str
    ky_ke_khai: str
    ngay_lap: str
    so_luong_file: str
    files: tuple[EmbeddedFile, ...] = field(default_factory=tuple)


def _sub(parent: etree._Element, tag: str, text: str | None = None) -> etree._Element:
    element = etree.SubElement(parent, tag)
    if text is not None:
        element.text = text
    return element


def build_envelope(info: EnvelopeInfo, *, signature_node: str = "CKy_Dvi") -> etree._Element:
    """An unsigned ``Hoso`` element; ``signature_node`` is left empty for the unit's signature."""
    hoso = etree.Element("Hoso")
    noi_dung = _sub(hoso, "NoiDung")
    ivan = _sub(noi_dung, "ThongTinIVAN")
    _sub(ivan, "MaIVAN", info.ma_ivan)
    _sub(ivan, "TenIVAN", info.ten_ivan)
    unit = _sub(noi_dung, "ThongTinDonVi")
    for tag, value in (
        ("TenDoiTuong", info.unit.ten),
        ("MaSoBHXH", info.unit.ma_don_vi),
        ("LoaiDoiTuong", info.unit.loai),
        ("MaSoThue", info.unit.ma_so_thue),
        ("NguoiKy", info.unit.nguoi_ky),
        ("DienThoai", info.unit.dien_thoai),
        ("CoQuanQuanLy", info.unit.co_quan),
    ):
        _sub(unit, tag, value)
    ho_so = _sub(noi_dung, "ThongTinHoSo")
    _sub(ho_so, "TenThuTuc", info.ten_thu_tuc)
    _sub(ho_so, "MaThuTuc", info.ma_thu_tuc)
    _sub(ho_so, "KyKeKhai", info.ky_ke_khai)
    _sub(ho_so, "NgayLap", info.ngay_lap)
    _sub(ho_so, "SoLuongFile", info.so_luong_file)
    to_khais = _sub(ho_so, "ToKhais")
    for file in info.files:
        node = _sub(to_khais, "FileToKhai")
        _sub(node, "MaToKhai", file.ma_to_khai)
        _sub(node, "MoTaToKhai", file.mo_ta)
        _sub(node, "TenFile", file.ten_file)
        _sub(node, "LoaiFile", file.loai_file)
        _sub(node, "DoDaiFile", str(len(file.noi_dung) if file.do_dai is None else file.do_dai))
        _sub(node, "NoiDungFile", file.noi_dung)
    _sub(hoso, signature_node)
    return hoso


_AS_SENT = frozenset({"NoiDungFile"})
"""Texts read unstripped: base64 may wrap lines (:meth:`EmbeddedFile.decode` joins them)."""


def _texts(node: etree._Element) -> dict[str, str]:
    """Each child element's stripped text by tag ('' for none; :data:`_AS_SENT` as sent),
    the first of a name winning as in ``findtext``: one pass over the children instead of
    one path lookup per field (this runs on every dossier the gateway receives)."""
    texts: dict[str, str] = {}
    for child in node.iterchildren(etree.Element):  # elements only: no comment, no PI
        tag = child.tag
        if tag not in texts:
            text = child.text or ""
            texts[tag] = text if tag in _AS_SENT else text.strip()
    return texts


_ABSENT = etree.Element("absent")
_PARTS = ("ThongTinIVAN", "ThongTinDonVi", "ThongTinHoSo")


def _parts(hoso: etree._Element) -> list[etree._Element]:
    """What ``hoso.find(f"NoiDung/{part}")`` finds for each of :data:`_PARTS` (the first
    in document order below any ``NoiDung``), or an empty stand-in so every value below it
    reads ''. One pass over ``NoiDung``'s children instead of three Python path lookups."""
    found: dict[str, etree._Element] = {}
    for noi_dung in hoso.iterchildren("NoiDung"):
        for child in noi_dung.iterchildren(*_PARTS):
            found.setdefault(child.tag, child)
        if len(found) == len(_PARTS):
            break
    return [found.get(part, _ABSENT) for part in _PARTS]


def read_envelope(hoso: etree._Element) -> EnvelopeInfo:
    """Read an envelope that already passed the envelope XSD (missing values read as '')."""
    ivan_node, unit_node, dossier_node = _parts(hoso)
    ivan, unit, dossier = _texts(ivan_node), _texts(unit_node), _texts(dossier_node)
    files: list[EmbeddedFile] = []
    for to_khais in dossier_node.iterchildren("ToKhais"):  # iterfind("ToKhais/FileToKhai")
        for node in to_khais.iterchildren("FileToKhai"):
            file = _texts(node)
            length = file.get("DoDaiFile", "")
            files.append(
                EmbeddedFile(
                    ma_to_khai=file.get("MaToKhai", ""),
                    mo_ta=file.get("MoTaToKhai", ""),
                    ten_file=file.get("TenFile", ""),
                    noi_dung=file.get("NoiDungFile", ""),
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


def files_of(forms: Sequence[tuple[str, str, str, bytes]]) -> tuple[EmbeddedFile, ...]:
    """``(code, description, file name, bytes)`` tuples as embedded files."""
    return tuple(EmbeddedFile.from_bytes(c, d, n, b) for c, d, n, b in forms)


__all__ = [
    "EmbeddedFile",
    "EnvelopeInfo",
    "Unit",
    "build_envelope",
    "files_of",
    "read_envelope",
]
