"""An element Hoso.xsd adds is data: fields.yaml gives its source and the factory writes
it where the XSD orders it. What the envelope builder writes itself (an element renamed,
moved or retyped) is code, and `catalog check` says so instead of pointing at fields.yaml."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from lxml import etree

from harness.catalog import load_catalog
from harness.dossiers.smoke import smoke_run
from harness.signing import TestPKI
from tests.catalog.test_fix23_new_version import _edit, _run
from tests.catalog_copies import edited_copy, edited_home

COUNT = '<xs:element name="SoLuongFile" type="xs:nonNegativeInteger"/>'
POSTCODE = (
    '<xs:element name="MaBuuDien"><xs:simpleType><xs:restriction base="xs:string">'
    '<xs:pattern value="[0-9]{6}"/></xs:restriction></xs:simpleType></xs:element>'
)


def test_a_new_envelope_element_without_a_source_names_fields_yaml(
    tmp_path: Path, pki: TestPKI
) -> None:
    root = edited_copy(tmp_path, "2026.1", {"xsd/Hoso.xsd": [(COUNT, f"{COUNT}{POSTCODE}")]})
    refusals = smoke_run(load_catalog("2026.1", root=root), pki, values=False)
    assert refusals, "a required envelope element nothing writes must refuse the check"
    assert "its XSD requires MaBuuDien" in refusals[0].problem
    assert "add MaBuuDien to fixtures/reference/fields.yaml" in refusals[0].hint


def test_a_new_envelope_element_with_a_source_is_written_in_xsd_order(tmp_path: Path) -> None:
    hoso = Path("catalog/2026.1/xsd/Hoso.xsd")
    home = edited_home(tmp_path, hoso, COUNT, f"{COUNT}{POSTCODE}")
    fields = home / "fixtures" / "reference" / "fields.yaml"
    _edit(fields, "  STT: row.index\n", "  STT: row.index\n  MaBuuDien: digits:6\n")
    done = _run(home, "check", "2026.1")
    assert done.returncode == 0, done.stdout + done.stderr
    env = {**os.environ, "BHXH_HARNESS_HOME": str(home)}
    command = [sys.executable, "-m", "harness", "dossier", "build", "600", "--catalog", "2026.1"]
    built = subprocess.run(command, capture_output=True, env=env, timeout=120, check=True)
    dossier = etree.fromstring(built.stdout).find("NoiDung/ThongTinHoSo")
    assert dossier is not None
    assert [c.tag for c in dossier] == [
        "TenThuTuc", "MaThuTuc", "KyKeKhai", "NgayLap", "SoLuongFile", "MaBuuDien", "ToKhais",
    ]  # fmt: skip
    assert len(dossier.findtext("MaBuuDien") or "") == 6


def test_an_element_the_builder_writes_retyped_names_the_builder(
    tmp_path: Path, pki: TestPKI
) -> None:
    retyped = COUNT.replace('type="xs:nonNegativeInteger"/>', 'type="MaTinh"/>')
    root = edited_copy(tmp_path, "2026.1", {"xsd/Hoso.xsd": [(COUNT, retyped)]})
    refusals = smoke_run(load_catalog("2026.1", root=root), pki, values=False)
    assert refusals and {r.where for r in refusals} == {"envelope"}
    assert "SoLuongFile" in refusals[0].problem
    assert "build_envelope in harness/envelope.py" in refusals[0].hint
    assert "fix fields.yaml's source" not in refusals[0].hint
