"""A new catalog version added as data (``BHXH_HARNESS_HOME``): a broken one fails only
its own check, not the older versions through the data they share (defects.yaml,
fields.yaml); what it adds that nothing exercises is warned about; ``catalog diff`` and
``serve`` say the same of it whichever version it is compared with or served beside."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from harness.catalog import load_catalog
from harness.catalog.diff import diff_catalogs
from harness.errors import ConfigError
from harness.paths import fixtures_dir
from mock_gateway.intake import CatalogSet

NEW = "2027.1"
NEW_DATE = '      <xs:element name="NgayXuatCanh" type="Ngay"/>\n'
NEW_OPTIONAL = (
    '      <xs:element name="MaNgheNghiep" minOccurs="0"><xs:simpleType>'
    '<xs:restriction base="xs:string"><xs:pattern value="[0-9]{4}"/></xs:restriction>'
    "</xs:simpleType></xs:element>\n"
)
DEFECT = (
    "late-departure-date: {expect: [RULE-105], op: set-date, elements: [NgayXuatCanh], "
    'value: "30/02/{year}"}\n'
)
REAL_DATES = "| TuNgay | DenNgay"


def _edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert text.count(old) == 1, f"{old!r} must occur once in {path}"
    path.write_text(text.replace(old, new), encoding="utf-8")


def _home(tmp_path: Path, *, date: bool = True, checked: bool = True, defect: bool = True) -> Path:
    """A copy of the project's data with catalog 2027.1: 2026.1 whose D02-TS adds
    NgayXuatCanh (``date``: with its fields.yaml source), checked for a real date
    (``checked``: in common.sch's real-date rule) by a defect (``defect``)."""
    shutil.copytree(fixtures_dir(), tmp_path / "fixtures")
    catalogs = tmp_path / "fixtures" / "catalog"
    folder = catalogs / NEW
    shutil.copytree(catalogs / "2026.1", folder)
    _edit(folder / "catalog.yaml", 'version: "2026.1"', f'version: "{NEW}"')
    _edit(folder / "catalog.yaml", 'effective_from: "01/2026"', 'effective_from: "01/2027"')
    if date:
        xsd = folder / "xsd" / "D02-TS-505.xsd"
        anchor = '      <xs:element name="NgaySinh" type="Ngay"/>\n'
        _edit(xsd, anchor, anchor + NEW_DATE)
        fields = tmp_path / "fixtures" / "reference" / "fields.yaml"
        _edit(
            fields,
            "  NgayBatDauHD: row.contract_start\n",
            "  NgayBatDauHD: row.contract_start\n  NgayXuatCanh: row.contract_start\n",
        )
    if checked:
        _edit(folder / "rules" / "common.sch", REAL_DATES, f"{REAL_DATES} | NgayXuatCanh")
    if defect:
        with (tmp_path / "fixtures" / "dossiers" / "defects.yaml").open("a") as out:
            out.write(DEFECT)
    return tmp_path


def _run(home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "BHXH_HARNESS_HOME": str(home)}
    command = [sys.executable, "-m", "harness", "catalog", *args]
    return subprocess.run(command, capture_output=True, text=True, env=env, timeout=180)


def _new_xsd(home: Path) -> Path:
    return home / "fixtures" / "catalog" / NEW / "xsd" / "D02-TS-505.xsd"


def test_the_working_new_version_passes_without_warnings(tmp_path: Path) -> None:
    done = _run(_home(tmp_path), "check", NEW)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "warning" not in done.stderr


def test_a_new_version_with_an_unknown_type_fails_alone(tmp_path: Path) -> None:
    """Before: 2026.1 failed too, told to remove late-departure-date, which 2027.1 builds."""
    home = _home(tmp_path)
    _edit(_new_xsd(home), 'name="NgayXuatCanh" type="Ngay"', 'name="NgayXuatCanh" type="Ngayy"')
    done = _run(home, "check", "2026.1")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "2026.1: ok" in done.stdout
    assert "2026.1: warning: " in done.stderr
    assert "late-departure-date" in done.stderr
    assert f"catalog {NEW} does not load (" in done.stderr
    assert "fix it first" in done.stderr
    assert "remove the defect" not in done.stderr


def test_a_new_version_with_a_form_code_typo_fails_alone(tmp_path: Path) -> None:
    home = _home(tmp_path)
    catalog = home / "fixtures" / "catalog" / NEW / "catalog.yaml"
    _edit(catalog, "required_forms: [M01B-HSB]", "required_forms: [M01B-HSBB]")
    done = _run(home, "check")
    assert done.returncode == 1, done.stdout + done.stderr
    assert "2024.1: ok" in done.stdout and "2026.1: ok" in done.stdout
    errors = [line for line in done.stderr.splitlines() if ": error: " in line]
    assert [line.split(":")[0] for line in errors] == [NEW]
    assert "M01B-HSBB" in errors[0]


def test_a_defect_no_version_declares_is_still_refused_beside_a_broken_one(
    tmp_path: Path,
) -> None:
    """A broken version excuses only what it could build: a misspelt element is refused."""
    home = _home(tmp_path)
    _edit(_new_xsd(home), 'name="NgayXuatCanh" type="Ngay"', 'name="NgayXuatCanh" type="Ngayy"')
    _edit(
        home / "fixtures" / "dossiers" / "defects.yaml",
        "elements: [NgayXuatCanh]",
        "elements: [NgayXuatCanhh]",
    )
    done = _run(home, "check", "2026.1")
    assert done.returncode == 1, done.stdout + done.stderr
    assert "late-departure-date applies to no procedure" in done.stderr
    assert "NgayXuatCanhh" in done.stderr


def test_a_malformed_new_xsd_blames_only_itself_in_diff(tmp_path: Path) -> None:
    """Before: fields.yaml's NgayXuatCanh, declared only by the unreadable XSD, failed
    2026.1 and `catalog diff` said 2026.1 does not pass its check."""
    home = _home(tmp_path)
    _edit(_new_xsd(home), '<xs:element name="NgayXuatCanh"', '<xs:element name="NgayXuatCanh>')
    done = _run(home, "diff", "2026.1", NEW)
    assert done.returncode == 2, done.stdout + done.stderr
    assert "2026.1: error" not in done.stderr
    assert f"cannot diff: catalog {NEW} does not pass" in done.stderr
    assert "NgayXuatCanh" in done.stderr and "not judged" in done.stderr
    checked = _run(home, "check", "2026.1")
    assert checked.returncode == 0, checked.stdout + checked.stderr


def test_an_added_element_the_factory_never_writes_is_warned(tmp_path: Path) -> None:
    home = _home(tmp_path)
    anchor = NEW_DATE
    _edit(_new_xsd(home), anchor, anchor + NEW_OPTIONAL)
    done = _run(home, "check", NEW)
    assert done.returncode == 0, done.stdout + done.stderr
    warned = [line for line in done.stderr.splitlines() if line.startswith(f"{NEW}: warning: ")]
    assert len(warned) == 1, done.stderr
    assert "form D02-TS version 505 adds D02-TS/NoiDung/LaoDong/MaNgheNghiep" in warned[0]
    assert "optional:" in warned[0] and "fields.yaml" in warned[0]


def test_an_added_element_the_factory_writes_sometimes_is_not_warned(tmp_path: Path) -> None:
    home = _home(tmp_path)
    _edit(_new_xsd(home), NEW_DATE, NEW_DATE + NEW_OPTIONAL)
    fields = home / "fixtures" / "reference" / "fields.yaml"
    _edit(fields, "optional:\n", "optional:\n  MaNgheNghiep: 0.5\n")
    _edit(
        fields,
        "  NgayXuatCanh: row.contract_start\n",
        "  NgayXuatCanh: row.contract_start\n  MaNgheNghiep: digits:4\n",
    )
    done = _run(home, "check", NEW)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "warning" not in done.stderr


def test_a_new_date_no_rule_checks_is_warned_with_where_to_add_it(tmp_path: Path) -> None:
    home = _home(tmp_path, checked=False, defect=False)
    done = _run(home, "check", NEW)
    assert done.returncode == 0, done.stdout + done.stderr
    warned = [line for line in done.stderr.splitlines() if line.startswith(f"{NEW}: warning: ")]
    assert len(warned) == 1, done.stderr
    assert "form D02-TS version 505: NgayXuatCanh" in warned[0]
    assert "impossible date '30/02/" in warned[0]
    assert "common.sch:" in warned[0] and "(pattern p-real-dates)" in warned[0]
    assert "defect impossible-date at " in warned[0] and "defects.yaml:" in warned[0]


def test_the_shipped_catalogs_warn_of_nothing() -> None:
    done = _run(fixtures_dir().parent, "check")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "warning" not in done.stderr, done.stderr


def test_diff_says_in_the_new_version_only_whichever_version_it_starts_from(
    tmp_path: Path,
) -> None:
    """2024.1's D02-TS 595 is gone in 2027.1, which accepts 505 and 2027; an element only
    2027 has is "in the new version only" from 2024.1 as it is from 2026.1."""
    root = tmp_path / "catalogs"
    folder = root / NEW
    shutil.copytree(fixtures_dir() / "catalog" / "2026.1", folder)
    _edit(folder / "catalog.yaml", 'version: "2026.1"', f'version: "{NEW}"')
    _edit(folder / "catalog.yaml", 'effective_from: "01/2026"', 'effective_from: "01/2027"')
    xsd = folder / "xsd" / "D02-TS-2027.xsd"
    shutil.copy(folder / "xsd" / "D02-TS-505.xsd", xsd)
    _edit(
        xsd,
        '      <xs:element name="NgaySinh" type="Ngay"/>\n',
        '      <xs:element name="NgaySinh" type="Ngay"/>\n' + NEW_OPTIONAL,
    )
    line = '      "505": {xsd: xsd/D02-TS-505.xsd, rules: [rules/common.sch, rules/D02-TS.sch]}\n'
    _edit(folder / "catalog.yaml", line, line + line.replace("505", "2027"))
    new = load_catalog(NEW, root=root)
    for old in ("2024.1", "2026.1"):
        added = [
            c
            for c in diff_catalogs(load_catalog(old), new).changes
            if c.kind == "element-added" and c.subject.endswith("/MaNgheNghiep")
        ]
        assert len(added) == 1, (old, added)
        assert added[0].detail.endswith("(in the new version only)"), (old, added[0])
        assert not added[0].breaking
    from_2024 = diff_catalogs(load_catalog("2024.1"), new).changes
    kept = [c for c in from_2024 if c.subject.endswith("/MaPhongBan")]
    assert kept and not kept[0].detail.endswith("(in the new version only)")  # 505 has it too


def test_serve_names_the_versions_that_still_load(tmp_path: Path) -> None:
    """The error stays a usage error (exit 2), with a hint to serve the others meanwhile."""
    home = _home(tmp_path)
    _edit(_new_xsd(home), '<xs:element name="NgayXuatCanh"', '<xs:element name="NgayXuatCanh>')
    env = {**os.environ, "BHXH_HARNESS_HOME": str(home)}
    with socket.socket() as probe:  # refused before it listens; a free port all the same
        probe.bind(("127.0.0.1", 0))
        port = str(probe.getsockname()[1])
    command = [sys.executable, "-m", "harness", "serve", "--port", port]
    done = subprocess.run(command, capture_output=True, text=True, env=env, timeout=120)
    assert done.returncode == 2, done.stdout + done.stderr
    assert "error: cannot load catalog: " in done.stderr
    assert "--catalog 2024.1 --catalog 2026.1" in done.stderr
    assert f"catalog check {NEW}" in done.stderr


def test_catalog_set_keeps_its_error_type() -> None:
    with pytest.raises(ConfigError, match="cannot load catalog: "):
        CatalogSet(["2099.1"])


def test_an_unreadable_xsd_names_each_unjudged_entry_once(tmp_path: Path) -> None:
    """fields.yaml lists MaPhongBan in two sections: the warning said it twice, and spoke
    of one defect in the plural."""
    shutil.copytree(fixtures_dir(), tmp_path / "fixtures")
    xsd = tmp_path / "fixtures" / "catalog" / "2026.1" / "xsd" / "D02-TS-505.xsd"
    xsd.write_text(xsd.read_text(encoding="utf-8") + "x", encoding="utf-8")
    done = _run(tmp_path, "check", "2024.1")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "MaPhongBan: no XSD of a catalog version that loads declares it," in done.stderr
    assert "wrong-day-count applies to no procedure" in done.stderr
    assert "it is neither built nor judged" in done.stderr
