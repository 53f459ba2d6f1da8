"""A defect that cannot be built for a procedure says why in the catalog's terms: whether
the forms lack the element it changes or their rules lack the code it must cause; and a
defect expecting a code error_codes.yaml does not declare is refused where it is written."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from harness.catalog import load_catalog
from harness.dossiers import defects
from harness.dossiers.defect_kinds import Defect
from harness.dossiers.defects import load_defects, tweaks_for
from harness.dossiers.factory import DossierFactory
from harness.errors import CatalogError, FactoryError
from harness.paths import fixtures_dir, project_root
from harness.signing import TestPKI


@pytest.fixture
def factory(pki: TestPKI) -> DossierFactory:
    return DossierFactory(load_catalog("2026.1"), pki)


def test_an_element_missing_from_every_form_is_named(factory: DossierFactory) -> None:
    with pytest.raises(FactoryError, match="none of its required forms has CMND"):
        tweaks_for(factory, "604", "cccd-mismatch")


def test_a_code_no_rule_of_the_form_raises_is_named(
    factory: DossierFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    unraisable = Defect("name-unchecked", "set", ("RULE-111",), {"elements": ["HoTen"]})
    monkeypatch.setattr(defects, "defect", lambda _name: unraisable)
    with pytest.raises(FactoryError) as caught:
        tweaks_for(factory, "600", "name-unchecked")
    assert "has HoTen, but no rule of it raises RULE-111, the code the defect must cause" in str(
        caught.value
    )


def test_a_defect_expecting_an_undeclared_code_is_refused_with_its_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    shutil.copytree(fixtures_dir(), tmp_path / "fixtures")
    path = tmp_path / "fixtures" / "dossiers" / "defects.yaml"
    path.write_text(
        path.read_text(encoding="utf-8") + "too-young: {expect: [RULE-199], op: set, "
        "elements: [NgaySinh], value: '01/01/2020'}\n",
        encoding="utf-8",
    )
    monkeypatch.setenv("BHXH_HARNESS_HOME", str(tmp_path))
    project_root.cache_clear()
    load_defects.cache_clear()
    try:
        with pytest.raises(CatalogError) as caught:
            load_defects()
    finally:
        project_root.cache_clear()
        load_defects.cache_clear()
    text = str(caught.value)
    assert "too-young: expects RULE-199, which fixtures/error_codes.yaml does not declare" in text
    assert f"{path}:" in text
