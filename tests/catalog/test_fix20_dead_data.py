"""``catalog check`` refuses data that compiles but nothing would ever use or that the
rules refuse only for some seeds: a form no procedure takes, and a ``fields.yaml`` value
(``choice:``, ``const:``, ``prefer:``) the rules of a form having its element refuse."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from lxml import etree

from harness.catalog import Catalog, load_catalog
from harness.dossiers.choice_rules import refused_values
from harness.dossiers.data_refusals import orphan_refusals
from harness.dossiers.factory import DossierFactory
from harness.dossiers.refusal import ORPHAN
from harness.signing import TestPKI
from harness.xmlsafe import parse_xml
from tests.catalog_copies import edited_copy, edited_home

FIELDS = Path("reference/fields.yaml")
D02_RULES = Path("catalog/2026.1/rules/D02-TS.sch")
CAP = '<sch:assert id="d02-wage-cap"'


def _check(home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "BHXH_HARNESS_HOME": str(home)}
    command = [sys.executable, "-m", "harness", "catalog", "check", *args]
    return subprocess.run(command, capture_output=True, text=True, env=env, timeout=120)


def _line(path: Path, needle: str) -> int:
    lines = path.read_text(encoding="utf-8").splitlines()
    return next(n for n, line in enumerate(lines, 1) if needle in line)


def test_a_form_no_procedure_takes_is_refused_with_its_line(tmp_path: Path) -> None:
    edit = ("    required_forms: [M01B-HSB]\n", "    required_forms: [TK1-TS]\n")
    root = edited_copy(tmp_path, "2026.1", {"catalog.yaml": [edit]})
    refusals = orphan_refusals(load_catalog("2026.1", root=root))
    assert [r.kind for r in refusals] == [ORPHAN]
    line = _line(root / "2026.1" / "catalog.yaml", "  M01B-HSB:")
    assert (
        f"catalog.yaml:{line}: form M01B-HSB is neither required nor allowed" in refusals[0].problem
    )
    assert "optional_forms" in refusals[0].hint


def test_the_shipped_catalogs_have_no_orphan_form() -> None:
    assert orphan_refusals(load_catalog("2024.1")) == []
    assert orphan_refusals(load_catalog("2026.1")) == []


def test_a_choice_value_missing_from_the_rules_table_is_refused(tmp_path: Path) -> None:
    """TK1-TS's rule looks DanToc up in ethnic_groups; 99 is not there. The seed-0 dossier
    may well draw 01 or 02 and pass: the check must not depend on the draw."""
    home = edited_home(tmp_path, FIELDS, "DanToc: person.dan_toc", 'DanToc: choice:["01", "99"]')
    done = _check(home, "2026.1")
    assert done.returncode == 1, done.stdout + done.stderr
    line = _line(home / "fixtures" / FIELDS, "DanToc:")
    said = done.stderr
    assert (
        f"fields.yaml:{line}: DanToc: choice value '99' is refused by the rules: RULE-110" in said
    )
    assert "rule=tk1-ethnic at " in said and "form TK1-TS version 595" in said
    assert "table 'ethnic_groups' in fixtures/reference/tables.yaml" in said
    assert "'01'" not in said


def _dept_rule_catalog(tmp_path: Path) -> Catalog:
    rule = (
        '<sch:assert id="d02-dept" role="RULE-112" test="not(MaPhongBan = \'HC\')">'
        "Phòng ban HC đã giải thể</sch:assert>"
    )
    edit = (CAP, f"{rule}\n      {CAP}")
    return load_catalog(
        "2026.1", root=edited_copy(tmp_path, "2026.1", {"rules/D02-TS.sch": [edit]})
    )


def test_an_optional_element_the_seed_left_out_is_tried_too(tmp_path: Path, pki: TestPKI) -> None:
    """MaPhongBan is written in one dossier of two: a rule refusing one of its values is
    found in a valid document that lacks it (it is inserted where the XSD puts it)."""
    catalog = _dept_rule_catalog(tmp_path)
    dossier = DossierFactory(catalog, pki).build("600", 0, optional_forms=True)
    root = parse_xml(next(f.content for f in dossier.forms if f.form.form == "D02-TS"))
    for node in list(root.iter("MaPhongBan")):
        parent = node.getparent()
        assert parent is not None
        parent.remove(node)
    refused = refused_values(catalog, {("D02-TS", "505"): etree.tostring(root)})
    assert [(r.listed.element, r.listed.value) for r in refused] == [("MaPhongBan", "HC")]
    assert refused[0].finding is not None and refused[0].finding.code == "RULE-112"


def test_catalog_check_names_the_refused_value_of_an_optional_element(tmp_path: Path) -> None:
    rule = (
        '<sch:assert id="d02-dept" role="RULE-112" test="not(MaPhongBan = \'HC\')">'
        "Phòng ban HC đã giải thể</sch:assert>"
    )
    home = edited_home(tmp_path, D02_RULES, CAP, f"{rule}\n      {CAP}")
    done = _check(home, "2026.1")
    assert done.returncode == 1, done.stdout + done.stderr
    line = _line(home / "fixtures" / FIELDS, "  MaPhongBan: choice")
    said = f"fields.yaml:{line}: MaPhongBan: choice value 'HC' is refused by the rules: RULE-112"
    assert said in done.stderr and "[rule=d02-dept at " in done.stderr
    assert "'KT'" not in done.stderr


def test_a_refused_value_does_not_stop_the_defects_being_checked(tmp_path: Path) -> None:
    home = edited_home(tmp_path, FIELDS, "DanToc: person.dan_toc", 'DanToc: choice:["01", "99"]')
    defects = home / "fixtures" / "dossiers" / "defects.yaml"
    old = "wage-below-minimum:       {expect: [RULE-102]"
    text = defects.read_text(encoding="utf-8").replace(old, old.replace("RULE-102", "RULE-103"))
    defects.write_text(text, encoding="utf-8")
    done = _check(home, "2026.1")
    assert done.returncode == 1, done.stdout + done.stderr
    assert "choice value '99' is refused by the rules" in done.stderr
    assert "defect wage-below-minimum (procedure" in done.stderr  # 600's may draw 99 itself
    assert "expects RULE-103, got RULE-102" in done.stderr
