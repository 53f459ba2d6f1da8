"""A rule-code defect targets only forms whose rules raise that code: a new form that
merely reuses an element name (``TienLuong``) must not be expected to answer RULE-103."""

from __future__ import annotations

import shutil

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from harness.catalog import Catalog, load_catalog
from harness.catalog.loader import catalogs_dir
from harness.catalog.rule_roles import can_raise, rule_codes
from harness.dossiers.defects import applies, build_defective
from harness.dossiers.factory import DossierFactory
from harness.errors import FactoryError
from harness.fuzz import DossierSpec, context_for, pool_for
from harness.fuzz._content import wages
from harness.signing import TestPKI

CAP_RULE = '<sch:assert id="d02-wage-cap" role="RULE-103"'


@pytest.fixture(scope="module")
def without_cap_rule(tmp_path_factory: pytest.TempPathFactory) -> Catalog:
    """2026.1 with D02-TS's salary-cap assert deleted: its TienLuong can no longer be RULE-103."""
    root = tmp_path_factory.mktemp("catalogs")
    shutil.copytree(catalogs_dir() / "2026.1", root / "2026.1")
    rules = root / "2026.1" / "rules" / "D02-TS.sch"
    lines = rules.read_text(encoding="utf-8").splitlines(keepends=True)
    assert sum(CAP_RULE in line for line in lines) == 1
    rules.write_text("".join(line for line in lines if CAP_RULE not in line), encoding="utf-8")
    return load_catalog("2026.1", root=root)


def test_rule_codes_are_read_from_the_asserts_roles() -> None:
    catalog = load_catalog("2026.1")
    d02 = catalog.forms["D02-TS"].current.rules
    assert {"RULE-102", "RULE-103"} <= rule_codes(d02)
    assert can_raise(("RULE-103",), d02)
    assert not can_raise(("RULE-103",), catalog.forms["TK3-TS"].current.rules)
    assert can_raise(("XSD-001",), catalog.forms["TK3-TS"].current.rules)  # no rule's


def test_a_defect_skips_a_form_whose_rules_cannot_answer_its_code(
    without_cap_rule: Catalog, pki: TestPKI
) -> None:
    factory = DossierFactory(without_cap_rule, pki)
    assert applies(factory, "600", "wage-below-minimum")
    assert not applies(factory, "600", "wage-above-cap")
    with pytest.raises(FactoryError, match="does not apply"):
        build_defective(factory, "600", "wage-above-cap")


def test_the_fuzzer_offers_no_wage_above_the_cap_where_no_rule_checks_it(
    without_cap_rule: Catalog, pki: TestPKI
) -> None:
    pool = pool_for(without_cap_rule, pki)
    spec = DossierSpec("2026.1", "600", 1, without_cap_rule.effective_from, 2, True)
    offer = wages(context_for(pool, spec))
    assert offer is not None
    expected: set[str] = set()

    @settings(max_examples=30, deadline=None, database=None)
    @given(data=st.data())
    def draw(data: st.DataObject) -> None:
        expected.update(offer(data.draw).expected_codes)

    draw()
    assert expected == {"RULE-102"}
