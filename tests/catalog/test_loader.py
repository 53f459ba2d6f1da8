"""The catalog loads from data, and a broken catalog names its file and line."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from lxml import etree

from harness.catalog import list_versions, load_catalog, validators_for
from harness.catalog.loader import catalogs_dir
from harness.errors import CatalogError


def test_two_versions_ship_and_the_later_adds_a_procedure_and_a_form_version() -> None:
    versions = list_versions()
    assert versions[:2] == ["2024.1", "2026.1"]
    old, new = load_catalog("2024.1"), load_catalog("2026.1")
    assert set(new.procedures) - set(old.procedures) == {"630a"}
    assert {"600", "601", "604", "607", "610", "612"} <= set(old.procedures)
    assert {"D02-TS", "TK1-TS", "TK3-TS", "D01-TS"} <= set(old.forms)
    assert old.forms["D02-TS"].current.version != new.forms["D02-TS"].current.version


@pytest.mark.parametrize("version", ["2024.1", "2026.1"])
def test_every_schema_and_rule_file_compiles(version: str) -> None:
    validators = validators_for(load_catalog(version))
    assert len(validators.forms) == len(load_catalog(version).forms)


def _copy(tmp_path: Path, version: str = "2024.1") -> Path:
    root = tmp_path / "catalog"
    shutil.copytree(catalogs_dir() / version, root / version)
    return root


def test_missing_key_is_reported_with_file_and_line(tmp_path: Path) -> None:
    root = _copy(tmp_path)
    path = root / "2024.1" / "catalog.yaml"
    path.write_text(
        path.read_text(encoding="utf-8").replace("    required_forms: [TK3-TS]\n", ""),
        encoding="utf-8",
    )
    with pytest.raises(CatalogError) as info:
        load_catalog("2024.1", root=root)
    assert "catalog.yaml:" in str(info.value) and "required_forms" in str(info.value)
    assert info.value.line is not None and info.value.line > 1


def test_yaml_syntax_error_names_the_line(tmp_path: Path) -> None:
    root = _copy(tmp_path)
    path = root / "2024.1" / "catalog.yaml"
    lines = path.read_text(encoding="utf-8").splitlines()
    lines[10] = lines[10] + " : : ["
    path.write_text("\n".join(lines), encoding="utf-8")
    with pytest.raises(CatalogError) as info:
        load_catalog("2024.1", root=root)
    assert info.value.line is not None


def test_unknown_form_in_procedure_points_at_the_procedure(tmp_path: Path) -> None:
    root = _copy(tmp_path)
    path = root / "2024.1" / "catalog.yaml"
    path.write_text(
        path.read_text(encoding="utf-8").replace(
            "required_forms: [TK3-TS]", "required_forms: [XX-TS]"
        ),
        encoding="utf-8",
    )
    with pytest.raises(CatalogError, match="XX-TS"):
        load_catalog("2024.1", root=root)


def test_broken_xsd_is_reported_with_its_path(tmp_path: Path) -> None:
    root = _copy(tmp_path)
    xsd = root / "2024.1" / "xsd" / "D01-TS-595.xsd"
    xsd.write_text(xsd.read_text(encoding="utf-8").replace("</xs:schema>", ""), encoding="utf-8")
    with pytest.raises(CatalogError, match=r"D01-TS-595\.xsd"):
        validators_for(load_catalog("2024.1", root=root))


def test_unknown_version_lists_the_known_ones() -> None:
    with pytest.raises(CatalogError, match=r"known versions: 2024\.1"):
        load_catalog("1999.9")


def test_procedure_in_force_uses_periods() -> None:
    new = load_catalog("2026.1")
    assert new.procedures["630a"].in_force("01/2026")
    assert not new.procedures["630a"].in_force("12/2025")


def test_rule_findings_carry_code_xpath_and_both_languages() -> None:
    validators = validators_for(load_catalog("2024.1"))
    doc = etree.parse(str(Path(__file__).parent / "data" / "d02_low_wage.xml"))
    findings = validators.form("D02-TS", "595").validate(doc)  # type: ignore[union-attr]
    codes = {f.code for f in findings}
    assert codes == {"RULE-102"}
    wage = next(f for f in findings if f.code == "RULE-102")
    assert wage.xpath == "/D02-TS/NoiDung/LaoDong[1]/TienLuong"  # the assert's subject
    assert "thấp hơn" in wage.message_vi and "below" in wage.message_en


_RULES = """<sch:schema xmlns:sch="http://purl.oclc.org/dsdl/schematron" queryBinding="xslt">
  <sch:pattern id="first-rule-wins">
    <sch:rule context="row[@kind = 'a']">
      <sch:assert id="a-small" role="RULE-001" test="number(.) &lt;= 5">a row over 5</sch:assert>
    </sch:rule>
    <sch:rule context="row">
      <sch:assert id="any-small" role="RULE-001" test="number(.) &lt;= 1">row over 1</sch:assert>
    </sch:rule>
  </sch:pattern>
  <sch:pattern id="second-pattern-sees-every-row">
    <sch:rule context="row">
      <sch:assert id="row-kind" role="RULE-001" test="@kind">row without kind</sch:assert>
    </sch:rule>
  </sch:pattern>
  <sch:pattern id="attribute-contexts">
    <sch:rule context="row/@kind">
      <sch:assert id="kind-letter" role="RULE-001" test=". = 'a' or . = 'b'">bad kind</sch:assert>
    </sch:rule>
  </sch:pattern>
</sch:schema>"""


def test_compiled_rules_fail_the_same_asserts_as_isoschematron() -> None:
    """Key-selected contexts and the dropped default-mode walk change nothing reported:
    the same asserts fail, at the same places, in the same order."""
    from lxml import isoschematron

    from harness.catalog.validation import CompiledRules

    schema = etree.fromstring(_RULES)
    doc = etree.fromstring(
        b"<doc><row kind='a'>7</row><row kind='c'>3</row><row>0</row>"
        b"<!-- c --><?pi x?><row kind='a'>2</row><row kind='b'>4</row></doc>"
    )
    compiled = CompiledRules(etree.ElementTree(schema))
    ours = [(f.context["rule"], f.xpath) for f in compiled.findings(doc)]
    reference = isoschematron.Schematron(schema, store_report=True)
    reference.validate(doc)
    svrl = {"svrl": "http://purl.oclc.org/dsdl/svrl"}
    expected = [
        (f.get("id"), f.get("location"))
        for f in reference.validation_report.getroot().iterfind("svrl:failed-assert", svrl)
    ]
    assert ours == expected
    assert [rule for rule, _ in ours] == [
        "a-small",
        "any-small",
        "any-small",
        "row-kind",
        "kind-letter",
    ]
