"""Build and read the ``Hoso`` envelope an I-VAN sends (DOMAIN.md, "The dossier envelope").

The envelope carries each signed form base64-encoded, byte for byte, so building never
re-serialises a form and reading hands back exactly the bytes the employer signed.
"""

from __future__ import annotations

import base64
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


def _texts(node: etree._Element) -> dict[str, str]:
    """Each child element's stripped text by tag, the first of a name winning as in
    ``findtext``: one pass over the children instead of one path lookup per field
    (this runs on every dossier the gateway receives)."""
    texts: dict[str, str] = {}
    for child in node:
        if isinstance(child.tag, str) and child.tag not in texts:
            texts[child.tag] = (child.text or "").strip()
    return texts


_ABSENT = etree.Element("absent")


def _child(node: etree._Element, path: str) -> etree._Element:
    """The element at ``path``, or an empty stand-in so every value below it reads ''."""
    found = node.find(path)
    return found if found is not None else _ABSENT


def read_envelope(hoso: etree._Element) -> EnvelopeInfo:
    """Read an envelope that already passed the envelope XSD (missing values read as '')."""
    unit = _texts(_child(hoso, "NoiDung/ThongTinDonVi"))
    ivan = _texts(_child(hoso, "NoiDung/ThongTinIVAN"))
    dossier_node = _child(hoso, "NoiDung/ThongTinHoSo")
    dossier = _texts(dossier_node)
    files: list[EmbeddedFile] = []
    for node in dossier_node.iterfind("ToKhais/FileToKhai"):
        file = _texts(node)
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
