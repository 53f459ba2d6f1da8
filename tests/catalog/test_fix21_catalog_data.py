"""Catalog data authored by hand is refused where it is wrong, with a hint that fits: a
misspelt ``diagnostics=`` id, a rule error's hint said once, ``version:`` unlike its
folder, a ``signature_node`` its XSD lacks, a form XSD whose root is not the form's code."""

from __future__ import annotations

from pathlib import Path

import pytest
from lxml import etree

from harness.catalog import list_versions, load_catalog
from harness.catalog.rule_faults import reason, rules_fault
from harness.catalog.validation import _compile_schematron
from harness.conformance import DossierChecker
from harness.dossiers.factory import DossierFactory
from harness.dossiers.fillable import check_fillable
from harness.errors import CatalogError
from harness.signing import TestPKI
from tests.catalog_copies import edited_copy, line_of, refused_load

VERSION = "2026.1"
D02 = "rules/D02-TS.sch"
CAP = 'diagnostics="d02-wage-cap-en"'


_line = line_of


def _refused(tmp_path: Path, relative: str, old: str, new: str) -> tuple[CatalogError, Path]:
    return refused_load(tmp_path, VERSION, relative, old, new)


def test_a_misspelt_diagnostic_id_names_the_assert_line_and_the_known_ids(
    tmp_path: Path,
) -> None:
    error, rules = _refused(tmp_path, D02, CAP, 'diagnostics="d02-wage-cap-eng"')
    assert error.path == str(rules) and error.line == _line(rules, 'id="d02-wage-cap"')
    assert "assert 'd02-wage-cap'" in str(error) and "'d02-wage-cap-eng'" in str(error)
    assert error.hint is not None and "did you mean 'd02-wage-cap-en'?" in error.hint
    assert "d02-months-en" in error.hint and "<sch:name/>" not in str(error)


def test_compiling_such_a_file_alone_names_its_line_too(tmp_path: Path) -> None:
    """What catalog loading no longer reaches: compiling one rule file (line 0 before)."""
    root = edited_copy(tmp_path, VERSION, {D02: [(CAP, 'diagnostics="d02-wage-cap-eng"')]})
    rules = root / VERSION / D02
    with pytest.raises(CatalogError) as caught:
        _compile_schematron(rules)
    assert caught.value.line == _line(rules, 'id="d02-wage-cap"')
    assert caught.value.hint is not None and "did you mean 'd02-wage-cap-en'?" in caught.value.hint


def test_the_shipped_rules_name_only_their_own_diagnostics() -> None:
    for version in list_versions():
        load_catalog(version)  # the new reference check passes the shipped data


def test_the_reason_of_a_harness_error_leaves_its_hint_to_the_error_built_from_it() -> None:
    error = CatalogError("a rule looks up table 'x'", hint="fix the rule or add the table")
    assert reason(error) == "a rule looks up table 'x'"
    said = str(rules_fault([], error, lambda _tree: True))
    assert said.count("Hint: ") == 1 and said.endswith("\nHint: fix the rule or add the table")


def test_a_rule_failing_on_a_harness_function_gives_its_hint_once(
    tmp_path: Path, pki: TestPKI
) -> None:
    table = "fn:as-of(concat('no_', 'table'), 'amount', string(TuThang))"
    edit = ('test="$wage &gt;= $floor"', f'test="$wage &gt;= {table}"')
    catalog = load_catalog(VERSION, root=edited_copy(tmp_path, VERSION, {D02: [edit]}))
    envelope = DossierFactory(catalog, pki).build("600", 0).envelope
    with pytest.raises(CatalogError) as caught:
        DossierChecker(catalog, pki.trust_store()).check(envelope)
    said = str(caught.value)
    assert "table 'no_table'" in said and said.count("Hint: ") == 1


def test_a_version_unlike_its_folder_names_the_line_and_says_what_to_do(tmp_path: Path) -> None:
    error, path = _refused(tmp_path, "catalog.yaml", 'version: "2026.1"', 'version: "2026.2"')
    assert error.line == _line(path, "version:")
    assert error.hint is not None and 'version: "2026.1"' in error.hint


def test_an_unquoted_version_yaml_reads_as_a_number_is_told_to_be_quoted(tmp_path: Path) -> None:
    edit = ('version: "2026.1"', "version: 2026.10")
    root = edited_copy(tmp_path, VERSION, {"catalog.yaml": [edit]})
    (root / VERSION).rename(root / "2026.10")
    with pytest.raises(CatalogError) as caught:
        load_catalog("2026.10", root=root)
    assert caught.value.hint is not None and "quote it" in caught.value.hint


def test_a_signature_node_its_xsd_lacks_names_the_catalog_line(tmp_path: Path) -> None:
    edit = ("    signature_node: Cky\n  TK3-TS:", "    signature_node: Ckyy\n  TK3-TS:")
    root = edited_copy(tmp_path, VERSION, {"catalog.yaml": [edit]})
    with pytest.raises(CatalogError) as caught:
        check_fillable(load_catalog(VERSION, root=root))
    path = root / VERSION / "catalog.yaml"
    lines = path.read_text(encoding="utf-8").splitlines()
    assert caught.value.path == str(path)
    assert caught.value.line is not None and "Ckyy" in lines[caught.value.line - 1]
    assert "form TK1-TS's signature_node 'Ckyy'" in str(caught.value)
    assert caught.value.hint is not None and "did you mean 'Cky'?" in caught.value.hint


def test_the_shipped_forms_have_their_code_as_root_element() -> None:
    """What the root check enforces is what every shipped XSD does (and DOMAIN.md says)."""
    for version in list_versions():
        for form in load_catalog(version).forms.values():
            for v in form.versions:
                root = etree.parse(str(v.xsd)).getroot()
                tops = [e.get("name") for e in root if etree.QName(e).localname == "element"]
                assert tops == [form.code], v.xsd


def test_a_form_xsd_whose_root_is_not_the_form_code_is_refused(tmp_path: Path) -> None:
    old = '<xs:element name="M01B-HSB">'
    error, xsd = _refused(tmp_path, "xsd/M01B-HSB-505.xsd", old, '<xs:element name="M01BHSB">')
    assert error.path == str(xsd) and error.line == _line(xsd, 'name="M01BHSB"')
    assert "root element 'M01BHSB'" in str(error) and "<M01B-HSB>" in str(error)
    catalog_yaml = xsd.parent.parent / "catalog.yaml"
    assert f"{catalog_yaml}:{_line(catalog_yaml, '  M01B-HSB:')}" in str(error)
    assert error.hint is not None and 'name="M01B-HSB"' in error.hint
