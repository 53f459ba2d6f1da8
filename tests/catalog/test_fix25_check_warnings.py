"""`catalog check` on a new version authored as data: the real-date warning only for
date-shaped elements, with a hint that works when the date defect already sets another
element of the form; a warning for a rule code no defect expects; a defect's error with
its defects.yaml line."""

from __future__ import annotations

import re
from pathlib import Path

from tests.catalog.test_fix23_new_version import NEW, NEW_DATE, _edit, _home, _new_xsd, _run
from tests.catalog_copies import line_of

CONTRACT = (
    '      <xs:element name="SoHopDong"><xs:simpleType><xs:restriction base="xs:string">'
    '<xs:pattern value="[0-9A-Z/\\-]{1,30}"/></xs:restriction></xs:simpleType></xs:element>\n'
)
NEW_CODE = 'RULE-114: {http: 400, vi: "Mã mới", en: "A new code"}\n'
NEW_RULE = (
    '      <sch:assert id="d02-new-code" role="RULE-114" test="string-length(HoTen) &gt; 0">'
    "Mới</sch:assert>\n"
)


def _warnings(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if line.startswith(f"{NEW}: warning: ")]


def test_a_code_pattern_that_takes_a_date_is_not_a_date_element(tmp_path: Path) -> None:
    """Before: SoHopDong, a contract number, was to be added to the real-date rule."""
    home = _home(tmp_path)
    _edit(_new_xsd(home), NEW_DATE, NEW_DATE + CONTRACT)
    fields = home / "fixtures" / "reference" / "fields.yaml"
    _edit(
        fields,
        "  NgayXuatCanh: row.contract_start\n",
        "  NgayXuatCanh: row.contract_start\n  SoHopDong: digits:8\n",
    )
    done = _run(home, "check", NEW)
    assert done.returncode == 0, done.stdout + done.stderr
    assert _warnings(done.stderr) == [], done.stderr


def test_the_date_hint_gives_a_defect_that_makes_the_warning_go(tmp_path: Path) -> None:
    """Before: the hint said to add the element to impossible-date, whose op sets the first
    listed element D02-TS has (NgaySinh), so the new date was still never broken."""
    home = _home(tmp_path, checked=False, defect=False)
    done = _run(home, "check", NEW)
    assert done.returncode == 0, done.stdout + done.stderr
    [warned] = _warnings(done.stderr)
    assert "sets NgaySinh in this form" in warned
    entry = re.search(r"`(impossible-ngayxuatcanh: \{[^`]*\})`", warned)
    assert entry is not None, warned
    assert "elements: [NgayXuatCanh]" in entry.group(1)
    with (home / "fixtures" / "dossiers" / "defects.yaml").open("a", encoding="utf-8") as out:
        out.write(entry.group(1) + "\n")
    rules = home / "fixtures" / "catalog" / NEW / "rules" / "common.sch"
    _edit(rules, "| TuNgay | DenNgay", "| TuNgay | DenNgay | NgayXuatCanh")
    again = _run(home, "check", NEW)
    assert again.returncode == 0, again.stdout + again.stderr
    assert _warnings(again.stderr) == [], again.stderr


def test_a_rule_code_no_defect_expects_is_warned(tmp_path: Path) -> None:
    home = _home(tmp_path)
    with (home / "fixtures" / "error_codes.yaml").open("a", encoding="utf-8") as out:
        out.write(NEW_CODE)
    rules = home / "fixtures" / "catalog" / NEW / "rules" / "D02-TS.sch"
    text = rules.read_text(encoding="utf-8")
    anchor = next(line for line in text.splitlines(keepends=True) if "<sch:assert" in line)
    _edit(rules, anchor, anchor + NEW_RULE)
    done = _run(home, "check", NEW)
    assert done.returncode == 0, done.stdout + done.stderr
    [warned] = _warnings(done.stderr)
    assert f"RULE-114 ({rules}:{line_of(rules, 'd02-new-code')})" in warned
    assert f"no defect in {home / 'fixtures' / 'dossiers' / 'defects.yaml'} expects it" in warned
    assert "expect: [RULE-114]" in warned


def test_a_defect_missing_its_code_names_its_line(tmp_path: Path) -> None:
    home = _home(tmp_path)
    defects = home / "fixtures" / "dossiers" / "defects.yaml"
    _edit(
        defects,
        "late-departure-date: {expect: [RULE-105]",
        "late-departure-date: {expect: [RULE-106]",
    )
    done = _run(home, "check", NEW)
    assert done.returncode == 1, done.stdout + done.stderr
    at = f"{defects}:{line_of(defects, 'late-departure-date:')}"
    assert f"fix defect late-departure-date's expect: at {at}," in done.stderr
