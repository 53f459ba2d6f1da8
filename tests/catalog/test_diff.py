"""The catalog diff lists every change and says which ones can refuse a sender's dossier.

The shipped versions give the real event (a procedure and a form version added, a code
retired); small text edits of a copied catalog prove each classification on its own, by
comparing the edited copy with the untouched shipped version.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from harness.catalog import Catalog, load_catalog
from harness.catalog.diff import CatalogDiff, Change, diff_catalogs
from harness.catalog.loader import catalogs_dir
from harness.errors import CatalogError
from tests.catalog_copies import Edits, edited_copy

BASE = "2024.1"
LAODONG = "D02-TS/NoiDung/LaoDong"


def _edited(tmp_path: Path, edits: Edits) -> Catalog:
    """A copy of the base version with ``old -> new`` text replacements per file."""
    return load_catalog(BASE, root=edited_copy(tmp_path, BASE, edits))


def _diff_against_base(tmp_path: Path, edits: Edits) -> CatalogDiff:
    return diff_catalogs(load_catalog(BASE), _edited(tmp_path, edits))


def _summary(diff: CatalogDiff) -> set[tuple[str, str, bool]]:
    return {(c.kind, c.subject, c.breaking) for c in diff.changes}


@pytest.fixture(scope="module")
def shipped() -> CatalogDiff:
    return diff_catalogs(load_catalog("2024.1"), load_catalog("2026.1"))


def test_shipped_versions_report_each_change_with_its_class(shipped: CatalogDiff) -> None:
    assert _summary(shipped) == {
        ("procedure-added", "630a", False),
        ("form-added", "M01B-HSB", False),
        ("form-version-removed", "D02-TS-595", True),
        ("form-version-added", "D02-TS-505", False),
        ("form-current-changed", "D02-TS", False),
        ("element-added", f"{LAODONG}/MaPhongBan", False),
        ("code-removed", f"{LAODONG}/PA", True),
        ("effective-from-changed", "catalog", False),
    }
    assert shipped.has_breaking
    assert (
        Change("code-removed", f"{LAODONG}/PA", "enumeration value 'OF' removed", True)
        in shipped.changes
    )
    added = next(c for c in shipped.changes if c.subject == f"{LAODONG}/MaPhongBan")
    assert added.detail == "optional element added"
    # the rule files of the forms both versions share are identical
    assert not [c for c in shipped.changes if c.kind.startswith("rule-")]


def test_breaking_changes_come_first_and_the_report_is_stable(shipped: CatalogDiff) -> None:
    assert [c.breaking for c in shipped.changes] == sorted(
        (c.breaking for c in shipped.changes), reverse=True
    )
    assert shipped.breaking == [c for c in shipped.changes if c.breaking]
    text = shipped.to_text()
    lines = text.splitlines()
    assert lines[0] == "Catalog diff 2024.1 -> 2026.1: 8 change(s), 2 breaking, 6 compatible"
    tags = [line.split()[0] for line in lines if line.startswith("  ")]
    assert tags == ["BREAKING"] * 2 + ["compatible"] * 6
    assert "effective-from-changed  catalog: takes effect 01/2026 (07/2024 before)" in text
    assert "\x1b" not in text
    again = diff_catalogs(load_catalog("2024.1"), load_catalog("2026.1"))
    assert again.to_text() == text
    assert again.to_json() == shipped.to_json()


def test_json_round_trips_with_summary_counts(shipped: CatalogDiff) -> None:
    data = json.loads(shipped.to_json())
    assert data["old_version"] == "2024.1" and data["new_version"] == "2026.1"
    assert data["has_breaking"] is True
    assert data["summary"]["total"] == len(data["changes"]) == 8
    assert data["summary"]["breaking"] == 2
    assert data["summary"]["compatible"] == 6
    assert data["summary"]["by_kind"]["code-removed"] == 1
    assert [Change(**c) for c in data["changes"]] == list(shipped.changes)


@pytest.mark.parametrize("version", ["2024.1", "2026.1"])
def test_a_version_against_itself_is_empty(version: str) -> None:
    catalog = load_catalog(version)
    diff = diff_catalogs(catalog, catalog)
    assert diff.changes == ()
    assert not diff.has_breaking
    assert json.loads(diff.to_json())["summary"]["total"] == 0


def test_an_identical_copy_is_empty(tmp_path: Path) -> None:
    assert _diff_against_base(tmp_path, {}).changes == ()


D02 = "xsd/D02-TS-595.xsd"
COMMON = "xsd/common.xsd"
# every path typed DienThoai (common.xsd): the envelope's and two forms'
PHONES = (
    "Hoso/NoiDung/ThongTinDonVi/DienThoai",
    "TK1-TS/NoiDung/NguoiKhai/Dienthoai_LH",
    "TK3-TS/NoiDung/DonVi/DienThoai",
)
SCHEMA_EDITS = {
    "required element added": (
        D02,
        '<xs:element name="PA" type="PhuongAn"/>',
        '<xs:element name="PA" type="PhuongAn"/><xs:element name="MaPB" type="Ten100"/>',
        {("element-added", f"{LAODONG}/MaPB", True)},
    ),
    "optional element added": (
        D02,
        '<xs:element name="PA" type="PhuongAn"/>',
        '<xs:element name="PA" type="PhuongAn"/><xs:element name="X" type="Ten100" minOccurs="0"/>',
        {("element-added", f"{LAODONG}/X", False)},
    ),
    "element removed": (
        D02,
        '<xs:element name="Ghichu" type="Text500" minOccurs="0"/>',
        "",
        {("element-removed", f"{LAODONG}/Ghichu", True)},
    ),
    "maxLength loosened": (
        D02,
        '<xs:maxLength value="500"/>',
        '<xs:maxLength value="600"/>',
        {("facet-loosened", f"{LAODONG}/ChucVu", False)},
    ),
    "maxLength tightened": (
        D02,
        '<xs:maxLength value="500"/>',
        '<xs:maxLength value="400"/>',
        {("facet-tightened", f"{LAODONG}/ChucVu", True)},
    ),
    "minLength lowered": (
        D02,
        '<xs:minLength value="1"/><xs:maxLength value="500"/>',
        '<xs:minLength value="0"/><xs:maxLength value="500"/>',
        {("facet-loosened", f"{LAODONG}/ChucVu", False)},
    ),
    "enumeration value added": (
        D02,
        '<xs:enumeration value="TU"/>',
        '<xs:enumeration value="TU"/><xs:enumeration value="ZZ"/>',
        {("code-added", f"{LAODONG}/PA", False)},
    ),
    "made required": (
        D02,
        '<xs:element name="NoiLamViec" type="Ten200" minOccurs="0"/>',
        '<xs:element name="NoiLamViec" type="Ten200"/>',
        {("min-occurs-raised", f"{LAODONG}/NoiLamViec", True)},
    ),
    "made optional": (
        D02,
        '<xs:element name="TienLuong" type="TienVND"/>',
        '<xs:element name="TienLuong" type="TienVND" minOccurs="0"/>',
        {("min-occurs-lowered", f"{LAODONG}/TienLuong", False)},
    ),
    "maxOccurs lowered": (
        D02,
        '<xs:element name="LaoDong" type="LaoDong" maxOccurs="unbounded"/>',
        '<xs:element name="LaoDong" type="LaoDong" maxOccurs="500"/>',
        {("max-occurs-lowered", LAODONG, True)},
    ),
    "base type changed": (
        D02,
        '<xs:element name="STT" type="xs:positiveInteger"/>',
        '<xs:element name="STT" type="xs:string"/>',
        {("type-changed", f"{LAODONG}/STT", True), ("type-renamed", f"{LAODONG}/STT", False)},
    ),
    "base type widened": (
        D02,
        '<xs:element name="STT" type="xs:positiveInteger"/>',
        '<xs:element name="STT" type="xs:integer"/>',
        {("type-widened", f"{LAODONG}/STT", False), ("type-renamed", f"{LAODONG}/STT", False)},
    ),
    "order changed": (
        D02,
        '<xs:element name="TinhLai" type="CoKhong"/>\n'
        '      <xs:element name="DaCoSo" type="CoKhong"/>',
        '<xs:element name="DaCoSo" type="CoKhong"/>\n'
        '      <xs:element name="TinhLai" type="CoKhong"/>',
        {("order-changed", LAODONG, True)},
    ),
    "sequence made a choice": (
        D02,
        '<xs:element name="TuThang" type="Thang"/>\n'
        '      <xs:element name="DenThang" type="Thang" minOccurs="0"/>',
        '<xs:choice><xs:element name="TuThang" type="Thang"/>\n'
        '      <xs:element name="DenThang" type="Thang" minOccurs="0"/></xs:choice>',
        {
            ("min-occurs-lowered", f"{LAODONG}/TuThang", False),
            ("content-model-changed", f"{LAODONG}/TuThang", True),
            ("content-model-changed", f"{LAODONG}/DenThang", True),
        },
    ),
    "upper bound tightened": (
        COMMON,
        '<xs:maxInclusive value="100"/>',
        '<xs:maxExclusive value="100"/>',
        {("facet-tightened", f"{LAODONG}/TyleDong", True)},
    ),
    "lower bound loosened": (
        COMMON,
        '<xs:minExclusive value="0"/>',
        '<xs:minInclusive value="0"/>',
        {
            ("facet-loosened", f"{LAODONG}/TienLuong", False),
            ("facet-loosened", "TK1-TS/NoiDung/NguoiKhai/Mucdong", False),
        },
    ),
    "fractionDigits tightened": (
        COMMON,
        '<xs:maxInclusive value="100"/>\n      <xs:fractionDigits value="2"/>',
        '<xs:maxInclusive value="100"/>\n      <xs:fractionDigits value="1"/>',
        {("facet-tightened", f"{LAODONG}/TyleDong", True)},
    ),
    "pattern alternative added": (
        COMMON,
        '<xs:restriction base="xs:string"><xs:pattern value="0[0-9]{9,10}"/></xs:restriction>',
        '<xs:restriction base="xs:string"><xs:pattern value="0[0-9]{9,10}"/>'
        '<xs:pattern value="\\+84[0-9]{9}"/></xs:restriction>',
        {("pattern-loosened", path, False) for path in PHONES},
    ),
    "pattern changed": (
        COMMON,
        '<xs:restriction base="xs:string"><xs:pattern value="0[0-9]{9,10}"/></xs:restriction>',
        '<xs:restriction base="xs:string"><xs:pattern value="0[0-9]{9}"/></xs:restriction>',
        {("pattern-changed", path, True) for path in PHONES},
    ),
}


@pytest.mark.parametrize("case", sorted(SCHEMA_EDITS))
def test_each_schema_edit_is_classified(tmp_path: Path, case: str) -> None:
    relative, old, new, expected = SCHEMA_EDITS[case]
    diff = _diff_against_base(tmp_path, {relative: [(old, new)]})
    assert _summary(diff) == expected
    assert diff.has_breaking == any(breaking for *_, breaking in expected)


def test_a_shared_type_change_reaches_every_form_and_the_envelope(tmp_path: Path) -> None:
    old = (
        '<xs:simpleType name="Ten100">\n    <xs:restriction base="xs:string">'
        '<xs:minLength value="1"/><xs:maxLength value="100"/>'
    )
    diff = _diff_against_base(tmp_path, {COMMON: [(old, old.replace('"100"', '"50"'))]})
    assert {c.kind for c in diff.changes} == {"facet-tightened"}
    subjects = {c.subject for c in diff.changes}
    assert {f"{LAODONG}/HoTen", "TK1-TS/NoiDung/NguoiKhai/HoTen"} <= subjects
    assert "Hoso/NoiDung/ThongTinDonVi/NguoiKy" in subjects
    assert all(c.detail == "maxLength 100 -> 50" for c in diff.changes)


TK3_VERSION = '"595": {xsd: xsd/TK3-TS-595.xsd, rules: [rules/common.sch, rules/TK3-TS.sch]}'
CATALOG_EDITS = {
    "required form added to a procedure": (
        [
            (
                "required_forms: [D02-TS]\n    optional_forms: [TK1-TS, D01-TS]",
                "required_forms: [D02-TS, TK3-TS]\n    optional_forms: [TK1-TS, D01-TS]",
            )
        ],
        {("required-form-added", "600", True)},
    ),
    "optional form made required": (
        [
            (
                "required_forms: [D02-TS]\n    optional_forms: [TK1-TS, D01-TS]",
                "required_forms: [D02-TS, TK1-TS]\n    optional_forms: [D01-TS]",
            )
        ],
        {("form-made-required", "600", True)},
    ),
    "optional form removed": (
        [("optional_forms: [TK1-TS, D01-TS]", "optional_forms: [TK1-TS]")],
        {("optional-form-removed", "600", True)},
    ),
    "optional form added": (
        [
            (
                "required_forms: [TK3-TS]\n    optional_forms: [D01-TS]",
                "required_forms: [TK3-TS]\n    optional_forms: [D01-TS, TK1-TS]",
            )
        ],
        {("optional-form-added", "604", False)},
    ),
    "procedure removed": (
        [
            (
                '  "612":\n    name: "Cấp lại thẻ BHYT do mất, hỏng"\n'
                "    required_forms: [TK1-TS]\n    optional_forms: []\n"
                '    in_force: {from: "03/2017"}\n',
                "",
            )
        ],
        {("procedure-removed", "612", True)},
    ),
    "in force end added": (
        [
            (
                'optional_forms: []\n    in_force: {from: "03/2017"}\n  "610"',
                'optional_forms: []\n    in_force: {from: "03/2017", until: "12/2025"}\n  "610"',
            )
        ],
        {("in-force-narrowed", "607", True)},
    ),
    "form version added": (
        [
            (
                TK3_VERSION,
                TK3_VERSION + "\n      " + TK3_VERSION.replace('"595"', '"600"'),
            )
        ],
        {("form-version-added", "TK3-TS-600", False), ("form-current-changed", "TK3-TS", False)},
    ),
    "form signature node moved": (
        [
            (
                "rules: [rules/common.sch]}\n    signature_node: Cky",
                "rules: [rules/common.sch]}\n    signature_node: ChuKy",
            )
        ],
        {("signature-node-changed", "D01-TS", True)},
    ),
}


@pytest.mark.parametrize("case", sorted(CATALOG_EDITS))
def test_each_catalog_edit_is_classified(tmp_path: Path, case: str) -> None:
    replacements, expected = CATALOG_EDITS[case]
    diff = _diff_against_base(tmp_path, {"catalog.yaml": replacements})
    assert _summary(diff) == expected


def test_procedure_moved_later_and_earlier(tmp_path: Path) -> None:
    later = _edited(
        tmp_path / "later",
        {
            "catalog.yaml": [
                (
                    'optional_forms: []\n    in_force: {from: "03/2017"}\n  "610"',
                    'optional_forms: []\n    in_force: {from: "01/2020"}\n  "610"',
                )
            ]
        },
    )
    diff = diff_catalogs(load_catalog(BASE), later)
    assert diff.changes == (
        Change("in-force-narrowed", "607", "in force from 03/2017 -> 01/2020", True),
    )
    back = diff_catalogs(later, load_catalog(BASE))
    assert _summary(back) == {("in-force-widened", "607", False)}


TK3_RULE = (
    '<sch:assert id="tk3-ward" role="RULE-109" diagnostics="tk3-ward-en" '
    'test="fn:in-table(\'wards\', string(Maxa))" subject="Maxa">'
)
RULE_EDITS = {
    "error rule added": (
        TK3_RULE,
        '<sch:assert id="tk3-tax" role="RULE-109" test="string-length(MaSoThue) = 10">'
        f"x</sch:assert>{TK3_RULE}",
        {("rule-added", "TK3-TS#tk3-tax", True)},
    ),
    "warning rule added": (
        TK3_RULE,
        '<sch:assert id="tk3-nfc" role="RULE-101" test="true()">x</sch:assert>' + TK3_RULE,
        {("rule-added", "TK3-TS#tk3-nfc", False)},
    ),
    "rule test changed": (
        TK3_RULE,
        TK3_RULE.replace("string(Maxa))", "normalize-space(Maxa))"),
        {("rule-changed", "TK3-TS#tk3-ward", True)},
    ),
    "rule removed": (
        TK3_RULE + "Mã xã của đơn vị không có trong danh mục: "
        '<sch:value-of select="Maxa"/></sch:assert>',
        "",
        {("rule-removed", "TK3-TS#tk3-ward", False)},
    ),
    "rule id renamed": (
        TK3_RULE,
        TK3_RULE.replace('id="tk3-ward"', 'id="tk3-ward-2"'),
        {("rule-removed", "TK3-TS#tk3-ward", False), ("rule-added", "TK3-TS#tk3-ward-2", True)},
    ),
    "rule message changed": (
        "Mã xã của đơn vị không có trong danh mục",
        "Mã xã của đơn vị không hợp lệ",
        {("rule-message-changed", "TK3-TS#tk3-ward", False)},
    ),
}


@pytest.mark.parametrize("case", sorted(RULE_EDITS))
def test_each_rule_edit_is_classified(tmp_path: Path, case: str) -> None:
    old, new, expected = RULE_EDITS[case]
    diff = _diff_against_base(tmp_path, {"rules/TK3-TS.sch": [(old, new)]})
    assert _summary(diff) == expected


def test_a_shared_rule_file_change_is_reported_per_form(tmp_path: Path) -> None:
    diff = _diff_against_base(
        tmp_path, {"rules/common.sch": [('test="fn:valid-date(string(.))"', 'test="false()"')]}
    )
    assert _summary(diff) == {
        ("rule-changed", f"{form}#common-date", True)
        for form in ("D01-TS", "D02-TS", "TK1-TS", "TK3-TS")
    }


def test_a_new_current_version_beside_the_old_one_refuses_nobody(tmp_path: Path) -> None:
    """TK1-TS 600 adds a required element but 595 stays accepted: 595's senders are fine."""
    folder = tmp_path / "catalogs" / BASE / "xsd"
    shutil.copytree(catalogs_dir() / BASE, folder.parent)
    old_xsd = (folder / "TK1-TS-595.xsd").read_text(encoding="utf-8")
    cccd = '<xs:element name="CMND" type="CCCD"/>'
    assert old_xsd.count(cccd) == 1
    added = f'{cccd}<xs:element name="MaPB" type="Ten100"/>'
    (folder / "TK1-TS-600.xsd").write_text(old_xsd.replace(cccd, added), encoding="utf-8")
    catalog_yaml = folder.parent / "catalog.yaml"
    text = catalog_yaml.read_text(encoding="utf-8")
    line = '      "595": {xsd: xsd/TK1-TS-595.xsd, rules: [rules/common.sch, rules/TK1-TS.sch]}'
    assert text.count(line) == 1
    newer = line.replace("595", "600")
    catalog_yaml.write_text(text.replace(line, f"{line}\n{newer}"), encoding="utf-8")
    diff = diff_catalogs(load_catalog(BASE), load_catalog(BASE, root=folder.parent.parent))
    assert not diff.has_breaking, diff.to_text()
    kinds = {(c.kind, c.subject.split(":")[0]) for c in diff.changes}
    assert ("form-version-added", "TK1-TS-600") in kinds
    assert ("form-current-changed", "TK1-TS") in kinds
    assert ("element-added", "TK1-TS-595->600") in kinds
    [added_change] = [c for c in diff.changes if c.kind == "element-added"]
    assert added_change.detail.endswith("(in the new version only)")


def test_a_broken_xsd_is_one_line_with_where_to_look(tmp_path: Path) -> None:
    edit = ('<xs:element name="NgayCap" type="Ngay"/>', '<xs:element name="NgayCap" type="NgayX"/>')
    with pytest.raises(CatalogError) as caught:
        _diff_against_base(tmp_path, {"xsd/TK3-TS-595.xsd": [edit]})
    message, hint = str(caught.value).split("\nHint: ")
    assert "\n" not in message and "unknown type 'NgayX'" in message
    assert "catalog check" in hint


@pytest.mark.parametrize(
    ("new", "says"),
    [
        ("0[0-9]{9}", "e.g. '00000000000' matched before and is refused now"),
        ("0[0-9]{9,11}", "no value the old pattern admits was refused by the new one"),
    ],
)
def test_a_rewritten_pattern_stays_breaking_with_what_trying_it_found(
    tmp_path: Path, new: str, says: str
) -> None:
    old_facet = '<xs:restriction base="xs:string"><xs:pattern value="0[0-9]{9,10}"/>'
    new_facet = f'<xs:restriction base="xs:string"><xs:pattern value="{new}"/>'
    diff = _diff_against_base(tmp_path, {COMMON: [(old_facet, new_facet)]})
    changed = [c for c in diff.changes if c.kind == "pattern-changed"]
    assert changed and all(c.breaking and says in c.detail for c in changed)


def test_processing_changes_are_listed_as_compatible(tmp_path: Path) -> None:
    """A new result rule and a longer processing time refuse nobody, yet change what the
    03/TB-TS lists and what the 02/TB-TS promises: a reviewer sees both."""
    extra = (
        '<sch:rule context="NguoiKhai"><sch:assert id="result-phone" role="RES-001" '
        'test="string-length(Dienthoai_LH) &gt; 0">phone</sch:assert></sch:rule>'
    )
    diff = _diff_against_base(
        tmp_path,
        {
            "rules/result-identity.sch": [
                ('<sch:rule context="*[CMND]">', extra + '<sch:rule context="*[CMND]">')
            ],
            "catalog.yaml": [("days_to_result: 15 ", "days_to_result: 30 ")],
        },
    )
    assert _summary(diff) == {
        ("result-rule-added", "TK1-TS#result-phone", False),
        ("days-to-result-changed", "607", False),
    }
    [days] = [c for c in diff.changes if c.kind == "days-to-result-changed"]
    assert days.detail == "processing time (NGAY_TRA) 15 -> 30 days"
