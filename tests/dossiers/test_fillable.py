"""``catalog check`` names a form element the dossier factory has no value source for."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from harness.catalog import load_catalog
from harness.dossiers.factory import DossierFactory
from harness.dossiers.fillable import check_fillable, unfilled_elements
from harness.errors import CatalogError, FactoryError
from harness.paths import fixtures_dir
from harness.signing import TestPKI
from tests.catalog_copies import edited_copy

CCCD = '<xs:element name="CMND" type="CCCD"/>'


def _with_element(tmp_path: Path, element: str) -> Path:
    edits = {"xsd/TK1-TS-595.xsd": [(CCCD, f"{CCCD}\n      {element}")]}
    return edited_copy(tmp_path, "2026.1", edits)


@pytest.mark.parametrize("version", ["2024.1", "2026.1"])
def test_shipped_catalogs_are_fillable(version: str) -> None:
    check_fillable(load_catalog(version))


def test_a_required_element_without_source_names_form_version_and_element(
    tmp_path: Path, pki: TestPKI
) -> None:
    root = _with_element(tmp_path, '<xs:element name="SoHoChieu" type="xs:string"/>')
    catalog = load_catalog("2026.1", root=root)
    with pytest.raises(CatalogError) as info:
        check_fillable(catalog)
    text = str(info.value)
    assert "form TK1-TS version 595: element TK1-TS/NoiDung/NguoiKhai/SoHoChieu" in text
    assert "no value source" in text and "fields.yaml" in text
    with pytest.raises(FactoryError, match="form TK1-TS version 595: no value source"):
        DossierFactory(catalog, pki).build("607")  # building names the form too


def test_an_optional_element_the_factory_never_writes_needs_no_source(tmp_path: Path) -> None:
    element = '<xs:element name="SoHoChieu" type="xs:string" minOccurs="0"/>'
    root = _with_element(tmp_path, element)
    assert unfilled_elements(load_catalog("2026.1", root=root)) == []


def test_an_enumerated_element_needs_no_source(tmp_path: Path) -> None:
    element = (
        '<xs:element name="LoaiGiayTo"><xs:simpleType><xs:restriction base="xs:string">'
        '<xs:enumeration value="HC"/></xs:restriction></xs:simpleType></xs:element>'
    )
    root = _with_element(tmp_path, element)
    assert unfilled_elements(load_catalog("2026.1", root=root)) == []


def test_catalog_check_runs_it(tmp_path: Path) -> None:
    """The command users run, in a scratch project home holding the edited version."""
    home = tmp_path / "home"
    (home / "fixtures").mkdir(parents=True)
    for shared in ("reference", "error_codes.yaml"):
        (home / "fixtures" / shared).symlink_to(fixtures_dir() / shared)
    root = _with_element(tmp_path, '<xs:element name="SoHoChieu" type="xs:string"/>')
    shutil.copytree(root, home / "fixtures" / "catalog")
    done = subprocess.run(
        [sys.executable, "-m", "harness", "catalog", "check", "2026.1"],
        capture_output=True,
        text=True,
        env={**os.environ, "BHXH_HARNESS_HOME": str(home)},
        check=False,
        timeout=120,
    )
    assert done.returncode == 1, done.stdout + done.stderr  # the version failed its check
    assert "form TK1-TS version 595: element" in done.stderr and "SoHoChieu" in done.stderr
    assert "Traceback" not in done.stderr


FACETS = """<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema">
<xs:simpleType name="code"><xs:restriction base="xs:string">
  <xs:pattern value="[A-Z0-9]{1,10}"/></xs:restriction></xs:simpleType>
<xs:simpleType name="month"><xs:restriction base="xs:integer">
  <xs:minInclusive value="1"/><xs:maxInclusive value="12"/></xs:restriction></xs:simpleType>
<xs:simpleType name="short"><xs:restriction base="xs:string">
  <xs:maxLength value="3"/></xs:restriction></xs:simpleType>
<xs:simpleType name="kind"><xs:restriction base="xs:string">
  <xs:enumeration value="X"/><xs:enumeration value="Y"/></xs:restriction></xs:simpleType>
<xs:simpleType name="money"><xs:restriction base="xs:decimal">
  <xs:totalDigits value="3"/></xs:restriction></xs:simpleType>
</xs:schema>"""


@pytest.mark.parametrize(
    ("type_name", "value", "said"),
    [
        ("code", "ns-1", "it does not match the pattern [A-Z0-9]{1,10}"),
        ("month", "13", "it is above the maximum 12"),
        ("month", "0", "it is below the minimum 1"),
        ("short", "abcd", "it is 4 characters long, more than the 3 allowed"),
        ("kind", "Z", "it is not one of the listed values (X, Y)"),
        ("money", "1234", "it has more digits than the 3 allowed"),
    ],
)
def test_a_broken_facet_is_said_in_the_xsds_terms(type_name: str, value: str, said: str) -> None:
    """Not xmlschema's own wording ("has to be less than or equal than 12")."""
    import xmlschema

    from harness.dossiers.fillable import facet_reason

    xsd_type = xmlschema.XMLSchema(FACETS).types[type_name]
    (error,) = list(xsd_type.iter_errors(value))
    assert facet_reason(error, value) == said
