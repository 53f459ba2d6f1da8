"""An XSD saved decomposed (NFD) behaves as the composed one: the gateway's compiled
schema and the schema walk the factory, the diff and the fuzzers read both see NFC text,
so a value typed normally is accepted and the factory writes what a sender types."""

from __future__ import annotations

import unicodedata
from pathlib import Path

import pytest
from lxml import etree

from harness.catalog import load_catalog
from harness.catalog.schema_walk import snapshot
from harness.catalog.validation import validators_for
from harness.dossiers.factory import DossierFactory
from harness.signing import TestPKI
from tests.catalog_copies import Edits, edited_copy

VALUES = ("Điện tử", "Điều dưỡng")
NFD_TYPE = (
    '  <xs:simpleType name="NganhNghe"><xs:restriction base="xs:string">'
    + "".join(f'<xs:enumeration value="{unicodedata.normalize("NFD", v)}"/>' for v in VALUES)
    + "</xs:restriction></xs:simpleType>\n"
)
PA = '<xs:element name="PA" type="PhuongAn"/>'


def _root(tmp_path: Path, where: str) -> Path:
    """2026.1 whose D02-TS 505 PA takes a code set saved NFD, declared in ``where``
    (the form's own XSD, or common.xsd, which it includes)."""
    anchor = {
        "D02-TS-505.xsd": '  <xs:simpleType name="PhuongAn">\n',
        "common.xsd": '  <xs:simpleType name="DienThoai">\n',
    }[where]
    edits: Edits = {"xsd/D02-TS-505.xsd": [(PA, PA.replace("PhuongAn", "NganhNghe"))]}
    edits.setdefault(f"xsd/{where}", []).append((anchor, NFD_TYPE + anchor))
    return edited_copy(tmp_path, "2026.1", edits)


@pytest.mark.parametrize("where", ["D02-TS-505.xsd", "common.xsd"])
def test_an_nfd_code_set_accepts_the_value_typed_composed(
    tmp_path: Path, pki: TestPKI, where: str
) -> None:
    catalog = load_catalog("2026.1", root=_root(tmp_path, where))
    built = DossierFactory(load_catalog("2026.1"), pki).build("600", 1)
    form = next(f for f in built.forms if f.form.form == "D02-TS")
    doc = etree.fromstring(form.content)
    for pa in doc.iter("PA"):
        pa.text = VALUES[0]  # typed normally: NFC
    validator = validators_for(catalog).form("D02-TS", "505")
    assert validator is not None
    codes = {f.code for f in validator.validate(doc)}
    assert not {c for c in codes if c.startswith("XSD")}, codes


@pytest.mark.parametrize("where", ["D02-TS-505.xsd", "common.xsd"])
def test_the_schema_walk_reads_an_nfd_code_set_composed(tmp_path: Path, where: str) -> None:
    xsd = _root(tmp_path, where) / "2026.1" / "xsd" / "D02-TS-505.xsd"
    node = snapshot(xsd)["D02-TS/NoiDung/LaoDong/PA"]
    assert node.simple is not None
    assert node.simple.enumeration == frozenset(VALUES)
