"""A rule added to a rule file that the old and the new form version both use is in
both versions: the diff says it once, breaking, and not also "in the new version only"."""

from __future__ import annotations

import shutil
from pathlib import Path

from harness.catalog import load_catalog
from harness.catalog.diff import diff_catalogs
from harness.catalog.loader import catalogs_dir

OLD, NEW = "2026.1", "2026.2"
ASSERT = (
    '<sch:assert id="d02-no-coef" role="RULE-103" test="number(TienLuong) &gt; 100">'
    "Hệ số lương không được dùng</sch:assert>"
)
WAGE_CAP = '<sch:assert id="d02-wage-cap"'
VERSION_LINE = '      "505": {xsd: xsd/D02-TS-505.xsd, rules: [rules/common.sch, rules/D02-TS.sch]}'


def _replace(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert text.count(old) == 1, old
    path.write_text(text.replace(old, new), encoding="utf-8")


def _root(tmp_path: Path) -> Path:
    """OLD as shipped; NEW adds D02-TS 506 (current, 505 still accepted, both on
    D02-TS.sch) and an assert to D02-TS.sch."""
    root = tmp_path / "catalogs"
    shutil.copytree(catalogs_dir() / OLD, root / OLD)
    shutil.copytree(catalogs_dir() / OLD, root / NEW)
    folder = root / NEW
    shutil.copy(folder / "xsd" / "D02-TS-505.xsd", folder / "xsd" / "D02-TS-506.xsd")
    yaml = folder / "catalog.yaml"
    _replace(yaml, VERSION_LINE, f"{VERSION_LINE}\n{VERSION_LINE.replace('505', '506')}")
    _replace(yaml, 'version: "2026.1"', f'version: "{NEW}"')
    _replace(yaml, 'effective_from: "01/2026"', 'effective_from: "07/2026"')
    _replace(folder / "rules" / "D02-TS.sch", WAGE_CAP, f"{ASSERT}\n      {WAGE_CAP}")
    return root


def test_a_rule_added_to_a_file_both_versions_use_is_breaking_once(tmp_path: Path) -> None:
    root = _root(tmp_path)
    diff = diff_catalogs(load_catalog(OLD, root=root), load_catalog(NEW, root=root))
    added = [c for c in diff.changes if c.kind == "rule-added"]
    assert [(c.subject, c.breaking) for c in added] == [("D02-TS-505#d02-no-coef", True)], (
        diff.to_text()
    )
    assert "in the new version only" not in diff.to_text()


def test_what_only_the_new_version_has_is_still_in_the_new_version_only(
    tmp_path: Path,
) -> None:
    root = _root(tmp_path)
    xsd = root / NEW / "xsd" / "D02-TS-506.xsd"
    cccd = '<xs:element name="CMND" type="CCCD"/>'
    _replace(xsd, cccd, f'{cccd}<xs:element name="MaPB" type="Ten100" minOccurs="0"/>')
    diff = diff_catalogs(load_catalog(OLD, root=root), load_catalog(NEW, root=root))
    [element] = [c for c in diff.changes if c.kind == "element-added"]
    assert element.subject.startswith("D02-TS-505->506:") and not element.breaking
    assert element.detail.endswith("(in the new version only)")
