"""Mistakes BHXH IT can make adding a procedure are refused with file, line and a hint.

Each was silently accepted (a misspelt key dropped a form's rules), or failed later with a
traceback (an XSLT 2 rule file, an empty ``required_forms``).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import unicodedata
from pathlib import Path

import pytest

from harness import error_codes
from harness.catalog import load_catalog
from harness.catalog.loader import catalogs_dir, check_version_order, list_versions
from harness.errors import CatalogError
from harness.paths import fixtures_dir
from tests.catalog_copies import edited_copy, line_of, refused_load

VERSION = "2026.1"
D02_505 = '"505": {xsd: xsd/D02-TS-505.xsd, rules: [rules/common.sch, rules/D02-TS.sch]}'
CAP_ROLE = 'id="d02-wage-cap" role="RULE-103"'


_line_of = line_of


def _refused(tmp_path: Path, relative: str, old: str, new: str) -> tuple[CatalogError, int]:
    """Load an edited copy of VERSION; the error and the line of the edit."""
    error, path = refused_load(tmp_path, VERSION, relative, old, new)
    return error, line_of(path, new.splitlines()[-1])


# -- 1. unknown keys in catalog.yaml -------------------------------------------------------


@pytest.mark.parametrize(
    ("old", "new", "key", "meant"),
    [
        (D02_505, D02_505.replace("rules:", "rule:"), "rule", "rules"),
        (
            "optional_forms: [TK1-TS, D01-TS]",
            "optional_form: [TK1-TS, D01-TS]",
            "optional_form",
            "optional_forms",
        ),
        ("signature_node: CKy_Dvi", "signature_node: CKy_Dvi\n  rule: []", "rule", "rules"),
    ],
)
def test_a_misspelt_key_is_refused_with_its_line_and_the_key_meant(
    tmp_path: Path, old: str, new: str, key: str, meant: str
) -> None:
    error, line = _refused(tmp_path, "catalog.yaml", old, new)
    assert error.line == line
    assert f"unknown key {key!r}" in str(error)
    assert f"did you mean {meant!r}" in str(error)


def test_in_force_to_is_refused_naming_until(tmp_path: Path) -> None:
    error, line = _refused(
        tmp_path,
        "catalog.yaml",
        'in_force: {from: "01/2026"}',
        'in_force: {from: "01/2026", to: "12/2027"}',
    )
    assert error.line == line and "unknown key 'to' in in_force" in str(error)
    assert "from, until" in str(error)


def test_a_misspelt_top_level_key_names_its_line(tmp_path: Path) -> None:
    error, line = _refused(tmp_path, "catalog.yaml", 'title: "', 'titel: "')
    assert error.line == line and "did you mean 'title'" in str(error)


# -- 2. query bindings lxml cannot run -------------------------------------------------------


def test_an_xslt2_rule_file_is_refused_naming_the_schema_element(tmp_path: Path) -> None:
    error, line = _refused(
        tmp_path, "rules/D02-TS.sch", 'queryBinding="xslt"', 'queryBinding="xslt2"'
    )
    assert str(error.path).endswith("D02-TS.sch") and error.line == line
    assert "only XSLT 1.0 / XPath 1.0 rules are" in str(error)
    assert 'queryBinding="xslt"' in str(error)


# -- 5. a procedure without forms ----------------------------------------------------------


def test_empty_required_forms_is_refused_with_its_line(tmp_path: Path) -> None:
    error, line = _refused(
        tmp_path, "catalog.yaml", "required_forms: [M01B-HSB]", "required_forms: []"
    )
    assert error.line == line and "procedure 630a has no required form" in str(error)


def test_required_forms_that_is_not_a_list_of_codes_is_refused(tmp_path: Path) -> None:
    error, line = _refused(
        tmp_path, "catalog.yaml", "optional_forms: [TK1-TS, D01-TS]", "optional_forms: D01-TS"
    )
    assert error.line == line and "must be a list of form codes" in str(error)


# -- 6. versions whose periods clash -------------------------------------------------------


def _two_versions(tmp_path: Path, start: str) -> Path:
    """A catalog root with VERSION and a copy 2026.2 taking effect ``start``."""
    root = edited_copy(tmp_path, VERSION, {})
    newer = root / "2026.2"
    shutil.copytree(root / VERSION, newer)
    yaml = newer / "catalog.yaml"
    text = yaml.read_text(encoding="utf-8").replace('"2026.1"', '"2026.2"')
    yaml.write_text(
        text.replace('effective_from: "01/2026"', f'effective_from: "{start}"'), encoding="utf-8"
    )
    return root


@pytest.mark.parametrize(
    ("start", "says"), [("01/2026", "both take effect 01/2026"), ("12/2025", "before the older")]
)
def test_versions_taking_effect_together_or_backwards_are_refused(
    tmp_path: Path, start: str, says: str
) -> None:
    root = _two_versions(tmp_path, start)
    with pytest.raises(CatalogError) as info:
        list_versions(root)
    text = str(info.value)
    assert says in text
    assert f"{root / '2026.2' / 'catalog.yaml'}:6:" in text  # the newer one, at its line
    assert f"{root / VERSION / 'catalog.yaml'}:6" in text  # and the older one
    catalogs = [load_catalog(v, root=root) for v in ("2026.2", VERSION)]
    with pytest.raises(CatalogError, match=says):
        check_version_order(catalogs)


def test_versions_taking_effect_in_order_are_fine(tmp_path: Path) -> None:
    root = _two_versions(tmp_path, "07/2026")
    assert list_versions(root) == [VERSION, "2026.2"]
    check_version_order([load_catalog(v, root=root) for v in list_versions(root)])


def _home(tmp_path: Path) -> Path:
    home = tmp_path / "home"
    shutil.copytree(fixtures_dir(), home / "fixtures")
    return home


def _cli(home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "BHXH_HARNESS_HOME": str(home)}
    command = [sys.executable, "-m", "harness", *args]
    return subprocess.run(command, capture_output=True, text=True, env=env, timeout=300)


def test_dossier_check_refuses_served_versions_of_one_month(tmp_path: Path) -> None:
    home = _home(tmp_path)
    newer = home / "fixtures" / "catalog" / "2026.2"
    shutil.copytree(newer.parent / VERSION, newer)
    yaml = newer / "catalog.yaml"
    yaml.write_text(yaml.read_text("utf-8").replace('"2026.1"', '"2026.2"'), encoding="utf-8")
    dossier = tmp_path / "any.xml"
    dossier.write_text("<Hoso/>", encoding="utf-8")
    done = _cli(home, "dossier", "check", "--catalog", VERSION, "--catalog", "2026.2", str(dossier))
    assert done.returncode == 2, done.stdout + done.stderr
    assert "both take effect 01/2026" in done.stderr and "Traceback" not in done.stderr


# -- 7. asserts' roles ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("role", "says", "hint"),
    [
        ("", "has no role", 'role="RULE-112"'),
        ('role="XSD-001"', "'XSD-001' is a code of another stage", "RULE-* or ENV-*"),
        ('role="RULE112"', "'RULE112' is not an error code", "did you mean 'RULE-112'?"),
        ('role="rule 103"', "'rule 103' is not an error code", "did you mean 'RULE-103'?"),
    ],
)
def test_an_assert_role_that_is_no_rule_code_is_refused(
    tmp_path: Path, role: str, says: str, hint: str
) -> None:
    new = f'id="d02-wage-cap" {role}'.rstrip()
    error, line = _refused(tmp_path, "rules/D02-TS.sch", CAP_ROLE, new)
    assert error.line == line and "assert 'd02-wage-cap'" in str(error)
    assert says in str(error) and hint in str(error)
    assert "declare it there" not in str(error)  # RULE112 is a typo, not a new code


def test_an_error_code_missing_a_text_names_its_line(tmp_path: Path) -> None:
    source = (fixtures_dir() / "error_codes.yaml").read_text(encoding="utf-8")
    broken = source.replace("RULE-103: {http: 400, ", "RULE-103: {")
    path = tmp_path / "error_codes.yaml"
    path.write_text(broken, encoding="utf-8")
    with pytest.raises(CatalogError) as info:
        error_codes.load(path)
    assert info.value.line == _line_of(path, "RULE-103:") and "missing: http" in str(info.value)


@pytest.mark.parametrize(
    ("old", "new", "says"),
    [
        ("{http: 400, vi: \"Mức lương vượt", '{http: "400", vi: "Mức lương vượt', "http must be"),
        ("{http: 400, vi: \"Mức lương vượt", '{http: 400, sevrity: warning, vi: "Mức lương vượt',
         "did you mean 'severity'"),
    ],
)  # fmt: skip
def test_a_malformed_error_code_entry_names_its_line(
    tmp_path: Path, old: str, new: str, says: str
) -> None:
    source = (fixtures_dir() / "error_codes.yaml").read_text(encoding="utf-8")
    assert source.count(old) == 1
    path = tmp_path / "error_codes.yaml"
    path.write_text(source.replace(old, new), encoding="utf-8")
    with pytest.raises(CatalogError, match=says) as info:
        error_codes.load(path)
    assert info.value.line == _line_of(path, "RULE-103:")


# -- 8. decomposed Vietnamese --------------------------------------------------------------


def test_error_code_texts_saved_decomposed_are_read_as_nfc(tmp_path: Path) -> None:
    source = (fixtures_dir() / "error_codes.yaml").read_text(encoding="utf-8")
    path = tmp_path / "error_codes.yaml"
    path.write_text(unicodedata.normalize("NFD", source), encoding="utf-8")
    codes = error_codes.load(path)
    assert codes["RULE-102"].vi == "Mức lương thấp hơn lương tối thiểu vùng"
    assert all(unicodedata.is_normalized("NFC", c.vi) for c in codes.values())


def test_a_rule_message_saved_decomposed_is_refused_with_its_line(tmp_path: Path) -> None:
    root = edited_copy(tmp_path, VERSION, {})
    path = root / VERSION / "rules" / "D02-TS.sch"
    path.write_text(unicodedata.normalize("NFD", path.read_text("utf-8")), encoding="utf-8")
    with pytest.raises(CatalogError) as info:
        load_catalog(VERSION, root=root)
    assert "decomposed Unicode (NFD)" in str(info.value)
    assert info.value.line == _line_of(path, 'id="d02-wage-floor"')
    # one hint shared by every problem is said once, on the closing Hint line
    assert "more problem(s) in rule files" in str(info.value)
    assert "\n    hint:" not in str(info.value) and info.value.hint


# -- 9. catalog diff compiles what it compares --------------------------------------------


def test_catalog_diff_refuses_a_version_that_does_not_compile(tmp_path: Path) -> None:
    home = _home(tmp_path)
    xsd = home / "fixtures" / "catalog" / VERSION / "xsd" / "TK1-TS-595.xsd"
    xsd.write_text(xsd.read_text("utf-8") + "<xs:schema", encoding="utf-8")
    done = _cli(home, "catalog", "diff", "2024.1", VERSION)
    assert done.returncode == 2, done.stdout + done.stderr
    assert "TK1-TS-595.xsd" in done.stderr and "not well-formed" in done.stderr
    assert "change(s)" not in done.stdout and "Traceback" not in done.stderr


def test_the_shipped_versions_still_load() -> None:
    assert list_versions(catalogs_dir())[:2] == ["2024.1", VERSION]
    for version in list_versions():
        load_catalog(version)
