"""read_envelope reads each field as ``findtext`` would, in one pass per section."""

from __future__ import annotations

from lxml import etree

from harness.envelope import read_envelope

ENVELOPE = """<Hoso><NoiDung>
  <ThongTinIVAN><MaIVAN>
     IVAN01 </MaIVAN><!-- a comment among the fields -->
    <TenIVAN>Công ty Ví dụ</TenIVAN></ThongTinIVAN>
  <ThongTinDonVi><TenDoiTuong>Công ty Thủy Sản Cà Mau</TenDoiTuong><MaSoBHXH>TA0001</MaSoBHXH>
    <MaSoBHXH>second one is ignored</MaSoBHXH></ThongTinDonVi>
  <ThongTinHoSo><MaThuTuc>600</MaThuTuc><KyKeKhai>11/2026</KyKeKhai>
    <ToKhais><FileToKhai><MaToKhai>TK1-TS</MaToKhai><TenFile>TK1-TS-595.xml</TenFile>
      <DoDaiFile>8</DoDaiFile><NoiDungFile> PHg+PC94Pg== </NoiDungFile></FileToKhai>
    <FileToKhai><MaToKhai>D02-TS</MaToKhai><DoDaiFile>not a number</DoDaiFile></FileToKhai>
    </ToKhais></ThongTinHoSo>
</NoiDung></Hoso>"""


def test_fields_are_stripped_first_wins_and_absent_reads_empty() -> None:
    info = read_envelope(etree.fromstring(ENVELOPE))
    assert info.ma_ivan == "IVAN01"
    assert info.ten_ivan == "Công ty Ví dụ"
    assert info.unit.ten == "Công ty Thủy Sản Cà Mau"
    assert info.unit.ma_don_vi == "TA0001"
    assert info.unit.ma_so_thue == ""  # absent
    assert (info.ma_thu_tuc, info.ky_ke_khai, info.ten_thu_tuc) == ("600", "11/2026", "")
    first, second = info.files
    assert (first.ma_to_khai, first.ten_file, first.do_dai) == ("TK1-TS", "TK1-TS-595.xml", 8)
    assert first.noi_dung == " PHg+PC94Pg== "  # the payload is kept as sent
    assert (second.ma_to_khai, second.ten_file, second.do_dai) == ("D02-TS", "", None)


def test_missing_sections_read_as_empty() -> None:
    info = read_envelope(etree.fromstring("<Hoso><NoiDung/></Hoso>"))
    assert (info.ma_ivan, info.unit.ten, info.ma_thu_tuc, info.files) == ("", "", "", ())
